"""The engine against brute-force enumeration of the full joint on small random networks.

The joint distribution is built as the outer product of every CPT (after
graph surgery for interventions), multiplied by indicator vectors for hard
findings and by likelihood vectors; P(evidence) is its sum and each posterior
its normalized marginal. Networks: 2-7 nodes, 2-4 states, random DAGs, random
CPTs with zeros and deterministic rows (``conftest.networks``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import networks, random_network
from riskchain.compile import CompiledModel
from riskchain.engine.exact import infer

TOL = 1e-9
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def joint(
    model: CompiledModel,
    do: dict[int, int] | None = None,
    cpts: dict[int, np.ndarray] | None = None,
) -> np.ndarray:
    """The full joint table, one axis per node, interventions applied by surgery."""
    do = do or {}
    n = len(model)
    out = np.ones(model.cards)
    for v in range(n):
        if v in do:
            table = np.zeros(model.cards[v])
            table[do[v]] = 1.0
            axes: tuple[int, ...] = (v,)
        else:
            table = (cpts or {}).get(v, model.cpts[v])
            axes = (*model.parents[v], v)
        order = np.argsort(axes)
        shape = [model.cards[u] if u in axes else 1 for u in range(n)]
        out = out * np.transpose(table, order).reshape(shape)
    return out


def brute_force(
    model: CompiledModel,
    evidence: dict[int, int] | None = None,
    do: dict[int, int] | None = None,
    likelihood: dict[int, np.ndarray] | None = None,
    cpts: dict[int, np.ndarray] | None = None,
) -> tuple[dict[int, np.ndarray], float]:
    """Posterior of every node and P(evidence) by summing the joint."""
    n = len(model)
    weight = joint(model, do, cpts)
    factors = {v: np.eye(model.cards[v])[k] for v, k in (evidence or {}).items()}
    for v, lik in (likelihood or {}).items():
        factors[v] = factors.get(v, 1.0) * np.asarray(lik, dtype=float)
    for v, f in factors.items():
        shape = [model.cards[u] if u == v else 1 for u in range(n)]
        weight = weight * f.reshape(shape)
    pe = float(weight.sum())
    posts = {}
    for v in range(n):
        m = weight.sum(axis=tuple(u for u in range(n) if u != v))
        posts[v] = m / pe if pe > 0 else np.full(model.cards[v], np.nan)
    return posts, pe


def random_findings(model: CompiledModel, rng: np.random.Generator, lik_zeros: bool = True):
    """Disjoint random interventions, hard findings (any state: may be impossible) and likelihoods."""
    n = len(model)
    order = [int(v) for v in rng.permutation(n)]
    n_do, n_ev, n_lik = (int(k) for k in rng.multinomial(int(rng.integers(0, n + 1)), [1 / 3] * 3))
    do = {v: int(rng.integers(model.cards[v])) for v in order[:n_do]}
    evidence = {v: int(rng.integers(model.cards[v])) for v in order[n_do : n_do + n_ev]}
    likelihood = {}
    for v in order[n_do + n_ev : n_do + n_ev + n_lik]:
        lik = rng.uniform(0.0, 3.0, model.cards[v])
        if lik_zeros:
            lik[rng.random(model.cards[v]) < 0.3] = 0.0
        likelihood[v] = lik
    return do, evidence, likelihood


def check_row(model, got_marginals, got_log_pe, want_posts, want_pe, b: int, context: str):
    """Batch element ``b`` of an engine result against the brute-force answer."""
    if want_pe == 0.0:
        assert got_log_pe[b] == -np.inf, f"{context}: impossible evidence not detected"
        for t, m in got_marginals.items():
            assert np.all(np.isnan(m[b])), f"{context}: {model.names[t]} not NaN"
        return
    assert math.isfinite(got_log_pe[b]), f"{context}: P(e) = {want_pe} but -inf"
    assert math.isclose(math.exp(got_log_pe[b]), want_pe, rel_tol=TOL), (
        f"{context}: P(e) {math.exp(got_log_pe[b])} vs {want_pe}"
    )
    for t, m in got_marginals.items():
        np.testing.assert_allclose(
            m[b], want_posts[t], rtol=0, atol=TOL, err_msg=f"{context}: {model.names[t]}"
        )


@SETTINGS
@given(networks())
def test_every_posterior_and_evidence_probability(case):
    """All marginals and P(e) under random hard findings, interventions and likelihoods."""
    model, rng = case
    for _ in range(3):
        do, evidence, likelihood = random_findings(model, rng)
        targets = [int(v) for v in rng.permutation(len(model))]  # every node, any order
        res = infer(model, targets, evidence, do, likelihood)
        assert list(res.marginals) == targets
        posts, pe = brute_force(model, evidence, do, likelihood)
        check_row(model, res.marginals, res.log_evidence, posts, pe, 0, f"do={do} ev={evidence}")


@SETTINGS
@given(networks(), st.integers(1, 3))
def test_subset_of_targets(case, n_targets):
    """Asking for a few targets (the planner prunes the rest) gives the same numbers."""
    model, rng = case
    do, evidence, likelihood = random_findings(model, rng)
    targets = [
        int(v) for v in rng.choice(len(model), size=min(n_targets, len(model)), replace=False)
    ]
    res = infer(model, targets, evidence, do, likelihood)
    posts, pe = brute_force(model, evidence, do, likelihood)
    check_row(model, res.marginals, res.log_evidence, posts, pe, 0, "subset")
    # no targets at all: P(evidence) alone
    res0 = infer(model, [], evidence, do, likelihood)
    assert res0.marginals == {}
    check_row(model, {}, res0.log_evidence, posts, pe, 0, "no targets")


# ----------------------------------------------------------------------------- batches

B = 3


def random_cpt(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    arr = rng.dirichlet(np.ones(shape[-1]), size=shape[:-1] or None).reshape(shape)
    arr = np.where(rng.random(shape) < 0.25, 0.0, arr)
    flat = arr.reshape(-1, shape[-1])
    flat[flat.sum(axis=1) == 0, 0] = 1.0
    return flat.reshape(shape) / flat.sum(axis=1).reshape((*shape[:-1], 1))


@SETTINGS
@given(networks())
def test_batched_cpt_overrides(case):
    """CPT overrides with a batch axis: element b equals the unbatched run on table b."""
    model, rng = case
    n = len(model)
    over = [int(v) for v in rng.choice(n, size=int(rng.integers(1, n + 1)), replace=False)]
    tables = {v: np.stack([random_cpt(rng, model.cpts[v].shape) for _ in range(B)]) for v in over}
    do, evidence, likelihood = random_findings(model, rng)
    targets = list(range(n))
    res = infer(model, targets, evidence, do, likelihood, tables=tables)
    assert res.batch == B and all(m.shape == (B, model.cards[t]) for t, m in res.marginals.items())
    for b in range(B):
        own = {v: t[b] for v, t in tables.items()}
        posts, pe = brute_force(model, evidence, do, likelihood, cpts=own)
        check_row(model, res.marginals, res.log_evidence, posts, pe, b, f"batch {b}")
        single = infer(model.with_cpts(own), targets, evidence, do, likelihood)
        for t in targets:
            np.testing.assert_allclose(
                res.marginals[t][b], single.marginals[t][0], rtol=0, atol=TOL
            )
        np.testing.assert_allclose(res.log_evidence[b], single.log_evidence[0], rtol=TOL, atol=0)
        # the same table passed unbatched
        alone = infer(model, targets, evidence, do, likelihood, tables=own)
        np.testing.assert_allclose(alone.log_evidence, single.log_evidence, rtol=TOL, atol=0)


@SETTINGS
@given(networks())
def test_batched_evidence_and_likelihoods(case):
    """Per-batch observed states and per-batch likelihoods, mixed with shared findings.

    Batch elements whose findings are impossible (the brute force gives P = 0)
    get -inf and NaN; the others are exact.
    """
    model, rng = case
    n = len(model)
    do, evidence, likelihood = random_findings(model, rng)
    free = [v for v in range(n) if v not in do and v not in evidence and v not in likelihood]
    batch_ev = {}
    batch_lik = {}
    for v in free:
        r = rng.random()
        if r < 0.4:
            batch_ev[v] = rng.integers(model.cards[v], size=B)
        elif r < 0.7:
            lik = rng.uniform(0.0, 2.0, (B, model.cards[v]))
            lik[rng.random(lik.shape) < 0.3] = 0.0
            batch_lik[v] = lik
    # a per-batch state on a node that also has a shared likelihood
    both = [v for v in likelihood if rng.random() < 0.5]
    for v in both:
        batch_ev[v] = rng.integers(model.cards[v], size=B)
    targets = list(range(n))
    res = infer(model, targets, {**evidence, **batch_ev}, do, {**likelihood, **batch_lik})
    assert res.batch == (B if batch_ev or batch_lik else 1)
    for b in range(res.batch):
        ev_b = {**evidence}
        ev_b.update({v: int(s[b]) for v, s in batch_ev.items() if v not in likelihood})
        lik_b = {**likelihood, **{v: lk[b] for v, lk in batch_lik.items()}}
        for v in both:  # state observed and likelihood given: both apply
            lik_b[v] = lik_b[v] * np.eye(model.cards[v])[int(batch_ev[v][b])]
        posts, pe = brute_force(model, ev_b, do, lik_b)
        check_row(model, res.marginals, res.log_evidence, posts, pe, b, f"batch {b}")


def test_one_batch_element_impossible():
    """A -> B with P(B=1 | A=0) = 0: the element observing A=0, B=1 alone is impossible."""
    model = CompiledModel.from_tables(
        "ab",
        ["A", "B", "C"],
        [["0", "1"], ["0", "1", "2"], ["x", "y"]],
        {"B": ["A"], "C": ["B"]},
        {
            "A": np.array([0.3, 0.7]),
            "B": np.array([[1.0, 0.0, 0.0], [0.2, 0.5, 0.3]]),
            "C": np.array([[0.9, 0.1], [0.4, 0.6], [0.5, 0.5]]),
        },
    )
    res = infer(model, [0, 1, 2], {0: np.array([0, 0, 1]), 1: np.array([0, 1, 1])})
    assert res.log_evidence[1] == -np.inf
    for t in range(3):
        assert np.all(np.isnan(res.marginals[t][1]))
    # closed form for the possible elements
    assert math.isclose(res.log_evidence[0], math.log(0.3 * 1.0))
    assert math.isclose(res.log_evidence[2], math.log(0.7 * 0.5))
    np.testing.assert_allclose(res.marginals[2][0], [0.9, 0.1], atol=TOL)
    np.testing.assert_allclose(res.marginals[2][2], [0.4, 0.6], atol=TOL)
    # the same through a batched likelihood that is zero where B=1 is possible
    lik = np.array([[1.0, 1.0, 1.0], [0.0, 1.0, 0.0], [0.0, 1.0, 0.0]])
    res = infer(model, [2], {0: np.array([1, 0, 1])}, likelihood={1: lik})
    assert np.isfinite(res.log_evidence[[0, 2]]).all() and res.log_evidence[1] == -np.inf
    assert math.isclose(res.log_evidence[2], math.log(0.7 * 0.5))
    # and through a batched table that rules B=1 out for A=1 in element 0 only
    tables = np.stack([model.cpts[1]] * 3)
    tables[0, 1] = [0.5, 0.0, 0.5]
    res = infer(model, [0], {1: 1}, tables={1: tables})
    assert res.log_evidence[0] == -np.inf and np.isnan(res.marginals[0][0]).all()
    np.testing.assert_allclose(np.exp(res.log_evidence[1:]), [0.7 * 0.5] * 2, rtol=TOL)
    np.testing.assert_allclose(res.marginals[0][1:], [[0.0, 1.0]] * 2, atol=TOL)


@pytest.mark.parametrize("seed", range(5))
def test_batch_of_one_equals_unbatched(seed):
    """Arrays with a leading axis of 1 give the same answer as unbatched arrays."""
    rng = np.random.default_rng(seed)
    model = random_network(rng, 6)
    do, evidence, likelihood = random_findings(model, rng, lik_zeros=False)
    targets = list(range(6))
    flat = infer(model, targets, evidence, do, likelihood)
    ev1 = {v: np.array([s]) for v, s in evidence.items()}
    lik1 = {v: lk[None, :] for v, lk in likelihood.items()}
    tab1 = {0: model.cpts[0][None]}
    one = infer(model, targets, ev1, do, lik1, tables=tab1)
    assert one.batch == 1
    posts, pe = brute_force(model, evidence, do, likelihood)
    check_row(model, one.marginals, one.log_evidence, posts, pe, 0, "B=1")
    check_row(model, flat.marginals, flat.log_evidence, posts, pe, 0, "unbatched")
