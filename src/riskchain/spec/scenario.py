"""Scenario files (format 1): named futures over one model.

A scenario observes (``given``), forces (``do``), adds soft evidence
(``likelihood``) and replaces the analyst's numbers (``set``), optionally
starting from another scenario (``extends``). Validation reports every problem
with its line and column, including names that do not exist in the model.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from riskchain.errors import SpecError, UsageError, listing, shorten, suggest, warn
from riskchain.spec.model import (
    DEFAULT_MAX_TABLE,
    FORMAT_VERSION,
    ModelSpec,
    NodeSpec,
    _expect_map,
    _name_list,
    check_keys,
    provenance,
    text_field,
)
from riskchain.spec.parametric import PARAMETRIC_KEYS, parse_parametric
from riskchain.spec.probability import Context
from riskchain.spec.tables import (
    CptTable,
    Dist,
    Provenance,
    Row,
    Table,
    check_coverage,
    parse_dist,
    parse_row_key,
)
from riskchain.spec.yamlsrc import Document, YNode, load_yaml

SCENARIO_FILE_KEYS = (
    "riskchain",
    "model",
    "title",
    "description",
    "targets",
    "baseline",
    "scenarios",
)
SCENARIO_KEYS = ("description", "extends", "given", "do", "likelihood", "set")
# a scenario's numbers take every form a model file gives them in (a parametric one only
# on a node the model writes in that form: the numbers written replace the model's)
SET_KEYS = ("p", "cpt", *PARAMETRIC_KEYS, "note", "source", "sources", "confidence")
# A scenario may build on at most this many others, one extending the next: each
# scenario repeats the findings of its whole chain.
MAX_EXTENDS = 100


@dataclass(frozen=True)
class SetSpec:
    """The analyst's own numbers for one node in one scenario.

    ``p`` replaces every row of the node's table (for a node with parents, the
    same distribution whatever the parents); ``default`` replaces every row not
    listed in ``rows``; ``rows`` replace the parent combinations they name.

    A parametric setting (``form``: ``noisy_or``, ``noisy_max``, ``ranked`` ...) changes
    some numbers of the node's parametric table; ``table`` is that table with them in
    place (and those of the settings before it, inherited first), and it rebuilds the
    node's whole table. ``as_written`` is what the scenario wrote under ``form``.
    """

    node: str
    p: Dist | None = None
    rows: tuple[Row, ...] = ()
    default: Row | None = None
    provenance: Provenance = field(default_factory=Provenance)
    scenario: str = ""
    line: int = 0
    col: int = 0
    form: str | None = None
    table: Table | None = None
    as_written: Any = None

    def apply(
        self, table: np.ndarray, node: NodeSpec, parent_states: list[tuple[str, ...]]
    ) -> np.ndarray:
        """``table`` with this scenario's numbers written over it (a new array)."""
        if self.table is not None:
            return np.array(self.table.expand(len(node.states), parent_states), dtype=np.float64)
        out = np.array(table, dtype=np.float64)
        if self.p is not None:
            out[...] = self.p.point()
        if self.default is not None:
            out[...] = self.default.dist.point()
        lookup = [{s: j for j, s in enumerate(states)} for states in parent_states]
        for row in self.rows:
            index = [[lk[s] for s in chosen] for chosen, lk in zip(row.when.values(), lookup)]
            out[np.ix_(*index, range(len(node.states)))] = row.dist.point()
        return out

    def written(self) -> dict:
        """The numbers as written, for JSON output."""
        out: dict = {}
        if self.p is not None:
            out["p"] = self.p.to_json()
        rows = [*self.rows, *([self.default] if self.default else [])]
        if rows:
            out["cpt"] = {r.key: r.dist.to_json() for r in rows}
        if self.form is not None:
            out[self.form] = self.as_written
            if self.table is not None:  # the node's numbers in that form, after this setting
                out["table"] = self.table.written()  # type: ignore[attr-defined]
        out.update(self.provenance.to_json())
        out["scenario"] = self.scenario
        return out


