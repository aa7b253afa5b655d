"""One-way sensitivity against direct re-solves: the closed form, its derivative, the
range ends and thresholds, for CPT entries and for the numbers as written."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import riskchain
from riskchain.analysis.sensitivity import sensitivity
from riskchain.errors import UsageError
from riskchain.scales import get_scale
from riskchain.spec.model import build_model
from riskchain.spec.yamlsrc import parse_yaml

ROOT = Path(__file__).resolve().parents[2]
KOREA = ROOT / "models" / "korea_russia_2024.yaml"
GIVEN = {"nis_satellite_photos": "yes", "korean_emergency": "yes"}


@pytest.fixture(scope="module")
def korea() -> riskchain.Model:
    return riskchain.load_model(KOREA)


@pytest.fixture(scope="module")
def korea_result(korea):
    return sensitivity(korea, "rok_security_threat", "severe", given=GIVEN)


def _model(text: str) -> riskchain.Model:
    return riskchain.Model(build_model(parse_yaml(text, "m.yaml"), default_id="m"))


def covaried(column, x: int, theta: float) -> list[float]:
    """The co-variation rule, written out here rather than taken from the module under
    test: entry ``x`` becomes ``theta`` and the other entries keep their proportions,
    scaled to fill ``1 - theta``; when they were all 0 they share it equally."""
    old = [float(v) for v in column]
    rest = sum(v for j, v in enumerate(old) if j != x)
    out = []
    for j, v in enumerate(old):
        if j == x:
            out.append(theta)
        elif rest > 0:
            out.append(v / rest * (1.0 - theta))
        else:
            out.append((1.0 - theta) / (len(old) - 1))
    return out


def test_covaried_rule_by_hand():
    """The oracle's rule on numbers worked by hand."""
    assert covaried([0.2, 0.3, 0.5], 0, 0.6) == pytest.approx([0.6, 0.15, 0.25])
    assert covaried([1.0, 0.0, 0.0], 0, 0.4) == pytest.approx([0.4, 0.3, 0.3])
    assert covaried([0.0, 1.0], 0, 1.0) == pytest.approx([1.0, 0.0])


def _resolve_entry(model, par, theta, target, state, **question) -> float:
    """P(target = state) with the entry set to theta, its column co-varied, solved afresh."""
    spec = model.spec.nodes[par.node]
    cpt = model.cpt(par.node).copy()
    u = tuple(model.states(p).index(par.when[p]) for p in spec.parents)
    cpt[u] = covaried(cpt[u], model.states(par.node).index(par.state), theta)
    res = model.with_tables({par.node: cpt}).query(targets=[target], **question)
    return res.posteriors[target][state]


def test_function_equals_direct_resolves_for_every_entry(korea, korea_result):
    """(αθ+β)/(γθ+δ) is exact: compare with fresh queries at three values of θ."""
    assert len(korea_result.parameters) > 40
    for par in korea_result.parameters:
        for theta in (0.0, 0.37, 1.0):
            direct = _resolve_entry(korea, par, theta, "rok_security_threat", "severe", given=GIVEN)
            assert par.function(theta) == pytest.approx(direct, abs=1e-10), par.name


def test_derivative_equals_finite_difference(korea, korea_result):
    for par in korea_result.parameters[:15]:
        h = 1e-6
        lo, hi = max(par.value - h, 0.0), min(par.value + h, 1.0)
        f = [
            _resolve_entry(korea, par, t, "rok_security_threat", "severe", given=GIVEN)
            for t in (lo, hi)
        ]
        assert par.derivative == pytest.approx((f[1] - f[0]) / (hi - lo), rel=1e-4, abs=1e-7)


def test_value_and_range_ends(korea, korea_result):
    p = korea_result.p
    assert p == pytest.approx(
        korea.query(given=GIVEN, targets=["rok_security_threat"]).posteriors["rok_security_threat"][
            "severe"
        ]
    )
    for par in korea_result.parameters:
        assert par.function(par.value) == pytest.approx(p, abs=1e-12)
        assert par.low == pytest.approx(float(par.function(par.interval[0])), abs=1e-11)
        assert par.high == pytest.approx(float(par.function(par.interval[1])), abs=1e-11)


def test_thresholds_cross_the_band_edge(korea, korea_result):
    """At the threshold P(target) equals the edge of its term; beyond it the term changes."""
    scale = get_scale("icd203")
    band = scale.classify(korea_result.p)
    edges = band.output_range()
    found = 0
    for par in korea_result.parameters:
        if par.threshold is None:
            # never: no value in [0, 1] reaches an edge (check on a fine grid)
            f = par.function(np.linspace(0, 1, 2001))
            for edge in edges:
                if 0 < edge < 1:
                    assert not (np.any(f < edge) and np.any(f > edge)) or not np.all(np.isfinite(f))
            continue
        found += 1
        assert par.threshold_p in edges
        assert float(par.function(par.threshold)) == pytest.approx(par.threshold_p, abs=1e-9)
        assert par.threshold_term != band.term
    assert found > 0


def test_analyst_numbers_vary_their_whole_row(korea):
    """A row covering several parent combinations moves them all: check with a re-solve
    that rewrites the row in the YAML text itself."""
    text = """\
riskchain: 1
nodes:
  a: {p: 0.3}
  b: {states: [lo, mid, hi], p: {lo: 0.2, mid: 0.5}}
  c:
    parents: [a, b]
    cpt:
      a=yes, b=*: likely
      a=no, b=lo|mid: 0.2
      a=no, b=hi: 0.6
  d:
    parents: [c]
    cpt:
      c=yes: 0.9
      c=no: 0.15
"""
    model = _model(text)
    res = sensitivity(model, "a", "yes", given={"d": "yes"})
    row = next(p for p in res.analyst if p.node == "c" and p.name == "row 'a=yes, b=*'")
    assert row.exact and row.written == "likely"
    assert row.interval == (0.55, 0.8)
    for theta in (0.1, 0.55, 0.9):
        changed = _model(text.replace("a=yes, b=*: likely", f"a=yes, b=*: {theta}"))
        direct = changed.query(given={"d": "yes"}, targets=["a"]).posteriors["a"]["yes"]
        assert row.function(theta) == pytest.approx(direct, abs=1e-12)


