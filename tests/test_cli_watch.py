"""``riskchain watch`` and the conflict warning of ``query``, ``run`` and ``table``: golden output,
the JSON contract, exit codes and messages.

Golden files live in ``tests/golden/cli``; regenerate them with
``RISKCHAIN_UPDATE_GOLDEN=1 pytest tests/test_cli_watch.py`` and read the diff.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import check_golden, run_cli

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden" / "cli"
KOREA = "models/korea_russia_2024.yaml"
SCENARIOS = "scenarios/korea_russia_2024.yaml"


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch):
    monkeypatch.chdir(ROOT)


run = run_cli


def golden(name: str, text: str) -> None:
    check_golden(GOLDEN / name, text)


@pytest.mark.parametrize("fmt", ["table", "md"])
def test_watch_matches_golden(capsys, fmt):
    code, out, err = run(capsys, "watch", KOREA, "--target", "rok_security_threat", "-f", fmt)
    assert code == 0, err
    assert err == ""
    golden(f"watch.{fmt}", out)


def test_watch_json_contract(capsys):
    code, out, _ = run(
        capsys, "watch", SCENARIOS, "-s", "reported", "-t", "nk_troops_in_combat", "-f", "json"
    )
    assert code == 0
    data = json.loads(out)
    assert data["target"] == "nk_troops_in_combat"
    assert data["state"] == "yes"
    assert data["scenario"] == "reported"
    assert data["units"] == "bits"
    assert data["given"]["nis_satellite_photos"] == "yes"
    inds = data["indicators"]
    assert inds and len(inds) + len(data["uninformative"]) + len(data["given"]) == 24
    mis = [x["mutual_information"] for x in inds]
    assert mis == sorted(mis, reverse=True)
    for x in inds:
        assert {"node", "mutual_information", "expected_change", "outcomes"} <= set(x)
        assert sum(x["now"].values()) == pytest.approx(1.0)
        for state, o in x["outcomes"].items():
            assert state in x["now"]
            assert set(o) == {"probability", "p", "term"}
            assert o["term"].endswith("%]")  # a word always carries its range


def test_watch_between_json(capsys):
    code, out, _ = run(
        capsys, "watch", SCENARIOS, "--between", "reported", "tech_for_troops", "-f", "json"
    )
    assert code == 0
    data = json.loads(out)
    assert data["between"] == ["reported", "tech_for_troops"]
    divs = [x["divergence"] for x in data["indicators"]]
    assert divs == sorted(divs, reverse=True)
    assert data["indicators"][0]["node"] == "russia_tech_transfer"


def test_watch_top_limits_rows(capsys):
    code, out, _ = run(capsys, "watch", KOREA, "-t", "nk_troops_in_combat", "-k", "2")
    assert code == 0
    assert "(top 2 of " in out
    assert out.count("  if ") == 4  # two binary indicators, one line per state


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ([KOREA], "--target"),
        ([KOREA, "-t", "nope"], "--target: no node 'nope'"),
        ([KOREA, "-t", "rok_security_threat=bad"], "--target: 'rok_security_threat' has no state"),
        ([KOREA, "-t", "=x"], "--target"),
        ([KOREA, "-t", "nk_troop_dispatch", "-g", "nk_troop_dispatch=yes"], "--target:"),
        ([KOREA, "-t", "nk_troop_dispatch", "-g", "nope=yes"], "--given: no node 'nope'"),
        ([KOREA, "-t", "nk_troop_dispatch", "--do", "x"], "--do"),
        ([KOREA, "-t", "nk_troop_dispatch", "-l", "x=y"], "--likelihood"),
        ([KOREA, "-t", "nk_troop_dispatch", "-k", "0"], "--top"),
        ([KOREA, "-t", "nk_troop_dispatch", "--max-table", "lots"], "--max-table"),
        ([KOREA, "-t", "nk_troop_dispatch", "-f", "xml"], "--format"),
        ([KOREA, "--between", "a", "b"], "--between: models/korea_russia_2024.yaml is a model"),
        ([SCENARIOS, "--between", "reported", "nope"], "--between: no scenario 'nope'"),
        ([SCENARIOS, "--between", "reported"], "--between"),
        (
            [SCENARIOS, "-t", "nk_troop_dispatch", "--between", "reported", "nato_enters"],
            "--target",
        ),
        ([SCENARIOS, "-s", "reported", "--between", "reported", "nato_enters"], "--scenario"),
        ([SCENARIOS, "-t", "nk_troop_dispatch"], "--scenario"),
        ([KOREA, "-t", "nk_troop_dispatch", "-s", "reported"], "--scenario"),
    ],
)
def test_watch_usage_errors_exit_2(capsys, args, needle):
    code, out, err = run(capsys, "watch", *args)
    assert code == 2, err
    assert needle in err
    assert "Traceback" not in err
    assert out == ""


# ----------------------------------------------------------------------------- conflict warning


CONFLICT = "warning: the findings conflict under the model"


def test_query_warns_on_conflicting_findings(capsys):
    code, out, err = run(
        capsys, "query", KOREA, "-g", "nis_satellite_photos=no", "-g", "nk_troops_in_combat=yes"
    )
    assert code == 0
    assert out.startswith("North Korea")
    assert err.startswith(CONFLICT)
    assert "(conf = 1.29 bits > 0)" in err
    assert "2.45 times less likely together than apart" in err
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["-g", "nis_satellite_photos=yes"],
        ["-g", "nis_satellite_photos=yes", "-g", "nk_troops_in_combat=yes"],
        ["-g", "nis_satellite_photos=no", "--do", "nk_troops_in_combat=yes"],
    ],
)
def test_query_does_not_warn_otherwise(capsys, args):
    code, _, err = run(capsys, "query", KOREA, *args, "-f", "json")
    assert code == 0
    assert err == ""


def test_query_warns_with_a_likelihood(capsys):
    code, _, err = run(
        capsys,
        "query",
        KOREA,
        "-g",
        "nis_satellite_photos=no",
        "-l",
        "training_ground_video=yes:0.9,no:0.1",
    )
    assert code == 0
    assert err.startswith(CONFLICT)


def test_run_warns_per_scenario(capsys, tmp_path):
    model = (ROOT / KOREA).resolve()
    path = tmp_path / "s.yaml"
    path.write_text(
        f"riskchain: 1\nmodel: {model}\ntargets: [nk_troop_dispatch]\nbaseline: base\n"
        "scenarios:\n"
        "  base:\n    description: b\n"
        "    given: {nis_satellite_photos: yes, training_ground_video: yes}\n"
        "  odd:\n    description: o\n"
        "    given: {nis_satellite_photos: no, nk_troops_in_combat: yes}\n"
    )
    expected = [
        "warning: scenario 'odd': the findings conflict under the model (conf = 1.29 bits > 0): "
        "they are 2.45 times less likely together than apart; check them"
    ]
    code, _, err = run(capsys, "run", str(path))
    assert code == 0
    assert err.splitlines() == expected
    # the risk table of the same file warns the same way (the table goes to stdout)
    code, _, err = run(capsys, "table", str(path))
    assert code == 0
    assert err.splitlines() == expected


@pytest.mark.parametrize("command", ["run", "table"])
def test_the_editorial_does_not_warn(capsys, command):
    code, _, err = run(capsys, command, SCENARIOS)
    assert code == 0
    assert err == ""
