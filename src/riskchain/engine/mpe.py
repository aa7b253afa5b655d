"""The most probable explanation (MPE): the likeliest state of every unobserved node.

Given hard findings, interventions and likelihoods, the MPE is the joint
assignment ``x`` of every node that is neither observed nor forced that
maximizes ``P(x, evidence)`` (likelihoods enter as weights, as they do in the
engine's P(evidence)). It is computed by max-product variable elimination:

1. graph surgery for interventions (a forced node's table becomes a point
   mass, so it contributes no factor) and every table sliced at the findings;
2. an elimination order over *all* free nodes from the planner's greedy
   min-fill / min-weight search (barren nodes are not pruned: each one is
   maximized too and takes its most probable state given its parents);
3. the largest table is estimated before anything is allocated and the
   question is refused (:class:`~riskchain.errors.TooLargeError`) above the
   memory budget;
4. variables are maximized out one by one in log space (so long products do
   not underflow), keeping the argmax table of each step; the traceback then
   assigns the variables in reverse elimination order.

Ties are broken deterministically: each variable takes its *lowest-index*
maximizing state given the variables eliminated after it (numpy's ``argmax``
returns the first maximum). Sums of logarithms are exact only up to rounding,
so assignments whose joints differ by a few ulps may be ranked either way.

>>> import riskchain
>>> from riskchain.engine.mpe import most_probable_explanation
>>> model = riskchain.load_model("models/korea_russia_2024.yaml")   # doctest: +SKIP
>>> ex = most_probable_explanation(model, given={"nis_satellite_photos": "yes"})  # doctest: +SKIP
>>> ex.assignment["nk_troop_dispatch"], round(ex.probability, 4)    # doctest: +SKIP
('yes', 0.005)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from riskchain.compile import CompiledModel
from riskchain.engine.exact import infer, probability_of
from riskchain.engine.plan import BYTES_PER_ENTRY, DEFAULT_MAX_TABLE, _greedy_order
from riskchain.errors import ImpossibleEvidenceError, TooLargeError, UsageError

if TYPE_CHECKING:
    from riskchain.model import Model

# An order this cheap costs less to run than a second triangulation search.
_SMALL_ORDER = 100_000
# On larger graphs one greedy search is enough (as in the planner).
_ONE_SEARCH_NODES = 400

_Factor = tuple[np.ndarray, tuple[int, ...]]  # log-table and the variables of its axes


@dataclass
class MpeResult:
    """The MPE of one question, by node index.

    Attributes
    ----------
    assignment : dict of int to int
        State index of every node that is neither observed nor forced (nodes
        with a likelihood are included: they are unobserved), in node order.
    log_joint : float
        ``log P(assignment, evidence)``, likelihoods included as weights.
    log_evidence : float
        ``log P(evidence)`` (likelihoods included), from the exact engine.
    probability : float
        ``P(assignment | evidence) = exp(log_joint - log_evidence)``, clipped
        to at most 1 (the two logs are computed differently, so rounding
        could otherwise give 1 + 1e-16).
    evidence, do : dict of int to int
        The hard findings and interventions the MPE was computed under; their
        nodes keep these states and are *not* in ``assignment``.
    order : list of int
        The elimination order used.
    largest : int
        Entries of the largest table built.
    """

    assignment: dict[int, int]
    log_joint: float
    log_evidence: float
    probability: float
    evidence: dict[int, int]
    do: dict[int, int]
    order: list[int]
    largest: int

    def full_assignment(self) -> dict[int, int]:
        """Every node's state, in node order: the MPE plus the observed and forced states."""
        merged = {**self.assignment, **self.evidence, **self.do}
        return {v: merged[v] for v in sorted(merged)}


