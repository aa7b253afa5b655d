"""Risk tables: one row per target outcome, one column group per scenario.

Each cell holds the probability, its estimative term and range, and the change
against the baseline scenario in percentage points. Impact is shown beside
probability; an ordinal impact level is never multiplied by a probability.
Only a numeric impact (a value with a unit) gives an expected impact.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field

from riskchain.analysis.scenarios import ScenarioRun
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

    def to_json(self) -> dict:
        out: dict = {
            "p": self.p,
            "term": self.term,
            "range": list(self.range) if self.range else None,
            "delta": self.delta,
        }
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


@dataclass
class RiskTable:
    """A risk table with everything a reader needs to trust it."""

    run: ScenarioRun
    rows: list[RiskRow]
    scale: Scale
    produced: _dt.date
    bands: bool

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
    """
    spec = run.model.spec
    base = next((r for r in run.results if r.id == run.baseline), None)
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
            rows.append(row)
    return RiskTable(run, rows, scale, produced or _dt.date.today(), bands)
