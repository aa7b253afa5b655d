"""The fast exact engine: batched Shafer-Shenoy/Hugin propagation on numpy.

Every table may carry a leading batch axis (parameter draws, scenarios): a CPT
override of shape ``(B, *cpt.shape)``, a likelihood of shape ``(B, card)`` or
a per-batch observed state of shape ``(B,)``. All of them are solved in one
pass of contractions (opt_einsum, cached per equation and shapes); arrays
without the batch axis are shared by every batch element.

Messages are renormalized as they travel and the log normalizers are summed,
so P(evidence) does not underflow on large networks with many findings.
"""

from __future__ import annotations

import math
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from riskchain.compile import CompiledModel
from riskchain.engine.plan import BYTES_PER_ENTRY, DEFAULT_MAX_TABLE, Component, Plan, make_plan
from riskchain.errors import UsageError

_BATCH = "a"
_LETTERS = string.ascii_letters[1:]  # 'a' is the batch axis
_EXPRESSIONS: dict = {}
_MAX_EXPRESSIONS = 20_000
_PLAN_CACHE_SIZE = 64
_DIRECT_EINSUM = 20_000  # entries of the index space
# Above this many entries, tables are multiplied in place into one array: pairwise
# contraction (tensordot) would hold several transposed copies of a large table.
_IN_PLACE = 1 << 22
_LOG_MAX = math.log(np.finfo(np.float64).max)


@dataclass
class EngineResult:
    """Raw engine output.

    Attributes
    ----------
    marginals : dict of int to numpy.ndarray
        Posterior of each target, shape ``(B, card)``; rows are NaN where the
        evidence is impossible for that batch element.
    log_evidence : numpy.ndarray
        ``log P(evidence)`` per batch element, shape ``(B,)``; ``-inf`` when impossible.
    plan : Plan
        The plan that was executed (sizes, components).
    """

    marginals: dict[int, np.ndarray]
    log_evidence: np.ndarray
    plan: Plan

    @property
    def batch(self) -> int:
        return int(self.log_evidence.shape[0])