def mpe(
    model: CompiledModel,
    evidence: Mapping[int, int],
    do: Mapping[int, int] | None = None,
    likelihood: Mapping[int, np.ndarray] | None = None,
    max_table_bytes: float = DEFAULT_MAX_TABLE,
) -> MpeResult:
    """Most probable joint state of every unobserved, unforced node.

    Parameters
    ----------
    model : CompiledModel
        The network.
    evidence : mapping of int to int
        Hard findings: node -> state index.
    do : mapping of int to int, optional
        Interventions: node -> forced state index (graph surgery).
    likelihood : mapping of int to array, optional
        Virtual evidence: node -> nonnegative weight per state, shape ``(card,)``.
        The node stays unobserved and is part of the MPE; its weights multiply
        the joint.
    max_table_bytes : float
        Refuse when the estimated working memory of the elimination (the
        largest table twice over, every intermediate table and argmax table,
        and the log-tables of the model) would exceed this many bytes.

    Returns
    -------
    MpeResult

    Raises
    ------
    UsageError
        When a node is both forced and observed (or given a likelihood).
    ValueError
        For a node or state index out of range or a likelihood of the wrong shape
        or with negative or non-finite entries.
    ImpossibleEvidenceError
        When the findings have probability zero (the message names every finding).
    TooLargeError
        When the elimination would exceed ``max_table_bytes``.
    """
    evidence = {int(k): int(s) for k, s in evidence.items()}
    do = {int(k): int(s) for k, s in (do or {}).items()}
    soft = {int(k): np.asarray(x, dtype=np.float64) for k, x in (likelihood or {}).items()}
    _check(model, evidence, do, soft)
    fixed = {**evidence, **do}
    factors, const = _log_factors(model, fixed, set(do), soft)
    free = [v for v in range(len(model)) if v not in fixed]
    order, cliques = _elimination_order(free, factors, model.cards, max_table_bytes)

    # P(evidence) from the exact engine (pruned to the findings' ancestors, so cheap);
    # a zero means every assignment has joint 0 and there is nothing to explain.
    log_pe = float(
        infer(model, [], evidence, do, soft, max_table_bytes=max_table_bytes).log_evidence[0]
    )
    if not math.isfinite(log_pe):
        raise _impossible_error(model, evidence, do, soft)

    assignment = _max_product(order, factors, model.cards)
    # The joint of the chosen assignment, summed term by term (one rounding per factor
    # instead of the elimination's nested sums).
    full = {**assignment, **fixed}
    terms = [*const, *(float(t[tuple(full[a] for a in axes)]) for t, axes in factors)]
    log_joint = math.fsum(terms) if all(math.isfinite(t) for t in terms) else -math.inf
    if not math.isfinite(log_joint):  # pragma: no cover - P(e) > 0 guarantees a positive max
        raise _impossible_error(model, evidence, do, soft)
    probability = min(1.0, math.exp(log_joint - log_pe))
    largest = max((math.prod(model.cards[u] for u in c) for c in cliques), default=1)
    return MpeResult(
        assignment={v: assignment[v] for v in sorted(assignment)},
        log_joint=log_joint,
        log_evidence=log_pe,
        probability=probability,
        evidence=evidence,
        do=do,
        order=order,
        largest=largest,
    )


def _check(
    model: CompiledModel, evidence: dict[int, int], do: dict[int, int], soft: dict[int, np.ndarray]
) -> None:
    n = len(model)
    for what, values in (("evidence", evidence), ("do", do)):
        for v, s in values.items():
            if not 0 <= v < n:
                raise ValueError(f"{what}: node index {v} out of range (model has {n} nodes)")
            if not 0 <= s < model.cards[v]:
                raise ValueError(
                    f"{what}: state index {s} out of range for '{model.names[v]}' "
                    f"({model.cards[v]} states)"
                )
    for v, lik in soft.items():
        if not 0 <= v < n:
            raise ValueError(f"likelihood: node index {v} out of range (model has {n} nodes)")
        if lik.shape != (model.cards[v],):
            raise ValueError(
                f"likelihood for '{model.names[v]}' has shape {lik.shape}; expected ({model.cards[v]},)"
            )
        if not np.all(np.isfinite(lik)) or np.any(lik < 0):
            raise ValueError(f"likelihood for '{model.names[v]}' must be nonnegative numbers")
    overlap = (set(evidence) | set(soft)) & set(do)
    if overlap:
        names = ", ".join(model.names[v] for v in sorted(overlap))
        raise UsageError(f"{names}: a node cannot be both forced (do) and observed")


def _log_factors(
    model: CompiledModel, fixed: dict[int, int], forced: set[int], soft: dict[int, np.ndarray]
) -> tuple[list[_Factor], list[float]]:
    """Log-tables sliced at the findings and forced states, and the logs of the fully
    sliced ones (their values enter the joint as constants)."""
    factors: list[_Factor] = []
    const: list[float] = []

    def add(table: np.ndarray, axes: tuple[int, ...]) -> None:
        sliced = table[tuple(fixed.get(a, slice(None)) for a in axes)]
        free = tuple(a for a in axes if a not in fixed)
        with np.errstate(divide="ignore"):
            logs = np.log(sliced)
        if free:
            factors.append((logs, free))
        else:
            const.append(float(logs))

    for v in range(len(model)):
        if v in forced:
            continue  # surgery: a point mass at the forced state, log 1 = 0
        add(model.cpts[v], (*model.parents[v], v))
    for v, lik in soft.items():
        add(lik, (v,))
    return factors, const


