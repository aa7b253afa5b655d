"""The most probable explanation against brute force, pgmpy's map_query, and its contract.

* Random networks (3-8 nodes, 2-3 states, zeros and deterministic rows; see
  ``conftest.networks``) under random findings, interventions and likelihoods:
  the joint of the MPE equals the maximum of the enumerated joint (relative
  1e-12), the assignment equals the enumerated argmax when that is unique, and
  the probability is max / P(evidence).
* The editorial model and asia, cancer, sachs (plus alarm under many findings)
  against pgmpy's ``VariableElimination.map_query`` over every unobserved node:
  pgmpy builds the joint of those nodes, so questions leave at most
  ``PGMPY_MAX_JOINT`` free entries. Ties may be broken differently, so the
  joints of the two assignments are compared, and the assignments when the
  maximum is unique.
* Speed on alarm, ties, the memory budget, impossible evidence and the
  name-level wrapper.
"""

from __future__ import annotations

import math
import time
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from conftest import compiled, forward_sample, networks, random_network
from riskchain import ImpossibleEvidenceError, TooLargeError, UsageError, load_model
from riskchain.compile import CompiledModel
from riskchain.engine.mpe import Explanation, most_probable_explanation, mpe
from riskchain.engine.pgmpy_bridge import to_pgmpy

KOREA = Path(__file__).resolve().parents[2] / "models" / "korea_russia_2024.yaml"
REL = 1e-12
PGMPY_MAX_JOINT = 200_000
SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ----------------------------------------------------------------------------- helpers


def log_joint(
    model: CompiledModel,
    full: dict[int, int],
    do: dict[int, int],
    likelihood: dict[int, np.ndarray],
) -> float:
    """log P(full assignment) after surgery, times the likelihoods (every node in ``full``)."""
    total = 0.0
    for v in range(len(model)):
        if v in do:
            if full[v] != do[v]:
                return -math.inf
            continue
        p = model.cpts[v][(*(full[u] for u in model.parents[v]), full[v])]
        total += math.log(p) if p > 0 else -math.inf
    for v, lik in likelihood.items():
        total += math.log(lik[full[v]]) if lik[full[v]] > 0 else -math.inf
    return total


def weighted_joint(model: CompiledModel, evidence, do, likelihood) -> np.ndarray:
    """The full joint table (one axis per node) after surgery, times findings and likelihoods."""
    n = len(model)
    out = np.ones(model.cards)

    def times(table: np.ndarray, axes: tuple[int, ...]) -> None:
        nonlocal out
        shape = [model.cards[u] if u in axes else 1 for u in range(n)]
        out = out * np.transpose(table, np.argsort(axes)).reshape(shape)

    for v in range(n):
        if v in do:
            times(np.eye(model.cards[v])[do[v]], (v,))
        else:
            times(model.cpts[v], (*model.parents[v], v))
    for v, k in evidence.items():
        times(np.eye(model.cards[v])[k], (v,))
    for v, lik in likelihood.items():
        times(np.asarray(lik, dtype=float), (v,))
    return out


