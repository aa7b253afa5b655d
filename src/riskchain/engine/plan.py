"""Query plans: pruning, triangulation and junction trees.

A plan depends only on *which* nodes are targets, observed, forced or given
likelihoods, never on the values, so it is computed once and cached on the
compiled model. Building it:

1. graph surgery for interventions (forced nodes lose their parents);
2. barren-node pruning: only ancestors of targets and findings matter;
3. findings are sliced out of the factors, which splits the network into
   independent components; a component without targets only contributes a
   normalizing constant to P(evidence) and needs no distribution pass
   (d-separation pruning);
4. each component is triangulated greedily (min-fill and min-weight are both
   tried; the smaller junction tree wins) and its table sizes are estimated,
   so work that would exhaust memory is refused before anything is allocated.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from riskchain.errors import TooLargeError

BYTES_PER_ENTRY = 8
# A junction tree this small costs less to run than a second triangulation search.
_SMALL_TREE = 100_000
DEFAULT_MAX_TABLE = 1 << 30  # bytes: 1 GiB


@dataclass
class FactorRef:
    """A factor of the plan: a node's CPT (``kind='cpt'``) or a likelihood (``'lik'``).

    ``axes`` are the variables of the source array in order; ``free`` are the
    ones left after slicing findings and forced nodes out.
    """

    kind: str
    node: int
    axes: tuple[int, ...]
    free: tuple[int, ...]


@dataclass
class Component:
    """One connected component of the pruned, sliced network."""

    variables: list[int]
    cliques: list[tuple[int, ...]]
    parent: list[int]  # parent clique index, -1 for the root
    children: list[list[int]]
    separators: list[tuple[int, ...]]  # separator with the parent clique
    factors: list[list[int]]  # factor indices assigned to each clique
    targets: dict[int, int]  # target variable -> host clique
    postorder: list[int]
    needs_down: list[bool]  # clique lies on a path from the root to a target host
    largest: int  # entries of the largest clique table
    total: int  # entries of all clique tables
    separator_total: int  # entries of all messages in one direction

    @property
    def working(self) -> int:
        """Estimated peak working set in entries: a clique table and the product
        it is computed from, plus the messages in both directions."""
        return 2 * self.largest + 2 * self.separator_total


@dataclass
class Plan:
    """Everything about a query that does not depend on the findings' values."""

    targets: tuple[int, ...]
    fixed_targets: tuple[int, ...]  # observed or forced targets: answered without computing
    factors: list[FactorRef]
    constants: list[int]  # factors whose variables are all fixed
    components: list[Component] = field(default_factory=list)

    @property
    def largest(self) -> int:
        return max((c.largest for c in self.components), default=1)

    @property
    def total(self) -> int:
        return sum(c.total for c in self.components)

    @property
    def working(self) -> int:
        """Estimated peak working set (entries); components run one after another."""
        return max((c.working for c in self.components), default=1)


def make_plan(
    parents: tuple[tuple[int, ...], ...],
    cards: tuple[int, ...],
    targets: Iterable[int],
    observed: Iterable[int] = (),
    forced: Iterable[int] = (),
    soft: Iterable[int] = (),
    max_entries: float | None = None,
) -> Plan:
    """Build the plan for a query.

    Parameters
    ----------
    parents, cards
        The network structure.
    targets
        Nodes whose posterior is wanted.
    observed, forced, soft
        Nodes with hard findings, interventions and likelihoods.
    max_entries
        Budget for the estimated working set (entries, batch included; see
        :attr:`Component.working`). ``None``: no limit.

    Raises
    ------
    TooLargeError
        When the best junction tree found needs more than ``max_entries``.
    """
    targets = tuple(dict.fromkeys(targets))
    observed, forced, soft = set(observed), set(forced), set(soft)
    fixed = observed | forced
    # 1. surgery + 2. ancestral (barren-node) pruning
    par = [() if v in forced else ps for v, ps in enumerate(parents)]
    needed: set[int] = set()
    stack = [*targets, *observed, *soft]
    while stack:
        v = stack.pop()
        if v in needed:
            continue
        needed.add(v)
        stack.extend(par[v])
    factors: list[FactorRef] = []
    for v in sorted(needed):
        if v in forced:
            continue  # P(v = forced state) = 1
        axes = (*par[v], v)
        factors.append(FactorRef("cpt", v, axes, tuple(a for a in axes if a not in fixed)))
    for v in sorted(soft & needed):
        factors.append(FactorRef("lik", v, (v,), (v,) if v not in fixed else ()))
    free_vars = sorted(v for v in needed if v not in fixed)
    # 3. components of the interaction graph after slicing
    adj: dict[int, set[int]] = {v: set() for v in free_vars}
    for f in factors:
        for a in f.free:
            adj[a].update(f.free)
    for v in free_vars:
        adj[v].discard(v)
    constants = [i for i, f in enumerate(factors) if not f.free]
    plan = Plan(targets, tuple(t for t in targets if t in fixed), factors, constants)
    seen: set[int] = set()
    target_set = {t for t in targets if t not in fixed}
    for start in free_vars:
        if start in seen:
            continue
        comp = []
        todo = [start]
        seen.add(start)
        while todo:
            v = todo.pop()
            comp.append(v)
            for u in adj[v]:
                if u not in seen:
                    seen.add(u)
                    todo.append(u)
        comp.sort()
        comp_set = set(comp)
        sub = {v: adj[v] & comp_set for v in comp}
        fidx = [i for i, f in enumerate(factors) if f.free and f.free[0] in comp_set]
        plan.components.append(
            _junction_tree(
                sub,
                cards,
                factors,
                fidx,
                [t for t in targets if t in target_set and t in comp_set],
                max_entries,
            )
        )
    return plan


