"""The explanation's numbers against independent computations, and its rendering."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import riskchain
from conftest import check_golden, run_cli
from riskchain.analysis.explain import explain
from riskchain.analysis.uncertainty import DrawOptions
from riskchain.engine.mpe import most_probable_explanation
from riskchain.report.explain import render_explain

ROOT = Path(__file__).resolve().parents[2]
KOREA = ROOT / "models" / "korea_russia_2024.yaml"
SCENARIOS = "scenarios/korea_russia_2024.yaml"
GOLDEN = ROOT / "tests" / "golden" / "cli"
GIVEN = {"nis_satellite_photos": "yes", "training_ground_video": "no", "korean_emergency": "yes"}


@pytest.fixture(scope="module")
def korea() -> riskchain.Model:
    return riskchain.load_model(KOREA)


@pytest.fixture(scope="module")
def result(korea):
    return explain(korea, "rok_security_threat", "severe", given=GIVEN)


def test_judgment_and_mpe(korea, result):
    q = korea.query(given=GIVEN, targets=["rok_security_threat"])
    assert result.p == pytest.approx(q.posteriors["rok_security_threat"]["severe"])
    mpe = most_probable_explanation(korea, given=GIVEN)
    assert result.mpe.assignment == mpe.assignment
    assert result.mpe.probability == pytest.approx(mpe.probability)
    assert set(result.mpe.assignment) == set(korea.nodes) - set(GIVEN)


def test_contributions_are_remove_one_queries(korea, result):
    assert {c.node for c in result.contributions} == set(GIVEN)
    for c in result.contributions:
        rest = {k: v for k, v in GIVEN.items() if k != c.node}
        without = korea.query(given=rest, targets=["rok_security_threat"]).posteriors
        assert c.p_without == pytest.approx(without["rok_security_threat"]["severe"], abs=1e-12)
        assert c.change == pytest.approx(result.p - c.p_without, abs=1e-12)
    changes = [abs(c.change) for c in result.contributions]
    assert changes == sorted(changes, reverse=True)


def test_conflict_flag_follows_the_measure(korea):
    # a dispatch report and a denial from another source pull apart
    res = explain(
        korea,
        "nk_troop_dispatch",
        "yes",
        given={"nis_satellite_photos": "yes", "training_ground_video": "no"},
    )
    from riskchain.analysis.conflict import conflict

    value = conflict(korea, {"nis_satellite_photos": "yes", "training_ground_video": "no"})
    assert res.conflict == pytest.approx(value)
    assert res.conflicting == (value > 1e-9)
    assert "Warning: the findings conflict" in render_explain(res) or not res.conflicting


def test_shifts_are_real_crossings(korea, result):
    scale = result.scale
    now = scale.classify(result.p).term
    numbers = [s for s in result.shifts if s.kind == "number"]
    reachable = [
        p
        for p in result.sensitivity.analyst
        if p.threshold is not None and p.interval[0] - 1e-12 <= p.threshold <= p.interval[1] + 1e-12
    ]
    assert result.reachable == len(reachable)
    assert len(numbers) == min(len(reachable), 3)
    for s in numbers:
        par = next(p for p in result.sensitivity.analyst if p.node == s.node and p.name == s.what)
        lo, hi = par.interval
        assert lo - 1e-12 <= par.threshold <= hi + 1e-12
        if par.exact:
            assert float(par.function(par.threshold)) == pytest.approx(par.threshold_p, abs=1e-9)
    for s in result.shifts:
        if s.kind == "indicator":
            q = korea.query(given={**GIVEN, s.node: s.what}, targets=["rok_security_threat"])
            p = q.posteriors["rok_security_threat"]["severe"]
            assert p == pytest.approx(s.p, abs=1e-9)
            assert scale.classify(p).term != now


def test_json_contract(result):
    data = json.loads(render_explain(result, "json"))
    assert data["mpe"] == result.mpe.assignment
    assert 0 < data["mpe_probability"] <= 1
    assert data["target"] == {"node": "rok_security_threat", "state": "severe"}
    for key in ("contributions", "conflict", "assumptions", "indicators", "what_would_change"):
        assert key in data


def test_interval_when_asked(korea):
    res = explain(
        korea, "rok_security_threat", "severe", given=GIVEN, draws=DrawOptions(200, seed=3)
    )
    lo, hi = res.uncertainty.interval("rok_security_threat", "severe")
    assert lo < hi
    text = render_explain(res)
    assert "200 draws" in text and "seed 3" in text


def test_prose_is_built_from_the_numbers(result):
    """Change a number in the result: the text follows (nothing is canned)."""
    before = render_explain(result)
    result.contributions[0].p_without = 0.123456
    after = render_explain(result)
    assert "12.3%" in after and before != after


@pytest.mark.parametrize("fmt", ["md"])
def test_explain_golden(capsys, monkeypatch, fmt):
    monkeypatch.chdir(ROOT)
    code, out, err = run_cli(
        capsys,
        "explain",
        SCENARIOS,
        "--scenario",
        "reported",
        "--target",
        "rok_security_threat=severe",
        "--format",
        fmt,
    )
    assert code == 0, err
    check_golden(GOLDEN / f"explain_reported.{fmt}", out)


def test_cli_errors(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    code, _, err = run_cli(capsys, "explain", str(KOREA), "--target", "rok_security_threat")
    assert code == 2 and "--target" in err and "Traceback" not in err
    code, _, err = run_cli(capsys, "explain", str(KOREA), "--target", "nope=yes")
    assert code == 2 and "--target" in err
    code, _, err = run_cli(
        capsys, "explain", str(KOREA), "-t", "korean_emergency", "-g", "korean_emergency=yes"
    )
    assert code == 2 and "observed" in err


def test_doc_example_is_current(capsys, monkeypatch):
    """docs/explain.md pastes the real output for the reported scenario."""
    import re

    monkeypatch.chdir(ROOT)
    doc = (ROOT / "docs" / "explain.md").read_text()
    m = re.search(r"<!-- explain:begin -->\n(.*)<!-- explain:end -->", doc, re.S)
    assert m
    code, out, _ = run_cli(
        capsys, "explain", SCENARIOS, "-s", "reported", "-t", "rok_security_threat=severe"
    )
    assert code == 0 and m.group(1) == out


# ----------------------------------------------------------------------------- which number is which


def _yaml(path):
    from ruamel.yaml import YAML

    return YAML(typ="safe").load(Path(path).read_text())


def test_noisy_max_numbers_name_the_state_they_are_for(korea):
    """A noisy-MAX cause has one number per state of the effect: each bullet says which
    state its number is for, and that number is the file's number for that state."""
    res = explain(
        korea,
        "rok_security_threat",
        "elevated",
        given={"us_deterrent_neutralized": "yes", "peninsula_security_shaken": "yes"},
    )
    written = _yaml(KOREA)["nodes"]["rok_security_threat"]["noisy_max"]
    text = render_explain(res)
    bullets = [ln for ln in text.splitlines() if ln.startswith("- cause ")]
    causes = [p for p in res.assumptions if p.node == "rok_security_threat"]
    assert len({p.name for p in causes}) < len(causes)  # one cause, two of its numbers
    for par in causes:
        parent, _, present = par.name.removeprefix("cause ").partition("=")
        assert par.value == pytest.approx(written[parent][present][par.state])
        line = next(b for b in bullets if f"its number for `{par.state}` (written `{par.written}`)" in b)
        assert line.startswith(f"- {par.name} of ")
    # and the shift that names one of these numbers says its state too
    shift = next(s for s in res.shifts if s.kind == "number")
    assert f"its number for `{shift.detail['state']}`, at " in text


