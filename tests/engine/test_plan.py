"""Query plans: pruning and junction-tree invariants on random graphs, and the memory budget."""

from __future__ import annotations

import math
import re
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ancestors, compiled, networks
from riskchain.engine.exact import infer
from riskchain.engine.pgmpy_bridge import query_pgmpy
from riskchain.engine.plan import BYTES_PER_ENTRY, DEFAULT_MAX_TABLE, Plan, make_plan
from riskchain.errors import TooLargeError, format_bytes

# ----------------------------------------------------------------------------- invariants


def check_plan(parents, cards, targets, observed, forced, soft, plan: Plan) -> None:
    """Every structural promise of a plan, checked from the graph alone."""
    n = len(cards)
    fixed = set(observed) | set(forced)
    cut = [() if v in forced else tuple(ps) for v, ps in enumerate(parents)]
    # pruning: exactly the targets, findings and their ancestors (arrows into forced nodes cut)
    needed: set[int] = set()
    stack = [*targets, *observed, *soft]
    while stack:
        v = stack.pop()
        if v not in needed:
            needed.add(v)
            stack.extend(cut[v])
    cpt_nodes = sorted(f.node for f in plan.factors if f.kind == "cpt")
    assert cpt_nodes == sorted(needed - set(forced))
    assert sorted(f.node for f in plan.factors if f.kind == "lik") == sorted(soft)
    for f in plan.factors:
        axes = (*cut[f.node], f.node) if f.kind == "cpt" else (f.node,)
        assert f.axes == axes
        assert f.free == tuple(a for a in axes if a not in fixed)
    assert plan.constants == [i for i, f in enumerate(plan.factors) if not f.free]
    assert plan.fixed_targets == tuple(t for t in dict.fromkeys(targets) if t in fixed)
    assert plan.targets == tuple(dict.fromkeys(targets))

    # components partition the free needed variables; no factor spans two of them
    free_vars = sorted(needed - fixed)
    owner: dict[int, int] = {}
    for ci, comp in enumerate(plan.components):
        for v in comp.variables:
            assert v not in owner, f"variable {v} in two components"
            owner[v] = ci
    assert sorted(owner) == free_vars
    assigned_anywhere: list[int] = []
    for ci, comp in enumerate(plan.components):
        m = len(comp.cliques)
        cl = [set(c) for c in comp.cliques]
        assert set().union(*cl) == set(comp.variables)
        # a tree: one root, parent/children consistent, postorder ends at the root
        roots = [i for i in range(m) if comp.parent[i] == -1]
        assert len(roots) == 1
        root = roots[0]
        for i in range(m):
            assert sorted(comp.children[i]) == sorted(j for j in range(m) if comp.parent[j] == i)
        assert sorted(comp.postorder) == list(range(m)) and comp.postorder[-1] == root
        pos = {c: k for k, c in enumerate(comp.postorder)}
        for i in range(m):
            if i != root:
                assert pos[i] < pos[comp.parent[i]]
        # separators are the intersections with the parent clique
        for i in range(m):
            p = comp.parent[i]
            want = cl[i] & cl[p] if p >= 0 else set()
            assert set(comp.separators[i]) == want and len(comp.separators[i]) == len(want)
        # running intersection: the cliques holding a variable form a connected subtree
        for v in comp.variables:
            holding = {i for i in range(m) if v in cl[i]}
            tops = [i for i in holding if comp.parent[i] not in holding]
            assert len(tops) == 1, f"variable {v}: cliques {holding} are not connected"
        # every factor sits in one clique that contains all its free variables
        for i, fl in enumerate(comp.factors):
            for fi in fl:
                assert set(plan.factors[fi].free) <= cl[i]
                assert owner[plan.factors[fi].free[0]] == ci
                assigned_anywhere.append(fi)
        # every target lives in its host clique; the root hosts the first target
        comp_targets = [t for t in dict.fromkeys(targets) if t not in fixed and owner.get(t) == ci]
        assert sorted(comp.targets) == sorted(comp_targets)
        for t, h in comp.targets.items():
            assert t in cl[h]
        if comp_targets:
            assert comp.targets[comp_targets[0]] == root
        # the distribution pass reaches exactly the cliques between the root and the hosts
        on_path = set()
        for h in comp.targets.values():
            c = h
            while c >= 0:
                on_path.add(c)
                c = comp.parent[c]
        assert {i for i in range(m) if comp.needs_down[i]} == on_path
        sizes = [math.prod(cards[u] for u in c) for c in comp.cliques]
        assert comp.largest == max(sizes) and comp.total == sum(sizes)
        assert comp.separator_total == sum(math.prod(cards[u] for u in s) for s in comp.separators)
    assert sorted(assigned_anywhere) == [i for i, f in enumerate(plan.factors) if f.free]
    assert n == len(cards)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks(min_nodes=1, max_nodes=30, max_card=3, max_parents=4), st.data())
def test_junction_tree_invariants(case, data):
    """Random DAGs of up to 30 nodes with random targets, findings, interventions, likelihoods."""
    model, rng = case
    n = len(model)
    role = rng.choice(5, size=n, p=[0.45, 0.2, 0.1, 0.1, 0.15])  # none/target/obs/do/lik
    targets = [int(v) for v in rng.permutation(n) if role[v] == 1 or rng.random() < 0.1]
    observed = {int(v) for v in np.flatnonzero(role == 2)}
    forced = {int(v) for v in np.flatnonzero(role == 3)}
    soft = {int(v) for v in np.flatnonzero(role == 4)}
    if data.draw(st.booleans()):
        soft |= {int(v) for v in observed if rng.random() < 0.3}  # a finding and a likelihood
    plan = make_plan(model.parents, model.cards, targets, observed, forced, soft)
    check_plan(model.parents, model.cards, targets, observed, forced, soft, plan)


