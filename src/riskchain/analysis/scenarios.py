"""Running scenarios: each is a question (findings, interventions, the analyst's
own numbers) put to the model; impossible findings are reported, not fatal."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from riskchain.analysis.uncertainty import DrawOptions, Question, Uncertainty, sample
from riskchain.errors import ImpossibleEvidenceError, UsageError
from riskchain.model import Model
from riskchain.spec.scenario import Scenario, ScenarioFile, load_scenario_file, scenario_for_cli


@dataclass
class ScenarioResult:
    """The answer of one scenario.

    ``posteriors`` is None and ``impossible`` names the conflicting findings when
    the scenario's evidence has probability zero.
    """

    scenario: Scenario
    evidence_probability: float
    posteriors: dict[str, dict[str, float]] | None
    impossible: ImpossibleEvidenceError | None = None
    uncertainty: Uncertainty | None = None  # the spread across parameter draws
    log_evidence: float | None = None  # log P(evidence), right where the float is not

    @property
    def id(self) -> str:
        return self.scenario.id

    def to_json(self, model: Model) -> dict:
        """The per-scenario JSON shape of ``riskchain run``."""
        s = self.scenario
        out = {
            "id": s.id,
            "description": s.description,
            "extends": s.chain[1:],
            "given": dict(s.given),
            "do": dict(s.do),
            "likelihood": {k: dict(v) for k, v in s.likelihood.items()},
            "set": {
                node: {
                    "written": [x.written() for x in sets],
                    "cpt": model.cpt(node).tolist(),
                }
                for node, sets in s.sets.items()
            },
            "evidence_probability": self.evidence_probability,
            "posteriors": self.posteriors,
        }
        if self.uncertainty is not None:
            out["uncertainty"] = self.uncertainty.to_json()
        if self.impossible is not None:
            out["impossible"] = {
                "findings": self.impossible.findings,
                "message": str(self.impossible),
            }
        return out


@dataclass
class ScenarioRun:
    """A scenario file's results: the file, the model, one result per scenario."""

    file: ScenarioFile
    model: Model
    results: list[ScenarioResult]
    targets: list[str]

    @property
    def baseline(self) -> str:
        return self.file.baseline

    def result(self, sid: str) -> ScenarioResult:
        return next(r for r in self.results if r.id == sid)

    def model_for(self, sid: str) -> Model:
        """The model with scenario ``sid``'s own numbers (its ``set``) in place."""
        return scenario_model(self.model, self.file.scenarios[sid])

    def to_json(self) -> dict:
        """The JSON shape of ``riskchain run``."""
        return {
            "model": self.model.id,
            **(
                {"model_path": str(self.file.model_path), "instead_of": self.file.model_named}
                if self.file.model_flag  # --model gave the model file
                else {}
            ),
            "scenario_file": self.file.path,
            "baseline": self.baseline,
            "targets": self.targets,
            "scenarios": [r.to_json(self.model_for(r.id)) for r in self.results],
        }


def load_scenarios(
    path: str | Path, max_table: float = 1 << 30, model: str | Path | None = None
) -> tuple[ScenarioFile, Model]:
    """Read and validate a scenario file and compile its model (its tables sized
    against ``max_table`` bytes before they are built); ``model`` replaces the model
    file it names (a path relative to the current folder).

    Raises
    ------
    SpecError
        With every problem in the scenario file or its model.
    UsageError
        When ``model`` cannot be read or is not a model file.
    """
    sf = load_scenario_file(path, max_table=max_table, model=model)
    return sf, Model(sf.model)


