"""The command line: output formats (golden files), the JSON contracts, exit codes and messages.

Golden files live in ``tests/golden/cli``; regenerate them with
``RISKCHAIN_UPDATE_GOLDEN=1 pytest tests/test_cli.py`` and read the diff.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import check_golden, run_cli
from riskchain._clidoc import render as render_cli_docs
from riskchain.cli import main

ROOT = Path(__file__).resolve().parents[1]
TINY = "tests/data/models/tiny.yaml"
GOLDEN = ROOT / "tests" / "golden" / "cli"
NETWORKS = ROOT / "tests" / "data" / "networks"


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch):
    """Run every command from the repository root so paths in output are stable."""
    monkeypatch.chdir(ROOT)


run = run_cli


def golden(name: str, text: str) -> None:
    check_golden(GOLDEN / name, text)


# ----------------------------------------------------------------------------- query


@pytest.mark.parametrize("fmt", ["table", "md", "csv", "json"])
def test_query_formats_match_golden(capsys, fmt):
    """Each output format of one question (observation, intervention, likelihood) is stable."""
    code, out, err = run(
        capsys,
        "query",
        TINY,
        "--given", "press_report=yes",
        "--do", "incident=yes",
        "--likelihood", "talks_fail=no:0.3,yes:0.7",
        "--target", "escalation",
        "--target", "crisis_level",
        "--target", "incident",
        "--format", fmt,
    )  # fmt: skip
    assert code == 0, err
    golden(f"query.{fmt}", out)


def test_query_json_contract_and_numbers(capsys):
    """The JSON shape is the documented contract and the numbers equal a hand computation."""
    code, out, _ = run(capsys, "query", TINY, "--given", "press_report=yes", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert set(data) >= {"model", "given", "do", "likelihood", "evidence_probability", "posteriors"}
    assert data["model"] == "tiny"
    assert data["given"] == {"press_report": "yes"}
    assert list(data["posteriors"]) == [
        "escalation",
        "crisis_level",
    ]  # the model's declared targets
    # Hand computation: P(talks_fail) = 0.325 (unlikely), P(incident) = 0.2, escalation rows as written.
    pt, pi = 0.325, 0.2
    pe_yes = (
        pt * pi * 0.875 + pt * (1 - pi) * 0.4 + (1 - pt) * pi * 0.3 + (1 - pt) * (1 - pi) * 0.05
    )
    joint_yes = pe_yes * 0.9
    joint_no = (1 - pe_yes) * 0.1
    assert data["evidence_probability"] == pytest.approx(joint_yes + joint_no, abs=1e-12)
    post = joint_yes / (joint_yes + joint_no)
    assert data["posteriors"]["escalation"]["yes"] == pytest.approx(post, abs=1e-12)
    severe = post * 0.4 + (1 - post) * 0.05
    assert data["posteriors"]["crisis_level"]["severe"] == pytest.approx(severe, abs=1e-12)


def test_query_pgmpy_engine_agrees(capsys):
    """--engine pgmpy gives the same posteriors and P(evidence) as the fast engine."""
    args = [
        "query",
        TINY,
        "-g",
        "press_report=yes",
        "--do",
        "talks_fail=yes",
        "-l",
        "incident=no:1,yes:3",
    ]
    _, fast, _ = run(capsys, *args, "-f", "json")
    code, slow, err = run(capsys, *args, "-f", "json", "--engine", "pgmpy")
    assert code == 0, err
    a, b = json.loads(fast), json.loads(slow)
    assert b["engine"] == "pgmpy"
    assert a["evidence_probability"] == pytest.approx(b["evidence_probability"], rel=1e-9)
    for node, dist in a["posteriors"].items():
        assert np.allclose(list(dist.values()), list(b["posteriors"][node].values()), atol=1e-9)


def test_query_observed_and_forced_are_labelled(capsys):
    """Every format says which nodes the question observed and which it forced."""
    args = [
        "query",
        TINY,
        "-g",
        "press_report=yes",
        "--do",
        "incident=yes",
        "-t",
        "press_report",
        "-t",
        "incident",
    ]
    _, out, _ = run(capsys, *args)
    assert "observed (given): press_report=yes" in out
    assert "forced (do):      incident=yes" in out
    lines = out.splitlines()
    assert lines[-4].split()[0] == "press_report"
    assert lines[-3].split() == ["yes", "100%", "observed"]
    assert lines[-1].split() == ["yes", "100%", "forced"]
    _, out, _ = run(capsys, *args, "-f", "csv")
    rows = [line.split(",") for line in out.splitlines()[1:]]
    assert [(r[0], r[2], r[-1]) for r in rows] == [
        ("press_report", "no", "observed"),
        ("press_report", "yes", "observed"),
        ("incident", "no", "forced"),
        ("incident", "yes", "forced"),
    ]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (
            ["-g", "press_reprt=yes"],
            "--given: no node 'press_reprt' in model 'tiny'; did you mean 'press_report'?",
        ),
        (
            ["-g", "press_report=maybe"],
            "--given: node 'press_report' has no state 'maybe' (states: no, yes)",
        ),
        (["-g", "press_report"], "'press_report' is not NODE=STATE"),
        (
            ["--do", "incident=yes", "-g", "incident=yes"],
            "'incident' is both observed (given) and forced (do)",
        ),
        (["-l", "incident=yes:0.5"], "likelihood of 'incident' gives no value for no"),
        (["-l", "incident=yes:x,no:1"], "'x' in 'incident=yes:x,no:1' is not a number"),
        (["-l", "incident=yes:-1,no:1"], "likelihood of 'incident' must be nonnegative numbers"),
        (["-t", "nope"], "--target: no node 'nope' in model 'tiny'"),
        (["--max-table", "lots"], "'lots' is not a size such as 512MiB, 2GiB or 1e9"),
        (["--format", "xml"], "'xml' is not one of"),
    ],
)
def test_query_usage_errors_exit_2(capsys, args, needle):
    """Bad flags and unknown names exit 2 with one message naming the offender, no traceback."""
    code, out, err = run(capsys, "query", TINY, *args)
    assert code == 2
    assert needle in err
    assert "Traceback" not in err
    assert out == ""


def test_query_impossible_evidence_exit_1(capsys):
    """Impossible findings exit 1 and name the minimal conflicting set."""
    code, out, err = run(
        capsys,
        "query",
        TINY,
        "-g",
        "ceasefire=yes",
        "-g",
        "escalation=yes",
        "-g",
        "press_report=yes",
    )
    assert code == 1
    assert out == ""
    assert err.splitlines()[0] == (
        "error: the evidence is impossible under the model: ceasefire=yes, escalation=yes cannot all hold "
        "(probability 0)"
    )
    assert "all findings: ceasefire=yes, escalation=yes, press_report=yes" in err


def test_query_too_large_is_refused(capsys, tmp_path):
    """A budget smaller than the plan's tables refuses the question with an estimate. A
    10 x 10 grid (each node's parents: left and above) has 64-byte tables (the model
    fits 8 KiB) but cliques of 15 variables."""
    lines = ["riskchain: 1", "nodes:"]
    for i in range(10):
        for j in range(10):
            ps = ([f"g{i - 1}_{j}"] if i else []) + ([f"g{i}_{j - 1}"] if j else [])
            body = f"{{parents: [{', '.join(ps)}], cpt: {{default: 0.5}}}}" if ps else "{p: 0.5}"
            lines.append(f"  g{i}_{j}: {body}")
    grid = tmp_path / "grid.yaml"
    grid.write_text("\n".join(lines) + "\n")
    code, out, err = run(capsys, "query", str(grid), "--max-table", "8KiB")
    assert code == 1
    assert out == ""
    assert err.startswith("error: exact inference would need about ")
    assert "above the budget of 8.0 KiB" in err
    assert "--max-table" in err


def test_query_invalid_model_reports_location(capsys, tmp_path):
    """A broken model file gives path:line:col errors and exit 1."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("riskchain: 1\nnodes:\n  a:\n    p: likley\n")
    code, out, err = run(capsys, "query", str(bad))
    assert out == ""
    assert code == 1
    assert (
        err == f"{bad}:4:8: error: unknown probability 'likley': not a term of scale icd203 "
        "(the default)\n    hint: did you mean 'likely'?\n"
    )


