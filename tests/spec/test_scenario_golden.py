"""Every scenario-file validation rule, pinned by the whole text ``riskchain validate`` prints.

Each case is one scenario file in ``tests/golden/scenario_errors`` (``<case>.yaml``)
with the expected output in ``<case>.txt``: stdout followed by stderr of
``riskchain validate tests/golden/scenario_errors/<case>.yaml``, run from the
repository root so the paths in the messages are relative. The models the cases
point at live in ``tests/golden/scenario_errors/models`` (``model.yaml`` is
valid, ``broken.yaml`` is not). Every case exits 1, except those named
``ok_*``, which are valid and exit 0.

Regenerate the expected files with::

    RISKCHAIN_UPDATE_GOLDEN=1 pytest tests/spec/test_scenario_golden.py

then read the diff: each message must say what is wrong, point (line:col) at
the offending text, and give a hint where one helps.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import REPO_ROOT, check_validate_case, golden_cases, orphan_goldens
from riskchain.cli import main

ROOT = REPO_ROOT
CASES_DIR = ROOT / "tests" / "golden" / "scenario_errors"
MODELS_DIR = CASES_DIR / "models"
CASES = golden_cases(CASES_DIR)


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch):
    """Run from the repository root so the paths printed are relative."""
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize("case", CASES, ids=[p.stem for p in CASES])
def test_validate_output_matches_golden(capsys, case: Path):
    """The complete output and the exit code of validating one scenario file."""
    check_validate_case(capsys, case)


def test_every_golden_has_a_case():
    """No stale expected output: each .txt belongs to a scenario file."""
    assert orphan_goldens(CASES_DIR, CASES) == []


def test_enough_cases():
    """The suite covers the rules listed in its brief (guards against a lost folder)."""
    assert len(CASES) >= 45


def test_the_models_the_cases_use(capsys):
    """``model.yaml`` is valid, so every error in a case comes from the scenario file."""
    code = main(["validate", MODELS_DIR.relative_to(ROOT).joinpath("model.yaml").as_posix()])
    out, _ = capsys.readouterr()
    assert code == 0
    assert (
        out
        == "tests/golden/scenario_errors/models/model.yaml: ok (model 'talks': 5 nodes, 3 edges)\n"
    )


def test_many_errors_are_all_reported_in_line_order(capsys):
    """One file with many mistakes: each is reported once, sorted by line and column."""
    code = main(["validate", "tests/golden/scenario_errors/many_errors.yaml"])
    _, err = capsys.readouterr()
    located = [ln for ln in err.splitlines() if ln.startswith("tests/")]
    positions = [tuple(int(x) for x in ln.split(":")[1:3]) for ln in located]
    assert code == 1
    assert positions == sorted(positions)
    assert len(positions) == len(set(positions))
    assert len(located) == 16
    assert err.splitlines()[-1] == "16 errors in 1 file"


def test_model_errors_follow_the_scenario_file_errors(capsys):
    """An invalid model: the scenario file's own errors first, then the model's, with its path."""
    code = main(["validate", "tests/golden/scenario_errors/model_invalid.yaml"])
    _, err = capsys.readouterr()
    paths = [ln.split(":")[0] for ln in err.splitlines() if ln.startswith("tests/")]
    assert code == 1
    assert paths == [
        *["tests/golden/scenario_errors/model_invalid.yaml"] * 3,
        *["tests/golden/scenario_errors/models/broken.yaml"] * 2,
    ]