def test_binary_numbers_are_not_given_a_state():
    """P(yes) of a binary node needs no state: the bullet reads as before."""
    res = explain(riskchain.load_model(KOREA), "rok_security_threat", "severe", given=GIVEN)
    for par in res.assumptions:
        if len(res.model.states(par.node)) == 2 and par.state == "yes":
            assert f"{par.name} of " in render_explain(res)
    assert "its number for `yes`" not in render_explain(res)


@pytest.mark.parametrize(("sid", "owner"), [("tech_for_troops", None), ("worst_case", "tech_for_troops")])
def test_a_scenarios_own_numbers_are_named(capsys, monkeypatch, sid, owner):
    """On a scenario with `set:`, the explanation lists the nodes whose numbers the
    scenario replaced, with the numbers as the scenario file writes them, says which
    scenario wrote inherited ones, and keeps those nodes out of the assumptions."""
    monkeypatch.chdir(ROOT)
    file = _yaml(ROOT / SCENARIOS)["scenarios"]
    sets = file[owner or sid]["set"]
    code, out, _ = run_cli(capsys, "explain", SCENARIOS, "-s", sid, "-t", "nk_recon_satellite")
    assert code == 0
    assert f"on top of scenario `{sid}` (with its own numbers for {len(sets)} nodes)" in out
    section = out[out.index("**The scenario's own numbers.**") : out.index("**The assumptions")]
    for node, body in sets.items():
        line = next(ln for ln in section.splitlines() if f"(`{node}`)" in ln)
        if "p" in body:
            assert f"`p: {body['p']}`" in line
        for row, value in body.get("cpt", {}).items():
            assert f"`row '{row}': {value}`" in line
        assert (f"(set by scenario `{owner}`)" in line) == (owner is not None)
    code, out, _ = run_cli(
        capsys, "explain", SCENARIOS, "-s", sid, "-t", "nk_recon_satellite", "-f", "json"
    )
    data = json.loads(out)
    assert [r["node"] for r in data["replaced_by_scenario"]] == list(sets)
    assert {r["scenario"] for r in data["replaced_by_scenario"]} == {owner or sid}
    assert not {a["node"] for a in data["assumptions"]} & set(sets)


def test_a_scenario_without_set_says_nothing_of_replaced_numbers(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    code, out, _ = run_cli(capsys, "explain", SCENARIOS, "-s", "reported", "-t", "nk_recon_satellite")
    assert code == 0 and "own numbers" not in out
