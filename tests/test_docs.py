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


# Documents whose ```console blocks paste real output (fixed seeds): each is rerun.
CONSOLE_DOCS = {"uncertainty.md": 1, "watch.md": 3, "sensitivity.md": 2}
EXAMPLES = [
    (name, command, expected)
    for name in CONSOLE_DOCS
    for command, expected in _console_examples((ROOT / "docs" / name).read_text())
]
WATCH_DOC = (ROOT / "docs" / "watch.md").read_text()


@pytest.mark.parametrize(("doc", "command", "expected"), EXAMPLES)
def test_doc_console_examples_are_current(capsys, monkeypatch, doc, command, expected):
    """The output a document pastes is what the command prints today."""
    monkeypatch.chdir(ROOT)
    argv = shlex.split(command)
    assert argv[0] == "riskchain", doc
    assert main(argv[1:]) == 0
    assert capsys.readouterr().out.rstrip("\n") + "\n" == expected


def test_every_console_doc_has_its_examples():
    found = {name: sum(1 for d, _, _ in EXAMPLES if d == name) for name in CONSOLE_DOCS}
    assert found == CONSOLE_DOCS


def test_watch_doc_conflict_warning_is_current(capsys, monkeypatch):
    """The conflict warning docs/watch.md quotes is what `query` prints on stderr."""
    monkeypatch.chdir(ROOT)
    m = re.search(r"```sh\n\$ (riskchain query [^\n]*)\n```.*?```text\n(.*?)\n```", WATCH_DOC, re.S)
    assert m
    argv = shlex.split(m.group(1))
    assert main(argv[1:]) == 0
    assert capsys.readouterr().err == m.group(2) + "\n"