def _elimination_order(
    free: Sequence[int],
    factors: Sequence[_Factor],
    cards: tuple[int, ...],
    max_table_bytes: float,
) -> tuple[list[int], list[tuple[int, ...]]]:
    """Greedy elimination order over every free node, sized and checked against the budget.

    Both heuristics of the planner are tried (the one with the smaller total table
    size wins; one search suffices on small orders and on large graphs). The working
    set is estimated as for a junction tree: twice the largest table (it and the
    maximum taken from it) plus every intermediate table and argmax table (kept for
    the traceback), plus the log-tables of the model.
    """
    adj: dict[int, set[int]] = {v: set() for v in free}
    for _, axes in factors:
        for a in axes:
            adj[a].update(axes)
    for v in free:
        adj[v].discard(v)
    best: tuple[list[int], list[tuple[int, ...]]] | None = None
    best_cost: tuple[int, int] | None = None
    for heuristic in ("minfill", "minweight"):
        found = _greedy_order(adj, cards, heuristic, math.inf)
        assert found is not None  # no size limit: the search always finishes
        order, cliques, _ = found
        sizes = [math.prod(cards[u] for u in c) for c in cliques]
        total = sum(sizes)
        cost = (_working(cliques, sizes, cards, factors), total)
        if best_cost is None or (cost[1], cost[0]) < (best_cost[1], best_cost[0]):
            best, best_cost = (order, cliques), cost
        if best_cost[1] <= _SMALL_ORDER or len(adj) > _ONE_SEARCH_NODES:
            break
    assert best is not None and best_cost is not None
    working = best_cost[0]
    budget = max_table_bytes / BYTES_PER_ENTRY
    if working > budget:
        order, cliques = best
        sizes = [math.prod(cards[u] for u in c) for c in cliques]
        k = max(range(len(sizes)), key=sizes.__getitem__)
        raise TooLargeError(
            _as_float(working) * BYTES_PER_ENTRY,
            max_table_bytes,
            _as_float(sizes[k]) * BYTES_PER_ENTRY,
            len(cliques[k]),
        )
    return best