def test_entry_of_a_deterministic_column_shares_the_rest_equally():
    """Varying the 1 of a column whose other entries are 0: the others share 1 - θ
    equally (the oracle's second case), checked against fresh solves."""
    model = _model(
        """\
riskchain: 1
nodes:
  a: {p: 0.4}
  b:
    states: [lo, mid, hi]
    parents: [a]
    cpt:
      a=yes: {lo: 1, mid: 0, hi: 0}
      a=no: {lo: 0.2, mid: 0.3, hi: 0.5}
  c:
    states: [lo, mid, hi]
    parents: [b]
    cpt:
      b=lo: {lo: 0.7, mid: 0.2, hi: 0.1}
      b=mid: {lo: 0.1, mid: 0.6, hi: 0.3}
      b=hi: {lo: 0.05, mid: 0.15, hi: 0.8}
"""
    )
    res = sensitivity(model, "c", "hi", given={"a": "yes"})
    pars = [p for p in res.parameters if p.node == "b" and p.when == {"a": "yes"}]
    assert [p.state for p in pars if p.value == 1.0] == ["lo"]
    for par in pars:
        for theta in (0.0, 0.3, 0.8):
            direct = _resolve_entry(model, par, theta, "c", "hi", given={"a": "yes"})
            assert par.function(theta) == pytest.approx(direct, abs=1e-12), (par.name, theta)


def test_noisy_or_cause_is_exact_and_leak_on_a_grid():
    text = """\
riskchain: 1
nodes:
  x: {p: 0.4}
  z: {p: 0.3}
  y:
    parents: [x, z]
    noisy_or: {leak: 0.1, x: 0.7, z: 0.5}
  w:
    parents: [y]
    cpt: {y=yes: 0.8, y=no: 0.3}
"""
    model = _model(text)
    res = sensitivity(model, "x", "yes", given={"w": "yes"})
    cause = next(p for p in res.analyst if p.name == "cause x=yes")
    leak = next(p for p in res.analyst if p.name == "leak")
    assert cause.exact
    for theta in (0.2, 0.5, 0.95):
        changed = _model(text.replace("x: 0.7", f"x: {theta}"))
        direct = changed.query(given={"w": "yes"}, targets=["x"]).posteriors["x"]["yes"]
        assert cause.function(theta) == pytest.approx(direct, abs=1e-12)
    # the leak enters every row of a compound noisy-OR: not linear-fractional
    assert not leak.exact and leak.coefficients is None
    for end, got in zip(leak.interval, (leak.low, leak.high)):
        changed = _model(text.replace("leak: 0.1", f"leak: {end}"))
        direct = changed.query(given={"w": "yes"}, targets=["x"]).posteriors["x"]["yes"]
        assert got == pytest.approx(direct, abs=1e-9)
    h = 1e-5
    f = [
        _model(text.replace("leak: 0.1", f"leak: {0.1 + s}"))
        .query(given={"w": "yes"}, targets=["x"])
        .posteriors["x"]["yes"]
        for s in (-h, h)
    ]
    assert leak.derivative == pytest.approx((f[1] - f[0]) / (2 * h), rel=1e-3)


def test_threshold_option_and_never():
    text = """\
riskchain: 1
nodes:
  a: {p: 0.5}
  b:
    parents: [a]
    cpt: {a=yes: 0.9, a=no: 0.2}
"""
    model = _model(text)
    res = sensitivity(model, "b", "yes", threshold=0.5)
    prior = next(p for p in res.parameters if p.node == "a")
    # P(b) = 0.2 + 0.7 a crosses 0.5 at a = 3/7
    assert prior.threshold == pytest.approx(3 / 7)
    assert prior.threshold_p == 0.5
    res = sensitivity(model, "b", "yes", threshold=0.95)
    assert next(p for p in res.parameters if p.node == "a").threshold is None


def test_irrelevant_nodes_and_forced_nodes_are_left_out(korea):
    res = sensitivity(korea, "nk_troops_in_combat", "yes", do={"nk_troop_dispatch": "yes"})
    nodes = {p.node for p in res.parameters}
    assert nodes == {"nk_troops_in_combat"}
    assert "nk_troop_dispatch" in res.irrelevant


def test_errors(korea):
    with pytest.raises(UsageError, match="observed"):
        sensitivity(korea, "korean_emergency", "yes", given=GIVEN)
    with pytest.raises(UsageError, match="no state"):
        sensitivity(korea, "rok_security_threat", "extreme")
    with pytest.raises(UsageError, match="threshold"):
        sensitivity(korea, "rok_security_threat", "severe", threshold=1.5)


def test_json_contract(korea_result):
    data = korea_result.to_json()
    assert data["target"] == {"node": "rok_security_threat", "state": "severe"}
    assert math.isclose(data["p"], korea_result.p)
    first = data["parameters"][0]
    for key in ("node", "when", "state", "value", "derivative", "low", "high", "threshold"):
        assert key in first
    swings = [abs(p["high"] - p["low"]) for p in data["parameters"]]
    assert swings == sorted(swings, reverse=True)
