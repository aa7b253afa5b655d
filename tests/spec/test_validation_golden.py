"""Every validation rule, pinned by the whole text ``riskchain validate`` prints.

Each case is one input file in ``tests/golden/errors`` (``<case>.yaml``, or
``<case>.bin`` for files that are not UTF-8 text) with the expected output in
``<case>.txt``: stdout followed by stderr of ``riskchain validate
tests/golden/errors/<case>.yaml``, run from the repository root so the paths in
the messages are relative. Every case exits 1, except those named ``ok_*``,
which are valid and exit 0.

Regenerate the expected files with::

    RISKCHAIN_UPDATE_GOLDEN=1 pytest tests/spec/test_validation_golden.py

then read the diff: each message must say what is wrong, point (line:col) at
the offending text, and give a hint where one helps.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import REPO_ROOT, check_validate_case, golden_cases, orphan_goldens
from riskchain.cli import main

ROOT = REPO_ROOT
CASES_DIR = ROOT / "tests" / "golden" / "errors"
CASES = golden_cases(CASES_DIR, (".yaml", ".bin"))


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch):
    """Run from the repository root so the paths printed are relative."""
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize("case", CASES, ids=[p.stem for p in CASES])
def test_validate_output_matches_golden(capsys, case: Path):
    """The complete output and the exit code of validating one case file."""
    check_validate_case(capsys, case)


def test_every_golden_has_a_case():
    """No stale expected output: each .txt belongs to an input file."""
    assert orphan_goldens(CASES_DIR, CASES) == []


def test_enough_cases():
    """The suite covers the rules listed in its brief (guards against a lost folder)."""
    assert len(CASES) >= 50


def test_many_errors_are_all_reported_in_line_order(capsys):
    """One file with many mistakes: each is reported once, sorted by line and column."""
    code = main(["validate", "tests/golden/errors/many_errors.yaml"])
    _, err = capsys.readouterr()
    located = [ln for ln in err.splitlines() if ln.startswith("tests/")]
    positions = [tuple(int(x) for x in ln.split(":")[1:3]) for ln in located]
    assert code == 1
    assert positions == sorted(positions)
    assert len(located) == 18
    assert err.splitlines()[-1] == "18 errors in 1 file"