# ----------------------------------------------------------------------------- triangulation


def _greedy_order(
    adj: dict[int, set[int]], cards: tuple[int, ...], heuristic: str, max_log: float
) -> tuple[list[int], list[tuple[int, ...]], float] | None:
    """Greedy elimination; returns (order, cliques as (v, *neighbours), worst log-size),
    or None as soon as a clique would exceed ``max_log`` (natural log of entries)."""
    g = {v: set(n) for v, n in adj.items()}
    logc = {v: math.log(cards[v]) for v in g}

    def weight(v: int) -> float:
        return logc[v] + sum(logc[u] for u in g[v])

    def fill(v: int) -> int:
        nb = list(g[v])
        missing = 0
        for i, a in enumerate(nb):
            ga = g[a]
            for b in nb[i + 1 :]:
                if b not in ga:
                    missing += 1
        return missing

    def score(v: int) -> tuple:
        w = weight(v)
        return (fill(v), w) if heuristic == "minfill" else (w, fill(v))

    version = dict.fromkeys(g, 0)
    heap = [(score(v), v, 0) for v in g]
    heapq.heapify(heap)
    order: list[int] = []
    cliques: list[tuple[int, ...]] = []
    worst = 0.0
    while heap:
        _, v, ver = heapq.heappop(heap)
        if ver != version.get(v, -1):
            continue
        nb = g.pop(v)
        del version[v]
        size = logc[v] + sum(logc[u] for u in nb)
        if size > max_log:
            return None
        worst = max(worst, size)
        order.append(v)
        cliques.append((v, *sorted(nb)))
        touched = set(nb)
        nbl = list(nb)
        for u in nbl:
            g[u].discard(v)
        for i, a in enumerate(nbl):
            ga = g[a]
            for b in nbl[i + 1 :]:
                if b not in ga:
                    ga.add(b)
                    g[b].add(a)
                    # a new edge changes the fill-in of the endpoints' common neighbours
                    touched.update(ga & g[b])
        for u in touched:
            if u in g:
                version[u] += 1
                heapq.heappush(heap, (score(u), u, version[u]))
    return order, cliques, worst


def _junction_tree(
    adj: dict[int, set[int]],
    cards: tuple[int, ...],
    factors: list[FactorRef],
    fidx: list[int],
    targets: list[int],
    max_entries: float | None,
) -> Component:
    # a clique needs twice its size while it is computed: abort the search early
    max_log = math.log(max_entries / 2) + 1e-9 if max_entries else math.inf
    best = None
    best_total = math.inf
    for heuristic in ("minfill", "minweight"):
        found = _greedy_order(adj, cards, heuristic, max_log)
        if found is None:
            continue
        _, cliques, _ = found
        total = sum(math.prod(cards[u] for u in c) for c in cliques)
        if total < best_total:
            best, best_total = found, total
        if best is not None and (best_total <= _SMALL_TREE or len(adj) > 400):
            break  # small trees: nothing to gain; large networks: one search is enough
    if best is not None:
        comp = _build_tree(best[0], best[1], cards, factors, fidx, targets)
        if max_entries is None or comp.working <= max_entries:
            return comp
        raise TooLargeError(
            comp.working * BYTES_PER_ENTRY,
            max_entries * BYTES_PER_ENTRY,
            comp.largest * BYTES_PER_ENTRY,
            max(len(c) for c in comp.cliques),
        )
    # Every search hit a clique above budget: size the best plan anyway, for the message,
    # with the estimate the budget is checked against (Component.working), not a lower
    # bound: a user who raises the budget to the size reported must not be refused again.
    best_comp = None
    for heuristic in ("minfill", "minweight"):
        order, cliques, _ = _greedy_order(adj, cards, heuristic, math.inf)  # type: ignore[misc]
        comp = _build_tree(order, cliques, cards, factors, fidx, targets)
        if best_comp is None or comp.working < best_comp.working:
            best_comp = comp
    assert best_comp is not None
    raise TooLargeError(
        _as_float(best_comp.working) * BYTES_PER_ENTRY,
        max_entries * BYTES_PER_ENTRY,
        _as_float(best_comp.largest) * BYTES_PER_ENTRY,
        max(len(c) for c in best_comp.cliques),
    )


