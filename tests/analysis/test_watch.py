"""Which indicator to watch (:mod:`riskchain.analysis.watch`) against independent answers.

- Mutual information, P(x | e), the expected change and the probability of a term
  change against the joint P(T, X, e) summed out by brute force (every CPT multiplied
  and summed with numpy's einsum, no junction tree): on asia, on the editorial model
  with findings, interventions and a likelihood, and on random networks with zeros.
- Nodes left out as d-separated have a brute-force mutual information of 0.
- Every outcome equals a fresh ``model.query`` with the indicator observed.
- Chunked solves equal one batch; the two-scenario ranking against two plain queries.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import riskchain.analysis.watch as watch_mod
from conftest import network, networks
from riskchain.analysis.scenarios import pose
from riskchain.analysis.watch import between, watch
from riskchain.errors import RiskchainError, UsageError
from riskchain.io.bif import Imported, to_yaml
from riskchain.model import Model, load_model
from riskchain.scales import get_scale
from riskchain.spec.model import parse_model_text

ROOT = Path(__file__).resolve().parents[2]
KOREA = ROOT / "models" / "korea_russia_2024.yaml"
KOREA_SCENARIOS = ROOT / "scenarios" / "korea_russia_2024.yaml"
TOL = 1e-10

KOREA_QUESTION = {
    "given": {"nis_satellite_photos": "yes", "roads_rail_demolished": "yes"},
    "do": {"allied_pressure": "yes"},
    "likelihood": {"training_ground_video": {"no": 0.3, "yes": 0.7}},
}


@pytest.fixture(scope="module")
def korea() -> Model:
    return load_model(KOREA)


def as_model(compiled) -> Model:
    """A riskchain Model of a compiled network (through its model-file text)."""
    raw = {n: compiled.cpts[i] for i, n in enumerate(compiled.names)}
    text = to_yaml(Imported(compiled, raw, "test"))
    return Model(parse_model_text(text, f"{compiled.id}.yaml", compiled.id))


# ----------------------------------------------------------------------------- brute force


def brute_pair(
    model: Model,
    t: str,
    x: str,
    given: Mapping[str, str] | None = None,
    do: Mapping[str, str] | None = None,
    likelihood: Mapping[str, Mapping[str, float]] | None = None,
) -> np.ndarray:
    """P(T, X, e) (a card_T × card_X array) summed over the whole joint: every CPT
    (forced nodes' replaced by a point mass) times the findings' indicator vectors."""
    m = model.compiled
    do = dict(do or {})
    ops: list = []
    for i, name in enumerate(m.names):
        if name in do:
            ops += [np.eye(m.cards[i])[m.state(name, do[name])], [i]]
        else:
            ops += [m.cpts[i], [*m.parents[i], i]]
    for name, state in (given or {}).items():
        i = m.index[name]
        ops += [np.eye(m.cards[i])[m.state(name, state)], [i]]
    for name, lik in (likelihood or {}).items():
        i = m.index[name]
        ops += [np.array([lik[s] for s in m.states[i]]), [i]]
    ti, xi = m.index[t], m.index[x]
    return np.einsum(*ops, [ti, xi], optimize="greedy")


def brute_indicator(model: Model, t: str, x: str, state: str | None, scale, **question):
    """(MI in bits, P(x | e), P(t | e, x) rows, expected change, P(term changes))."""
    joint = brute_pair(model, t, x, **question)
    joint = joint / joint.sum()
    pt, px = joint.sum(axis=1), joint.sum(axis=0)
    mi = 0.0
    for a in range(joint.shape[0]):
        for b in range(joint.shape[1]):
            if joint[a, b] > 0:
                mi += joint[a, b] * math.log2(joint[a, b] / (pt[a] * px[b]))
    rows = [joint[:, b] / px[b] if px[b] > 0 else None for b in range(joint.shape[1])]
    states = list(model.states(t))
    k = None if state is None else states.index(state)
    change = flip = 0.0
    for b, row in enumerate(rows):
        if row is None:
            continue
        if k is None:
            change += px[b] * 0.5 * np.abs(row - pt).sum()
            before = (int(np.argmax(pt)), scale.classify(pt.max()))
            after = (int(np.argmax(row)), scale.classify(row.max()))
        else:
            change += px[b] * abs(row[k] - pt[k])
            before, after = scale.classify(pt[k]), scale.classify(row[k])
        flip += px[b] if before != after else 0.0
    return mi, px, rows, change, flip


def check_against_brute(model: Model, res, **question) -> None:
    scale = res.scale
    ranked = {x.node: x for x in res.indicators}
    for ind in res.indicators:
        mi, px, rows, change, flip = brute_indicator(
            model, res.target, ind.node, res.state, scale, **question
        )
        assert ind.mutual_information == pytest.approx(mi, abs=TOL), ind.node
        assert ind.expected_change == pytest.approx(change, abs=TOL), ind.node
        assert ind.term_change == pytest.approx(flip, abs=TOL), ind.node
        for b, (s, o) in enumerate(ind.outcomes.items()):
            assert o.probability == pytest.approx(px[b], abs=TOL), (ind.node, s)
            if rows[b] is None:
                assert not o.possible
                continue
            got = np.array(list(o.posterior.values()))
            np.testing.assert_allclose(got, rows[b], atol=TOL, err_msg=f"{ind.node}={s}")
    for name in res.uninformative:
        assert name not in ranked
        mi, *_ = brute_indicator(model, res.target, name, res.state, scale, **question)
        assert mi == pytest.approx(0.0, abs=TOL), name
    mis = [x.mutual_information for x in res.indicators]
    assert mis == sorted(mis, reverse=True)


@pytest.mark.networks("asia")
def test_asia_matches_brute_force_enumeration():
    model = as_model(network("asia").model)
    question = {"given": {"xray": "yes", "smoke": "yes"}}
    res = watch(model, "lung", **question)
    assert res.state == "yes"
    # smoke observed and dysp not: bronc reaches lung only through the closed collider dysp
    assert {x.node for x in res.indicators} == {"asia", "tub", "either", "dysp"}
    assert res.uninformative == ["bronc"]
    check_against_brute(model, res, **question)
    # with nothing observed the whole network is informative about 'either'
    res = watch(model, "either")
    assert not res.uninformative
    check_against_brute(model, res)


@pytest.mark.networks("asia")
def test_asia_d_separation_and_surgery():
    """'either' observed blocks tub/lung from xray; forcing 'bronc' cuts it off from smoke."""
    model = as_model(network("asia").model)
    question = {"given": {"either": "yes"}, "do": {"bronc": "yes"}}
    res = watch(model, "xray", **question)
    assert {x.node for x in res.indicators} == set()
    assert set(res.uninformative) == {"asia", "tub", "smoke", "lung", "dysp"}
    check_against_brute(model, res, **question)
    # a likelihood on dysp opens the collider either -> dysp <- bronc for tub and lung
    question = {"given": {"xray": "no"}, "likelihood": {"dysp": {"yes": 0.9, "no": 0.2}}}
    res = watch(model, "bronc", **question)
    assert "dysp" in {x.node for x in res.indicators}
    assert {"tub", "lung", "either"} <= {x.node for x in res.indicators}
    check_against_brute(model, res, **question)


def test_editorial_graded_target_matches_brute_force(korea):
    res = watch(korea, "rok_security_threat", **KOREA_QUESTION)
    assert res.graded and res.state is None
    assert "allied_pressure" not in {x.node for x in res.indicators}
    assert "training_ground_video" in {x.node for x in res.indicators}  # soft: still a candidate
    check_against_brute(korea, res, **KOREA_QUESTION)


def test_editorial_state_target_matches_brute_force(korea):
    res = watch(korea, "rok_security_threat", "severe", **KOREA_QUESTION)
    assert res.state == "severe"
    check_against_brute(korea, res, **KOREA_QUESTION)
    res = watch(korea, "nk_troops_in_combat", given={"nis_satellite_photos": "yes"})
    assert res.state == "yes"
    check_against_brute(korea, res, given={"nis_satellite_photos": "yes"})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks(min_nodes=3, max_nodes=6, max_card=3))
def test_random_networks_match_brute_force(case):
    """Zeros, deterministic rows and impossible indicator states included."""
    compiled, rng = case
    model = as_model(compiled)
    names = list(compiled.names)
    order = rng.permutation(len(names))
    target = names[order[0]]
    question: dict = {"given": {}, "do": {}}
    for i in order[1:]:
        if rng.random() < 0.35:
            name = names[i]
            question["given" if rng.random() < 0.7 else "do"][name] = str(
                rng.choice(model.states(name))
            )
    try:
        res = watch(model, target, None, **question)
    except RiskchainError:  # impossible findings
        return
    check_against_brute(model, res, **question)


# ----------------------------------------------------------------------------- outcomes


def test_outcomes_equal_fresh_queries(korea):
    given = {"nis_satellite_photos": "yes"}
    res = watch(korea, "nk_troops_in_combat", given=given, do={"allied_pressure": "yes"})
    scale = get_scale("icd203")
    base = korea.query(given=given, do={"allied_pressure": "yes"}, targets=["nk_troops_in_combat"])
    assert res.p == pytest.approx(base.posteriors["nk_troops_in_combat"]["yes"], abs=TOL)
    for ind in res.indicators:
        for s, o in ind.outcomes.items():
            fresh = korea.query(
                given={**given, ind.node: s},
                do={"allied_pressure": "yes"},
                targets=["nk_troops_in_combat"],
            )
            p = fresh.posteriors["nk_troops_in_combat"]["yes"]
            assert o.p == pytest.approx(p, abs=TOL), (ind.node, s)
            assert o.term == scale.classify(p).label()
            ratio = fresh.evidence_probability / base.evidence_probability
            assert o.probability == pytest.approx(ratio, abs=TOL)


def test_chunks_give_the_same_answer(korea, monkeypatch):
    whole = watch(korea, "rok_security_threat", **KOREA_QUESTION)
    monkeypatch.setattr(watch_mod, "CHUNK_BYTES", 1)  # one node per chunk
    calls = []
    real = __import__("riskchain.engine.exact", fromlist=["infer"]).infer

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr("riskchain.engine.exact.infer", counting)
    chunked = watch(korea, "rok_security_threat", **KOREA_QUESTION)
    assert len(calls) >= len(chunked.indicators)
    assert [x.node for x in chunked.indicators] == [x.node for x in whole.indicators]
    for a, b in zip(whole.indicators, chunked.indicators):
        assert a.mutual_information == pytest.approx(b.mutual_information, abs=1e-12)
        assert a.now == pytest.approx(b.now, abs=1e-12)


def test_one_batched_call_without_chunking(korea, monkeypatch):
    """The baseline solve and one batch for every (node, state) pair: two engine calls."""
    calls = []
    real = __import__("riskchain.engine.exact", fromlist=["infer"]).infer

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr("riskchain.engine.exact.infer", counting)
    watch(korea, "rok_security_threat")
    assert len(calls) == 3  # the question checked by model.query, the baseline, one batch


def test_to_json_shape(korea):
    res = watch(korea, "nk_troops_in_combat", given={"nis_satellite_photos": "yes"})
    data = res.to_json()
    assert data["target"] == "nk_troops_in_combat" and data["state"] == "yes"
    first = data["indicators"][0]
    assert set(first) >= {"node", "mutual_information", "expected_change", "outcomes", "now"}
    assert set(first["outcomes"]["yes"]) == {"probability", "p", "term"}
    graded = watch(korea, "rok_security_threat").to_json()
    assert graded["expected_change_measure"] == "total_variation"
    out = graded["indicators"][0]["outcomes"]["yes"]
    assert set(out["p"]) == {"low", "elevated", "severe"}
    assert out["call"].split(":")[0] in {"low", "elevated", "severe"}


def test_usage_errors(korea):
    with pytest.raises(UsageError, match=r"^target: 'nis_satellite_photos' is observed"):
        watch(korea, "nis_satellite_photos", given={"nis_satellite_photos": "yes"})
    with pytest.raises(UsageError, match=r"^target: 'allied_pressure' is forced"):
        watch(korea, "allied_pressure", do={"allied_pressure": "yes"})
    with pytest.raises(UsageError, match=r"^target: 'rok_security_threat' has no state 'x'"):
        watch(korea, "rok_security_threat", "x")
    with pytest.raises(UsageError, match=r"^target: no node 'nope'"):
        watch(korea, "nope")


# ----------------------------------------------------------------------------- two scenarios


def js_bits(p: np.ndarray, q: np.ndarray) -> float:
    m = (p + q) / 2
    kl = lambda a: sum(a[i] * math.log2(a[i] / m[i]) for i in range(len(a)) if a[i] > 0)  # noqa: E731
    return 0.5 * kl(p) + 0.5 * kl(q)


def test_between_matches_two_queries():
    a = pose(KOREA_SCENARIOS, "reported")
    b = pose(KOREA_SCENARIOS, "tech_for_troops")
    res = between(a, b)
    assert (res.a, res.b) == ("reported", "tech_for_troops")
    fixed = set(a.given) | set(b.given) | set(a.do) | set(b.do)
    assert set(res.excluded) == fixed
    nodes = [x.node for x in res.indicators]
    assert set(nodes) == set(a.model.nodes) - fixed
    qa = a.model.query(given=a.given, do=a.do, likelihood=a.likelihood, targets=nodes)
    qb = b.model.query(given=b.given, do=b.do, likelihood=b.likelihood, targets=nodes)
    for x in res.indicators:
        pa = np.array(list(qa.posteriors[x.node].values()))
        pb = np.array(list(qb.posteriors[x.node].values()))
        assert x.divergence == pytest.approx(js_bits(pa, pb), abs=TOL)
        assert 0.0 <= x.divergence <= 1.0
    divs = [x.divergence for x in res.indicators]
    assert divs == sorted(divs, reverse=True)
    assert res.indicators[0].node == "russia_tech_transfer"  # the scenario's own number
    # a node that looks the same under both scenarios (no path from what differs)
    assert res.indicators[-1].divergence == pytest.approx(0.0, abs=TOL)


def test_between_settles_with_disjoint_predictions():
    """An indicator certain to be yes under A and no under B carries 1 bit."""
    assert js_bits(np.array([0.0, 1.0]), np.array([1.0, 0.0])) == pytest.approx(1.0)
    assert watch_mod._jensen_shannon({"no": 0.0, "yes": 1.0}, {"no": 1.0, "yes": 0.0}) == 1.0
    assert watch_mod._jensen_shannon({"no": 0.3, "yes": 0.7}, {"no": 0.3, "yes": 0.7}) == 0.0
