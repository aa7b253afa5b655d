"""One-way sensitivity: which numbers a conclusion rests on, and how far each must move.

For one CPT entry θ = P(X = x | parents = u), the other entries of its column
co-vary proportionally (they keep their ratios and fill 1 − θ). Then P(t, e) and
P(e) are both linear in θ, so

    P(t | e)(θ) = (αθ + β) / (γθ + δ)

(Castillo, Gutiérrez & Hadi 1997; Coupé & van der Gaag 2002). Two exact solves fix
the four coefficients. Every entry is solved at once: the engine's batch axis
carries one modified table per batch element, in chunks that fit a memory budget.

The analyst's own numbers (a prior, a row that may cover several parent
combinations, a noisy-OR cause, a leak) are varied the same way, through the
table they are written in: a row shared by several columns, or a noisy-OR cause,
still enters P(e) linearly, so its function is exact too (checked at a third
point); where it is not (a leak, a noisy-MAX distribution) the function is
evaluated on a grid instead and the threshold interpolated, which the result says.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from riskchain.engine.plan import BYTES_PER_ENTRY, DEFAULT_MAX_TABLE
from riskchain.errors import UsageError
from riskchain.model import Model
from riskchain.scales import DEFAULT_SCALE, Scale
from riskchain.spec.draws import NodeDraws
from riskchain.spec.probability import Prob
from riskchain.spec.tables import CptTable, Dist, RootTable

# Batches of modified tables are solved in chunks of at most this many bytes.
CHUNK_BYTES = 64 << 20
_GRID = 101  # points on [0, 1] for numbers whose function is not linear-fractional
_LINEAR_TOL = 1e-9


@dataclass
class Parameter:
    """The sensitivity of P(target) to one number.

    Attributes
    ----------
    node : str
        The node whose table holds the number.
    when : dict of str to str
        The parent states of its column (CPT entries); for the analyst's numbers, the
        parent states a row covers (``*`` for any), empty for priors, leaks and causes.
    state : str
        The node's state the number is the probability of.
    name : str
        What the number is, in words: ``P(yes | a=no, b=yes)``, ``row 'a=yes, b=*'``,
        ``cause nk_recon_satellite``, ``leak``, ``p``.
    value : float
        Its current (point) value.
    written : str or None
        The number as the analyst wrote it (analyst's numbers only).
    derivative : float
        dP(target)/dθ at the current value (the sensitivity value).
    interval : tuple of float
        The number's plausible range, and ``interval_source`` says where it came from.
    low, high : float
        P(target) with the number at the low and at the high end of ``interval``.
    threshold : float or None
        The nearest value of the number at which P(target) crosses into another
        estimative term (or crosses ``--threshold``); None: never within [0, 1].
    threshold_p : float or None
        The level P(target) crosses there; ``threshold_term`` the term it enters.
    coefficients : tuple of float or None
        (α, β, γ, δ) of the exact sensitivity function, scaled so that γθ0 + δ = 1;
        None when the function was evaluated on a grid (``exact`` False).
    """

    node: str
    when: dict[str, str]
    state: str
    name: str
    value: float
    derivative: float = math.nan
    interval: tuple[float, float] = (0.0, 1.0)
    interval_source: str = ""
    low: float = math.nan
    high: float = math.nan
    threshold: float | None = None
    threshold_p: float | None = None
    threshold_term: str | None = None
    coefficients: tuple[float, float, float, float] | None = None
    exact: bool = True
    written: str | None = None
    kind: str = "entry"

    @property
    def swing(self) -> float:
        """How much P(target) moves over the plausible range (the tornado bar's length)."""
        return abs(self.high - self.low)

    def function(self, theta: float | np.ndarray) -> float | np.ndarray:
        """P(target) as a function of this number (exact functions only)."""
        if self.coefficients is None:
            raise ValueError(f"{self.name}: no closed form (evaluated on a grid)")
        a, b, c, d = self.coefficients
        return (a * np.asarray(theta) + b) / (c * np.asarray(theta) + d)

    def to_json(self) -> dict:
        out = {
            "node": self.node,
            "when": dict(self.when),
            "state": self.state,
            "name": self.name,
            "value": self.value,
            "derivative": self.derivative,
            "interval": list(self.interval),
            "interval_source": self.interval_source,
            "low": self.low,
            "high": self.high,
            "threshold": self.threshold,
            "threshold_p": self.threshold_p,
            "threshold_term": self.threshold_term,
            "exact": self.exact,
        }
        if self.coefficients is not None:
            out["function"] = dict(zip(("alpha", "beta", "gamma", "delta"), self.coefficients))
        if self.written is not None:
            out["written"] = self.written
        return out


@dataclass
class SensitivityResult:
    """One-way sensitivity of P(target = state | findings) to every number.

    ``parameters`` holds every CPT entry of the nodes that can matter (for a
    binary node, one entry per column: the other is its complement); ``analyst``
    the numbers as the analyst wrote them. Both are sorted by ``swing``, largest
    first. ``levels`` are the probabilities whose crossing counts as a threshold.
    """

    target: str
    state: str
    p: float
    given: dict[str, str]
    do: dict[str, str]
    likelihood: dict[str, dict[str, float]]
    parameters: list[Parameter]
    analyst: list[Parameter]
    scale: Scale
    threshold: float | None = None  # --threshold, if given
    irrelevant: list[str] = field(default_factory=list)  # nodes whose numbers cannot matter

    def to_json(self) -> dict:
        """``{"target": {"node", "state"}, "p", "parameters": [...], "analyst": [...]}``."""
        return {
            "target": {"node": self.target, "state": self.state},
            "p": self.p,
            "given": dict(self.given),
            "do": dict(self.do),
            "likelihood": {k: dict(v) for k, v in self.likelihood.items()},
            "scale": self.scale.name,
            "threshold": self.threshold,
            "parameters": [x.to_json() for x in self.parameters],
            "analyst": [x.to_json() for x in self.analyst],
            "irrelevant": list(self.irrelevant),
        }


# ----------------------------------------------------------------------------- the analysis


def sensitivity(
    model: Model,
    target: str,
    state: str,
    given: Mapping[str, str] | None = None,
    do: Mapping[str, str] | None = None,
    likelihood: Mapping[str, Mapping[str, float]] | None = None,
    scale: Scale = DEFAULT_SCALE,
    threshold: float | None = None,
    max_table: float = DEFAULT_MAX_TABLE,
) -> SensitivityResult:
    """One-way sensitivity of P(target = state | findings) to every number of the model.

    Parameters
    ----------
    model : Model
        The model (with a scenario's numbers in place, if any).
    target, state : str
        The outcome whose probability is studied.
    given, do, likelihood : mapping, optional
        Findings, interventions and virtual evidence, as in :meth:`Model.query`.
    scale : Scale
        The scale whose terms define the thresholds, and whose band around an exact
        number is its plausible range (a number written as 0.35 could as well have been
        any value its word stands for).
    threshold : float, optional
        Report the value at which P(target) crosses this probability instead of the
        nearest term boundary.
    max_table : float
        Memory budget in bytes for each batch of solves.

    Returns
    -------
    SensitivityResult

    Raises
    ------
    UsageError
        Unknown names, a threshold outside (0, 1), the target observed or forced.
    ImpossibleEvidenceError
        When the findings are impossible.
    """
    if threshold is not None and not 0 < threshold < 1:
        raise UsageError(f"threshold: a probability between 0 and 1, got {threshold:g}")
    base = model.query(given=given, do=do, likelihood=likelihood, targets=[target])
    if state not in model.states(target):
        raise UsageError(
            f"target: '{target}' has no state '{state}' (states: {', '.join(model.states(target))})"
        )
    if target in base.given or target in base.do:
        how = "observed" if target in base.given else "forced"
        raise UsageError(f"target: '{target}' is {how}, so no number can change it")
    m = model.compiled
    ev = {m.index[k]: m.state(k, v) for k, v in base.given.items()}
    dv = {m.index[k]: m.state(k, v) for k, v in base.do.items()}
    soft = {
        m.index[k]: np.array([v[s] for s in m.states[m.index[k]]])
        for k, v in base.likelihood.items()
    }
    t, ts = m.index[target], m.state(target, state)
    solver = _Solver(model, t, ts, ev, dv, soft, max_table)
    relevant = _requisite(m.parents, {t, *ev, *soft}, set(dv))
    levels = _levels(scale, base.posteriors[target][state], threshold)
    entries: list[Parameter] = []
    for i in sorted(relevant):
        entries += _entry_parameters(model, i, solver, scale, levels)
    analyst: list[Parameter] = []
    for i in sorted(relevant):
        if model.compiled.names[i] in model.overrides:
            continue  # a scenario's own numbers replace this table: the file's are not used
        analyst += _analyst_parameters(model, i, solver, scale, levels)
    entries.sort(key=lambda x: (-x.swing, -abs(x.derivative)))
    analyst.sort(key=lambda x: (-x.swing, -abs(x.derivative)))
    return SensitivityResult(
        target=target,
        state=state,
        p=base.posteriors[target][state],
        given=base.given,
        do=base.do,
        likelihood=base.likelihood,
        parameters=entries,
        analyst=analyst,
        scale=scale,
        threshold=threshold,
        irrelevant=[m.names[i] for i in range(len(m.names)) if i not in relevant],
    )


def _requisite(parents: Sequence[Sequence[int]], nodes: set[int], forced: set[int]) -> set[int]:
    """Nodes whose numbers can change P(target | findings): ancestors of the target and
    the findings, in the graph with forced nodes' arrows cut (their tables are unused)."""
    seen, stack = set(), list(nodes)
    while stack:
        v = stack.pop()
        if v in seen:
            continue
        seen.add(v)
        if v not in forced:
            stack.extend(parents[v])
    return seen - forced


def _levels(scale: Scale, p: float, threshold: float | None) -> list[float]:
    """The probabilities whose crossing is a threshold: ``--threshold``, or the
    edges of the band that holds ``p`` (the term changes beyond them)."""
    if threshold is not None:
        return [threshold]
    band = scale.classify(p)
    if band is None:  # in a gap of the scale: the nearest edges of the bands around it
        lows = [b.output_range()[1] for b in scale.bands if b.output_range()[1] <= p]
        highs = [b.output_range()[0] for b in scale.bands if b.output_range()[0] > p]
        return [x for x in (max(lows, default=None), min(highs, default=None)) if x is not None]
    lo, hi = band.output_range()
    return [x for x in (lo, hi) if 0.0 < x < 1.0]


class _Solver:
    """Solves P(t | findings) and P(findings) for batches of modified tables."""

    def __init__(self, model: Model, t, ts, ev, dv, soft, max_table: float):
        from riskchain.engine.exact import infer

        self.model, self.t, self.ts = model, t, ts
        self.ev, self.dv, self.soft, self.max_table = ev, dv, soft, max_table
        self._infer = infer
        res = infer(model.compiled, [t], ev, dv, soft, max_table_bytes=max_table)
        self.p0 = float(res.marginals[t][0, ts])
        self.log_e0 = float(res.log_evidence[0])
        self.working = res.plan.working

    def chunk(self, table_entries: int) -> int:
        """How many batch elements fit the budget when one table of this size is batched."""
        per = BYTES_PER_ENTRY * (self.working + 2 * table_entries)
        return max(1, int(min(CHUNK_BYTES, self.max_table) // max(per, 1)))

    def solve(self, tables: Mapping[int, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """(P(t | e), P(e) / P0(e)) per batch element, for batched table overrides."""
        m = self.model.compiled
        res = self._infer(
            m, [self.t], self.ev, self.dv, self.soft, tables=tables, max_table_bytes=self.max_table
        )
        with np.errstate(over="ignore"):
            ratio = np.exp(res.log_evidence - self.log_e0)
        return res.marginals[self.t][:, self.ts], ratio


# ----------------------------------------------------------------------------- CPT entries


def _entry_parameters(
    model: Model, i: int, solver: _Solver, scale: Scale, levels: list[float]
) -> list[Parameter]:
    """Every CPT entry of node ``i`` (one per column for a binary node), solved in batch."""
    m = model.compiled
    cpt = m.cpts[i]
    states = m.states[i]
    pstates = [m.states[p] for p in m.parents[i]]
    card = len(states)
    shown = _shown_states(states)
    cols = list(itertools.product(*(range(len(s)) for s in pstates)))
    items = [(u, x) for u in cols for x in shown]
    if not items:
        return []
    theta0 = np.array([cpt[u][x] for u, x in items])
    theta1 = np.where(theta0 < 0.5, theta0 + 0.5, theta0 - 0.5)
    n1 = np.empty(len(items))
    d1 = np.empty(len(items))
    step = solver.chunk(cpt.size)
    for start in range(0, len(items), step):
        part = items[start : start + step]
        batch = np.broadcast_to(cpt, (len(part), *cpt.shape)).copy()
        for b, (u, x) in enumerate(part):
            batch[(b, *u)] = _covary(cpt[u], x, theta1[start + b])
        p, ratio = solver.solve({i: batch})
        n1[start : start + len(part)] = p * ratio
        d1[start : start + len(part)] = ratio
    out = []
    names = [m.names[p] for p in m.parents[i]]
    spec = model.spec.nodes[m.names[i]]
    for k, (u, x) in enumerate(items):
        when = {n: s[j] for n, s, j in zip(names, pstates, u)}
        prob = None if m.names[i] in model.overrides else _written_prob(spec.table, when, states[x])
        interval, source = _plausible(prob, theta0[k], scale, states, x)
        par = Parameter(
            node=m.names[i],
            when=when,
            state=states[x],
            name=_entry_name(states[x], when),
            value=float(theta0[k]),
            interval=interval,
            interval_source=source,
        )
        _fit(par, theta0[k], solver.p0, 1.0, theta1[k], n1[k], d1[k])
        _finish_exact(par, levels, scale)
        out.append(par)
    del card
    return out


def _shown_states(states: Sequence[str]) -> list[int]:
    """One entry per column for a binary node (its ``yes``, else second state); every
    state for a graded node (each is a different question)."""
    if len(states) == 2:
        yes = [j for j, s in enumerate(states) if s.lower() == "yes"]
        return [yes[0] if yes else 1]
    return list(range(len(states)))


def _entry_name(state: str, when: Mapping[str, str]) -> str:
    if not when:
        return f"P({state})"
    return f"P({state} | " + ", ".join(f"{k}={v}" for k, v in when.items()) + ")"


def _covary(column: np.ndarray, x: int, theta: float | np.ndarray) -> np.ndarray:
    """``column`` with entry ``x`` set to ``theta`` and the others scaled to fill the rest
    (shared equally when they were all zero)."""
    theta = np.asarray(theta, dtype=np.float64)
    rest = 1.0 - column[x]
    n = column.shape[-1]
    # scale the whole column, then overwrite entry x: the same products as scaling the
    # others alone, without np.delete's cost (this runs once per number per probe)
    if rest > 0:
        out = column * ((1.0 - theta) / rest)[..., None]
    else:
        out = np.repeat(((1.0 - theta) / (n - 1))[..., None], n, axis=-1)
    out[..., x] = theta
    return out


def _fit(par: Parameter, t0, p0, r0, t1, p1r1, r1) -> None:
    """The four coefficients from two solves: N(θ) = P(t, e), D(θ) = P(e), both linear
    (scaled by the base P(e), so D(θ0) = 1)."""
    n0, d0 = p0 * r0, r0
    dt = t1 - t0
    alpha = (p1r1 - n0) / dt
    beta = n0 - alpha * t0
    gamma = (r1 - d0) / dt
    delta = d0 - gamma * t0
    par.coefficients = (float(alpha), float(beta), float(gamma), float(delta))
    par.derivative = float((alpha * delta - beta * gamma) / (gamma * t0 + delta) ** 2)


def _finish_exact(par: Parameter, levels: list[float], scale: Scale) -> None:
    """Range ends and thresholds from the closed form."""
    lo, hi = par.interval
    # rounded so that cancellation noise (1e-17) does not print as a probability
    par.low, par.high = (round(float(par.function(x)), 12) for x in (lo, hi))
    a, b, c, d = par.coefficients
    best = None
    for level in levels:
        den = a - level * c
        if abs(den) < 1e-15:
            continue
        theta = (level * d - b) / den
        if -1e-12 <= theta <= 1 + 1e-12 and abs(theta - par.value) > 1e-12:
            theta = min(max(theta, 0.0), 1.0)
            if best is None or abs(theta - par.value) < abs(best[0] - par.value):
                best = (theta, level)
    _set_threshold(par, best, scale)


def _set_threshold(par: Parameter, best, scale: Scale) -> None:
    if best is None:
        return
    theta, level = best
    par.threshold, par.threshold_p = float(theta), float(level)
    # the term P(target) enters just beyond the crossing
    beyond = theta + 1e-6 * math.copysign(1.0, theta - par.value)
    p_beyond = float(par.function(beyond)) if par.coefficients is not None else None
    if p_beyond is None:
        p_beyond = level + 1e-9 * math.copysign(1.0, par.derivative * (theta - par.value))
    band = scale.classify(p_beyond)
    par.threshold_term = band.term if band else None


# ----------------------------------------------------------------------------- the analyst's numbers


@dataclass(frozen=True)
class _Written:
    """One number the analyst wrote: where it sits in the table, and how to vary it."""

    name: str
    when: dict[str, str]
    state: str
    prob: Prob | None
    key: int  # id() of the Prob, or of the Dist holding it
    dist_state: str | None  # for an entry of a Dist: its state
    value: float


def _written_numbers(model: Model, i: int) -> Iterator[_Written]:
    m = model.compiled
    name = m.names[i]
    spec = model.spec.nodes[name]
    table = spec.table
    states = m.states[i]

    shown = {states[j] for j in _shown_states(states)}

    def dist_numbers(d: Dist, label: str, when: dict[str, str]) -> Iterator[_Written]:
        point = d.point()
        for s, p in d.given.items():
            if len(d.given) == len(states) == 2 and s not in shown:
                continue  # both states of a binary node written: one is the other's complement
            yield _Written(label, when, s, p, id(d), s, float(point[states.index(s)]))

    for w in table.numbers({p: model.states(p) for p in spec.parents}):
        if w.dist is not None:
            yield from dist_numbers(w.dist, w.label, w.when)
        elif w.prob is not None:  # a probability of the node's present state
            yield _Written(w.label, w.when, _yes(states), w.prob, id(w.prob), None, w.prob.point)


def _yes(states: Sequence[str]) -> str:
    return states[_shown_states(states)[0]] if len(states) == 2 else states[-1]


class _Varier(NodeDraws):
    """Builds a node's tables with one written number set per batch element (NaN: as written)."""

    def __init__(self, model: Model, i: int, values: dict[tuple[int, str | None], np.ndarray]):
        m = model.compiled
        spec = model.spec.nodes[m.names[i]]
        super().__init__(
            key=i,
            table=spec.table,
            states=m.states[i],
            parent_states=[m.states[p] for p in m.parents[i]],
            seed=0,
        )
        self.values = values

    def prob(self, p: Prob, n: int) -> np.ndarray:
        out = np.full(n, p.point)
        v = self.values.get((id(p), None))
        if v is not None:
            mask = ~np.isnan(v)
            out[mask] = v[mask]
        return out

    def dist(self, d: Dist, n: int) -> np.ndarray:
        point = d.point()
        out = np.broadcast_to(point, (n, point.shape[-1])).copy()
        for s in d.given:
            v = self.values.get((id(d), s))
            if v is None:
                continue
            mask = ~np.isnan(v)
            out[mask] = _covary(point, d.states.index(s), v[mask])
        return out

    def columns(self, point: np.ndarray, n: int) -> np.ndarray:
        return np.broadcast_to(point, (n, *point.shape)).copy()


def _analyst_parameters(
    model: Model, i: int, solver: _Solver, scale: Scale, levels: list[float]
) -> list[Parameter]:
    """The numbers of node ``i`` as written, each varied through its table."""
    m = model.compiled
    written = list(_written_numbers(model, i))
    if not written:
        return []
    states = m.states[i]
    size = m.cpts[i].size
    t0 = np.array([w.value for w in written])
    probes = [
        np.where(t0 < 0.5, t0 + 0.5, t0 - 0.5),
        np.where(t0 < 0.5, t0 + 0.25, t0 - 0.25),
    ]
    solved = [_solve_written(model, i, solver, written, th, size) for th in probes]
    out = []
    for k, w in enumerate(written):
        interval, source = _plausible(w.prob, w.value, scale, states, states.index(w.state))
        par = Parameter(
            node=m.names[i],
            when=dict(w.when),
            state=w.state,
            name=w.name,
            value=w.value,
            interval=interval,
            interval_source=source,
            written=w.prob.text if w.prob is not None else None,
            kind="analyst",
        )
        (n1, d1), (n2, d2) = ((p[k] * r[k], r[k]) for p, r in solved)
        _fit(par, t0[k], solver.p0, 1.0, probes[0][k], n1, d1)
        predicted = par.function(probes[1][k])
        if abs(predicted - n2 / d2) <= _LINEAR_TOL * max(1.0, abs(predicted)):
            _finish_exact(par, levels, scale)
        else:
            par.coefficients = None
            par.exact = False
        out.append(par)
    grid_needed = [k for k, p in enumerate(out) if not p.exact]
    if grid_needed:
        _finish_on_grid(
            model,
            i,
            solver,
            [written[k] for k in grid_needed],
            [out[k] for k in grid_needed],
            size,
            levels,
            scale,
        )
    return out


def _solve_written(
    model: Model,
    i: int,
    solver: _Solver,
    written: Sequence[_Written],
    thetas: np.ndarray,
    size: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Solve with written number k set to thetas[k] in batch element k."""
    n = len(written)
    ps, rs = np.empty(n), np.empty(n)
    step = solver.chunk(size)
    for start in range(0, n, step):
        part = range(start, min(n, start + step))
        values: dict[tuple[int, str | None], np.ndarray] = {}
        for b, k in enumerate(part):
            w = written[k]
            arr = values.setdefault((w.key, w.dist_state), np.full(len(part), np.nan))
            arr[b] = thetas[k]
        tables = {i: _Varier(model, i, values).draw(len(part))}
        p, r = solver.solve(tables)
        ps[start : start + len(part)] = p
        rs[start : start + len(part)] = r
    return ps, rs


def _finish_on_grid(model, i, solver, written, pars, size, levels, scale) -> None:
    """Derivative, range ends and thresholds for numbers without a closed form."""
    grid = np.linspace(0.0, 1.0, _GRID)
    h = 1e-5
    for w, par in zip(written, pars):
        points = np.concatenate(
            [
                grid,
                [
                    par.interval[0],
                    par.interval[1],
                    max(par.value - h, 0.0),
                    min(par.value + h, 1.0),
                ],
            ]
        )
        ps, _ = _solve_written(model, i, solver, [w] * len(points), points, size)
        f = ps[:_GRID]
        par.low, par.high = float(ps[_GRID]), float(ps[_GRID + 1])
        a, b = points[_GRID + 2], points[_GRID + 3]
        par.derivative = float((ps[_GRID + 3] - ps[_GRID + 2]) / (b - a))
        best = None
        for level in levels:
            diff = f - level
            for j in range(_GRID - 1):
                if diff[j] == 0 or diff[j] * diff[j + 1] < 0:
                    x0, x1 = grid[j], grid[j + 1]
                    theta = (
                        x0 if diff[j] == 0 else x0 + (x1 - x0) * diff[j] / (diff[j] - diff[j + 1])
                    )
                    if abs(theta - par.value) > 1e-9 and (
                        best is None or abs(theta - par.value) < abs(best[0] - par.value)
                    ):
                        best = (float(theta), level)
        _set_threshold(par, best, scale)


# ----------------------------------------------------------------------------- plausible ranges


def _written_prob(table, when: Mapping[str, str], state: str) -> Prob | None:
    """The probability the analyst wrote for one CPT entry, if the table is row by row."""
    if isinstance(table, RootTable):
        return table.dist.given.get(state)
    if isinstance(table, CptTable):
        for row in table.rows:
            if all(when[p] in ss for p, ss in row.when.items()):
                return row.dist.given.get(state)
        if table.default is not None:
            return table.default.dist.given.get(state)
    return None


def _plausible(
    prob: Prob | None, value: float, scale: Scale, states: Sequence[str], x: int
) -> tuple[tuple[float, float], str]:
    """The range a number could plausibly take, and where the range comes from."""
    if prob is not None and prob.kind in ("term", "range") and prob.high > prob.low:
        what = f"the range of '{prob.text}'"
        return (prob.low, prob.high), what
    if prob is not None and prob.kind == "beta":
        from scipy.special import betaincinv

        a, b = prob.params
        lo, hi = (float(betaincinv(a, b, q)) for q in (0.05, 0.95))
        return (lo, hi), f"the central 90% of {prob.text}"
    band = scale.classify(value)
    if band is not None:
        lo, hi = band.output_range()
        if math.isclose(value, lo, abs_tol=1e-9) and lo > 0:
            # on the edge of two terms: either could have been meant
            below = scale.classify(lo - 1e-9)
            if below is not None:
                lo = below.output_range()[0]
                return (
                    (lo, hi),
                    f"the bands of '{below.term}' and '{band.term}' ({scale.name}), whose edge the value is on",
                )
        return (lo, hi), f"the band of '{band.term}' ({scale.name}), which holds the value"
    return (
        max(0.0, value - 0.05),
        min(1.0, value + 0.05),
    ), "±5 points (the value is between terms)"
