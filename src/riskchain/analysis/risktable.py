"""Risk tables: one row per target outcome, one column group per scenario.

Each cell holds the probability, its estimative term and range, and the change
against the baseline scenario in percentage points. Impact is shown beside
probability; an ordinal impact level is never multiplied by a probability.
Only a numeric impact (a value with a unit) gives an expected impact. With
parameter draws each estimated cell also carries the interval of p and of its
change, the latter paired draw by draw (every scenario shares the draws).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field

import numpy as np

from riskchain.analysis.scenarios import ScenarioRun
from riskchain.analysis.uncertainty import Uncertainty
from riskchain.scales import DEFAULT_SCALE, Scale
from riskchain.spec.impact import Impact

# UK National Risk Register likelihood bands (logarithmic), upper bounds of bands 1-4.
NRR_BANDS = ((0.002, 1), (0.01, 2), (0.05, 3), (0.25, 4))
NRR_BAND_TEXT = {1: "<0.2%", 2: "0.2–1%", 3: "1–5%", 4: "5–25%", 5: ">25%"}


def nrr_band(p: float) -> int:
    """NRR likelihood band 1-5 of a probability (1 < 0.2%, ..., 5 > 25%).

    An edge belongs to the upper band (0.2% is band 2), except 25%, which the
    NRR's "5–25%" and ">25%" put in band 4. ``p`` is rounded to 12 decimals
    first, as for the estimative terms, so rounding noise does not move it.
    """
    q = round(p, 12)
    for upper, band in NRR_BANDS:
        if q < upper or (band == 4 and q == upper):
            return band
    return 5


@dataclass
class Cell:
    """One scenario's value for one outcome; ``p`` is None when the scenario's
    evidence is impossible, ``delta`` when it or the baseline's is."""

    p: float | None
    term: str | None
    range: tuple[float, float] | None
    delta: float | None
    band: int | None = None
    expected_impact: float | None = None
    finding: str | None = None  # "observed" or "forced": set by the scenario, not estimated
    # with parameter draws: the central interval of p, and of the paired change (see risk_table)
    interval: tuple[float, float] | None = None
    delta_interval: tuple[float, float] | None = None

    def to_json(self) -> dict:
        out: dict = {
            "p": self.p,
            "term": self.term,
            "range": list(self.range) if self.range else None,
            "delta": self.delta,
        }
        if self.interval is not None:
            out["interval"] = list(self.interval)
        if self.delta_interval is not None:
            out["delta_interval"] = list(self.delta_interval)
        if self.finding is not None:
            out["finding"] = self.finding
        if self.band is not None:
            out["nrr_band"] = self.band
        if self.expected_impact is not None:
            out["expected_impact"] = self.expected_impact
        return out


@dataclass
class RiskRow:
    node: str
    state: str
    label: str
    impact: Impact | None
    values: dict[str, Cell] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {
            "node": self.node,
            "state": self.state,
            "label": self.label,
            "impact": self.impact.to_json() if self.impact else None,
            "values": {sid: c.to_json() for sid, c in self.values.items()},
        }


@dataclass(frozen=True)
class DrawSummary:
    """What a run's intervals rest on, for footers: every scenario shares these draws.

    Attributes
    ----------
    samples, level, seed
        Number of draws, probability mass of each interval, and the seed.
    note : str
        Where the spread comes from (:meth:`Uncertainty.spread_note`).
    strength_only : bool
        True when the only spread is the one ``--strength`` assumed.
    impossible : dict of str to int
        Scenario id -> draws in which its findings are impossible (only those with any).
    """

    samples: int
    level: float
    seed: int
    note: str
    strength_only: bool
    impossible: dict[str, int] = field(default_factory=dict)


def draw_summary(run: ScenarioRun) -> DrawSummary | None:
    """The draws behind a run's intervals, or None when the run has no draws."""
    spreads = [(r.id, r.uncertainty) for r in run.results if r.uncertainty is not None]
    if not spreads:
        return None
    u = spreads[0][1]
    return DrawSummary(
        samples=u.samples,
        level=u.level,
        seed=u.seed,
        note=u.spread_note(),
        strength_only=u.strength_only,
        impossible={sid: x.impossible_draws for sid, x in spreads if x.impossible_draws},
    )


