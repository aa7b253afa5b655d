"""The command line's uncertainty flags: --samples, --seed, --level, --strength.

JSON contents, reproducibility, the table's intervals and footer, and refusals of bad
values (exit 2, a message naming the flag, no traceback).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import run_cli
from riskchain.cli import DEFAULT_SAMPLES

ROOT = Path(__file__).resolve().parents[1]
MODEL = "models/korea_russia_2024.yaml"
TINY = "tests/data/models/tiny.yaml"


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch):
    monkeypatch.chdir(ROOT)


run = run_cli


def query_json(capsys, *args: str) -> dict:
    code, out, err = run(capsys, "query", *args, "--format", "json")
    assert code == 0, err
    return json.loads(out)


def test_json_has_an_interval_and_a_mean_for_every_target_and_state(capsys):
    data = query_json(capsys, MODEL, "--samples", "200", "--seed", "5")
    u = data["uncertainty"]
    assert u["samples"] == 200 and u["seed"] == 5 and u["level"] == 0.9
    posteriors = data["posteriors"]
    assert set(u["intervals"]) == set(posteriors) == set(u["mean"])
    for node, dist in posteriors.items():
        assert set(u["intervals"][node]) == set(dist) == set(u["mean"][node])
        for state in dist:
            lo, hi = u["intervals"][node][state]
            assert 0.0 <= lo <= u["mean"][node][state] <= hi <= 1.0
    # the editorial model's terms and ranges spread the answers
    widths = [hi - lo for st in u["intervals"].values() for lo, hi in st.values()]
    assert max(widths) > 0.01
    assert u["spread"] == ["own"] and u["strength_only"] is False and u["impossible_draws"] == 0


def test_same_seed_same_json_other_seed_other_intervals(capsys):
    args = (MODEL, "--samples", "100", "--seed", "5", "--given", "nis_satellite_photos=yes")
    a = query_json(capsys, *args)
    b = query_json(capsys, *args)
    assert a == b
    c = query_json(
        capsys, MODEL, "--samples", "100", "--seed", "6", "--given", "nis_satellite_photos=yes"
    )
    assert c["uncertainty"]["intervals"] != a["uncertainty"]["intervals"]
    assert c["posteriors"] == a["posteriors"]  # the point answer does not depend on the draws


def test_a_lower_level_narrows_every_interval(capsys):
    wide = query_json(capsys, MODEL, "--samples", "300", "--seed", "2")["uncertainty"]
    narrow = query_json(capsys, MODEL, "--samples", "300", "--seed", "2", "--level", "0.5")[
        "uncertainty"
    ]
    assert narrow["level"] == 0.5
    for node, states in wide["intervals"].items():
        for state, (lo, hi) in states.items():
            nlo, nhi = narrow["intervals"][node][state]
            # the same draws: the central 50% lies inside the central 90%
            assert lo <= nlo <= nhi <= hi
    total = sum(hi - lo for st in wide["intervals"].values() for lo, hi in st.values())
    ntotal = sum(hi - lo for st in narrow["intervals"].values() for lo, hi in st.values())
    assert ntotal < 0.8 * total


def test_seed_alone_draws_the_default_number(capsys):
    u = query_json(capsys, TINY, "--seed", "1", "--target", "escalation")["uncertainty"]
    assert u["samples"] == DEFAULT_SAMPLES == 1000


def test_strength_alone_draws_and_is_labelled(capsys):
    u = query_json(capsys, TINY, "--strength", "20", "--seed", "1", "--target", "press_report")[
        "uncertainty"
    ]
    assert u["samples"] == DEFAULT_SAMPLES and u["strength"] == 20
    assert "flag-strength" in u["spread"]


def test_no_flags_no_uncertainty(capsys):
    data = query_json(capsys, TINY)
    assert "uncertainty" not in data


def test_table_shows_intervals_and_the_footer(capsys):
    code, out, err = run(
        capsys, "query", MODEL, "--samples", "200", "--seed", "5", "-t", "nk_troop_dispatch"
    )
    assert code == 0, err
    lines = out.splitlines()
    # each state of the target: its point value, then [lo–hi]
    shown = [
        ln
        for ln in lines
        if re.search(r"\b(no|yes) +\d+(\.\d+)?% \[\d+(\.\d+)?–\d+(\.\d+)?%\]", ln)
    ]
    assert len(shown) == 2
    assert "p [interval]" in out
    assert "intervals: central 90% of 200 parameter draws (seed 5), each solved exactly" in lines
    assert any(ln.startswith("spread: from the ranges of the model's terms") for ln in lines)


def test_table_footer_names_the_flags_strength_beside_the_models_own_spread(capsys):
    code, out, _ = run(
        capsys, "query", TINY, "--samples", "20", "--seed", "1", "--strength", "30",
        "-t", "press_report",
    )  # fmt: skip
    assert code == 0
    # tiny.yaml has terms and ranges, and exact numbers the flag spreads
    assert "--strength 30 for the exact numbers" in out


def test_table_footer_says_when_the_spread_is_the_flags_only(capsys, tmp_path):
    model = tmp_path / "exact.yaml"
    model.write_text("riskchain: 1\nnodes:\n  a: {p: 0.3}\n")
    code, out, _ = run(capsys, "query", str(model), "--samples", "20", "--strength", "30")
    assert code == 0
    assert "spread: from --strength 30 only" in out
    code, out, _ = run(capsys, "query", str(model), "--samples", "20")
    assert code == 0
    assert "spread: no spread" in out


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["--samples", "0"], "--samples"),
        (["--samples", "-3"], "--samples"),
        (["--level", "1"], "--level"),
        (["--level", "0"], "--level"),
        (["--level", "1.5"], "--level"),
        (["--strength", "-1"], "--strength"),
        (["--strength", "0"], "--strength"),
        (["--strength", "inf"], "--strength"),
        (["--engine", "pgmpy", "--samples", "10"], "--engine"),
        (["--samples", "many"], "--samples"),
    ],
)
def test_bad_values_exit_2_naming_the_flag(capsys, args, flag):
    code, out, err = run(capsys, "query", TINY, *args)
    assert code == 2
    assert flag in err
    assert "Traceback" not in err and "Traceback" not in out
    assert out == ""


def test_query_on_a_scenario_draws_what_run_draws_for_it(capsys):
    """The same seed gives a scenario the same draws whether it is asked alone (query
    --scenario) or run with the others (run): its own numbers' streams are its own."""
    scenarios, sid = "scenarios/korea_russia_2024.yaml", "tech_for_troops"
    flags = ("--samples", "60", "--seed", "4", "--strength", "25", "--format", "json")
    code, out, err = run(capsys, "query", scenarios, "--scenario", sid, *flags)
    assert code == 0, err
    alone = json.loads(out)["uncertainty"]
    code, out, err = run(capsys, "run", scenarios, *flags)
    assert code == 0, err
    together = next(s for s in json.loads(out)["scenarios"] if s["id"] == sid)["uncertainty"]
    assert together["intervals"].keys() == alone["intervals"].keys()
    for node, states in alone["intervals"].items():
        for state, (lo, hi) in states.items():
            assert together["intervals"][node][state] == pytest.approx([lo, hi], abs=1e-12)
    assert max(hi - lo for st in alone["intervals"].values() for lo, hi in st.values()) > 0.01