def infer(
    model: CompiledModel,
    targets: Sequence[int],
    evidence: Mapping[int, int | np.ndarray] | None = None,
    do: Mapping[int, int] | None = None,
    likelihood: Mapping[int, np.ndarray] | None = None,
    tables: Mapping[int, np.ndarray] | None = None,
    max_table_bytes: float = DEFAULT_MAX_TABLE,
) -> EngineResult:
    """Exact posteriors of ``targets`` and P(evidence), batched.

    Parameters
    ----------
    model : CompiledModel
        The network.
    targets : sequence of int
        Node indices whose posterior marginals are wanted.
    evidence : mapping of int to int or array of int
        Hard findings: node -> state index, or an array ``(B,)`` of state
        indices (one per batch element).
    do : mapping of int to int
        Interventions: node -> forced state index (the node's incoming arrows
        are cut and it takes that state with probability 1).
    likelihood : mapping of int to array
        Virtual evidence: node -> nonnegative likelihood per state, shape
        ``(card,)`` or ``(B, card)``; any finite scale (each is divided by its
        largest value, the scale kept in ``log_evidence``).
    tables : mapping of int to array
        CPT overrides, each ``model.cpts[i].shape`` or ``(B, *shape)``.
    max_table_bytes : float
        Refuse (:class:`~riskchain.errors.TooLargeError`) when the estimated
        working memory of the plan (its largest table twice over plus the
        messages), batch included, would exceed this many bytes.

    Returns
    -------
    EngineResult
    """
    evidence = dict(evidence or {})
    do = dict(do or {})
    soft = {k: np.asarray(v, dtype=np.float64) for k, v in (likelihood or {}).items()}
    arrays = list(model.cpts)
    for i, arr in (tables or {}).items():
        arrays[i] = np.asarray(arr, dtype=np.float64)
    batch = _batch_size(model, arrays, evidence, soft)
    arrays = [
        a[0] if a.ndim == model.cpts[i].ndim + 1 and a.shape[0] == 1 and batch == 1 else a
        for i, a in enumerate(arrays)
    ]
    for v, val in list(evidence.items()):
        if np.ndim(val) > 0:
            # per-batch states become one-hot likelihoods so the plan stays shared
            idx = np.asarray(val, dtype=np.int64)
            onehot = np.zeros((idx.shape[0], model.cards[v]))
            onehot[np.arange(idx.shape[0]), idx] = 1.0
            soft[v] = onehot * soft[v] if v in soft else onehot
            del evidence[v]
    for v, lik in soft.items():
        if lik.ndim == 2 and lik.shape[0] == 1 and batch == 1:
            soft[v] = lik[0]
    # Each likelihood is scaled to a largest value of 1 and its scale carried in the
    # log-evidence: only ratios move beliefs, and values near 1e308 would overflow (two of
    # them read as impossible evidence) and values near 1e-300 underflow when multiplied.
    log_scale = np.zeros(batch)
    for v, lik in list(soft.items()):
        top = lik.max(axis=-1)
        safe = np.where(top > 0, top, 1.0)  # all zero: stays zero (impossible)
        soft[v] = lik / (safe[:, None] if lik.ndim == 2 else safe)
        log_scale = log_scale + np.log(safe)
    overlap = (set(evidence) | set(soft)) & set(do)
    if overlap:
        names = ", ".join(model.names[v] for v in sorted(overlap))
        raise UsageError(f"{names}: a node cannot be both forced (do) and observed")

    max_entries = max_table_bytes / BYTES_PER_ENTRY / batch
    key = (tuple(targets), frozenset(evidence), frozenset(do), frozenset(soft))
    plan = model._plans.get(key)
    if plan is None or plan.working > max_entries:
        plan = make_plan(model.parents, model.cards, targets, evidence, do, soft, max_entries)
        if len(model._plans) >= _PLAN_CACHE_SIZE:
            model._plans.pop(next(iter(model._plans)))
        model._plans[key] = plan
    fixed = {**evidence, **do}
    log_z = np.zeros(batch)
    marginals: dict[int, np.ndarray] = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        values = []
        for f in plan.factors:
            arr = soft[f.node] if f.kind == "lik" else arrays[f.node]
            values.append(_slice(arr, f.axes, fixed))
        for ci in plan.constants:
            c = values[ci]
            log_z = log_z + np.log(c.reshape(-1) if np.ndim(c) else np.full(1, c))
        for comp in plan.components:
            log_z = log_z + _run_component(comp, plan, values, model.cards, marginals, batch)
    log_z = log_z + log_scale
    if not evidence and not soft:
        log_z = np.zeros(batch)  # nothing observed: P(evidence) = 1 exactly, not 1 - rounding
    impossible = ~np.isfinite(log_z)
    for t, m in marginals.items():
        if m.ndim == 1:
            m = np.broadcast_to(m, (batch, m.shape[0]))
        m = np.array(m, dtype=np.float64)
        m[impossible] = np.nan
        marginals[t] = m
    for t in plan.fixed_targets:
        vec = np.zeros((batch, model.cards[t]))
        vec[:, fixed[t]] = 1.0
        vec[impossible] = np.nan
        marginals[t] = vec
    ordered = {t: marginals[t] for t in plan.targets}
    return EngineResult(ordered, np.where(impossible, -np.inf, log_z), plan)


def probability_of(log_p: float) -> float:
    """``exp(log_p)``, infinite when it is beyond a float (a P(evidence) that scales by
    likelihoods as large as 1e308 can be), never an OverflowError."""
    return math.exp(log_p) if log_p < _LOG_MAX else math.inf


