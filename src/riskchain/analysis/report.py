"""Everything a hand-over report on a scenario file says, computed in one place.

:func:`build_report` runs the scenarios (with parameter draws if asked), builds the
risk table, and for the main target under the baseline scenario the sensitivity
analysis, the indicators to watch and the explanation. Rendering (HTML, pictures)
is :mod:`riskchain.report.html`'s job.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
from dataclasses import dataclass
from pathlib import Path

from riskchain.analysis.explain import ExplainResult, explain
from riskchain.analysis.risktable import RiskTable, risk_table
from riskchain.analysis.scenarios import ScenarioRun, pose, run_scenarios
from riskchain.analysis.sensitivity import SensitivityResult
from riskchain.analysis.uncertainty import DrawOptions, new_seed
from riskchain.analysis.watch import WatchResult
from riskchain.engine.plan import DEFAULT_MAX_TABLE
from riskchain.errors import UsageError
from riskchain.model import Model
from riskchain.scales import DEFAULT_SCALE, Scale


@dataclass
class Report:
    """The numbers of a report: the run, its risk table, and the baseline's analysis
    of the main target (``target`` = ``state``)."""

    run: ScenarioRun
    table: RiskTable
    target: str
    state: str
    baseline_model: Model
    baseline_question: dict
    explanation: ExplainResult
    scale: Scale
    draws: DrawOptions | None

    @property
    def sensitivity(self) -> SensitivityResult:
        return self.explanation.sensitivity

    @property
    def watch(self) -> WatchResult:
        return self.explanation.watch


def main_target(run: ScenarioRun, target: str | None, state: str | None) -> tuple[str, str]:
    """The outcome the report analyses: the one asked for, else the scenario file's
    bottom line — the target with the most ancestors (the one the others lead to;
    the first such in file order); for a node without a state named, the last state
    a risk table reports for it (``yes`` of a binary node, the most severe
    ``adverse`` state)."""
    spec = run.model.spec
    node = target
    if node is None and run.targets:
        m = run.model.compiled
        counts = {t: len(_ancestors(m.parents, m.index[t])) for t in run.targets}
        node = max(run.targets, key=lambda t: counts[t])
    if node is None:
        raise UsageError("target: the scenario file names no targets; give --target NODE=STATE")
    if node not in spec.nodes:
        try:
            run.model.compiled.node(node)  # raises with a "did you mean"
        except UsageError as exc:
            raise UsageError(f"target: {exc}") from None
    states = spec.nodes[node].states
    if state is None:
        state = spec.nodes[node].outcome_states()[-1]
    elif state not in states:
        raise UsageError(f"target: '{node}' has no state '{state}' (states: {', '.join(states)})")
    return node, state


def _ancestors(parents, i: int) -> set[int]:
    seen: set[int] = set()
    stack = list(parents[i])
    while stack:
        v = stack.pop()
        if v not in seen:
            seen.add(v)
            stack.extend(parents[v])
    return seen


def build_report(
    path: str | Path,
    target: str | None = None,
    state: str | None = None,
    scale: Scale = DEFAULT_SCALE,
    produced: _dt.date | None = None,
    draws: DrawOptions | None = None,
    max_table: float = DEFAULT_MAX_TABLE,
    model: str | Path | None = None,
) -> Report:
    """Compute every part of the report on a scenario file.

    Parameters
    ----------
    path : str or Path
        The scenario file.
    target, state : str, optional
        The outcome analysed in depth (default: see :func:`main_target`).
    scale : Scale
        The scale of the estimative terms.
    produced : datetime.date, optional
        The date printed on the report (default: today).
    draws : DrawOptions, optional
        Parameter draws: intervals in the table, the charts and the key judgment, all
        from the same draws (without a seed, one is drawn once for the whole report).
    max_table : float
        Memory budget in bytes.
    model : str or Path, optional
        The model file to use in place of the one the scenario file names (``--model``).

    Returns
    -------
    Report

    Raises
    ------
    SpecError, UsageError, ImpossibleEvidenceError, TooLargeError
        As the commands they stand for.
    """
    if draws is not None and draws.seed is None:
        # one seed for every section: the table, the charts and the key judgment then
        # give the same number the same interval
        draws = dataclasses.replace(draws, seed=new_seed())
    run = run_scenarios(
        path, include_baseline=True, max_table=max_table, draws=draws, model=model
    )
    table = risk_table(run, scale, produced)
    node, outcome = main_target(run, target, state)
    q = pose(path, run.baseline, max_table=max_table, model=model)
    if node in q.given or node in q.do:
        raise UsageError(
            f"target: '{node}' is observed or forced in the baseline '{run.baseline}'; "
            "choose another --target"
        )
    explanation = explain(
        q.model,
        node,
        outcome,
        q.given,
        q.do,
        q.likelihood,
        scale=scale,
        scenario=run.baseline,
        draws=draws,
        draw_question=(q.base, q.question()),
        max_table=max_table,
        sets=q.scenario.sets if q.scenario is not None else None,
    )
    return Report(
        run=run,
        table=table,
        target=node,
        state=outcome,
        baseline_model=q.model,
        baseline_question={"given": q.given, "do": q.do, "likelihood": q.likelihood},
        explanation=explanation,
        scale=scale,
        draws=draws,
    )
