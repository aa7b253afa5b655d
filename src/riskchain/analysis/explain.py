"""Explaining a conclusion: the numbers behind one judgment, gathered for a reader.

:func:`explain` collects, for one target outcome under one question, the key
judgment (with its interval when draws are asked for), the most probable
explanation of the findings, what each finding contributes, whether the findings
conflict, the numbers the judgment rests on (sensitivity), the indicators worth
watching, and the changes that would alter the call. Every sentence the report
writes is built from these numbers (:mod:`riskchain.report.explain`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from riskchain.analysis.conflict import TOLERANCE, conflict
from riskchain.analysis.sensitivity import Parameter, SensitivityResult, sensitivity
from riskchain.analysis.uncertainty import DrawOptions, Question, Uncertainty, sample
from riskchain.analysis.watch import Indicator, WatchResult, watch
from riskchain.engine.mpe import Explanation, most_probable_explanation
from riskchain.engine.plan import DEFAULT_MAX_TABLE
from riskchain.model import Model
from riskchain.scales import DEFAULT_SCALE, Scale

if TYPE_CHECKING:
    from riskchain.spec.scenario import SetSpec

TOP = 3  # assumptions and indicators a short explanation lists


@dataclass
class Contribution:
    """What one finding does to the target: P(target) with every finding but this one.

    ``kind`` is ``observed`` (a hard finding) or ``likelihood`` (soft evidence);
    ``change`` is P(target) with all findings minus P(target) without this one.
    ``p_without`` is None when the other findings alone are impossible.
    """

    node: str
    label: str
    kind: str
    value: str
    p_without: float | None
    change: float | None

    def to_json(self) -> dict:
        return {
            "node": self.node,
            "kind": self.kind,
            "value": self.value,
            "p_without": self.p_without,
            "change": self.change,
        }


@dataclass
class Shift:
    """One thing that would change the call: a number moved within its plausible
    range (``kind`` "number"), an indicator observed ("indicator"), or a finding
    withdrawn ("finding"), with the probability and term it would lead to."""

    kind: str
    node: str
    what: str
    p: float
    term: str | None
    detail: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {
            "kind": self.kind,
            "node": self.node,
            "what": self.what,
            "p": self.p,
            "term": self.term,
            **self.detail,
        }


@dataclass
class Replacement:
    """A node whose numbers the question's scenario replaced (its ``set:``).

    ``scenario`` is the scenario whose file entry wrote them (the explained one, or one
    it extends); ``numbers`` are the numbers as written, ``p: almost certain`` or
    ``row 'a=yes': very likely``; ``written`` is the JSON of ``riskchain run``.
    """

    node: str
    label: str
    scenario: str
    numbers: list[str]
    written: dict

    def to_json(self) -> dict:
        return {"node": self.node, "scenario": self.scenario, "written": self.written}


@dataclass
class ExplainResult:
    """Everything an explanation of P(target = state | question) says, as numbers."""

    model: Model
    target: str
    state: str
    p: float
    scale: Scale
    given: dict[str, str]
    do: dict[str, str]
    likelihood: dict[str, dict[str, float]]
    scenario: str | None
    mpe: Explanation
    contributions: list[Contribution]
    conflict: float
    sensitivity: SensitivityResult
    watch: WatchResult
    shifts: list[Shift]
    uncertainty: Uncertainty | None = None
    reachable: int = 0  # numbers that can cross a threshold within their plausible range
    replaced: list[Replacement] = field(default_factory=list)  # the scenario's own numbers

    @property
    def term(self) -> str | None:
        """The judgment's term with its range, ``likely [55–80%]``."""
        band = self.scale.classify(self.p)
        return band.label() if band else None

    @property
    def assumptions(self) -> list[Parameter]:
        """The numbers as written that move the target most (by swing)."""
        return self.sensitivity.analyst[:TOP]

    @property
    def indicators(self) -> list[Indicator]:
        return self.watch.indicators[:TOP]

    @property
    def conflicting(self) -> bool:
        return self.conflict > TOLERANCE

    def to_json(self) -> dict:
        """The explanation's numbers: ``{"target", "p", "term", "mpe", "mpe_probability", ...}``."""
        out = {
            "model": self.model.id,
            "scenario": self.scenario,
            "target": {"node": self.target, "state": self.state},
            "p": self.p,
            "term": self.term,
            "given": dict(self.given),
            "do": dict(self.do),
            "likelihood": {k: dict(v) for k, v in self.likelihood.items()},
            "mpe": dict(self.mpe.assignment),
            "mpe_probability": self.mpe.probability,
            "contributions": [c.to_json() for c in self.contributions],
            "conflict": None if math.isinf(self.conflict) else self.conflict,
            "conflict_units": "bits",
            "conflicting": self.conflicting,
            "assumptions": [p.to_json() for p in self.assumptions],
            "indicators": [i.to_json(self.watch.graded) for i in self.indicators],
            "what_would_change": [s.to_json() for s in self.shifts],
            "numbers_that_can_change_the_call": self.reachable,
            "replaced_by_scenario": [r.to_json() for r in self.replaced],
        }
        if self.uncertainty is not None:
            out["uncertainty"] = self.uncertainty.to_json()
            out["interval"] = list(self.uncertainty.interval(self.target, self.state))
        return out