@dataclass
class RiskTable:
    """A risk table with everything a reader needs to trust it (``draws``: what the
    intervals rest on, None without parameter draws)."""

    run: ScenarioRun
    rows: list[RiskRow]
    scale: Scale
    produced: _dt.date
    bands: bool
    draws: DrawSummary | None = None

    @property
    def scenario_ids(self) -> list[str]:
        return [r.id for r in self.run.results]

    def to_json(self) -> dict:
        """The JSON shape of ``riskchain table --format json``."""
        spec = self.run.model.spec
        data = self.run.to_json()
        return {
            "model": {
                "id": spec.id,
                "title": spec.title,
                "horizon": spec.horizon,
                "path": str(self.run.file.model_path),
                # given by --model, in place of the file's 'model:' (which is kept here)
                **({"instead_of": self.run.file.model_named} if self.run.file.model_flag else {}),
            },
            "scenario_file": self.run.file.path,
            "title": self.run.file.title,
            "produced": self.produced.isoformat(),
            "scale": self.scale.name,
            "baseline": self.run.baseline,
            "scenarios": data["scenarios"],
            "rows": [r.to_json() for r in self.rows],
        }


def risk_table(
    run: ScenarioRun,
    scale: Scale = DEFAULT_SCALE,
    produced: _dt.date | None = None,
    bands: bool = False,
) -> RiskTable:
    """Build the risk table of a scenario run.

    Rows: for a binary target its ``yes`` state (else its second state); for a
    graded target the states the model marks ``adverse``, else every state.
    ``delta`` is p minus the baseline scenario's p, rounded to 12 decimals so that
    rounding noise does not show as a change (None where undefined).

    When the run has parameter draws, each estimated cell also gets ``interval``,
    the central interval of p across the draws, and ``delta_interval``, the same
    interval of the per-draw difference from the baseline. Observed and forced
    cells get neither (the scenario sets them); draws in which a scenario's
    findings are impossible (NaN) are left out.

    Parameters
    ----------
    run : ScenarioRun
        The scenarios' results (run with ``include_baseline=True`` for the changes).
    scale : Scale
        The scale of estimative terms.
    produced : datetime.date, optional
        The date printed as produced (default: today).
    bands : bool
        Whether to add the UK NRR likelihood band of each probability.

    Returns
    -------
    RiskTable
        One row per target outcome, one cell per scenario.
    """
    spec = run.model.spec
    base = next((r for r in run.results if r.id == run.baseline), None)
    bu = base.uncertainty if base is not None else None
    rows: list[RiskRow] = []
    for node in run.targets:
        nspec = spec.nodes[node]
        for state in nspec.outcome_states():
            impact = nspec.impact_of(state)
            label = (
                nspec.label
                if len(nspec.outcome_states()) == 1 and len(nspec.states) == 2
                else f"{nspec.label}: {state}"
            )
            row = RiskRow(node, state, label, impact)
            b = (
                base.posteriors[node][state]
                if base is not None and base.posteriors is not None
                else None
            )
            for res in run.results:
                if res.posteriors is None:
                    row.values[res.id] = Cell(None, None, None, None)
                    continue
                p = res.posteriors[node][state]
                s = res.scenario
                finding = "observed" if node in s.given else "forced" if node in s.do else None
                band = scale.classify(p) if finding is None else None
                row.values[res.id] = Cell(
                    p=p,
                    term=band.term if band else None,
                    range=band.output_range() if band else None,
                    finding=finding,
                    delta=round(p - b, 12) + 0.0 if b is not None else None,  # no noise, no -0
                    band=nrr_band(p) if bands else None,
                    expected_impact=p * impact.value
                    if impact is not None and impact.value is not None
                    else None,
                )
                if finding is None and res.uncertainty is not None:
                    cell = row.values[res.id]
                    cell.interval = _interval(res.uncertainty, node, state)
                    if bu is not None and cell.delta is not None:
                        cell.delta_interval = _paired_interval(res.uncertainty, bu, node, state)
            rows.append(row)
    return RiskTable(run, rows, scale, produced or _dt.date.today(), bands, draws=draw_summary(run))


def _interval(u: Uncertainty, node: str, state: str) -> tuple[float, float] | None:
    lo, hi = u.interval(node, state)
    return None if lo != lo or hi != hi else (lo, hi)  # NaN: no draw was possible


def _paired_interval(
    u: Uncertainty, base: Uncertainty, node: str, state: str
) -> tuple[float, float] | None:
    """Central interval of (scenario - baseline) draw by draw.

    Every scenario of a run is solved on the same parameter draws, so draw k of
    both shares its numbers: the per-draw difference is the change that the
    scenario makes with those numbers. Its interval says how sure the change is,
    without the spread the two probabilities share (the interval of a difference
    of independent draws would be much wider, and wrong).
    """
    k = u.states[node].index(state)
    diff = u.draws[node][:, k] - base.draws[node][:, k]
    diff = diff[~np.isnan(diff)]  # draws impossible in either scenario are left out
    if diff.size == 0:
        return None
    tail = (1.0 - u.level) / 2.0
    lo, hi = np.quantile(diff, [tail, 1.0 - tail])
    # as for delta: rounding noise of rows the scenario cannot move is no change, and no -0
    return (round(float(lo), 12) + 0.0, round(float(hi), 12) + 0.0)