def scenario_model(model: Model, scenario: Scenario) -> Model:
    """``model`` with the scenario's ``set`` numbers written over its tables.

    A node whose last setting is parametric (a noisy-OR cause, a ranked weight ...)
    keeps a parametric table: the model's spec carries it, numbers the scenario did not
    change included, so sensitivity and explanations vary the numbers in force. Any other
    setting replaces the node's table as an array (the node is among ``overrides``).
    """
    if not scenario.sets:
        return model
    m = model.compiled
    tables = {}
    written = {}
    for node, sets in scenario.sets.items():
        i = m.index[node]
        spec = model.spec.nodes[node]
        arr = m.cpts[i]
        for s in sets:
            arr = s.apply(arr, spec, [model.spec.nodes[p].states for p in spec.parents])
        tables[i] = arr
        if sets[-1].table is not None:
            written[node] = dataclasses.replace(spec, table=sets[-1].table)
    spec = model.spec
    if written:
        spec = dataclasses.replace(spec, nodes={**spec.nodes, **written})
    return Model(spec, m.with_cpts(tables), model.overrides | (set(scenario.sets) - set(written)))


def run_scenarios(
    path: str | Path,
    ids: Sequence[str] | None = None,
    targets: Iterable[str] | None = None,
    max_table: float = 1 << 30,
    include_baseline: bool = False,
    draws: DrawOptions | None = None,
    model: str | Path | None = None,
) -> ScenarioRun:
    """Run the scenarios of a scenario file (all, or those named, in file order;
    with ``include_baseline`` the baseline is run too, first, for the changes).
    ``model`` replaces the model file the scenario file names (``--model``).

    With ``draws``, every scenario is also answered in each of ``draws.samples``
    parameter draws (the same draws for all scenarios, so their differences are
    not sampling noise); each result's ``uncertainty`` holds the intervals.

    Raises
    ------
    SpecError
        When the scenario file or its model is invalid.
    UsageError
        For an unknown scenario id or target.
    """
    sf, model = load_scenarios(path, max_table, model)
    wanted = {scenario_for_cli(sf, sid).id for sid in ids} if ids else set(sf.scenarios)
    chosen = [s for s in sf.scenarios.values() if s.id in wanted]
    if include_baseline and sf.baseline not in [s.id for s in chosen]:
        chosen.insert(0, sf.scenarios[sf.baseline])
    names = list(targets) if targets else list(sf.targets)
    for t in names:
        if t not in model.spec.nodes:
            model.compiled.node(t)  # raises with a "did you mean"
    results = []
    for s in chosen:
        m = scenario_model(model, s)
        try:
            res = m.query(
                given=s.given, do=s.do, likelihood=s.likelihood, targets=names, max_table=max_table
            )
        except ImpossibleEvidenceError as exc:
            results.append(ScenarioResult(s, 0.0, None, exc))
            continue
        except UsageError as exc:  # pragma: no cover - names were validated with the file
            raise UsageError(f"scenario '{s.id}': {exc}") from None
        results.append(
            ScenarioResult(
                s, res.evidence_probability, res.posteriors, log_evidence=res.log_evidence
            )
        )
    possible = [r for r in results if r.impossible is None]
    if draws is not None and possible:
        spreads = sample(model, [question(r.scenario) for r in possible], names, draws, max_table)
        for r, spread in zip(possible, spreads):
            r.uncertainty = spread
    return ScenarioRun(sf, model, results, names)


def question(s: Scenario) -> Question:
    """A scenario as a question for parameter draws (its own numbers drawn too)."""
    return Question(s.given, s.do, s.likelihood, s.sets)


@dataclass
class Posed:
    """A question resolved against a model file or a scenario of a scenario file.

    ``model`` has the scenario's own numbers in place; ``base`` is the file's model
    (draws start from it, with ``scenario.sets`` drawn on top). ``given``, ``do`` and
    ``likelihood`` are the scenario's findings with the command line's on top.
    """

    model: Model
    base: Model
    given: dict[str, str]
    do: dict[str, str]
    likelihood: dict
    targets: list[str] | None
    scenario: Scenario | None = None

    def question(self) -> Question:
        """The question for parameter draws."""
        sets = self.scenario.sets if self.scenario is not None else {}
        return Question(self.given, self.do, self.likelihood, sets)


