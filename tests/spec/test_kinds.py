"""A file of the wrong kind gets one message saying what it is and what was wanted."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import run_cli
from riskchain.errors import FileKindError, SpecError
from riskchain.spec.kinds import MODEL, SCENARIOS, detect_kind
from riskchain.spec.yamlsrc import parse_yaml

ROOT = Path(__file__).resolve().parents[2]
MODEL_FILE = "models/korea_russia_2024.yaml"
SCENARIO_FILE = "scenarios/korea_russia_2024.yaml"

MODEL_HINT = (
    "    hint: a model file is read by show, set, export, query, explain, sensitivity, watch "
    "and graph; a scenario file names its model with 'model:' (see docs/scenario-format.md)\n"
)
SCENARIO_HINT = (
    "    hint: this scenario file's model is models/korea_russia_2024.yaml (its 'model:'); "
    "give that file instead\n"
)


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch):
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("riskchain: 1\nnodes: {a: {p: 0.5}}\n", MODEL),
        ("riskchain: 1\nmodel: m.yaml\nscenarios: {s: {}}\n", SCENARIOS),
        ("riskchain: 1\nscenarios: {s: {}}\n", SCENARIOS),
        ("riskchain: 1\nmodel: m.yaml\n", SCENARIOS),
        # 'nodes:' makes a model, whatever else the file has
        ("riskchain: 1\nnodes: {}\nscenarios: {}\n", MODEL),
        ("riskchain: 1\nid: x\n", None),
    ],
)
def test_the_kind_is_told_from_the_top_level_keys(text, kind):
    assert detect_kind(parse_yaml(text, "f.yaml")) is kind


@pytest.mark.parametrize("command", [["table"], ["run"], ["report", "-o", "never.html"]])
def test_a_model_file_given_for_a_scenario_file(capsys, command):
    """One message at the key that tells ('nodes:'), naming the command, not the
    scenario file's five "unknown key" errors."""
    code, out, err = run_cli(capsys, command[0], MODEL_FILE, *command[1:])
    assert (code, out) == (1, "")
    assert err == (
        f"{MODEL_FILE}:89:1: error: this is a model file (it has 'nodes:'), but `riskchain "
        f"{command[0]}` reads a scenario file (one with 'model:' and 'scenarios:')\n" + MODEL_HINT
    )
    assert not (ROOT / "never.html").exists()


@pytest.mark.parametrize(
    "command",
    [["show"], ["export", "-o", "never.bif"], ["set", "--dry-run", "{}", "nk_troop_dispatch", "0.3"]],
)
def test_a_scenario_file_given_for_a_model_file(capsys, command):
    """The message names the scenario file's own model, the file that was meant."""
    args = [a if a != "{}" else SCENARIO_FILE for a in command]
    if "{}" not in command:
        args.insert(1, SCENARIO_FILE)
    code, out, err = run_cli(capsys, *args)
    assert (code, out) == (1, "")
    assert err == (
        f"{SCENARIO_FILE}:25:1: error: this is a scenario file (it has 'model:' and "
        f"'scenarios:'), but `riskchain {command[0]}` reads a model file (one with 'nodes:')\n"
        + SCENARIO_HINT
    )
    assert not (ROOT / "never.bif").exists()


def test_the_library_raises_one_file_kind_error():
    """load_model and load_scenarios: a FileKindError (a SpecError) saying what each file is."""
    from riskchain import load_model
    from riskchain.analysis.scenarios import load_scenarios

    with pytest.raises(FileKindError) as info:
        load_model(SCENARIO_FILE)
    assert (info.value.found, info.value.wanted) == ("scenarios", "model")
    assert len(info.value.diagnostics) == 1
    assert "but a model file is wanted here" in str(info.value)
    with pytest.raises(SpecError) as info2:
        load_scenarios(MODEL_FILE)
    assert isinstance(info2.value, FileKindError)
    assert (info2.value.found, info2.value.wanted) == ("model", "scenarios")


def test_a_scenario_file_whose_model_is_a_scenario_file(capsys, tmp_path):
    """The scenario file's error points at its 'model:' and, below it, says what the
    file it names is."""
    other = tmp_path / "other.yaml"
    other.write_text("riskchain: 1\nmodel: ../m.yaml\nscenarios:\n  s: {}\n")
    main = tmp_path / "s.yaml"
    main.write_text("riskchain: 1\nmodel: other.yaml\nscenarios:\n  s: {}\n")
    code, _, err = run_cli(capsys, "validate", str(main))
    assert code == 1
    assert err.splitlines()[:2] == [
        f"{main}:2:8: error: model file 'other.yaml' is invalid (1 error below)",
        f"{other}:3:1: error: this is a scenario file (it has 'model:' and 'scenarios:'), but "
        "a model file is wanted here (one with 'nodes:')",
    ]


def test_validate_reads_both_kinds(capsys):
    code, out, _ = run_cli(capsys, "validate", MODEL_FILE, SCENARIO_FILE)
    assert code == 0
    assert out.count(": ok (") == 2