@dataclass
class Scenario:
    """One scenario after ``extends`` is resolved (own entries override inherited ones)."""

    id: str
    description: str | None
    given: dict[str, str]
    do: dict[str, str]
    likelihood: dict[str, dict[str, float]]
    sets: dict[str, list[SetSpec]]  # node -> settings, inherited first
    chain: list[str]  # this scenario and the ones it extends, nearest first
    line: int = 0
    col: int = 0

    def findings_text(self) -> dict[str, str]:
        """Readable summary: what was observed, forced, softened, set."""
        return {
            "observed": ", ".join(f"{k}={v}" for k, v in self.given.items()) or "none",
            "forced": ", ".join(f"{k}={v}" for k, v in self.do.items()) or "none",
            "likelihood": ", ".join(
                f"{k}~(" + ", ".join(f"{s}:{x:g}" for s, x in v.items()) + ")"
                for k, v in self.likelihood.items()
            )
            or "none",
            "set": ", ".join(self.sets) or "none",
        }


@dataclass
class ScenarioFile:
    """A validated scenario file and the model it points at."""

    path: str
    model_path: Path
    model: ModelSpec
    title: str | None
    description: str | None
    targets: tuple[str, ...]
    baseline: str
    scenarios: dict[str, Scenario]
    model_flag: bool = False  # the model came from --model, not the file's 'model:'
    model_named: str | None = None  # what the file's 'model:' says

    def model_source(self) -> str:
        """The model file used, in words: its path, and when ``--model`` gave it, what
        it stands in for (``m.yaml, from --model in place of ../models/x.yaml``)."""
        if not self.model_flag:
            return str(self.model_path)
        instead = f" in place of {self.model_named}" if self.model_named else ""
        return f"{self.model_path}, from --model{instead}"


def is_scenario_document(doc: Document) -> bool:
    """A scenario file names a ``model`` and holds ``scenarios``; a model holds ``nodes``."""
    from riskchain.spec.kinds import SCENARIOS, detect_kind

    return detect_kind(doc) is SCENARIOS


def load_scenario_file(
    path: str | Path,
    display: str | None = None,
    max_table: float = DEFAULT_MAX_TABLE,
    model: str | Path | None = None,
) -> ScenarioFile:
    """Read and validate a scenario file and its model (its tables sized against
    ``max_table`` bytes, as :func:`riskchain.spec.model.build_model` does).

    ``model`` replaces the model file the scenario file names (``--model``: a path
    relative to the current folder, not to the scenario file).

    Raises
    ------
    SpecError
        With every problem in the scenario file (or in its model file).
    UsageError
        When the file does not exist, or ``model`` is not a model file that can be read.
    """
    name = display if display is not None else str(path)
    return build_scenarios(load_yaml(path, name), Path(path), max_table, model)


