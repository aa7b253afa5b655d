"""The public model object: load a model file, ask it what-if questions.

>>> import riskchain
>>> model = riskchain.load_model("models/korea_russia_2024.yaml")      # doctest: +SKIP
>>> result = model.query(given={"nis_satellite_photos": "yes"},        # doctest: +SKIP
...                      do={"nato_member_enters_war": "yes"},
...                      targets=["rok_security_threat"])
>>> result.posteriors["rok_security_threat"]                           # doctest: +SKIP
{'low': 0.21, 'elevated': 0.47, 'severe': 0.32}
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from riskchain.compile import CompiledModel, compile_spec
from riskchain.engine.plan import DEFAULT_MAX_TABLE
from riskchain.errors import ImpossibleEvidenceError, UsageError, suggest
from riskchain.spec.model import ModelSpec

if TYPE_CHECKING:
    from riskchain.analysis.uncertainty import Uncertainty

ENGINES = ("fast", "pgmpy")


@dataclass
class QueryResult:
    """The answer to one what-if question.

    Attributes
    ----------
    model : str
        Model id.
    given : dict of str to str
        Observed findings (``node -> state``): conditioning, as in "we saw this".
    do : dict of str to str
        Interventions (``node -> state``): the node is forced and its incoming
        arrows are cut, as in "suppose we made this happen".
    likelihood : dict of str to dict of str to float
        Virtual (soft) evidence: a likelihood per state.
    evidence_probability : float
        P(given findings) x E[likelihoods], in the model after interventions.
    posteriors : dict of str to dict of str to float
        Posterior distribution of each target, states in model order.
    engine : str
        ``fast`` or ``pgmpy``.
    """

    model: str
    given: dict[str, str]
    do: dict[str, str]
    likelihood: dict[str, dict[str, float]]
    evidence_probability: float
    posteriors: dict[str, dict[str, float]]
    engine: str = "fast"
    targets: list[str] = field(default_factory=list)
    scenario: str | None = None  # set when the question was asked on top of a scenario
    set_nodes: list[str] = field(default_factory=list)  # nodes whose numbers the scenario replaced
    uncertainty: Uncertainty | None = None  # the spread across parameter draws (samples=N)
    # log P(evidence): right where the float is not (likelihoods near 1e308 or 1e-300)
    log_evidence: float | None = None

    def finding(self, node: str) -> str | None:
        """``"observed"``, ``"forced"``, ``"likelihood"`` or None for a node."""
        if node in self.given:
            return "observed"
        if node in self.do:
            return "forced"
        if node in self.likelihood:
            return "likelihood"
        return None

    def to_json(self) -> dict:
        """The JSON shape of ``riskchain query --format json``."""
        return {
            "model": self.model,
            "given": dict(self.given),
            "do": dict(self.do),
            "likelihood": {k: dict(v) for k, v in self.likelihood.items()},
            "evidence_probability": self.evidence_probability,
            "posteriors": {k: dict(v) for k, v in self.posteriors.items()},
            "engine": self.engine,
            **({"scenario": self.scenario, "set": list(self.set_nodes)} if self.scenario else {}),
            **({"uncertainty": self.uncertainty.to_json()} if self.uncertainty else {}),
        }


@dataclass
class Resolved:
    """A question's findings, checked: by name (``given``, ``do``, ``likelihood`` as a
    vector per node) and by node index for the engine (``evidence``, ``forced``, ``soft``)."""

    given: dict[str, str]
    do: dict[str, str]
    likelihood: dict[str, np.ndarray]
    evidence: dict[int, int]
    forced: dict[int, int]
    soft: dict[int, np.ndarray]


class Model:
    """A validated, compiled model.

    Use :func:`load_model` to read one from a file. ``spec`` is the validated
    file (labels, sources, notes); ``compiled`` is the network as arrays.
    """

    def __init__(
        self,
        spec: ModelSpec,
        compiled: CompiledModel | None = None,
        overrides: Iterable[str] = (),
    ):
        self.spec = spec
        self.compiled = compiled if compiled is not None else compile_spec(spec)
        # nodes whose compiled table is not the file's (with_tables, a scenario's numbers):
        # parameter draws keep these tables as they are
        self.overrides = frozenset(overrides)

    # -- facts -------------------------------------------------------------------
    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def title(self) -> str:
        return self.spec.title

    @property
    def horizon(self) -> str | None:
        return self.spec.horizon

    @property
    def nodes(self) -> list[str]:
        """Node ids in file order."""
        return list(self.spec.nodes)

    @property
    def default_targets(self) -> list[str]:
        """The model's declared ``targets``, else every node."""
        return list(self.spec.targets) or self.nodes

    def label(self, node: str) -> str:
        return self.spec.nodes[node].label

    def states(self, node: str) -> tuple[str, ...]:
        return self.compiled.states[self.compiled.node(node)]

    # -- questions ---------------------------------------------------------------
    def query(
        self,
        given: Mapping[str, str] | None = None,
        do: Mapping[str, str] | None = None,
        likelihood: Mapping[str, Mapping[str, float] | Sequence[float]] | None = None,
        targets: Iterable[str] | None = None,
        engine: str = "fast",
        max_table: float = DEFAULT_MAX_TABLE,
        samples: int | None = None,
        seed: int | None = None,
        level: float = 0.9,
        strength: float | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> QueryResult:
        """Posterior distributions of ``targets`` under findings and interventions.

        Parameters
        ----------
        given : mapping of str to str, optional
            Observations ``{node: state}``.
        do : mapping of str to str, optional
            Interventions ``{node: state}`` (graph surgery: the node's parents
            no longer influence it).
        likelihood : mapping, optional
            Virtual evidence ``{node: {state: likelihood}}`` (or a sequence in
            state order). Only ratios matter for the posteriors; the values
            also scale ``evidence_probability``.
        targets : iterable of str, optional
            Nodes to report; default :attr:`default_targets`.
        engine : {"fast", "pgmpy"}
            The own exact engine, or the same question through pgmpy.
        max_table : float
            Memory budget in bytes for the tables of the computation.
        samples : int, optional
            Also draw this many parameter sets from the spread of the model's
            numbers and answer exactly in each: the result's ``uncertainty``
            holds the intervals (see :mod:`riskchain.analysis.uncertainty`).
        seed : int, optional
            Seed for the draws (reported in ``uncertainty.seed``; fresh if None).
        level : float
            Probability mass of each interval (0.9: 5th to 95th percentile).
        strength : float, optional
            Dirichlet pseudo-count around exact numbers of nodes whose file
            gives no ``strength:``.
        progress : callable, optional
            Called with ``(draws done, samples)`` as the draws are solved.

        Returns
        -------
        QueryResult

        Raises
        ------
        UsageError
            For unknown nodes or states, bad likelihoods, a node both observed
            and forced, or an unknown engine.
        ImpossibleEvidenceError
            When the findings have probability zero under the model; names a
            minimal set of findings that cannot hold together.
        TooLargeError
            When exact inference would exceed ``max_table``.
        """
        m = self.compiled
        q = self.resolve(given, do, likelihood)
        ev, dv, lk = q.given, q.do, q.likelihood
        names = list(targets) if targets is not None else self.default_targets
        tidx = []
        for t in dict.fromkeys(names):
            try:
                tidx.append(m.node(t))
            except UsageError as exc:
                raise UsageError(f"target: {exc}") from None
        if engine not in ENGINES:
            raise UsageError(f"unknown engine '{engine}' (choose fast or pgmpy)")
        draws = None
        if samples is not None:
            from riskchain.analysis.uncertainty import DrawOptions

            draws = DrawOptions(samples, seed, level, strength, progress)
            if engine != "fast":
                raise UsageError("engine: parameter draws use the fast engine; drop --engine pgmpy")
        evidence, forced, soft = q.evidence, q.forced, q.soft
        if engine == "fast":
            from riskchain.engine.exact import infer, probability_of

            res = infer(m, tidx, evidence, forced, soft, max_table_bytes=max_table)
            log_pe = float(res.log_evidence[0])
            if not math.isfinite(log_pe):
                raise self._impossible(evidence, forced, soft, max_table)
            post = {t: res.marginals[t][0] for t in tidx}
            pe = probability_of(log_pe)
            log_evidence: float | None = log_pe
        else:
            from riskchain.engine.exact import infer
            from riskchain.engine.pgmpy_bridge import query_pgmpy

            # Size the question with the own planner first: pgmpy has no memory guard.
            infer(m, [], evidence, forced, soft, max_table_bytes=max_table)
            try:
                post, pe = query_pgmpy(m, tidx, evidence, forced, soft)
            except ImpossibleEvidenceError:
                raise self._impossible(evidence, forced, soft, max_table) from None
            log_evidence = None
        posteriors = {m.names[t]: {s: float(p) for s, p in zip(m.states[t], post[t])} for t in tidx}
        spread = None
        if draws is not None:
            from riskchain.analysis.uncertainty import Question, sample

            names = [m.names[t] for t in tidx]
            (spread,) = sample(self, [Question(ev, dv, lk)], names, draws, max_table)
        return QueryResult(
            model=self.id,
            given=ev,
            do=dv,
            likelihood={k: {s: float(x) for s, x in zip(self.states(k), v)} for k, v in lk.items()},
            evidence_probability=pe,
            posteriors=posteriors,
            engine=engine,
            targets=[m.names[t] for t in tidx],
            uncertainty=spread,
            log_evidence=log_evidence,
        )

    def with_tables(self, tables: Mapping[str, np.ndarray]) -> Model:
        """A copy whose CPTs of the named nodes are replaced (same shape, rows summing to 1)."""
        m = self.compiled
        return Model(
            self.spec,
            m.with_cpts({m.node(k): v for k, v in tables.items()}),
            self.overrides | set(tables),
        )

    def to_pgmpy(self):
        """The model as a ``pgmpy.models.DiscreteBayesianNetwork`` (imports pgmpy)."""
        from riskchain.engine.pgmpy_bridge import to_pgmpy

        return to_pgmpy(self.compiled)

    def cpt(self, node: str) -> np.ndarray:
        """The expanded CPT of ``node`` (parents' states first, then its own)."""
        return self.compiled.cpts[self.compiled.node(node)]

    def describe(self) -> dict:
        """The JSON shape of ``riskchain show --format json``."""
        spec, m = self.spec, self.compiled
        nodes = []
        for name in spec.nodes:
            node = spec.nodes[name]
            i = m.index[name]
            entry = {
                "id": name,
                "label": node.label,
                "states": list(node.states),
                "parents": list(node.parents),
                "cpt": m.cpts[i].tolist(),
                "sources": list(node.provenance.sources),
                "table": node.table.kind,
            }
            if node.description:
                entry["description"] = node.description
            if node.provenance.note:
                entry["note"] = node.provenance.note
            if node.provenance.confidence:
                entry["confidence"] = node.provenance.confidence
            entry["written"] = node.table.written()
            nodes.append(entry)
        return {
            "id": spec.id,
            "title": spec.title,
            "horizon": spec.horizon,
            "description": spec.description,
            "targets": list(spec.targets),
            "sources": {k: v.to_json() for k, v in spec.sources.items()},
            "nodes": nodes,
        }

    def resolve(
        self,
        given: Mapping[str, str] | None = None,
        do: Mapping[str, str] | None = None,
        likelihood: Mapping[str, Mapping[str, float] | Sequence[float]] | None = None,
    ) -> Resolved:
        """Check a question's findings and give them by name and by index.

        Raises
        ------
        UsageError
            Unknown nodes or states, bad likelihoods, a node both observed and forced
            or with a likelihood as well.
        """
        m = self.compiled
        ev = self._assignments(given, "given")
        dv = self._assignments(do, "do")
        lk = self._likelihoods(likelihood)
        for name in set(ev) & set(dv):
            raise UsageError(f"'{name}' is both observed (given) and forced (do); choose one")
        for name in set(lk) & (set(ev) | set(dv)):
            how = "observed" if name in ev else "forced"
            raise UsageError(f"'{name}' has a likelihood and is also {how}; choose one")
        return Resolved(
            ev,
            dv,
            lk,
            {m.index[k]: m.state(k, v) for k, v in ev.items()},
            {m.index[k]: m.state(k, v) for k, v in dv.items()},
            {m.index[k]: v for k, v in lk.items()},
        )

    # -- helpers -------------------------------------------------------------------
    def _assignments(self, values: Mapping[str, str] | None, what: str) -> dict[str, str]:
        out: dict[str, str] = {}
        for name, state in (values or {}).items():
            name, state = str(name), str(state)
            try:
                self.compiled.state(name, state)
            except UsageError as exc:
                raise UsageError(f"{what}: {exc}") from None
            out[name] = state
        return out

    def _likelihoods(self, values) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for name, lik in (values or {}).items():
            name = str(name)
            try:
                i = self.compiled.node(name)
            except UsageError as exc:
                raise UsageError(f"likelihood: {exc}") from None
            states = self.compiled.states[i]
            if isinstance(lik, Mapping):
                unknown = [s for s in lik if str(s) not in states]
                if unknown:
                    hint = suggest(str(unknown[0]), states)
                    raise UsageError(
                        f"likelihood: node '{name}' has no state '{unknown[0]}' (states: {', '.join(states)})"
                        + (f"; {hint}" if hint else "")
                    )
                missing = [s for s in states if s not in {str(k) for k in lik}]
                if missing:
                    raise UsageError(
                        f"likelihood of '{name}' gives no value for {', '.join(missing)}; give one for every state"
                    )
                vec = np.array([float({str(k): v for k, v in lik.items()}[s]) for s in states])
            else:
                vec = np.asarray(lik, dtype=np.float64)
                if vec.shape != (len(states),):
                    raise UsageError(
                        f"likelihood of '{name}' needs {len(states)} values ({', '.join(states)})"
                    )
            if not np.all(np.isfinite(vec)) or np.any(vec < 0):
                raise UsageError(f"likelihood of '{name}' must be nonnegative numbers")
            if not np.any(vec > 0):
                raise UsageError(
                    f"likelihood of '{name}' is zero for every state, which rules out everything"
                )
            out[name] = vec
        return out

    def _impossible(self, evidence, forced, soft, max_table) -> ImpossibleEvidenceError:
        """Find a minimal set of findings that cannot hold together (greedy deletion)."""
        from riskchain.engine.exact import infer

        m = self.compiled
        items = [("given", k, v) for k, v in evidence.items()] + [
            ("lik", k, v) for k, v in soft.items()
        ]

        def possible(subset) -> bool:
            ev = {k: v for kind, k, v in subset if kind == "given"}
            lk = {k: v for kind, k, v in subset if kind == "lik"}
            res = infer(m, [], ev, forced, lk, max_table_bytes=max_table)
            return bool(np.isfinite(res.log_evidence[0]))

        core = list(items)
        for item in list(items):
            trial = [x for x in core if x is not item]
            if not possible(trial):
                core = trial

        def text(item) -> str:
            kind, k, v = item
            if kind == "given":
                return f"{m.names[k]}={m.states[k][v]}"
            parts = ",".join(f"{s}:{x:g}" for s, x in zip(m.states[k], v))
            return f"{m.names[k]}~({parts})"

        forced_text = [f"{m.names[k]}={m.states[k][v]}" for k, v in forced.items()]
        return ImpossibleEvidenceError(
            [text(x) for x in core], [text(x) for x in items], forced_text
        )


def load_model(path: str | Path) -> Model:
    """Read, validate and compile a model file.

    Parameters
    ----------
    path : str or pathlib.Path
        A riskchain model file (YAML, format 1).

    Returns
    -------
    Model

    Raises
    ------
    SpecError
        With every problem in the file, each with line and column; also for a
        file that is not UTF-8 text.
    FileKindError
        When the file is a scenario file (a :class:`SpecError`).
    riskchain.io.files.FileError
        When the file cannot be read: not a regular file, above the input size
        limit, not readable (a :class:`SpecError`).
    UsageError
        When the path does not exist or is a folder.
    """
    from riskchain.cache import load_model_cached

    spec, compiled = load_model_cached(path)
    spec.issue_warnings()  # a cached spec keeps its warnings: said on every read
    return Model(spec, compiled)
