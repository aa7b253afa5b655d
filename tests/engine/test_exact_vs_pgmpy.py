"""The fast engine against pgmpy's VariableElimination on every shared network.

Each trial draws, with a fixed seed per network: a few interventions; a full
joint state forward-sampled from the model *after* those interventions (so the
findings taken from it are possible); a random subset of nodes observed at
their sampled states; positive likelihood vectors on a few other nodes; and a
few targets. Posteriors must agree to 1e-9 and P(evidence) to a relative 1e-9.

On munin1 (whose plan for all nodes is over the default 1 GiB budget) targets
and findings are drawn among nodes with at most ``ANCESTOR_LIMIT`` ancestors,
so the question stays near its findings. On every network a question whose
exact plan would need more than ``MAX_PLAN_BYTES`` would be drawn again (pgmpy
has no memory guard and could take minutes on it); with the seeds used here
none is. All 24 networks are compared; none is skipped.
"""

from __future__ import annotations

import math
import zlib

import numpy as np
import pytest

from conftest import (
    ANCESTOR_LIMIT,
    PGMPY_FEW_ANCESTORS,
    PGMPY_TRACTABLE,
    ancestors,
    compiled,
    forward_sample,
)
from riskchain.compile import CompiledModel
from riskchain.engine.exact import infer
from riskchain.engine.pgmpy_bridge import query_pgmpy
from riskchain.engine.plan import BYTES_PER_ENTRY, make_plan
from riskchain.errors import ImpossibleEvidenceError

TOL = 1e-9
MAX_PLAN_BYTES = 64 * 2**20

# Trials per network (90 in all), sized so the comparisons take ~20 s on 2 cores once the
# networks are read (measured: pgmpy answers a question on the small networks in ~0.05 s,
# on the large ones in 1-4 s); reading all 24 networks comes on top (see conftest).
TRIALS = {
    **dict.fromkeys(["asia", "cancer", "earthquake", "survey", "sachs", "child"], 8),
    **dict.fromkeys(["alarm", "insurance", "hailfinder", "hepar2", "win95pts", "water"], 4),
    **dict.fromkeys(["barley", "mildew", "pathfinder", "andes", "pigs", "munin1"], 2),
    **dict.fromkeys(["link", "diabetes", "munin", "munin2", "munin3", "munin4"], 1),
}


def random_question(model: CompiledModel, rng: np.random.Generator, few_ancestors: bool):
    """Interventions, possible findings, likelihoods and targets for one trial.

    Drawn again while the exact plan would need more than ``MAX_PLAN_BYTES``.
    """
    for _ in range(20):
        do, evidence, likelihood, targets = _draw_question(model, rng, few_ancestors)
        plan = make_plan(model.parents, model.cards, targets, evidence, do, likelihood)
        if plan.working * BYTES_PER_ENTRY <= MAX_PLAN_BYTES:
            return do, evidence, likelihood, targets
    raise AssertionError(f"no question of moderate size drawn on {model.id}")


