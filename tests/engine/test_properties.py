"""Properties every exact answer must have, on random networks (hypothesis).

These relate answers of the engine to each other or to closed forms (a
root's prior, d-separation computed by networkx on the graph), so they also
hold on networks too large to enumerate (up to 10 nodes here).

A property whose premise a random case can miss (findings that turn out
impossible, no node d-separated) counts the cases it did check, and the test
asserts that count is a fair share of the examples run: a strategy that drifted
to cases where nothing is checked fails instead of passing vacuously.
"""

from __future__ import annotations

import math
from collections import Counter

import networkx as nx
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import descendants, networks
from riskchain.compile import CompiledModel
from riskchain.engine.exact import infer

TOL = 1e-9
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NETS = networks(min_nodes=2, max_nodes=10)


def run_counted(prop) -> Counter:
    """Run the hypothesis property ``prop(count, ...)`` and return what it counted:
    ``count["examples"]`` (every call) and the names it counted itself."""
    count: Counter = Counter()

    @SETTINGS
    @given(st.tuples(*prop.strategies))
    def counted(args):
        count["examples"] += 1
        prop(count, *args)

    counted()
    return count


def checks(*strategies):
    """Mark ``prop`` as a counted property over ``strategies`` (see :func:`run_counted`)."""

    def mark(prop):
        prop.strategies = strategies
        return prop

    return mark


def possible_findings(
    model: CompiledModel, rng: np.random.Generator, nodes, k: int
) -> dict[int, int]:
    """Findings on up to ``k`` of ``nodes`` at states of a forward sample (so P > 0)."""
    x = [0] * len(model)
    for v in model.topological_order():
        p = model.cpts[v][tuple(x[q] for q in model.parents[v])]
        x[v] = int(rng.choice(len(p), p=p))
    nodes = list(nodes)
    chosen = rng.choice(nodes, size=min(k, len(nodes)), replace=False) if nodes else []
    return {int(v): x[int(v)] for v in chosen}


def graph(model: CompiledModel, cut=()) -> nx.DiGraph:
    """The DAG, with the incoming arrows of ``cut`` removed (graph surgery)."""
    g = nx.DiGraph()
    g.add_nodes_from(range(len(model)))
    g.add_edges_from((p, v) for v, ps in enumerate(model.parents) if v not in cut for p in ps)
    return g


@SETTINGS
@given(NETS, st.integers(0, 4))
def test_posteriors_are_distributions(case, k):
    """Every posterior is nonnegative and sums to 1, with or without likelihoods and do."""
    model, rng = case
    n = len(model)
    evidence = possible_findings(model, rng, range(n), k)
    rest = [v for v in range(n) if v not in evidence]
    do = {int(v): int(rng.integers(model.cards[v])) for v in rest[:1] if rng.random() < 0.5}
    lik = {int(v): rng.uniform(0.1, 5.0, model.cards[v]) for v in rest[1:3]}
    res = infer(model, range(n), {}, do, lik)  # likelihoods alone are always possible
    res2 = infer(model, range(n), evidence)
    for r in (res, res2):
        assert np.isfinite(r.log_evidence).all()
        for t, m in r.marginals.items():
            assert (m >= 0).all(), model.names[t]
            np.testing.assert_allclose(m.sum(axis=-1), 1.0, rtol=0, atol=1e-12)


@checks(NETS, st.integers(0, 3))
def do_on_a_root_is_observing_it(count, case, k):
    """do(root = s) and observing root = s give the same posteriors of the other nodes,
    and P(e, root = s) = P(root = s) * P(e | do(root = s)) with P(root = s) from its table."""
    model, rng = case
    n = len(model)
    roots = [v for v in range(n) if not model.parents[v]]
    r = int(rng.choice(roots))
    s = int(rng.choice(np.flatnonzero(model.cpts[r] > 0)))
    others = [v for v in range(n) if v != r]
    evidence = possible_findings(model, rng, others, k)
    forced = infer(model, others, evidence, do={r: s})
    observed = infer(model, others, {**evidence, r: s})
    lp_forced, lp_observed = float(forced.log_evidence[0]), float(observed.log_evidence[0])
    if not math.isfinite(lp_observed):  # findings impossible together with root = s
        assert not math.isfinite(lp_forced)
        count["impossible"] += 1
        return
    assert math.isclose(
        lp_observed, math.log(model.cpts[r][s]) + lp_forced, rel_tol=1e-9, abs_tol=1e-9
    )
    for t in others:
        np.testing.assert_allclose(forced.marginals[t], observed.marginals[t], rtol=0, atol=TOL)
    count["compared"] += 1


def test_do_on_a_root_is_observing_it():
    count = run_counted(do_on_a_root_is_observing_it)
    # the findings come from a forward sample: possible with root = s in most cases
    assert count["compared"] >= count["examples"] // 2, count