def build_scenarios(
    doc: Document,
    path: Path,
    max_table: float = DEFAULT_MAX_TABLE,
    model_file: str | Path | None = None,
) -> ScenarioFile:
    """Validate a parsed document as a scenario file (its model's tables sized
    against ``max_table`` bytes); ``model_file`` replaces the model it names
    (see :func:`load_scenario_file`)."""
    from riskchain.io.files import file_problem
    from riskchain.spec.kinds import SCENARIOS, require_kind
    from riskchain.spec.model import load_model_spec

    require_kind(doc, SCENARIOS)  # a model file here: one message, not its unknown keys
    ctx = Context(doc.path, list(doc.diagnostics))
    root = doc.root
    check_keys(root, SCENARIO_FILE_KEYS, ctx, "the scenario file")
    vnode = root.get("riskchain")
    if vnode is None:
        ctx.error_at(
            1,
            1,
            "missing 'riskchain: 1' (the format version)",
            "add 'riskchain: 1' as the first line",
        )
    elif vnode.scalar_type() != "int" or vnode.number() != FORMAT_VERSION:
        ctx.error(
            vnode,
            f"unsupported format version '{vnode.text}'; this riskchain reads version 1",
            "write 'riskchain: 1'",
        )
    mnode = root.get("model")
    model: ModelSpec | None = None
    model_path = Path()
    named = mnode.text if mnode is not None and mnode.is_scalar else None
    if model_file is not None:  # --model: the file's 'model:' is not read
        model_path = Path(model_file)
        model = _flag_model(model_path, max_table, ctx)
    elif mnode is None:
        ctx.error(root, "missing 'model': the path of the model file, relative to this file")
    else:
        rel = text_field(mnode, ctx, "model")
        if rel is not None:
            model_path = Path(os.path.normpath(path.parent / rel))
            problem = file_problem(model_path)  # never raises (a name too long, no permission)
            if problem == "no such file":
                ctx.error(
                    mnode,
                    f"model file '{rel}' not found (looked for {model_path})",
                    "the path is relative to the scenario file; or name the model with --model PATH",
                )
            elif problem is not None:
                ctx.error(mnode, f"model file '{rel}' cannot be read: {problem} ({model_path})")
            else:
                try:
                    model = load_model_spec(model_path, max_table=max_table)
                except SpecError as exc:
                    n = len(exc.diagnostics)
                    ctx.error(
                        mnode,
                        f"model file '{rel}' is invalid ({n} error{'s' if n != 1 else ''} below)",
                    )
                    ctx.diagnostics.extend(exc.diagnostics)
    title = text_field(root.get("title"), ctx, "title")
    description = text_field(root.get("description"), ctx, "description")
    snode = root.get("scenarios")
    raw: dict[str, tuple[YNode, YNode]] = {}
    if snode is None:
        ctx.error(
            root, "missing 'scenarios'", "a scenario file lists its scenarios under 'scenarios:'"
        )
    elif _expect_map(snode, ctx, "'scenarios'"):
        if not snode.items:
            ctx.error(snode, "'scenarios' is empty")
        for sid, knode, body in snode.pairs():
            if not body.is_map:
                ctx.error(
                    body,
                    f"scenario '{sid}' must be a mapping (description, given, do, ...), found {body.describe()}",
                )
                continue
            check_keys(body, SCENARIO_KEYS, ctx, f"scenario '{sid}'")
            raw[sid] = (knode, body)
    if model is None:
        raise SpecError(sorted(ctx.diagnostics, key=lambda d: (d.path != ctx.path, d.line, d.col)))
    from riskchain.scales import SCALES

    ctx.scale = SCALES[model.scale]  # 'set' values use the model's words
    own = {sid: _own(sid, knode, body, model, ctx) for sid, (knode, body) in raw.items()}
    scenarios = _resolve(own, raw, model, ctx)
    targets = _targets(root.get("targets"), model, ctx)
    baseline = next(iter(raw), "")
    bnode = root.get("baseline")
    if bnode is not None:
        value = text_field(bnode, ctx, "baseline")
        if value is not None and value not in raw:
            ctx.error(
                bnode,
                f"baseline '{value}' is not a scenario of this file",
                ctx.suggest(value, raw) or f"the scenarios are: {listing(raw)}",
            )
        elif value is not None:
            baseline = value
    if ctx.diagnostics:
        raise SpecError(sorted(ctx.diagnostics, key=lambda d: (d.path != ctx.path, d.line, d.col)))
    note = ctx.sum_warning()  # numbers of 'set:' renormalized
    if note is not None:
        warn(note)
    return ScenarioFile(
        doc.path,
        model_path,
        model,
        title,
        description,
        targets,
        baseline,
        scenarios,
        model_file is not None,
        named,
    )


def _flag_model(path: Path, max_table: float, ctx: Context) -> ModelSpec | None:
    """The model ``--model`` names; its problems join ``ctx`` (each located in it).

    Raises
    ------
    UsageError
        When it cannot be read, or is a scenario file.
    """
    from riskchain.io.files import file_problem
    from riskchain.spec.model import build_model

    problem = file_problem(path)
    if problem is not None:
        raise UsageError(f"--model: {path}: {problem}")
    doc = load_yaml(path, str(path))
    if is_scenario_document(doc):
        raise UsageError(
            f"--model: {path} is a scenario file; --model names the model file to use"
        )
    try:
        spec = build_model(doc, default_id=path.stem, max_table=max_table)
    except SpecError as exc:
        ctx.diagnostics.extend(exc.diagnostics)
        return None
    spec.issue_warnings()
    return spec


