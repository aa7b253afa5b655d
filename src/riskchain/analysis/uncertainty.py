"""Parameter uncertainty: the spread of every answer, by Monte Carlo, exact per draw.

Whole parameter sets are drawn from the spread of the analyst's numbers (see
:mod:`riskchain.spec.draws`) and each draw is solved exactly by the batched
engine: one pass of contractions over a batch axis, in chunks sized so the
working memory stays under a budget whatever the number of draws. Several
questions (the scenarios of a file) are put to the *same* draws, so differences
between scenarios are not blurred by sampling noise.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from riskchain.engine.plan import BYTES_PER_ENTRY, DEFAULT_MAX_TABLE
from riskchain.errors import UsageError
from riskchain.model import Model
from riskchain.spec.draws import FILE_STRENGTH, FLAG_STRENGTH, OWN, NodeDraws, stream_key
from riskchain.spec.scenario import SetSpec

DEFAULT_LEVEL = 0.9
# Draws are solved in chunks whose tables and messages fit in this many bytes
# (or in --max-table, if smaller): a large --samples costs time, not memory.
CHUNK_BYTES = 64 << 20
# The first chunk is one draw: it measures what a draw needs, and it is the only chunk
# sized before that is known, so it must fit any budget that one draw fits.
_FIRST_CHUNK = 1


@dataclass
class Question:
    """One question to put to every draw: findings, interventions, likelihoods and
    the scenario's own numbers (``sets``: node -> settings, inherited first)."""

    given: Mapping[str, str] = field(default_factory=dict)
    do: Mapping[str, str] = field(default_factory=dict)
    likelihood: Mapping[str, Mapping[str, float] | Sequence[float]] = field(default_factory=dict)
    sets: Mapping[str, Sequence[SetSpec]] = field(default_factory=dict)


@dataclass
class Uncertainty:
    """The answers of one question across parameter draws.

    Attributes
    ----------
    samples : int
        Number of draws.
    level : float
        Probability mass of each interval (0.9: from the 5th to the 95th percentile).
    seed : int
        The seed that reproduces these draws.
    draws : dict of str to numpy.ndarray
        Each target's posterior in every draw, shape ``(samples, states)``; rows are
        NaN for draws in which the findings are impossible.
    states : dict of str to tuple of str
        Each target's states.
    evidence_probability : numpy.ndarray
        P(findings) in every draw, shape ``(samples,)``.
    sources : frozenset of str
        Where the spread came from: ``own`` (terms, ranges, beta in the file),
        ``file-strength`` (a ``strength:`` in the file), ``flag-strength``
        (``--strength``); empty when every number was exact.
    strength : float or None
        The command line's strength, if any.
    """

    samples: int
    level: float
    seed: int
    draws: dict[str, np.ndarray]
    states: dict[str, tuple[str, ...]]
    evidence_probability: np.ndarray
    sources: frozenset[str]
    strength: float | None = None
    # log P(findings) per draw: a draw is impossible when it is -inf (P(findings) itself
    # may underflow to 0, or overflow, with likelihoods far from 1)
    log_evidence: np.ndarray | None = None

    def _possible(self) -> np.ndarray:
        if self.log_evidence is not None:
            return np.isfinite(self.log_evidence)
        return self.evidence_probability > 0

    @property
    def impossible_draws(self) -> int:
        """Draws in which the findings have probability zero (left out of the figures)."""
        return int(np.count_nonzero(~self._possible()))

    @property
    def strength_only(self) -> bool:
        """True when the only spread is the one ``--strength`` assumed."""
        return self.sources == frozenset({FLAG_STRENGTH})

    def _valid(self, node: str) -> np.ndarray:
        d = self.draws[node]
        return d[~np.isnan(d).any(axis=1)]

    def interval(self, node: str, state: str) -> tuple[float, float]:
        """The central ``level`` interval of P(node = state) across draws."""
        col = self._valid(node)[:, self.states[node].index(state)]
        if col.size == 0:
            return (math.nan, math.nan)
        tail = (1.0 - self.level) / 2.0
        lo, hi = np.quantile(col, [tail, 1.0 - tail])
        return (float(lo), float(hi))

    def evidence_interval(self) -> tuple[float, float]:
        """The central ``level`` interval of P(findings) across draws."""
        pe = self.evidence_probability[self._possible()]
        if pe.size == 0:
            return (math.nan, math.nan)
        tail = (1.0 - self.level) / 2.0
        lo, hi = np.quantile(pe, [tail, 1.0 - tail])
        return (float(lo), float(hi))

    def evidence_log_interval(self) -> tuple[float, float] | None:
        """The same interval as logs (None without ``log_evidence``): right where the
        floats of :meth:`evidence_interval` under- or overflow."""
        if self.log_evidence is None:
            return None
        lpe = self.log_evidence[self._possible()]
        if lpe.size == 0:
            return None
        tail = (1.0 - self.level) / 2.0
        # quantiles of the log, for the ends only: exp keeps their order
        lo, hi = np.quantile(lpe, [tail, 1.0 - tail], method="nearest")
        return (float(lo), float(hi))

    def mean(self, node: str, state: str) -> float:
        """The mean of P(node = state) across draws."""
        col = self._valid(node)[:, self.states[node].index(state)]
        return float(col.mean()) if col.size else math.nan

    def spread_note(self) -> str:
        """Where the intervals come from, in words (for footers and JSON)."""
        own = []
        if OWN in self.sources:
            own.append("the ranges of the model's terms, ranges and beta distributions")
        if FILE_STRENGTH in self.sources:
            own.append("the strength written in the model")
        flag = FLAG_STRENGTH in self.sources
        if not own and not flag:
            return "no spread: every number used is exact (--strength S spreads exact numbers)"
        if not own:
            return (
                f"from --strength {self.strength:g} only: an assumed pseudo-count around exact "
                "numbers, not a spread the analyst gave"
            )
        text = "from " + " and ".join(own)
        if flag:
            text += f", and --strength {self.strength:g} for the exact numbers"
        return text

    def to_json(self) -> dict:
        """``{"samples", "level", "seed", "intervals", "mean", ...}`` (probabilities in [0, 1])."""
        return {
            "samples": self.samples,
            "level": self.level,
            "seed": self.seed,
            "intervals": {
                n: {s: list(self.interval(n, s)) for s in st} for n, st in self.states.items()
            },
            "mean": {n: {s: self.mean(n, s) for s in st} for n, st in self.states.items()},
            "evidence_probability": list(self.evidence_interval()),
            "spread": sorted(self.sources),
            "strength": self.strength,
            "strength_only": self.strength_only,
            "note": self.spread_note(),
            "impossible_draws": self.impossible_draws,
        }


