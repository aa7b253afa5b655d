"""Documents that paste riskchain output are checked against a fresh run."""

from __future__ import annotations

import datetime as dt
import re
import shlex
from pathlib import Path

import pytest

from riskchain.analysis.risktable import risk_table
from riskchain.analysis.scenarios import run_scenarios
from riskchain.cli import main
from riskchain.report.risktable import render_risk_table

ROOT = Path(__file__).resolve().parents[1]


def test_scenarios_doc_table_is_current(monkeypatch):
    """docs/scenarios.md holds the editorial's risk table exactly as `riskchain table -f md` prints it."""
    monkeypatch.chdir(ROOT)
    doc = (ROOT / "docs" / "scenarios.md").read_text()
    m = re.search(r"<!-- table:begin -->\n(.*)<!-- table:end -->", doc, re.S)
    assert m
    run = run_scenarios("scenarios/korea_russia_2024.yaml", include_baseline=True)
    fresh = render_risk_table(risk_table(run, produced=dt.date(2026, 11, 27)), "md").replace(
        "## ", "### ", 1
    )
    assert m.group(1) == fresh


def _console_examples(doc: str) -> list[tuple[str, str]]:
    """(command, expected output) pairs from a document's ```console blocks."""
    out = []
    for block in re.findall(r"```console\n(.*?)```", doc, re.S):
        for part in re.split(r"^\$ ", block, flags=re.M)[1:]:
            command, _, output = part.partition("\n")
            out.append((command, output.rstrip("\n") + "\n"))
    return out


UNCERTAINTY_EXAMPLES = _console_examples((ROOT / "docs" / "uncertainty.md").read_text())


@pytest.mark.parametrize(("command", "expected"), UNCERTAINTY_EXAMPLES)
def test_uncertainty_doc_examples_are_current(capsys, monkeypatch, command, expected):
    """docs/uncertainty.md pastes real output (with a fixed seed): rerun it."""
    monkeypatch.chdir(ROOT)
    argv = shlex.split(command)
    assert argv[0] == "riskchain"
    assert main(argv[1:]) == 0
    assert capsys.readouterr().out.rstrip("\n") + "\n" == expected


def test_uncertainty_doc_has_examples():
    assert UNCERTAINTY_EXAMPLES


WATCH_DOC = (ROOT / "docs" / "watch.md").read_text()
WATCH_EXAMPLES = _console_examples(WATCH_DOC)


@pytest.mark.parametrize(("command", "expected"), WATCH_EXAMPLES)
def test_watch_doc_examples_are_current(capsys, monkeypatch, command, expected):
    """docs/watch.md pastes real output of the editorial model: rerun it."""
    monkeypatch.chdir(ROOT)
    argv = shlex.split(command)
    assert argv[0] == "riskchain"
    assert main(argv[1:]) == 0
    assert capsys.readouterr().out.rstrip("\n") + "\n" == expected


def test_watch_doc_has_examples():
    assert len(WATCH_EXAMPLES) == 3


def test_watch_doc_conflict_warning_is_current(capsys, monkeypatch):
    """The conflict warning docs/watch.md quotes is what `query` prints on stderr."""
    monkeypatch.chdir(ROOT)
    m = re.search(r"```sh\n\$ (riskchain query [^\n]*)\n```.*?```text\n(.*?)\n```", WATCH_DOC, re.S)
    assert m
    argv = shlex.split(m.group(1))
    assert main(argv[1:]) == 0
    assert capsys.readouterr().err == m.group(2) + "\n"


SENSITIVITY_EXAMPLES = _console_examples((ROOT / "docs" / "sensitivity.md").read_text())


@pytest.mark.parametrize(("command", "expected"), SENSITIVITY_EXAMPLES)
def test_sensitivity_doc_examples_are_current(capsys, monkeypatch, command, expected):
    """docs/sensitivity.md pastes real output of the editorial model: rerun it."""
    monkeypatch.chdir(ROOT)
    argv = shlex.split(command)
    assert argv[0] == "riskchain"
    assert main(argv[1:]) == 0
    assert capsys.readouterr().out.rstrip("\n") + "\n" == expected


def test_sensitivity_doc_has_examples():
    assert len(SENSITIVITY_EXAMPLES) == 2