def _targets(tnode: YNode | None, model: ModelSpec, ctx: Context) -> tuple[str, ...]:
    if tnode is None:
        return tuple(model.targets) or tuple(model.nodes)
    if tnode.is_seq and not tnode.items:
        ctx.error(tnode, "'targets' is empty", "leave it out to use the model's targets")
    out: dict[str, None] = {}
    for name, item in _name_list(tnode, ctx, "targets") or []:
        if name not in model.nodes:
            ctx.error(
                item,
                f"unknown target '{shorten(name)}': the model has no such node",
                ctx.suggest(name, model.nodes),
            )
        else:
            out[name] = None
    return tuple(out)


@dataclass
class _Own:
    """What one scenario writes itself, before inheritance."""

    description: str | None = None
    extends: tuple[str, YNode] | None = None
    given: dict[str, str] = field(default_factory=dict)
    do: dict[str, str] = field(default_factory=dict)
    likelihood: dict[str, dict[str, float]] = field(default_factory=dict)
    sets: dict[str, SetSpec] = field(default_factory=dict)
    # the parametric settings' YAML (its key, its value), parsed once the table they
    # change is known (the model's, with the settings of the scenarios extended)
    forms: dict[str, tuple[YNode, YNode]] = field(default_factory=dict)


def _own(sid: str, knode: YNode, body: YNode, model: ModelSpec, ctx: Context) -> _Own:
    own = _Own(description=text_field(body.get("description"), ctx, "description"))
    enode = body.get("extends")
    if enode is not None:
        value = text_field(enode, ctx, "extends")
        if value is not None:
            own.extends = (value, enode)
    for key in ("given", "do"):
        node = body.get(key)
        if node is None or not _expect_map(node, ctx, f"'{key}' of scenario '{sid}'"):
            continue
        target = own.given if key == "given" else own.do
        for name, nknode, vnode in node.pairs():
            spec = _node(name, nknode, model, ctx, f"'{key}' of scenario '{sid}'")
            if spec is None:
                continue
            if not vnode.is_scalar or vnode.is_null():
                ctx.error(
                    vnode,
                    f"'{key}' of scenario '{sid}': give one state of '{name}' ({listing(spec.states)}), "
                    f"found {vnode.describe()}",
                )
                continue
            if vnode.text not in ctx.members(spec.states):
                hint = (
                    ctx.suggest(vnode.text, spec.states)
                    or f"the states of '{name}' are: {listing(spec.states)}"
                )
                ctx.error(
                    vnode,
                    f"'{name}' has no state '{shorten(vnode.text)}' ('{key}' of scenario '{sid}')",
                    hint,
                )
                continue
            target[name] = vnode.text
    for name in set(own.given) & set(own.do):
        node = body.get("do").keynode(name)  # type: ignore[union-attr]
        ctx.error(
            node,
            f"scenario '{sid}' both observes and forces '{name}'",
            "observe it (given: what was seen) or force it (do: what is made to happen), not both",
        )
    lnode = body.get("likelihood")
    if lnode is not None and _expect_map(lnode, ctx, f"'likelihood' of scenario '{sid}'"):
        for name, nknode, vnode in lnode.pairs():
            spec = _node(name, nknode, model, ctx, f"'likelihood' of scenario '{sid}'")
            if spec is None:
                continue
            lik = _likelihood(name, vnode, spec, ctx, sid)
            if lik is None:
                continue
            if name in own.given or name in own.do:
                how = "observes" if name in own.given else "forces"
                ctx.error(
                    nknode,
                    f"scenario '{sid}' {how} '{name}' and also gives it a likelihood",
                    "a likelihood is soft evidence about a node that is neither observed nor forced",
                )
                continue
            own.likelihood[name] = lik
    setnode = body.get("set")
    if setnode is not None and _expect_map(setnode, ctx, f"'set' of scenario '{sid}'"):
        for name, nknode, vnode in setnode.pairs():
            spec = _node(name, nknode, model, ctx, f"'set' of scenario '{sid}'")
            if spec is None:
                continue
            s = _set(sid, name, vnode, spec, model, ctx)
            if s is not None:
                own.sets[name] = s
                if s.form is not None:
                    own.forms[name] = (vnode.keynode(s.form), vnode.get(s.form))
    return own