def random_question(model: CompiledModel, rng: np.random.Generator, possible: bool):
    """Disjoint interventions, hard findings and likelihoods on random nodes.

    ``possible``: findings at the states of a forward sample and positive
    likelihoods; otherwise any states and likelihoods with zeros.
    """
    n = len(model)
    order = [int(v) for v in rng.permutation(n)]
    n_do = int(rng.integers(0, 2))
    n_ev = int(rng.integers(0, max(1, n // 2) + 1))
    n_lik = int(rng.integers(0, 3))
    do = {v: int(rng.integers(model.cards[v])) for v in order[:n_do]}
    x = forward_sample(model, rng, do)
    ev_nodes = order[n_do : n_do + n_ev]
    evidence = {v: x[v] if possible else int(rng.integers(model.cards[v])) for v in ev_nodes}
    likelihood = {}
    for v in order[n_do + n_ev : n_do + n_ev + n_lik]:
        lik = rng.uniform(0.05, 2.0, model.cards[v])
        if not possible:
            lik[rng.random(model.cards[v]) < 0.3] = 0.0
            if not lik.any():
                lik[0] = 1.0
        likelihood[v] = lik
    return do, evidence, likelihood


# ----------------------------------------------------------------------------- brute force


@SETTINGS
@given(networks(min_nodes=3, max_nodes=8, max_card=3))
def test_matches_brute_force(case):
    """The MPE's joint is the enumerated maximum; unique maxima give the same assignment."""
    model, rng = case
    for trial in range(3):
        do, evidence, likelihood = random_question(model, rng, possible=trial == 0)
        context = f"do={do} evidence={evidence} likelihood on {sorted(likelihood)}"
        table = weighted_joint(model, evidence, do, likelihood)
        best = float(table.max())
        if best == 0.0:
            with pytest.raises(ImpossibleEvidenceError):
                mpe(model, evidence, do, likelihood)
            continue
        res = mpe(model, evidence, do, likelihood)
        fixed = {**evidence, **do}
        assert set(res.assignment) == set(range(len(model))) - set(fixed), context
        full = res.full_assignment()
        assert list(full) == list(range(len(model)))
        assert all(full[v] == s for v, s in fixed.items())
        got = float(table[tuple(full[v] for v in range(len(model)))])
        assert math.isclose(got, best, rel_tol=REL), f"{context}: joint {got} vs max {best}"
        assert math.isclose(math.exp(res.log_joint), best, rel_tol=REL), context
        pe = float(table.sum())
        assert math.isclose(math.exp(res.log_evidence), pe, rel_tol=1e-10), context
        assert math.isclose(res.probability, best / pe, rel_tol=1e-10), context
        assert 0.0 < res.probability <= 1.0
        if np.count_nonzero(table >= best * (1 - REL)) == 1:
            want = np.unravel_index(int(table.argmax()), table.shape)
            assert tuple(full.values()) == tuple(int(k) for k in want), context


def test_no_findings_and_all_fixed():
    """No findings: the mode of the joint; every node fixed: the empty explanation, P = 1."""
    model = compiled("cancer")
    res = mpe(model, {})
    table = weighted_joint(model, {}, {}, {})
    assert math.isclose(math.exp(res.log_joint), float(table.max()), rel_tol=REL)
    assert res.log_evidence == 0.0
    assert set(res.assignment) == set(range(len(model)))  # barren leaves are maximized too
    x = forward_sample(model, np.random.default_rng(0))
    everything = mpe(model, dict(enumerate(x[:-1])), {len(model) - 1: x[-1]})
    assert everything.assignment == {}
    assert math.isclose(everything.probability, 1.0, rel_tol=1e-12)


def test_ties_take_the_lowest_state():
    """Uniform tables: every assignment ties and each node takes state 0."""
    rng = np.random.default_rng(1)
    base = random_network(rng, 8, max_card=3)
    uniform = base.with_cpts(
        {v: np.full_like(t, 1.0 / t.shape[-1]) for v, t in enumerate(base.cpts)}
    )
    res = mpe(uniform, {})
    assert res.assignment == dict.fromkeys(range(8), 0)
    assert math.isclose(res.probability, 1.0 / math.prod(base.cards), rel_tol=1e-12)


# ----------------------------------------------------------------------------- pgmpy


def pgmpy_mpe(model: CompiledModel, evidence, do, likelihood) -> dict[int, int]:
    """pgmpy's map_query over every unobserved, unforced node (interventions by surgery)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgmpy.factors.discrete import TabularCPD
        from pgmpy.inference import VariableElimination

    names = model.names
    net = to_pgmpy(model, do)
    hard = {names[v]: model.states[v][s] for v, s in {**evidence, **do}.items()}
    virtual = [
        TabularCPD(
            names[v],
            model.cards[v],
            (lik / lik.max()).reshape(-1, 1),
            state_names={names[v]: list(model.states[v])},
        )
        for v, lik in likelihood.items()
    ]
    free = [names[v] for v in range(len(model)) if names[v] not in hard]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = VariableElimination(net).map_query(
            variables=free,
            evidence=hard or None,
            virtual_evidence=virtual or None,
            show_progress=False,
        )
    return {model.index[k]: model.states[model.index[k]].index(s) for k, s in got.items()}


def pgmpy_question(model: CompiledModel, rng: np.random.Generator):
    """A possible question whose unobserved nodes' joint is small enough for map_query."""
    order = [int(v) for v in rng.permutation(len(model))]
    n_do = int(rng.integers(0, 3))
    do = {v: int(rng.integers(model.cards[v])) for v in order[:n_do]}
    x = forward_sample(model, rng, do)
    rest = order[n_do:]
    n_lik = int(rng.integers(0, 3))
    likelihood = {v: rng.uniform(0.05, 2.0, model.cards[v]) for v in rest[:n_lik]}
    evidence: dict[int, int] = {}
    pool = rest[n_lik:]
    # a few findings, then more until pgmpy's joint over the free nodes is small
    k = int(rng.integers(0, 4))
    for v in pool:
        free = [u for u in range(len(model)) if u not in evidence and u not in do]
        if len(evidence) >= k and math.prod(model.cards[u] for u in free) <= PGMPY_MAX_JOINT:
            break
        evidence[v] = x[v]
    return do, evidence, likelihood


def check_against_pgmpy(model: CompiledModel, do, evidence, likelihood, context: str) -> None:
    res = mpe(model, evidence, do, likelihood)
    theirs = pgmpy_mpe(model, evidence, do, likelihood)
    assert set(theirs) == set(res.assignment), context
    fixed = {**evidence, **do}
    ours_lj = log_joint(model, res.full_assignment(), do, likelihood)
    theirs_lj = log_joint(model, {**theirs, **fixed}, do, likelihood)
    assert math.isclose(ours_lj, res.log_joint, rel_tol=REL, abs_tol=1e-12), context
    # the same maximum; a tie may be broken differently
    assert math.isclose(math.exp(ours_lj), math.exp(theirs_lj), rel_tol=REL), (
        f"{context}: joint {math.exp(ours_lj)} vs pgmpy {math.exp(theirs_lj)}"
    )
    assert 0.0 < res.probability <= 1.0
    if math.prod(model.cards) <= PGMPY_MAX_JOINT:
        # small enough to enumerate: a unique maximum must give the same assignment
        table = weighted_joint(model, evidence, do, likelihood)
        if np.count_nonzero(table >= table.max() * (1 - REL)) == 1:
            assert res.assignment == theirs, context


@pytest.mark.parametrize("net", ["asia", "cancer", "sachs"])
def test_matches_pgmpy_map_query(net):
    """asia, cancer, sachs: the MPE's joint equals that of pgmpy's map_query answer."""
    model = compiled(net)
    rng = np.random.default_rng(zlib.crc32(net.encode()))
    for trial in range(4):
        do, evidence, likelihood = pgmpy_question(model, rng)
        context = f"{net} trial {trial}: do={do} evidence={evidence} lik on {sorted(likelihood)}"
        check_against_pgmpy(model, do, evidence, likelihood, context)


@pytest.mark.networks("alarm")
def test_alarm_against_pgmpy_under_many_findings():
    """alarm with enough findings that pgmpy can build the joint of the rest."""
    model = compiled("alarm")
    rng = np.random.default_rng(7)
    do, evidence, likelihood = pgmpy_question(model, rng)
    check_against_pgmpy(model, do, evidence, likelihood, f"alarm: do={do} evidence={evidence}")


def test_korea_against_pgmpy():
    """The editorial model by name, against map_query under findings, do and a likelihood."""
    model = load_model(KOREA)
    m = model.compiled
    rng = np.random.default_rng(2024)
    for trial in range(3):
        do, evidence, likelihood = pgmpy_question(m, rng)
        ex = most_probable_explanation(
            model,
            given={m.names[v]: m.states[v][s] for v, s in evidence.items()},
            do={m.names[v]: m.states[v][s] for v, s in do.items()},
            likelihood={m.names[v]: list(lik) for v, lik in likelihood.items()},
        )
        theirs = pgmpy_mpe(m, evidence, do, likelihood)
        ours = {m.index[k]: m.state(k, s) for k, s in ex.assignment.items()}
        assert set(ours) == set(theirs)
        fixed = {**evidence, **do}
        ours_lj = log_joint(m, {**ours, **fixed}, do, likelihood)
        theirs_lj = log_joint(m, {**theirs, **fixed}, do, likelihood)
        assert math.isclose(math.exp(ours_lj), math.exp(theirs_lj), rel_tol=REL), trial
        assert math.isclose(ex.log_joint, ours_lj, rel_tol=REL)
        assert 0.0 < ex.probability <= 1.0


# ----------------------------------------------------------------------------- speed, budget


def local_maximum(model: CompiledModel, res) -> bool:
    """No single free node can change state and raise the joint (a necessary condition)."""
    full = res.full_assignment()
    base = log_joint(model, full, res.do, {})
    for v in res.assignment:
        for s in range(model.cards[v]):
            if log_joint(model, {**full, v: s}, res.do, {}) > base + 1e-12:
                return False
    return True


@pytest.mark.networks("alarm")
def test_alarm_speed():
    """A single MPE on alarm (37 nodes, every one maximized) takes well under a second."""
    model = compiled("alarm")
    x = forward_sample(model, np.random.default_rng(3))
    evidence = {v: x[v] for v in range(0, len(model), 5)}
    mpe(model, evidence)  # warm-up (imports, plan cache of the evidence query)
    start = time.perf_counter()
    res = mpe(model, evidence)
    assert time.perf_counter() - start < 1.0
    assert 0.0 < res.probability <= 1.0
    assert local_maximum(model, res)


def test_memory_budget():
    """Refused before computing above the budget; the size reported is then enough."""
    model = compiled("sachs")
    with pytest.raises(TooLargeError, match="refused before computing") as info:
        mpe(model, {}, max_table_bytes=1024)
    err = info.value
    assert err.budget_bytes == 1024 and err.needed_bytes > 1024
    assert err.largest_bytes <= err.needed_bytes
    res = mpe(model, {}, max_table_bytes=err.needed_bytes)
    assert 0.0 < res.probability <= 1.0
    with pytest.raises(TooLargeError):
        most_probable_explanation(load_model(KOREA), max_table=64)


# ----------------------------------------------------------------------------- errors, wrapper


def test_impossible_evidence():
    """asia: either = tub or lung; lung=yes with either=no is impossible."""
    model = compiled("asia")
    lung, either, smoke = (model.node(n) for n in ("lung", "either", "smoke"))
    evidence = {
        smoke: model.state(smoke, "yes"),
        lung: model.state(lung, "yes"),
        either: model.state(either, "no"),
    }
    with pytest.raises(ImpossibleEvidenceError) as info:
        mpe(model, evidence)
    assert set(info.value.findings) == {"smoke=yes", "lung=yes", "either=no"}
    lik = np.zeros(2)
    lik[model.state(either, "no")] = 1.0
    with pytest.raises(ImpossibleEvidenceError):
        mpe(model, {lung: model.state(lung, "yes")}, likelihood={either: lik})


def test_wrapper_names_minimal_impossible_findings():
    """By name, the error names a minimal set of findings (Model._impossible)."""
    model = load_model(KOREA)
    table = model.cpt("nis_satellite_photos").copy()
    table[model.states("nk_troop_dispatch").index("no")] = [1.0, 0.0]  # no dispatch: no photos
    model = model.with_tables({"nis_satellite_photos": table})
    given = {"allied_pressure": "yes", "nk_troop_dispatch": "no", "nis_satellite_photos": "yes"}
    with pytest.raises(ImpossibleEvidenceError) as info:
        most_probable_explanation(model, given=given)
    assert sorted(info.value.findings) == ["nis_satellite_photos=yes", "nk_troop_dispatch=no"]
    assert len(info.value.all_findings) == 3


def test_wrapper_result_and_json():
    """Names in, names out; the same numbers as the index-level function; the JSON shape."""
    model = load_model(KOREA)
    m = model.compiled
    given = {"nis_satellite_photos": "yes", "training_ground_video": "yes"}
    do = {"nato_member_enters_war": "no"}
    likelihood = {"korean_emergency": {"no": 1.0, "yes": 3.0}}
    ex = most_probable_explanation(model, given=given, do=do, likelihood=likelihood)
    assert isinstance(ex, Explanation)
    assert list(ex.assignment) == [n for n in m.names if n not in given and n not in do]
    assert "korean_emergency" in ex.assignment  # a likelihood does not observe the node
    res = mpe(
        m,
        {m.index[k]: m.state(k, s) for k, s in given.items()},
        {m.index[k]: m.state(k, s) for k, s in do.items()},
        {m.index["korean_emergency"]: np.array([1.0, 3.0])},
    )
    assert ex.assignment == {m.names[v]: m.states[v][s] for v, s in res.assignment.items()}
    assert ex.probability == res.probability and ex.log_joint == res.log_joint
    q = model.query(given=given, do=do, likelihood=likelihood, targets=[])
    assert math.isclose(ex.evidence_probability, q.evidence_probability, rel_tol=1e-12)
    data = ex.to_json()
    assert data["mpe"] == ex.assignment
    assert data["mpe_probability"] == ex.probability
    assert data["given"] == given and data["do"] == do
    assert data["likelihood"] == {"korean_emergency": {"no": 1.0, "yes": 3.0}}
    assert {"model", "log_joint", "evidence_probability"} <= set(data)


def test_wrapper_usage_errors():
    model = load_model(KOREA)
    with pytest.raises(UsageError, match="given: no node 'nis_satelite_photos'"):
        most_probable_explanation(model, given={"nis_satelite_photos": "yes"})
    with pytest.raises(UsageError, match="both observed"):
        most_probable_explanation(
            model, given={"allied_pressure": "yes"}, do={"allied_pressure": "no"}
        )
    with pytest.raises(UsageError, match="likelihood"):
        most_probable_explanation(model, likelihood={"allied_pressure": [1.0]})
    m = model.compiled
    with pytest.raises(UsageError):
        mpe(m, {0: 1}, {0: 1})
    with pytest.raises(ValueError, match="out of range"):
        mpe(m, {0: 5})