def explain(
    model: Model,
    target: str,
    state: str,
    given: Mapping[str, str] | None = None,
    do: Mapping[str, str] | None = None,
    likelihood: Mapping[str, Mapping[str, float]] | None = None,
    scale: Scale = DEFAULT_SCALE,
    scenario: str | None = None,
    draws: DrawOptions | None = None,
    draw_question: tuple[Model, Question] | None = None,
    max_table: float = DEFAULT_MAX_TABLE,
    sets: Mapping[str, Sequence[SetSpec]] | None = None,
) -> ExplainResult:
    """Gather the numbers that explain P(target = state | findings).

    Parameters
    ----------
    model : Model
        The model (with a scenario's numbers in place, if any).
    target, state : str
        The outcome explained.
    given, do, likelihood : mapping, optional
        The question, as in :meth:`Model.query`.
    scale : Scale
        The scale of the estimative terms.
    scenario : str, optional
        The scenario the question builds on (for the text).
    draws : DrawOptions, optional
        Also give the judgment's interval across parameter draws.
    draw_question : (Model, Question), optional
        The model and question to draw from (a scenario's file model with its own
        numbers as ``sets``); default ``model`` and the findings.
    max_table : float
        Memory budget in bytes.
    sets : mapping of str to list of SetSpec, optional
        The scenario's own numbers (``Scenario.sets``), already in ``model``: the
        explanation says which numbers they replaced (their nodes' numbers are the
        scenario's, so they are not among the assumptions varied).

    Returns
    -------
    ExplainResult

    Raises
    ------
    UsageError, ImpossibleEvidenceError, TooLargeError
        As :meth:`Model.query`.
    """
    sens = sensitivity(model, target, state, given, do, likelihood, scale, max_table=max_table)
    g, d, lk = sens.given, sens.do, sens.likelihood
    p = sens.p
    seen = watch(model, target, state, g, d, lk, scale, max_table=max_table)
    mpe = most_probable_explanation(model, g, d, lk, max_table=max_table)
    conf = conflict(model, g, lk, d, max_table=max_table) if len(g) + len(lk) >= 2 else 0.0
    contributions = _contributions(model, target, state, g, d, lk, p, max_table)
    spread = None
    if draws is not None:
        dm, q = draw_question or (model, Question(g, d, lk))
        (spread,) = sample(dm, [q], [target], draws, max_table)
    result = ExplainResult(
        model=model,
        target=target,
        state=state,
        p=p,
        scale=scale,
        given=g,
        do=d,
        likelihood=lk,
        scenario=scenario,
        mpe=mpe,
        contributions=contributions,
        conflict=conf,
        sensitivity=sens,
        watch=seen,
        shifts=[],
        uncertainty=spread,
        replaced=[_replacement(model, node, ss) for node, ss in (sets or {}).items()],
    )
    result.shifts = _shifts(result)
    return result


_PROVENANCE = ("note", "source", "sources", "confidence", "scenario")


def _replacement(model: Model, node: str, sets: Sequence[SetSpec]) -> Replacement:
    """What a scenario's ``set:`` wrote for one node, as written (the last entry of the
    ``extends`` chain that sets the node wins where entries overlap)."""
    numbers: list[str] = []
    for entry in sets:
        for key, value in entry.written().items():
            if key in _PROVENANCE:
                continue
            if key == "cpt" and isinstance(value, dict):
                numbers += [f"row '{row}': {_as_written(d)}" for row, d in value.items()]
            else:
                numbers.append(f"{key}: {_as_written(value)}")
    last = sets[-1]
    return Replacement(
        node, model.label(node), last.scenario, numbers, {"entries": [s.written() for s in sets]}
    )