def _node(name: str, knode: YNode, model: ModelSpec, ctx: Context, where: str) -> NodeSpec | None:
    if name not in model.nodes:
        ctx.error(
            knode,
            f"unknown node '{shorten(name)}' in {where}: the model has no such node",
            ctx.suggest(name, model.nodes),
        )
        return None
    return model.nodes[name]


def _likelihood(
    name: str, vnode: YNode, spec: NodeSpec, ctx: Context, sid: str
) -> dict[str, float] | None:
    owner = f"likelihood of '{name}' in scenario '{sid}'"
    if not vnode.is_map:
        ctx.error(
            vnode,
            f"{owner} must be a mapping {{state: likelihood}}, found {vnode.describe()}",
            "e.g. {yes: 0.8, no: 0.2}"
            if set(spec.states) == {"yes", "no"}
            else f"give a weight for each state: {listing(spec.states)}",
        )
        return None
    out: dict[str, float] = {}
    known = ctx.members(spec.states)
    for state, sknode, wnode in vnode.pairs():
        if state not in known:
            ctx.error(
                sknode,
                f"{owner}: '{name}' has no state '{shorten(state)}'",
                ctx.suggest(state, spec.states),
            )
            return None
        value = wnode.number()
        if value is None or not np.isfinite(value) or value < 0:
            ctx.error(wnode, f"{owner}: the likelihood of '{state}' must be a nonnegative number")
            return None
        out[state] = value
    missing = [s for s in spec.states if s not in out]
    if missing:
        ctx.error(
            vnode,
            f"{owner} gives no value for {listing(missing)}",
            "give a likelihood for every state",
        )
        return None
    if not any(v > 0 for v in out.values()):
        ctx.error(vnode, f"{owner} is zero for every state, which rules out everything")
        return None
    return {s: out[s] for s in spec.states}


