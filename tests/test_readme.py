"""The README shows real output: its console examples and its comparison table are rerun here."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from riskchain import load_model
from riskchain.cli import main

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def console_examples() -> list[tuple[str, str]]:
    """(command, expected output) pairs from ```console blocks."""
    out = []
    for block in re.findall(r"```console\n(.*?)```", README, re.S):
        parts = re.split(r"^\$ ", block, flags=re.M)[1:]
        for part in parts:
            command, _, output = part.partition("\n")
            out.append((command, output.rstrip("\n") + "\n"))
    return out


@pytest.mark.parametrize(("command", "expected"), console_examples())
def test_console_example_output(capsys, monkeypatch, command, expected):
    monkeypatch.chdir(ROOT)
    argv = shlex.split(command)
    assert argv[0] == "riskchain"
    assert main(argv[1:]) == 0
    assert capsys.readouterr().out.rstrip("\n") + "\n" == expected


def test_side_by_side_table():
    """The observed/forced/prior comparison table matches the model's answers."""
    model = load_model(ROOT / "models" / "korea_russia_2024.yaml")
    rows = {
        "North Korean troops in combat": "nk_troops_in_combat",
        "North Korea sends troops": "nk_troop_dispatch",
        "The nature of the war changes": "war_nature_changes",
    }
    seen = model.query(given={"nato_member_enters_war": "yes"}, targets=list(rows.values()))
    forced = model.query(do={"nato_member_enters_war": "yes"}, targets=list(rows.values()))
    prior = model.query(targets=list(rows.values()))
    for label, node in rows.items():
        m = re.search(rf"^\| {label} \| ([\d.]+)% \| ([\d.]+)% \| ([\d.]+)% \|$", README, re.M)
        assert m, label
        expected = [f"{r.posteriors[node]['yes'] * 100:.1f}" for r in (seen, forced, prior)]
        assert list(m.groups()) == expected


def test_ci_runs_the_readme_test_line():
    """.ci/run runs the same test command the README gives."""
    quick = re.search(r"## Quick start.*?```sh\n(.*?)```", README, re.S)
    assert quick
    lines = quick.group(1).strip().splitlines()
    assert len(lines) == 2
    assert lines[1] in (ROOT / ".ci" / "run").read_text().splitlines()