def _batch_size(model: CompiledModel, arrays: list[np.ndarray], evidence: dict, soft: dict) -> int:
    sizes = set()
    for i, a in enumerate(arrays):
        base = model.cpts[i]
        if a.ndim == base.ndim + 1 and a.shape[1:] == base.shape:
            sizes.add(a.shape[0])
        elif a.shape != base.shape:
            raise ValueError(
                f"table for '{model.names[i]}' has shape {a.shape}; expected {base.shape} or (B, *{base.shape})"
            )
    for val in evidence.values():
        if np.ndim(val) > 0:
            sizes.add(int(np.shape(val)[0]))
    for v, lik in soft.items():
        card = model.cards[v]
        if lik.ndim == 2 and lik.shape[1] == card:
            sizes.add(lik.shape[0])
        elif lik.shape != (card,):
            raise ValueError(
                f"likelihood for '{model.names[v]}' has shape {lik.shape}; expected ({card},) or (B, {card})"
            )
    sizes.discard(1)
    if len(sizes) > 1:
        raise ValueError(f"inconsistent batch sizes: {sorted(sizes)}")
    return sizes.pop() if sizes else 1


def _slice(arr: np.ndarray, axes: tuple[int, ...], fixed: dict[int, int]) -> np.ndarray:
    batched = arr.ndim == len(axes) + 1
    index = tuple(fixed[a] if a in fixed else slice(None) for a in axes)
    if not any(a in fixed for a in axes):
        return arr
    return arr[(slice(None), *index)] if batched else arr[index]


def contract(ops: Sequence[tuple[np.ndarray, Sequence[int]]], out: Sequence[int]) -> np.ndarray:
    """Sum-product of factors ``(array, variables)`` onto ``out``.

    An array with one more axis than variables carries the batch axis first;
    the result is batched when any operand is.
    """
    local: dict[int, str] = {}
    terms = []
    arrays = []
    batched = False
    work = 1  # entries of the full index space: the cost of a direct einsum
    for arr, vs in ops:
        b = arr.ndim == len(vs) + 1
        if b and not batched:
            work *= arr.shape[0]
        batched |= b
        sym = []
        for k, v in enumerate(vs):
            s = local.get(v)
            if s is None:
                s = local[v] = _LETTERS[len(local)]
                work *= arr.shape[k + b]
            sym.append(s)
        terms.append((_BATCH if b else "") + "".join(sym))
        arrays.append(arr)
    eq = ",".join(terms) + "->" + (_BATCH if batched else "") + "".join(local[v] for v in out)
    if work <= _DIRECT_EINSUM:
        # small tables: numpy's C loop beats planning a pairwise contraction
        return np.einsum(eq, *arrays)
    if work > _IN_PLACE:
        return _product_then_sum(ops, out, batched)
    key = (eq, *(a.shape for a in arrays))
    expr = _EXPRESSIONS.get(key)
    if expr is None:
        import opt_einsum

        if len(_EXPRESSIONS) > _MAX_EXPRESSIONS:
            _EXPRESSIONS.clear()
        expr = _EXPRESSIONS[key] = opt_einsum.contract_expression(eq, *(a.shape for a in arrays))
    return expr(*arrays)


def _product_then_sum(
    ops: Sequence[tuple[np.ndarray, Sequence[int]]], out: Sequence[int], batched: bool
) -> np.ndarray:
    """The same sum-product as :func:`contract`, holding one table of the full index
    space: the largest operand is broadcast into it once, the others multiplied in
    place, then the variables not in ``out`` are summed away."""
    order = list(dict.fromkeys([*out, *(v for _, vs in ops for v in vs)]))
    pos = {v: i + batched for i, v in enumerate(order)}
    dims = [0] * (len(order) + batched)
    batch = 1
    for arr, vs in ops:
        b = arr.ndim == len(vs) + 1
        if b:
            batch = arr.shape[0]
        for k, v in enumerate(vs):
            dims[pos[v]] = arr.shape[k + b]
    if batched:
        dims[0] = batch

    def view(arr: np.ndarray, vs: Sequence[int]) -> np.ndarray:
        """``arr`` with its axes moved to their place in ``order`` and size-1 axes elsewhere."""
        b = arr.ndim == len(vs) + 1
        src = ([0] if b else []) + [pos[v] for v in vs]
        perm = np.argsort(src)
        shape = [1] * len(dims)
        for axis in src:
            shape[axis] = dims[axis]
        return arr.transpose(perm).reshape(shape) if len(src) else arr.reshape(shape)

    first = max(range(len(ops)), key=lambda i: ops[i][0].size)
    table = np.empty(dims)
    table[...] = view(*ops[first])
    for i, (arr, vs) in enumerate(ops):
        if i != first:
            table *= view(arr, vs)
    keep = len(out) + batched
    return table.sum(axis=tuple(range(keep, len(dims)))) if keep < len(dims) else table