def test_missing_model_file_is_usage_error(capsys):
    code, _, err = run(capsys, "query", "nope.yaml")
    assert code == 2
    assert err == "error: nope.yaml: no such file\n"


def test_query_max_table_is_the_budget_of_the_models_tables_too(capsys, tmp_path):
    """--max-table also sizes the model's tables before they are built: a 16 MiB table
    (48 MiB to build) is refused at its parents under 32MiB and answered under 64MiB."""
    wide = tmp_path / "wide.yaml"
    wide.write_text(
        "riskchain: 1\nnodes:\n"
        + "".join(f"  p{i}: {{p: 0.5}}\n" for i in range(20))
        + "  c:\n    parents: ["
        + ", ".join(f"p{i}" for i in range(20))
        + "]\n    cpt: {default: 0.3}\n"
    )
    code, out, err = run(capsys, "query", str(wide), "-t", "c", "--max-table", "32MiB")
    assert code == 1 and out == ""
    assert err.startswith(f"{wide}:24:5: error: the table of 'c' would have 2,097,152 entries")
    code, out, err = run(capsys, "query", str(wide), "-t", "c", "-f", "json", "--max-table", "64MiB")
    assert code == 0
    assert json.loads(out)["posteriors"]["c"]["yes"] == pytest.approx(0.3)