def _draw_question(model: CompiledModel, rng: np.random.Generator, few_ancestors: bool):
    n = len(model)
    if few_ancestors:
        pool = [v for v in range(n) if len(ancestors(model, v)) <= ANCESTOR_LIMIT]
    else:
        pool = list(range(n))
    pool = [int(v) for v in rng.permutation(pool)]
    n_do = int(rng.integers(0, 3))
    do = {v: int(rng.integers(model.cards[v])) for v in pool[:n_do]}
    x = forward_sample(model, rng, do)
    rest = pool[n_do:]
    n_ev = int(rng.integers(1, max(2, min(12, len(rest) // 2)) + 1))
    evidence = {v: x[v] for v in rest[:n_ev]}
    n_lik = int(rng.integers(0, 3))
    likelihood = {v: rng.uniform(0.05, 2.0, model.cards[v]) for v in rest[n_ev : n_ev + n_lik]}
    # mostly unobserved targets, sometimes an observed or forced one
    free = rest[n_ev + n_lik :] or rest
    targets = [int(v) for v in rng.choice(free, size=min(3, len(free)), replace=False)]
    if rng.random() < 0.5:
        targets.append(int(rng.choice(pool)))
    return do, evidence, likelihood, list(dict.fromkeys(targets))


def assert_same(model, targets, evidence, do, likelihood, context: str) -> None:
    res = infer(model, targets, evidence, do, likelihood)
    post, pe = query_pgmpy(model, targets, evidence, do, likelihood)
    assert res.batch == 1
    log_pe = float(res.log_evidence[0])
    assert math.isfinite(log_pe), context
    assert math.isclose(math.exp(log_pe), pe, rel_tol=TOL, abs_tol=0.0), (
        f"{context}: P(e) {math.exp(log_pe)!r} vs pgmpy {pe!r}"
    )
    for t in targets:
        got = res.marginals[t][0]
        np.testing.assert_allclose(
            got, post[t], rtol=0, atol=TOL, err_msg=f"{context}: target {model.names[t]}"
        )


@pytest.mark.parametrize("net", PGMPY_TRACTABLE)
def test_engine_matches_pgmpy(net):
    """Posteriors and P(evidence) agree with pgmpy under random possible findings."""
    model = compiled(net)
    rng = np.random.default_rng(zlib.crc32(net.encode()))
    for trial in range(TRIALS[net]):
        do, evidence, likelihood, targets = random_question(model, rng, net in PGMPY_FEW_ANCESTORS)
        context = (
            f"{net} trial {trial}: do={do} evidence={evidence} "
            f"likelihood on {sorted(likelihood)} targets={targets}"
        )
        assert_same(model, targets, evidence, do, likelihood, context)


def test_trials_cover_every_network():
    """Every network compared has a trial count (a new network must be sized, not skipped)."""
    assert set(TRIALS) == set(PGMPY_TRACTABLE)


# ----------------------------------------------------------------------------- impossible


def first_zero(model: CompiledModel) -> tuple[int, tuple[int, ...], int] | None:
    """(node, parent states, state) of the first zero entry of a CPT with parents."""
    for v, arr in enumerate(model.cpts):
        if model.parents[v]:
            hits = np.argwhere(arr == 0)
            if hits.size:
                *config, k = (int(i) for i in hits[0])
                return v, tuple(config), k
    return None


@pytest.mark.parametrize("net", ["asia", "child", "alarm", "insurance", "pathfinder"])
@pytest.mark.parametrize("force_parent", [False, True])
def test_impossible_evidence(net, force_parent):
    """A child observed in a state its observed (or forced) parents rule out: P(e) = 0.

    The engine reports log P(e) = -inf with NaN posteriors; pgmpy's chain rule
    finds the zero and the bridge raises ImpossibleEvidenceError.
    """
    model = compiled(net)
    found = first_zero(model)
    assert found is not None, f"{net} has no zero in a CPT with parents"
    v, config, k = found
    parents = model.parents[v]
    evidence = {p: s for p, s in zip(parents, config)}
    evidence[v] = k
    do = {}
    if force_parent:
        p0 = parents[0]
        do[p0] = evidence.pop(p0)
    others = [u for u in range(len(model)) if u not in evidence and u not in do][:3]
    res = infer(model, others, evidence, do)
    assert res.log_evidence[0] == -np.inf
    for t in others:
        assert np.all(np.isnan(res.marginals[t]))
    with pytest.raises(ImpossibleEvidenceError):
        query_pgmpy(model, others, evidence, do)


def test_impossible_likelihood():
    """asia: either = lung or tub; lung=yes with a likelihood excluding either=yes is impossible."""
    model = compiled("asia")
    lung, either, tub = (model.node(n) for n in ("lung", "either", "tub"))
    lik = np.zeros(2)
    lik[model.state(either, "no")] = 1.0
    evidence = {lung: model.state(lung, "yes")}
    res = infer(model, [tub], evidence, likelihood={either: lik})
    assert res.log_evidence[0] == -np.inf
    assert np.all(np.isnan(res.marginals[tub]))
    with pytest.raises(ImpossibleEvidenceError):
        query_pgmpy(model, [tub], evidence, likelihood={either: lik})
    # the same likelihood with lung=no is possible, and both engines agree on it
    ok = {lung: model.state(lung, "no")}
    assert_same(model, [tub, either], ok, {}, {either: lik}, "asia lung=no")