def _working(
    cliques: Sequence[tuple[int, ...]],
    sizes: Sequence[int],
    cards: tuple[int, ...],
    factors: Sequence[_Factor],
) -> int:
    """Estimated peak entries of the elimination (see :func:`_elimination_order`)."""
    messages = sum(s // cards[c[0]] for c, s in zip(cliques, sizes))
    model_tables = sum(int(t.size) for t, _ in factors)
    return 2 * max(sizes, default=1) + 2 * messages + model_tables


def _as_float(n: int) -> float:
    try:
        return float(n)
    except OverflowError:
        return math.inf


def _max_product(
    order: Sequence[int], factors: Sequence[_Factor], cards: tuple[int, ...]
) -> dict[int, int]:
    """Maximize the sum of log-factors over ``order``; return the argmax assignment."""
    live: dict[int, _Factor] = dict(enumerate(factors))
    holding: dict[int, set[int]] = {}  # variable -> ids of the live factors over it
    for i, (_, axes) in live.items():
        for a in axes:
            holding.setdefault(a, set()).add(i)
    next_id = len(factors)
    trace: list[tuple[int, tuple[int, ...], np.ndarray]] = []
    for v in order:
        ids = holding.pop(v, set())
        ops = [live.pop(i) for i in sorted(ids)]
        rest = sorted({a for _, axes in ops for a in axes if a != v})
        for r in rest:
            holding[r] -= ids
        scope = (v, *rest)
        table = _combine(ops, scope, cards)
        # argmax returns the first maximum: ties go to the lowest state index
        arg = table.argmax(axis=0).astype(np.min_scalar_type(cards[v] - 1))
        best = table.max(axis=0)
        del table
        trace.append((v, tuple(rest), arg))
        if rest:
            live[next_id] = (best, tuple(rest))
            for r in rest:
                holding[r].add(next_id)
            next_id += 1
    assignment: dict[int, int] = {}
    for v, rest, arg in reversed(trace):
        assignment[v] = int(arg[tuple(assignment[u] for u in rest)])
    return assignment


def _combine(ops: Sequence[_Factor], scope: tuple[int, ...], cards: tuple[int, ...]) -> np.ndarray:
    """Sum of log-factors broadcast onto ``scope`` (one table of that size)."""
    pos = {u: k for k, u in enumerate(scope)}
    table = np.zeros(tuple(cards[u] for u in scope))
    for arr, axes in ops:
        # a view with the factor's axes in scope order and unit axes elsewhere
        perm = sorted(range(len(axes)), key=lambda k: pos[axes[k]])
        view = arr.transpose(perm)
        present = {pos[axes[k]] for k in perm}
        missing = tuple(k for k in range(len(scope)) if k not in present)
        table += np.expand_dims(view, missing) if missing else view
    return table


def _impossible_error(
    model: CompiledModel, evidence: dict[int, int], do: dict[int, int], soft: dict[int, np.ndarray]
) -> ImpossibleEvidenceError:
    """The error naming every finding (a minimal set is found by the Model-level wrapper)."""
    findings = [f"{model.names[v]}={model.states[v][s]}" for v, s in evidence.items()]
    for v, lik in soft.items():
        parts = ",".join(f"{s}:{x:g}" for s, x in zip(model.states[v], lik))
        findings.append(f"{model.names[v]}~({parts})")
    forced = [f"{model.names[v]}={model.states[v][s]}" for v, s in do.items()]
    return ImpossibleEvidenceError(findings, findings, forced)


# ----------------------------------------------------------------------------- by name


@dataclass
class Explanation:
    """The most probable explanation of a question, by name.

    Attributes
    ----------
    model : str
        Model id.
    given, do : dict of str to str
        Observed findings and interventions.
    likelihood : dict of str to dict of str to float
        Virtual evidence, a weight per state.
    assignment : dict of str to str
        The most probable state of every node that is neither observed nor
        forced (nodes with a likelihood included), in file order.
    probability : float
        P(assignment | findings), in the model after interventions.
    log_joint : float
        log P(assignment, findings), likelihoods included as weights.
    evidence_probability : float
        P(findings), likelihoods included (as in :class:`~riskchain.model.QueryResult`).
    """

    model: str
    given: dict[str, str]
    do: dict[str, str]
    likelihood: dict[str, dict[str, float]]
    assignment: dict[str, str]
    probability: float
    log_joint: float
    evidence_probability: float

    def to_json(self) -> dict:
        """The JSON shape of ``riskchain explain --format json``."""
        return {
            "model": self.model,
            "given": dict(self.given),
            "do": dict(self.do),
            "likelihood": {k: dict(v) for k, v in self.likelihood.items()},
            "mpe": dict(self.assignment),
            "mpe_probability": self.probability,
            "log_joint": self.log_joint,
            "evidence_probability": self.evidence_probability,
        }


def most_probable_explanation(
    model: Model,
    given: Mapping[str, str] | None = None,
    do: Mapping[str, str] | None = None,
    likelihood: Mapping[str, Mapping[str, float] | Sequence[float]] | None = None,
    max_table: float = DEFAULT_MAX_TABLE,
) -> Explanation:
    """The most probable joint state of every unobserved, unforced node, by name.

    Parameters
    ----------
    model : riskchain.Model
        The model.
    given : mapping of str to str, optional
        Observations ``{node: state}``.
    do : mapping of str to str, optional
        Interventions ``{node: state}`` (graph surgery).
    likelihood : mapping, optional
        Virtual evidence ``{node: {state: weight}}`` (or a sequence in state order).
    max_table : float
        Memory budget in bytes for the tables of the computation.

    Returns
    -------
    Explanation

    Raises
    ------
    UsageError
        For unknown nodes or states, bad likelihoods, or a node both observed
        and forced.
    ImpossibleEvidenceError
        When the findings have probability zero; names a minimal set of
        findings that cannot hold together.
    TooLargeError
        When the elimination would exceed ``max_table``.
    """
    m = model.compiled
    q = model.resolve(given, do, likelihood)
    ev, dv, lk = q.given, q.do, q.likelihood
    evidence, forced, soft = q.evidence, q.forced, q.soft
    try:
        res = mpe(m, evidence, forced, soft, max_table_bytes=max_table)
    except ImpossibleEvidenceError:
        raise model._impossible(evidence, forced, soft, max_table) from None
    return Explanation(
        model=model.id,
        given=ev,
        do=dv,
        likelihood={k: {s: float(x) for s, x in zip(model.states(k), v)} for k, v in lk.items()},
        assignment={m.names[v]: m.states[v][s] for v, s in res.assignment.items()},
        probability=res.probability,
        log_joint=res.log_joint,
        evidence_probability=probability_of(res.log_evidence),
    )