def _set(
    sid: str, name: str, vnode: YNode, spec: NodeSpec, model: ModelSpec, ctx: Context
) -> SetSpec | None:
    where = f"'set' of '{name}' in scenario '{sid}'"
    example = f"e.g. {name}: {{p: likely}}, or 'cpt:' with the rows to replace"
    if not vnode.is_map:
        written = vnode.is_scalar and not vnode.is_null()
        ctx.error(
            vnode,
            f"{where} must be a mapping with 'p' or 'cpt', in model-file syntax, found {vnode.describe()}",
            f"write {name}: {{p: {vnode.text}}}" if written else example,
        )
        return None
    first = len(ctx.diagnostics)
    check_keys(vnode, SET_KEYS, ctx, where)
    kind = spec.table.kind
    forms = [k for k in ("p", "cpt", *PARAMETRIC_KEYS) if vnode.get(k) is not None]
    if not forms:
        if len(ctx.diagnostics) == first:  # else a misspelt 'p' or 'cpt' is reported already
            if kind in PARAMETRIC_KEYS:
                ctx.error(vnode, f"{where} gives none of 'p', 'cpt' and '{kind}'", example)
            else:
                ctx.error(vnode, f"{where} gives neither 'p' nor 'cpt'", example)
        return None
    prov = provenance(vnode, ctx, model.sources, where)
    parametric = [k for k in forms if k in PARAMETRIC_KEYS]
    if parametric:
        return _set_form(sid, name, vnode, forms, parametric[0], kind, prov, where, ctx)
    pnode, cnode = vnode.get("p"), vnode.get("cpt")
    p = parse_dist(pnode, spec.states, ctx, f"p of {where}") if pnode is not None else None
    if pnode is not None and p is None:
        return None
    rows: list[Row] = []
    default: Row | None = None
    if cnode is not None:
        if not spec.parents:
            ctx.error(
                vnode.keynode("cpt"),
                f"{where}: '{name}' has no parents, so it takes 'p:', not 'cpt:'",
                "give its probability with p: (e.g. p: likely)",
            )
            return None
        if not _expect_map(cnode, ctx, f"cpt of {where}"):
            return None
        parent_states = {q: model.nodes[q].states for q in spec.parents}
        for key, knode, value in cnode.pairs():
            dist = parse_dist(value, spec.states, ctx, f"row '{key}' of {where}")
            if key == "default":
                if dist is not None:
                    default = Row(key, {}, dist, Provenance(), True, knode.line, knode.col)
                continue
            when = parse_row_key(
                knode,
                name,
                spec.parents,
                parent_states,
                model.nodes,
                ctx,
                fix_parents="a scenario changes numbers, not parents",
            )
            if when is None or dist is None:
                continue
            rows.append(Row(key, when, dist, Provenance(), False, knode.line, knode.col))
        # overlapping rows only: combinations not named keep the model's numbers, so any
        # default (here the first row) turns the check for missing rows off
        if rows and not check_coverage(
            name, CptTable(tuple(rows), default or rows[0]), spec.parents, parent_states, ctx
        ):
            return None
    if p is not None and default is not None:
        ctx.error(
            cnode.keynode("default") if cnode is not None else vnode,
            f"{where} gives both 'p' and a 'default' row; the default would silently replace p",
            "keep one: p for every row, or default for the rows not listed",
        )
        return None
    return SetSpec(name, p, tuple(rows), default, prov, sid, vnode.line, vnode.col)


def _set_form(
    sid: str,
    name: str,
    vnode: YNode,
    forms: list[str],
    key: str,
    kind: str,
    prov: Provenance,
    where: str,
    ctx: Context,
) -> SetSpec | None:
    """A parametric setting, checked for its place (its numbers are read in :func:`_resolve`)."""
    if len(forms) > 1:
        # in file order, so that the error points at the second one written
        first, second = sorted(forms, key=lambda k: (vnode.keynode(k).line, vnode.keynode(k).col))[:2]
        ctx.error(
            vnode.keynode(second),
            f"{where} gives both '{first}' and '{second}'; give the numbers one way",
            f"keep one of {', '.join(forms)}",
        )
        return None
    if key != kind:
        how = f"p, cpt or {kind}" if kind in PARAMETRIC_KEYS else "p or cpt"
        ctx.error(
            vnode.keynode(key),
            f"{where}: the model writes '{name}' with '{kind}', so a scenario sets its numbers "
            f"with {how}, not '{key}'",
            "a scenario changes numbers, not the form of a table",
        )
        return None
    return SetSpec(
        name, provenance=prov, scenario=sid, line=vnode.line, col=vnode.col, form=key,
        as_written=_plain(vnode.get(key)),  # type: ignore[arg-type]
    )  # fmt: skip


def _plain(node: YNode) -> Any:
    """A YAML node as JSON data, every scalar as the text written (for ``written()``)."""
    if node.is_map:
        return {k: _plain(v) for k, _, v in node.pairs()}
    if node.is_seq:
        return [_plain(item) for item in node.items]
    return None if node.is_null() else node.text