def _as_float(n: int) -> float:
    """An entry count as a float (``inf`` beyond the float range)."""
    try:
        return float(n)
    except OverflowError:
        return math.inf


def _build_tree(
    order: list[int],
    elim_cliques: list[tuple[int, ...]],
    cards: tuple[int, ...],
    factors: list[FactorRef],
    fidx: list[int],
    targets: list[int],
) -> Component:
    pos = {v: i for i, v in enumerate(order)}
    n = len(order)
    # Elimination tree: clique of v hangs below the clique of its first-eliminated neighbour.
    cl = [set(c) for c in elim_cliques]
    par = [-1] * n
    for i, c in enumerate(elim_cliques):
        rest = c[1:]
        if rest:
            par[i] = min(pos[u] for u in rest)
    kids: list[list[int]] = [[] for _ in range(n)]
    for i, p in enumerate(par):
        if p >= 0:
            kids[p].append(i)
    # Absorb non-maximal cliques: a clique contained in a neighbouring child clique merges into it.
    rep = list(range(n))
    alive = [True] * n
    for p in range(n - 1, -1, -1):  # parents are eliminated after their children
        if not alive[p]:
            continue
        for i in kids[p]:
            if len(cl[i]) > len(cl[p]) and cl[p] <= cl[i]:
                # i takes p's place in the tree
                alive[p] = False
                rep[p] = i
                par[i] = par[p]
                if par[p] >= 0:
                    q = par[p]
                    kids[q] = [i if k == p else k for k in kids[q]]
                kids[i] = kids[i] + [k for k in kids[p] if k != i]
                for k in kids[p]:
                    if k != i:
                        par[k] = i
                break

    # Rewrite after absorption (a rep chain may be several long).
    def find(i: int) -> int:
        while rep[i] != i:
            i = rep[i]
        return i

    old = [i for i in range(n) if alive[i]]
    new_index = {o: j for j, o in enumerate(old)}
    cliques = [tuple(sorted(cl[o], key=lambda u: pos[u])) for o in old]
    parent = [new_index[par[o]] if par[o] >= 0 else -1 for o in old]
    # Assign each factor to the clique of its first-eliminated variable.
    assigned: list[list[int]] = [[] for _ in old]
    for fi in fidx:
        first = min(factors[fi].free, key=lambda u: pos[u])
        assigned[new_index[find(pos[first])]].append(fi)
    hosts = {t: new_index[find(pos[t])] for t in targets}
    # Re-root at a target host so a single-target query needs no distribution pass.
    root = hosts[targets[0]] if targets else parent.index(-1)
    parent = _reroot(parent, root)
    children: list[list[int]] = [[] for _ in old]
    for i, p in enumerate(parent):
        if p >= 0:
            children[p].append(i)
    seps = [
        tuple(u for u in cliques[i] if u in set(cliques[p])) if p >= 0 else ()
        for i, p in enumerate(parent)
    ]
    post: list[int] = []
    stack = [(root, False)]
    while stack:
        c, done = stack.pop()
        if done:
            post.append(c)
            continue
        stack.append((c, True))
        stack.extend((k, False) for k in children[c])
    needs = [False] * len(old)
    for h in hosts.values():
        c = h
        while c >= 0 and not needs[c]:
            needs[c] = True
            c = parent[c]
    sizes = [math.prod(cards[u] for u in c) for c in cliques]
    return Component(
        variables=sorted(order),
        cliques=cliques,
        parent=parent,
        children=children,
        separators=seps,
        factors=assigned,
        targets=hosts,
        postorder=post,
        needs_down=needs,
        largest=max(sizes),
        total=sum(sizes),
        separator_total=sum(math.prod(cards[u] for u in sep) for sep in seps),
    )


def _reroot(parent: list[int], root: int) -> list[int]:
    new = list(parent)
    prev, c = -1, root
    while c >= 0:
        nxt = parent[c]
        new[c] = prev
        prev, c = c, nxt
    return new