@checks(NETS, st.integers(0, 4), st.booleans())
def d_separated_evidence_changes_nothing(count, case, k, with_do):
    """A finding on z d-separated from t given the other findings (and the forced
    nodes, in the cut graph; networkx decides) leaves t's posterior unchanged, and
    P(e, z = s) = P(e) * P(z = s | e)."""
    model, rng = case
    n = len(model)
    do = {}
    if with_do:
        v = int(rng.integers(n))
        do[v] = int(rng.integers(model.cards[v]))
    free = [v for v in range(n) if v not in do]
    evidence = possible_findings(model, rng, free, k)  # sampled without do: may be impossible
    base = infer(model, range(n), evidence, do)
    if not np.isfinite(base.log_evidence[0]):
        count["impossible"] += 1
        return
    g = graph(model, cut=do)
    given_set = set(evidence) | set(do)
    checked = False
    for z in free:
        if z in evidence:
            continue
        sep = [
            t
            for t in range(n)
            if t not in given_set and t != z and nx.is_d_separator(g, {t}, {z}, given_set)
        ]
        if not sep:
            continue
        pz = base.marginals[z][0]
        s = int(np.argmax(pz))
        more = infer(model, sep, {**evidence, z: s}, do)
        assert math.isclose(
            float(more.log_evidence[0]),
            float(base.log_evidence[0]) + math.log(pz[s]),
            rel_tol=1e-9,
            abs_tol=1e-9,
        )
        for t in sep:
            np.testing.assert_allclose(more.marginals[t], base.marginals[t], rtol=0, atol=TOL)
        count["separated pairs"] += len(sep)
        checked = True
    count["cases with a separated pair"] += checked


def test_d_separated_evidence_changes_nothing():
    count = run_counted(d_separated_evidence_changes_nothing)
    assert count["impossible"] <= count["examples"] // 2, count
    assert count["cases with a separated pair"] >= count["examples"] // 4, count


@SETTINGS
@given(NETS, st.integers(0, 4))
def test_do_never_changes_non_descendants(case, k):
    """do(v) leaves the distribution of v's non-descendants (its ancestors among them)
    unchanged, also given findings on non-descendants, and P(those findings) too."""
    model, rng = case
    n = len(model)
    v = int(rng.integers(n))
    keep = [u for u in range(n) if u != v and u not in descendants(model, v)]
    evidence = possible_findings(model, rng, keep, k)
    s = int(rng.integers(model.cards[v]))
    plain = infer(model, keep, evidence)
    forced = infer(model, keep, evidence, do={v: s})
    np.testing.assert_allclose(forced.log_evidence, plain.log_evidence, rtol=1e-12)
    for t in keep:
        np.testing.assert_allclose(forced.marginals[t], plain.marginals[t], rtol=0, atol=TOL)


@checks(NETS, st.integers(1, 4))
def observing_equals_one_hot_likelihood(count, case, k):
    """Observing v = s and a likelihood that is 1 on s and 0 elsewhere agree exactly."""
    model, rng = case
    n = len(model)
    # any states, so impossible combinations are covered too
    chosen = rng.choice(n, size=min(k, n), replace=False)
    evidence = {int(v): int(rng.integers(model.cards[v])) for v in chosen}
    split = int(rng.integers(0, len(evidence) + 1))
    items = list(evidence.items())
    hard = dict(items[:split])
    soft = {v: np.eye(model.cards[v])[s] for v, s in items[split:]}
    a = infer(model, range(n), evidence)
    b = infer(model, range(n), hard, likelihood=soft)
    if not np.isfinite(a.log_evidence[0]):
        assert b.log_evidence[0] == -np.inf
        assert all(np.isnan(m).all() for m in b.marginals.values())
        count["impossible"] += 1
        return
    assert math.isclose(
        float(a.log_evidence[0]), float(b.log_evidence[0]), rel_tol=1e-9, abs_tol=1e-12
    )
    for t in range(n):
        np.testing.assert_allclose(a.marginals[t], b.marginals[t], rtol=0, atol=TOL)
    count["possible"] += 1


def test_observing_equals_one_hot_likelihood():
    """Both branches are exercised: findings at any states are possible in some cases and
    impossible in others."""
    count = run_counted(observing_equals_one_hot_likelihood)
    assert count["possible"] >= count["examples"] // 4, count
    assert count["impossible"] >= 1, count


@SETTINGS
@given(NETS, st.floats(1e-3, 1e3), st.integers(0, 3))
def test_likelihood_scaling(case, c, k):
    """Multiplying a likelihood by c multiplies P(e) by c and leaves every posterior."""
    model, rng = case
    n = len(model)
    evidence = possible_findings(model, rng, range(n), k)
    rest = [v for v in range(n) if v not in evidence] or list(range(n))
    v = int(rng.choice(rest))
    lik = {v: rng.uniform(0.05, 2.0, model.cards[v])}
    if v in evidence:
        evidence.pop(v)
    a = infer(model, range(n), evidence, likelihood=lik)
    b = infer(model, range(n), evidence, likelihood={v: c * lik[v]})
    assert math.isclose(
        float(b.log_evidence[0]), float(a.log_evidence[0]) + math.log(c), rel_tol=1e-9, abs_tol=1e-9
    )
    for t in range(n):
        np.testing.assert_allclose(a.marginals[t], b.marginals[t], rtol=0, atol=TOL)
    # a constant likelihood is no information at all: only P(e) scales
    flat = infer(model, range(n), evidence, likelihood={v: np.full(model.cards[v], c)})
    plain = infer(model, range(n), evidence)
    assert math.isclose(
        float(flat.log_evidence[0]),
        float(plain.log_evidence[0]) + math.log(c),
        rel_tol=1e-9,
        abs_tol=1e-9,
    )
    for t in range(n):
        np.testing.assert_allclose(flat.marginals[t], plain.marginals[t], rtol=0, atol=TOL)