def pose(
    path: str | Path,
    scenario: str | None = None,
    given=None,
    do=None,
    likelihood=None,
    max_table: float = 1 << 30,
    model: str | Path | None = None,
) -> Posed:
    """Read a model file, or scenario ``scenario`` of a scenario file, and combine its
    findings with ``given``/``do``/``likelihood`` (which override the scenario's for
    the same node). The model's tables are sized against ``max_table`` bytes before
    they are built; ``model`` replaces the model file a scenario file names.

    Raises
    ------
    UsageError
        A scenario file without ``scenario``, a model file with one or with ``model``,
        an unknown scenario, a ``model`` that is not a model file.
    SpecError
        When the file (or the scenario file's model) is invalid.
    """
    from riskchain.cache import load_file_cached
    from riskchain.spec.scenario import build_scenarios, is_scenario_document
    from riskchain.spec.yamlsrc import Document, load_yaml

    # a model file is read through the compiled-model cache; a scenario file is parsed
    loaded = (
        load_file_cached(path, str(path), max_table=max_table)
        if scenario is None
        else load_yaml(path, str(path))
    )
    if not isinstance(loaded, Document) or not is_scenario_document(loaded):
        if model is not None:
            raise UsageError(
                f"--model: {path} is a model file; --model replaces the model a scenario "
                "file names"
            )
        if scenario is not None:
            raise UsageError(
                f"--scenario: {path} is a model file; --scenario needs a scenario file"
            )
        loaded[0].issue_warnings()
        model = Model(*loaded)
        return Posed(model, model, dict(given or {}), dict(do or {}), dict(likelihood or {}), None)
    doc = loaded
    sf = build_scenarios(doc, Path(path), max_table, model)
    if scenario is None:
        raise UsageError(
            f"{path} is a scenario file: choose a scenario with --scenario ({', '.join(sf.scenarios)})"
        )
    s = scenario_for_cli(sf, scenario)
    ev, dv, lk = dict(s.given), dict(s.do), dict(s.likelihood)
    for extra in (given or {}, do or {}, likelihood or {}):
        for name in extra:
            ev.pop(name, None)
            dv.pop(name, None)
            lk.pop(name, None)
    ev.update(given or {})
    dv.update(do or {})
    lk.update(likelihood or {})
    base = Model(sf.model)
    return Posed(scenario_model(base, s), base, ev, dv, lk, list(sf.targets), s)


def ask(
    path: str | Path,
    scenario: str | None = None,
    given=None,
    do=None,
    likelihood=None,
    targets=None,
    engine: str = "fast",
    max_table: float = 1 << 30,
    draws: DrawOptions | None = None,
    model: str | Path | None = None,
):
    """Ask a question of a model file, or on top of scenario ``scenario`` of a
    scenario file: its findings and numbers, plus ``given``/``do``/``likelihood``,
    which override the scenario's for the same node; ``model`` replaces the model
    file a scenario file names.

    With ``draws``, the answer also carries its spread across parameter draws
    (``result.uncertainty``; a scenario's own numbers are drawn too).

    Returns
    -------
    (Model, QueryResult)
        The model the question was put to (with the scenario's numbers) and the answer.

    Raises
    ------
    UsageError
        A scenario file without ``scenario``, a model file with one, unknown names.
    SpecError, ImpossibleEvidenceError, TooLargeError
        As :meth:`riskchain.Model.query`.
    """
    if draws is not None and engine != "fast":
        raise UsageError("engine: parameter draws use the fast engine; drop --engine pgmpy")
    q = pose(path, scenario, given, do, likelihood, max_table, model)
    names = list(targets) if targets else q.targets
    res = q.model.query(
        given=q.given,
        do=q.do,
        likelihood=q.likelihood,
        targets=names,
        engine=engine,
        max_table=max_table,
    )
    if q.scenario is not None:
        res.scenario = q.scenario.id
        res.set_nodes = list(q.scenario.sets)
    if draws is not None:
        # drawn from the file's numbers with the scenario's own on top, both with their spread
        (res.uncertainty,) = sample(q.base, [q.question()], res.targets, draws, max_table)
    return q.model, res