@dataclass(frozen=True)
class DrawOptions:
    """How to draw: how many parameter sets, the seed, the interval's level, a
    strength for exact numbers, and a progress callback ``(done, total)``."""

    samples: int
    seed: int | None = None
    level: float = DEFAULT_LEVEL
    strength: float | None = None
    progress: Callable[[int, int], None] | None = None

    def __post_init__(self) -> None:
        check_options(self.samples, self.level, self.strength)


def check_options(samples: int, level: float, strength: float | None) -> None:
    """Refuse option values that cannot work (named as the command line names them)."""
    if samples < 1:
        raise UsageError(f"--samples: need at least 1 draw, got {samples}")
    if not 0.0 < level < 1.0:
        raise UsageError(f"--level: an interval's probability is between 0 and 1, got {level:g}")
    if strength is not None and not (math.isfinite(strength) and strength > 0):
        raise UsageError(f"--strength: a pseudo-count must be a positive number, got {strength:g}")


def new_seed() -> int:
    """A fresh seed, to be reported so the run can be repeated."""
    return int(np.random.SeedSequence().entropy % (1 << 63))


def sample(
    model: Model,
    questions: Sequence[Question],
    targets: Sequence[str],
    options: DrawOptions,
    max_table: float = DEFAULT_MAX_TABLE,
) -> list[Uncertainty]:
    """Draw parameter sets and answer every question exactly in each draw.

    Parameters
    ----------
    model : Model
        The model whose numbers are drawn.
    questions : sequence of Question
        The questions, all put to the same draws.
    targets : sequence of str
        Nodes whose posteriors are collected.
    options : DrawOptions
        ``samples`` draws; ``seed`` for reproducible draws (a fresh one, reported
        in the result, if None); ``level`` of the intervals; ``strength``, the
        Dirichlet pseudo-count for exact numbers of nodes whose file gives none
        (the command line's ``--strength``); ``progress``, called with
        ``(draws done, samples)`` after each chunk.
    max_table : float
        Memory budget in bytes; draws are solved in chunks that fit in it.

    Returns
    -------
    list of Uncertainty
        One per question, in order.

    Raises
    ------
    UsageError
        For bad options or names.
    TooLargeError
        When even one draw does not fit in ``max_table``.
    """
    from riskchain.engine.exact import infer

    samples, level, strength, progress = (
        options.samples,
        options.level,
        options.strength,
        options.progress,
    )
    seed = new_seed() if options.seed is None else int(options.seed)
    m, spec = model.compiled, model.spec
    tidx = [m.node(t) for t in dict.fromkeys(targets)]
    asked = []
    for q in questions:
        r = model.resolve(q.given, q.do, q.likelihood)
        asked.append((r.evidence, r.forced, r.soft))
    # only tables that can matter are drawn: the ancestors of what is asked or observed
    wanted = set(tidx)
    for ev, _dv, soft in asked:
        wanted |= set(ev) | set(soft)
    relevant = _ancestors(m.parents, wanted)

    def node_draws(i: int, key: int) -> NodeDraws:
        node = spec.nodes[m.names[i]]
        own = node.strength if node.strength is not None else spec.strength
        return NodeDraws(
            key=key,
            table=node.table,
            states=m.states[i],
            parent_states=[m.states[p] for p in m.parents[i]],
            seed=seed,
            strength=own if own is not None else strength,
            strength_source=FILE_STRENGTH if own is not None else FLAG_STRENGTH,
        )

    drawers = {i: node_draws(i, i) for i in sorted(relevant)}
    set_drawers: list[dict[int, list[tuple[NodeDraws, SetSpec]]]] = []
    for q in questions:
        per_node: dict[int, list[tuple[NodeDraws, SetSpec]]] = {}
        for name, sets in q.sets.items():
            i = m.node(name)
            if i in relevant:
                per_node[i] = [(node_draws(i, stream_key(s.scenario, name)), s) for s in sets]
        set_drawers.append(per_node)
    # nodes found to have no spread, or whose table the caller replaced: one table serves all
    constant: set[int] = {m.index[n] for n in model.overrides}

    out_post = [{t: np.full((samples, m.cards[t]), np.nan) for t in tidx} for _ in questions]
    out_lpe = [np.full(samples, -np.inf) for _ in questions]
    budget = min(float(max_table), float(CHUNK_BYTES))
    done, chunk = 0, min(samples, _FIRST_CHUNK)
    while done < samples:
        n = min(chunk, samples - done)
        tables = {}
        for i, d in drawers.items():
            if i in constant:
                continue
            arr = d.draw(n)
            if not d.sources:
                constant.add(i)
                continue
            tables[i] = arr
        working = 0
        for qi, (ev, dv, soft) in enumerate(asked):
            qt = dict(tables)
            for i, pairs in set_drawers[qi].items():
                arr = qt.get(i)
                # the model's draws of this chunk (none: its numbers have no spread)
                shared = dict(drawers[i].drawn) if arr is not None else {}
                if arr is None:
                    arr = np.broadcast_to(m.cpts[i], (n, *m.cpts[i].shape))
                for d, s in pairs:
                    d.shared = shared  # numbers a setting keeps are drawn as before it
                    arr = d.apply_set(arr, s, n)
                    shared = {**shared, **d.drawn}
                qt[i] = arr
            res = infer(m, tidx, ev, dv, soft, tables=qt, max_table_bytes=max_table)
            working = max(working, res.plan.working)
            for t in tidx:
                out_post[qi][t][done : done + n] = res.marginals[t]
            out_lpe[qi][done : done + n] = res.log_evidence
        done += n
        if progress is not None:
            progress(done, samples)
        # size the next chunks from what one draw needs: plan working set plus its tables
        per_draw = BYTES_PER_ENTRY * (
            working + sum(a[0].size for a in tables.values()) * (1 + len(questions))
        )
        chunk = max(1, min(samples, int(budget // max(per_draw, 1))))
    sources = frozenset(src for d in drawers.values() for src in d.sources) | frozenset(
        src for per in set_drawers for pairs in per.values() for d, _ in pairs for src in d.sources
    )
    results = []
    for qi in range(len(questions)):
        results.append(
            Uncertainty(
                samples=samples,
                level=level,
                seed=seed,
                draws={m.names[t]: out_post[qi][t] for t in tidx},
                states={m.names[t]: m.states[t] for t in tidx},
                evidence_probability=_exp(out_lpe[qi]),
                sources=sources,
                strength=strength,
                log_evidence=out_lpe[qi],
            )
        )
    return results


def _exp(log_p: np.ndarray) -> np.ndarray:
    """``exp`` without overflow warnings: beyond a float is inf (see probability_of)."""
    with np.errstate(over="ignore"):
        return np.exp(log_p)


def _ancestors(parents: Sequence[Sequence[int]], nodes: set[int]) -> set[int]:
    seen = set(nodes)
    stack = list(nodes)
    while stack:
        for p in parents[stack.pop()]:
            if p not in seen:
                seen.add(p)
                stack.append(p)
    return seen