@pytest.mark.networks("alarm", "hailfinder", "win95pts", "pathfinder")
@pytest.mark.parametrize("net", ["alarm", "hailfinder", "win95pts", "pathfinder"])
def test_invariants_on_repository_networks(net):
    """The same invariants on real networks, for all nodes and for a few findings."""
    model = compiled(net)
    rng = np.random.default_rng(7)
    n = len(model)
    check_plan(
        model.parents,
        model.cards,
        range(n),
        (),
        (),
        (),
        make_plan(model.parents, model.cards, range(n)),
    )
    perm = [int(v) for v in rng.permutation(n)]
    targets, observed, forced, soft = perm[:3], perm[3:8], perm[8:9], perm[9:11]
    plan = make_plan(model.parents, model.cards, targets, observed, forced, soft)
    check_plan(model.parents, model.cards, targets, observed, forced, soft, plan)


# ----------------------------------------------------------------------------- budget


@pytest.mark.networks("link")
def test_link_solves_under_default_budget_and_matches_pgmpy():
    """link (724 nodes): all marginals within the default budget; a few checked with pgmpy."""
    model = compiled("link")
    n = len(model)
    res = infer(model, range(n))
    assert res.plan.working * BYTES_PER_ENTRY <= DEFAULT_MAX_TABLE
    assert np.isfinite(res.log_evidence).all() and abs(res.log_evidence[0]) < 1e-9
    for m in res.marginals.values():
        np.testing.assert_allclose(m.sum(axis=-1), 1.0, atol=1e-12)
    # the node with most ancestors, and a few others
    depth = sorted(range(n), key=lambda v: -len(ancestors(model, v)))
    rng = np.random.default_rng(11)
    check = [depth[0], *(int(v) for v in rng.choice(n, size=3, replace=False))]
    post, pe = query_pgmpy(model, check)
    assert pe == 1.0
    for t in check:
        np.testing.assert_allclose(
            res.marginals[t][0], post[t], rtol=0, atol=1e-9, err_msg=model.names[t]
        )


@pytest.mark.networks("munin1")
def test_munin1_refused_quickly_with_estimate():
    """munin1 with every node as target is over the default budget: refused before
    computing, in < 5 s, with the estimate in the message; that estimate is the one the
    budget is checked against, so a budget of that size is enough to plan it."""
    model = compiled("munin1")
    n = len(model)
    start = time.perf_counter()
    with pytest.raises(TooLargeError) as info:
        infer(model, range(n))
    elapsed = time.perf_counter() - start
    assert elapsed < 5.0, f"refusal took {elapsed:.1f} s"
    exc = info.value
    assert exc.budget_bytes == DEFAULT_MAX_TABLE
    assert exc.needed_bytes > exc.budget_bytes
    assert exc.largest_bytes * 2 <= exc.needed_bytes
    assert exc.nvars >= 2
    msg = str(exc)
    assert f"would need about {format_bytes(exc.needed_bytes)}" in msg
    assert f"the largest: {format_bytes(exc.largest_bytes)} over {exc.nvars} variables" in msg
    assert f"above the budget of {format_bytes(DEFAULT_MAX_TABLE)}" in msg
    assert re.search(r"about [0-9.]+ GiB", msg), msg
    # planning only (nothing is allocated): the reported size is enough, and is the plan's
    plan = make_plan(
        model.parents, model.cards, range(n), max_entries=exc.needed_bytes / BYTES_PER_ENTRY
    )
    assert plan.working * BYTES_PER_ENTRY == exc.needed_bytes
    assert plan.largest * BYTES_PER_ENTRY == exc.largest_bytes
    # a question that stays near a few nodes is answered under the default budget
    small = infer(model, [0])
    assert np.isfinite(small.log_evidence).all()


def test_refusal_beyond_float_range():
    """A clique with more entries than a float can count is refused (TooLargeError), not
    an OverflowError: 41 variables of 10**8 states in one family."""
    n = 41
    parents = tuple(() if i < n - 1 else tuple(range(n - 1)) for i in range(n))
    with pytest.raises(TooLargeError) as info:
        make_plan(parents, (10**8,) * n, [n - 1], max_entries=DEFAULT_MAX_TABLE / BYTES_PER_ENTRY)
    assert info.value.needed_bytes > DEFAULT_MAX_TABLE
    assert "TiB" in str(info.value)


@pytest.mark.networks("alarm")
def test_tiny_budget_on_alarm():
    """A budget below alarm's plan refuses, even after the plan was cached by a normal run;
    the batch size counts towards the budget."""
    model = compiled("alarm")
    n = len(model)
    ok = infer(model, range(n))
    need = ok.plan.working * BYTES_PER_ENTRY
    with pytest.raises(TooLargeError) as info:
        infer(model, range(n), max_table_bytes=1000)
    assert info.value.budget_bytes == 1000 and info.value.needed_bytes > 1000
    # the plan's own estimate is enough for one question ...
    again = infer(model, range(n), max_table_bytes=need)
    np.testing.assert_allclose(again.log_evidence, ok.log_evidence)
    # ... but not for a batch of 4 (CPT override with a batch axis)
    batch = np.stack([model.cpts[0]] * 4)
    with pytest.raises(TooLargeError):
        infer(model, range(n), tables={0: batch}, max_table_bytes=need)
    assert infer(model, range(n), tables={0: batch}, max_table_bytes=4 * need).batch == 4