def _normalize(msg: np.ndarray, nvars: int) -> tuple[np.ndarray, np.ndarray]:
    """Scale a message to sum 1 (per batch element); return it and the log of the scale."""
    if msg.ndim == nvars:  # not batched
        s = np.asarray(msg.sum())
        ok = s > 0
        return (msg / s if ok else msg), np.log(s)[None]
    s = msg.reshape(msg.shape[0], -1).sum(axis=1)
    safe = np.where(s > 0, s, 1.0)
    return msg / safe.reshape((-1,) + (1,) * nvars), np.log(s)


def _run_component(
    comp: Component,
    plan: Plan,
    values: list[np.ndarray],
    cards: tuple[int, ...],
    marginals: dict[int, np.ndarray],
    batch: int,
) -> np.ndarray:
    """Propagate in one component; fill ``marginals``; return its log normalizer (B,)."""
    factors = plan.factors
    own = [[(values[fi], factors[fi].free) for fi in fl] for fl in comp.factors]
    up: dict[int, np.ndarray] = {}
    log_z = np.zeros(batch)
    root = comp.postorder[-1]
    for c in comp.postorder[:-1]:
        ops = own[c] + [(up[k], comp.separators[k]) for k in comp.children[c]]
        msg = contract(ops, comp.separators[c])
        msg, log_s = _normalize(msg, len(comp.separators[c]))
        up[c] = msg
        log_z = log_z + log_s
    if not comp.targets:
        ops = own[root] + [(up[k], comp.separators[k]) for k in comp.children[root]]
        z = contract(ops, ())
        return log_z + np.log(np.reshape(z, -1))
    # Distribution pass, only towards cliques that host targets.
    down: dict[int, np.ndarray] = {}
    hosted: dict[int, list[int]] = {}
    for t, h in comp.targets.items():
        hosted.setdefault(h, []).append(t)
    stack = [root]  # the root hosts a target (plans are rooted there)
    while stack:
        c = stack.pop()
        incoming = [(up[k], comp.separators[k]) for k in comp.children[c]]
        if c != root:
            incoming.append((down[c], comp.separators[c]))
        wanted = [k for k in comp.children[c] if comp.needs_down[k]]
        if c not in hosted and len(wanted) == 1:
            # one message out and no target here: contract straight to it (no division)
            k = wanted[0]
            ops = own[c] + [op for j, op in zip(comp.children[c], incoming) if j != k]
            if c != root:
                ops.append(incoming[-1])
            msg = contract(ops, comp.separators[k])
            down[k], _ = _normalize(msg, len(comp.separators[k]))
            stack.append(k)
            continue
        clique = comp.cliques[c]
        belief = contract(own[c] + incoming, clique)
        if c == root:
            z = belief.reshape(-1, int(np.prod(belief.shape[-len(clique) :]))).sum(axis=1)
            log_z = log_z + np.log(z)
        for t in hosted.get(c, ()):
            m = contract([(belief, clique)], (t,))
            marginals[t] = m / m.sum(axis=-1, keepdims=True)
        for k in wanted:
            sep = comp.separators[k]
            marg = contract([(belief, clique)], sep)
            msg_up = up[k]
            # Hugin division; 0/0 -> 0 is exact here (the child's belief is 0 there anyway)
            out = np.zeros(np.broadcast_shapes(marg.shape, msg_up.shape))
            msg = np.divide(marg, msg_up, out=out, where=msg_up > 0)
            down[k], _ = _normalize(msg, len(sep))
            stack.append(k)
    return log_z