def _resolve(
    own: dict[str, _Own], raw: dict[str, tuple[YNode, YNode]], model: ModelSpec, ctx: Context
) -> dict[str, Scenario]:
    out: dict[str, Scenario] = {}
    order = {sid: i for i, sid in enumerate(own)}
    too_long: list[str] = []  # the first scenario whose chain was refused

    def chain_of(sid: str) -> list[str] | None:
        chain = [sid]
        seen = {sid}
        while True:
            ext = own[chain[-1]].extends
            if ext is None:
                return chain
            parent, enode = ext
            if len(chain) > MAX_EXTENDS and parent not in seen:
                if not too_long:
                    too_long.append(sid)
                    ctx.error(
                        own[sid].extends[1],  # type: ignore[index]
                        f"scenario '{sid}' extends a chain of more than {MAX_EXTENDS} scenarios",
                        "let later scenarios extend a shared earlier one rather than each the one before",
                    )
                return None
            if parent not in own:
                if chain[-1] == sid:
                    ctx.error(
                        enode,
                        f"scenario '{sid}' extends '{parent}', which is not a scenario of this file",
                        ctx.suggest(parent, own) or f"the scenarios are: {listing(own)}",
                    )
                return None
            if parent in seen:
                cycle = chain[chain.index(parent) :]
                # reported once, at the 'extends' of the cycle's first scenario in the file
                if parent == sid and sid == min(cycle, key=order.__getitem__):
                    ctx.error(
                        own[sid].extends[1],  # type: ignore[index]
                        "scenarios extend each other in a cycle: " + " -> ".join([*cycle, sid]),
                        "remove one 'extends'",
                    )
                return None
            chain.append(parent)
            seen.add(parent)

    settled: dict[tuple[str, str], SetSpec | None] = {}

    def settle(step: str, name: str, base: Table) -> SetSpec | None:
        """Scenario ``step``'s parametric setting of ``name`` read over ``base`` (the
        node's table after the settings before it, which are the same wherever ``step``
        is extended); None when it has errors (reported once)."""
        if (step, name) not in settled:
            s = own[step].sets[name]
            knode, vnode = own[step].forms[name]
            node = model.nodes[name]
            table = parse_parametric(
                s.form,  # type: ignore[arg-type]
                vnode,
                name,
                node.states,
                node.parents,
                {p: model.nodes[p].states for p in node.parents},
                ctx,
                lambda n, where: provenance(n, ctx, model.sources, where),
                knode,
                base,
            )
            settled[step, name] = dataclasses.replace(s, table=table) if table else None
        return settled[step, name]

    for sid in own:
        chain = chain_of(sid)
        if chain is None:
            continue
        given: dict[str, str] = {}
        do: dict[str, str] = {}
        lik: dict[str, dict[str, float]] = {}
        sets: dict[str, list[SetSpec]] = {}
        tables: dict[str, Table] = {}  # each node's parametric table so far
        for step in reversed(chain):  # the farthest ancestor first, this scenario last
            o = own[step]
            for name in [*o.given, *o.do, *o.likelihood]:
                given.pop(name, None)
                do.pop(name, None)
                lik.pop(name, None)
            given.update(o.given)
            do.update(o.do)
            lik.update(o.likelihood)
            for name, s in o.sets.items():
                if s.form is not None:
                    found = settle(step, name, tables.get(name, model.nodes[name].table))
                    if found is None:
                        continue
                    tables[name] = found.table  # type: ignore[assignment]
                    s = found
                sets.setdefault(name, []).append(s)
        description = own[sid].description  # not inherited: it would mislabel the column
        knode = raw[sid][0]
        out[sid] = Scenario(sid, description, given, do, lik, sets, chain, knode.line, knode.col)
    for sid, o in own.items():  # in scenarios whose chain is broken: read over the model's
        for name in o.forms:
            if (sid, name) not in settled:
                settle(sid, name, model.nodes[name].table)
    return out


def scenario_for_cli(sf: ScenarioFile, sid: str) -> Scenario:
    """The scenario ``sid``; raises :class:`UsageError` naming the choices if unknown."""
    if sid not in sf.scenarios:
        hint = suggest(sid, sf.scenarios)
        raise UsageError(
            f"--scenario: no scenario '{sid}' in {sf.path} (scenarios: {', '.join(sf.scenarios)})"
            + (f"; {hint}" if hint else "")
        )
    return sf.scenarios[sid]
