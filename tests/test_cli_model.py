"""``--model PATH``: a scenario file run on a model file named on the command line, in
place of the one its ``model:`` names (issue 11, item 12).

A copy of the editorial's scenario file is made in a folder where its ``model:`` path
leads nowhere; with ``--model`` every command that reads a scenario file answers as the
original does, and says which model it used.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import run_cli as cli

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios" / "korea_russia_2024.yaml"
MODEL = ROOT / "models" / "korea_russia_2024.yaml"
NOTE = "(from --model, in place of the one copied/s.yaml names)"


@pytest.fixture
def copied(tmp_path, monkeypatch) -> Path:
    """The scenario file copied to tmp_path/copied/s.yaml, the model to tmp_path/m.yaml;
    the current folder is tmp_path (so --model m.yaml is relative to it)."""
    (tmp_path / "copied").mkdir()
    shutil.copy(SCENARIOS, tmp_path / "copied" / "s.yaml")
    shutil.copy(MODEL, tmp_path / "m.yaml")
    monkeypatch.chdir(tmp_path)
    return Path("copied/s.yaml")


def test_the_copy_alone_cannot_find_its_model(copied, capsys):
    code, _, err = cli(capsys, "validate", str(copied))
    assert code == 1
    assert "model file '../models/korea_russia_2024.yaml' not found" in err
    assert "or name the model with --model PATH" in err


COMMANDS = {
    "run": ["run", "{s}", "-f", "json"],
    "query": ["query", "{s}", "-s", "nato_enters", "-f", "json"],
    "explain": ["explain", "{s}", "-s", "nato_enters", "-t", "war_nature_changes", "-f", "json"],
    "sensitivity": ["sensitivity", "{s}", "-s", "reported", "-t", "war_nature_changes", "-f", "json"],
    "watch": ["watch", "{s}", "-s", "reported", "-t", "war_nature_changes", "-f", "json"],
    "watch --between": ["watch", "{s}", "--between", "reported", "nato_enters", "-f", "json"],
}


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_answers_as_the_original(name, copied, capsys):
    args = COMMANDS[name]
    code, want, _ = cli(capsys, *[a.format(s=SCENARIOS) for a in args])
    assert code == 0
    code, got, err = cli(capsys, *[a.format(s=copied) for a in args], "--model", "m.yaml")
    assert code == 0, err
    assert f"note: model m.yaml {NOTE}" in err
    a, b = json.loads(want), json.loads(got)
    for data in (a, b):  # where the files are: the only difference
        data.pop("scenario_file", None)
        data.pop("model_path", None)
        data.pop("instead_of", None)
    assert a == b


def test_table_says_which_model_it_used(copied, capsys):
    code, out, err = cli(capsys, "table", str(copied), "--model", "m.yaml", "-s", "nato_enters")
    assert code == 0, err
    assert (
        "model: korea_russia_2024 (m.yaml, from --model in place of "
        "../models/korea_russia_2024.yaml)" in " ".join(out.split())
    )
    code, out, _ = cli(capsys, "table", str(copied), "--model", "m.yaml", "-f", "json")
    data = json.loads(out)
    assert data["model"]["path"] == "m.yaml"
    assert data["model"]["instead_of"] == "../models/korea_russia_2024.yaml"
    code, want, _ = cli(capsys, "table", str(SCENARIOS), "-f", "json")
    assert [r["values"] for r in data["rows"]] == [r["values"] for r in json.loads(want)["rows"]]
    code, out, _ = cli(capsys, "run", str(copied), "--model", "m.yaml", "-f", "json")
    assert json.loads(out)["model_path"] == "m.yaml"


def test_validate_graph_and_report(copied, capsys, tmp_path):
    code, out, _ = cli(capsys, "validate", str(copied), "--model", "m.yaml")
    assert code == 0
    assert out == (
        "copied/s.yaml: ok (8 scenarios on model 'korea_russia_2024' (m.yaml, from --model "
        "in place of ../models/korea_russia_2024.yaml), baseline 'reported')\n"
    )
    code, _, err = cli(
        capsys, "graph", str(copied), "--model", "m.yaml", "-s", "nato_enters", "-o", "g.dot"
    )
    assert code == 0, err
    assert "nato_member_enters_war" in Path("g.dot").read_text()
    code, _, err = cli(capsys, "report", str(copied), "--model", "m.yaml", "-o", "r.html")
    assert code == 0, err
    assert f"note: model m.yaml {NOTE}" in err
    html = Path("r.html").read_text()
    assert (
        "model file <code>m.yaml, from --model in place of ../models/korea_russia_2024.yaml"
        "</code>" in html
    )


def test_the_flag_replaces_a_model_the_file_can_find(copied, capsys):
    """--model wins over a model: path that exists: the answer is that of the model named."""
    edited = Path("m.yaml").read_text().replace("leak: 0.05\n      nk_nuclear_submarine:", "leak: 0.3\n      nk_nuclear_submarine:")
    assert edited != Path("m.yaml").read_text()
    Path("edited.yaml").write_text(edited)
    args = ["query", str(SCENARIOS), "-s", "reported", "-t", "peninsula_security_shaken", "-f", "json"]
    _, own, _ = cli(capsys, *args)
    code, other, err = cli(capsys, *args, "--model", "edited.yaml")
    assert code == 0, err
    p_own = json.loads(own)["posteriors"]["peninsula_security_shaken"]["yes"]
    p_other = json.loads(other)["posteriors"]["peninsula_security_shaken"]["yes"]
    assert p_other > p_own + 0.1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "nope.yaml"], "error: --model: nope.yaml: no such file"),
        (["--model", "copied"], "error: --model: copied: is a folder, not a file"),
        (
            ["--model", "copied/s.yaml"],
            "error: --model: copied/s.yaml is a scenario file; --model names the model file to use",
        ),
    ],
)
def test_a_model_flag_that_is_no_model_is_a_usage_error(copied, capsys, args, message):
    code, out, err = cli(capsys, "table", str(copied), *args)
    assert code == 2
    assert out == ""
    assert err.strip() == message


def test_a_model_file_with_the_flag_is_a_usage_error(copied, capsys):
    for command in (["query", "m.yaml"], ["validate", "m.yaml"]):
        code, _, err = cli(capsys, *command, "--model", "m.yaml")
        assert code == 2
        assert err.strip() == (
            "error: --model: m.yaml is a model file; --model replaces the model a scenario "
            "file names"
        )


def test_an_invalid_model_is_reported_in_its_own_file(copied, capsys):
    Path("bad.yaml").write_text("riskchain: 1\nnodes:\n  a:\n    p: 1.5\n")
    code, _, err = cli(capsys, "validate", str(copied), "--model", "bad.yaml")
    assert code == 1
    assert err.splitlines()[0].startswith("bad.yaml:4:8: error: probability 1.5")
