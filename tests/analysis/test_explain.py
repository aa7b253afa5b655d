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