def _as_written(value) -> str:
    """A number or distribution of a ``set:`` entry's JSON, as the analyst wrote it:
    ``very likely``; ``{low: 0.1, high: rest}``."""
    if isinstance(value, dict):
        if "text" in value and "kind" in value:
            return str(value["text"])
        if value.get("kind") == "remainder":
            return "rest"
        parts = {k: _as_written(v) for k, v in value.items()}
        given = [k for k, v in parts.items() if v != "rest"]
        if len(parts) == 2 and len(given) == 1:
            return parts[given[0]] if given[0].lower() == "yes" else f"{{{given[0]}: {parts[given[0]]}}}"
        return "{" + ", ".join(f"{k}: {v}" for k, v in parts.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_as_written(v) for v in value) + "]"
    return str(value)


def _contributions(model, target, state, given, do, likelihood, p, max_table) -> list[Contribution]:
    """Remove-one impact of every finding on P(target = state)."""
    from riskchain.errors import ImpossibleEvidenceError

    out = []
    items = [("observed", k, v) for k, v in given.items()]
    items += [("likelihood", k, v) for k, v in likelihood.items()]
    for kind, node, value in items:
        g = {k: v for k, v in given.items() if not (kind == "observed" and k == node)}
        lk = {k: v for k, v in likelihood.items() if not (kind == "likelihood" and k == node)}
        try:
            res = model.query(given=g, do=do, likelihood=lk, targets=[target], max_table=max_table)
            without = res.posteriors[target][state]
        except ImpossibleEvidenceError:
            without = None
        text = value if kind == "observed" else ", ".join(f"{s}:{x:g}" for s, x in value.items())
        out.append(
            Contribution(
                node=node,
                label=model.label(node),
                kind=kind,
                value=text,
                p_without=without,
                change=None if without is None else p - without,
            )
        )
    out.sort(key=lambda c: -abs(c.change or 0.0))
    return out


def _shifts(res: ExplainResult) -> list[Shift]:
    """What would change the call: the numbers that reach a threshold within their own
    plausible range (nearest first, relative to the range: at most ``TOP``), the
    observations of the top indicators that would change the term, and the findings
    without which it would differ."""
    scale = res.scale
    now = scale.classify(res.p)
    numbers: list[tuple[float, Shift]] = []
    for par in res.sensitivity.analyst:
        if par.threshold is None:
            continue
        lo, hi = par.interval
        if lo - 1e-12 <= par.threshold <= hi + 1e-12:
            width = max(hi - lo, 1e-12)
            shift = Shift(
                "number",
                par.node,
                par.name,
                par.threshold_p,
                _label(scale, par.threshold_p, par.threshold_term),
                {
                    "state": par.state,
                    "written": par.written,
                    "value": par.value,
                    "threshold": par.threshold,
                    "interval": list(par.interval),
                    "exact": par.exact,
                    "direction": "up" if par.threshold_p > res.p else "down",
                },
            )
            numbers.append((abs(par.threshold - par.value) / width, shift))
    numbers.sort(key=lambda x: x[0])
    out = [s for _, s in numbers[:TOP]]
    for ind in res.indicators:
        for st, o in ind.outcomes.items():
            if o.possible and o.changes_term and o.p is not None:
                out.append(
                    Shift(
                        "indicator",
                        ind.node,
                        st,
                        o.p,
                        o.term,
                        {
                            "probability_now": o.probability,
                            "mutual_information": ind.mutual_information,
                        },
                    )
                )
    for c in res.contributions:
        if c.p_without is None:
            continue
        band = scale.classify(c.p_without)
        if (band.term if band else None) != (now.term if now else None):
            out.append(
                Shift(
                    "finding",
                    c.node,
                    c.value,
                    c.p_without,
                    band.label() if band else None,
                    {"kind": c.kind},
                )
            )
    res.reachable = len(numbers)
    return out


def edge_distance(scale: Scale, p: float) -> tuple[float, float] | None:
    """(distance, edge): how far ``p`` is from the nearer edge of its term's band."""
    band = scale.classify(p)
    if band is None:
        return None
    edges = [e for e in band.output_range() if 0.0 < e < 1.0]
    if not edges:
        return None
    edge = min(edges, key=lambda e: abs(e - p))
    return abs(edge - p), edge


def _label(scale: Scale, p: float, term: str | None) -> str | None:
    """The label (word and range) of ``term``, or of the band beyond ``p``'s edge."""
    for band in scale.bands:
        if band.term == term:
            return band.label()
    band = scale.classify(p)
    return band.label() if band else None