def test_debug_shows_traceback(capsys):
    """--debug lets the exception through (with its traceback) instead of the one-line message."""
    from riskchain.errors import UsageError

    with pytest.raises(UsageError):
        main(["--debug", "query", TINY, "-g", "nope=yes"])


def test_version(capsys):
    from riskchain import __version__

    code, out, _ = run(capsys, "--version")
    assert code == 0
    assert out == f"riskchain {__version__}\n"


# ----------------------------------------------------------------------------- show


def test_show_table_matches_golden(capsys):
    code, out, _ = run(capsys, "show", TINY)
    assert code == 0
    golden("show.table", out)


def test_show_json_contract(capsys):
    """show --format json: nested cpt indexed by parents' states then the node's; rows sum to 1."""
    code, out, _ = run(capsys, "show", TINY, "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert (data["id"], data["title"], data["horizon"]) == ("tiny", "Tiny test model", "12 months")
    nodes = {n["id"]: n for n in data["nodes"]}
    assert [n["id"] for n in data["nodes"]] == [
        "talks_fail", "incident", "escalation", "crisis_level", "press_report", "ceasefire",
    ]  # fmt: skip
    for node in data["nodes"]:
        assert set(node) >= {"id", "label", "states", "parents", "cpt", "sources"}
        arr = np.asarray(node["cpt"])
        assert arr.shape == (
            *(len(nodes[p]["states"]) for p in node["parents"]),
            len(node["states"]),
        )
        assert np.allclose(arr.sum(axis=-1), 1.0, atol=1e-12)
    esc = np.asarray(nodes["escalation"]["cpt"])
    assert esc[1, 1, 1] == pytest.approx(
        0.875
    )  # talks_fail=yes, incident=yes: very likely (midpoint)
    assert esc[0, 1, 1] == pytest.approx(0.3)  # range [0.2, 0.4] -> midpoint
    assert esc[0, 0, 1] == pytest.approx(0.05)  # default beta(1, 19) -> mean
    assert nodes["talks_fail"]["cpt"] == pytest.approx([0.675, 0.325])
    assert nodes["talks_fail"]["sources"] == ["memo"]


# ----------------------------------------------------------------------------- import


def test_import_writes_a_valid_model(capsys, tmp_path):
    out_file = tmp_path / "asia.yaml"
    code, _, err = run(capsys, "import", str(NETWORKS / "asia.bif.gz"), "-o", str(out_file))
    assert code == 0, err
    assert "model 'asia', 8 nodes, 8 edges (validated)" in err
    code, out, _ = run(capsys, "validate", str(out_file))
    assert code == 0
    # The asia network's published numbers survive the round trip.
    code, out, _ = run(capsys, "show", str(out_file), "--format", "json")
    nodes = {n["id"]: n for n in json.loads(out)["nodes"]}
    assert nodes["asia"]["states"] == ["yes", "no"]
    assert nodes["asia"]["cpt"] == [0.01, 0.99]
    assert nodes["either"]["parents"] == ["lung", "tub"]


def test_import_refuses_to_overwrite(capsys, tmp_path):
    """An existing output file is left untouched unless --force is given."""
    out_file = tmp_path / "asia.yaml"
    out_file.write_text("mine\n")
    code, _, err = run(capsys, "import", str(NETWORKS / "asia.bif.gz"), "-o", str(out_file))
    assert code == 2
    assert "the file exists; add --force to replace it" in err
    assert out_file.read_text() == "mine\n"
    code, _, _ = run(
        capsys, "import", str(NETWORKS / "asia.bif.gz"), "-o", str(out_file), "--force"
    )
    assert code == 0
    assert out_file.read_text().startswith("# Imported by 'riskchain import' from asia.bif.gz.")


def test_import_bad_input_writes_nothing(capsys, tmp_path):
    src = tmp_path / "net.txt"
    src.write_text("not a network")
    out_file = tmp_path / "out.yaml"
    code, _, err = run(capsys, "import", str(src), "-o", str(out_file))
    assert code == 1
    assert "cannot import this file type" in err
    assert not out_file.exists()
    assert list(tmp_path.iterdir()) == [src]  # no temporary file left behind


# ----------------------------------------------------------------------------- docs


def test_cli_reference_is_current():
    """docs/cli.md is generated from --help; regenerate with `python -m riskchain._clidoc docs/cli.md`."""
    assert (ROOT / "docs" / "cli.md").read_text() == render_cli_docs()


def test_write_failure_is_one_line(capsys, tmp_path, monkeypatch):
    """A failed write (disk full) is a one-line error with exit 1, not a traceback."""
    import riskchain.io.files

    def full(path, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(riskchain.io.files, "atomic_write", full)
    out_file = tmp_path / "t.md"
    code, _, err = run(
        capsys, "table", "scenarios/korea_russia_2024.yaml", "-f", "md", "-o", str(out_file)
    )
    assert code == 1
    assert err == f"error: cannot write {out_file}: No space left on device\n"
    assert not out_file.exists()


# ----------------------------------------------------------------------------- shell completion


@pytest.mark.parametrize(
    ("words", "cword", "expected"),
    [
        ("riskchain ta", 1, ["table"]),
        ("riskchain table --lay", 2, ["--layout"]),
        ("riskchain table --layout ", 3, ["auto", "wide", "long"]),
        ("riskchain query --scale ", 3, ["icd203", "phia", "kent"]),
    ],
)
def test_shell_completion_completes_commands_flags_and_choices(
    capsys, monkeypatch, words, cword, expected
):
    """The protocol the installed bash script speaks: commands, flags and choices."""
    monkeypatch.setenv("_RISKCHAIN_COMPLETE", "complete_bash")
    monkeypatch.setenv("COMP_WORDS", words)
    monkeypatch.setenv("COMP_CWORD", str(cword))
    code, out, _ = run(capsys)
    assert code == 0
    assert out.split() == expected


def test_install_completion_writes_the_script_for_the_shell(tmp_path):
    """--install-completion (run from bash, in a HOME of its own) writes the bash
    script and sources it from ~/.bashrc; --show-completion prints the same script."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "HOME": str(tmp_path)}
    cmd = f"{sys.executable} -m riskchain.cli --install-completion; echo rc=$?"
    out = subprocess.run(["bash", "-c", cmd], env=env, capture_output=True, text=True)
    assert out.stdout.splitlines()[-1] == "rc=0", out.stderr
    script = tmp_path / ".bash_completions" / "riskchain.sh"
    assert f"source '{script}'" in (tmp_path / ".bashrc").read_text()
    assert "_RISKCHAIN_COMPLETE=complete_bash" in script.read_text()
    cmd = f"{sys.executable} -m riskchain.cli --show-completion; echo rc=$?"
    shown = subprocess.run(["bash", "-c", cmd], env=env, capture_output=True, text=True)
    assert shown.stdout.strip().endswith("rc=0")
    assert "complete -o default -F _riskchain_completion riskchain" in shown.stdout


def test_root_help_offers_completion(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0
    assert "--install-completion" in out and "--show-completion" in out
