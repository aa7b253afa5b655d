"""Model files (format 1): YAML -> a validated :class:`ModelSpec`.

Validation reports every problem it can find in one pass, each with its line
and column; it stops only where a later check would merely repeat an earlier
error (a node with bad states has its rows skipped, and so on).
"""

from __future__ import annotations

import math
import re
from collections import deque
from dataclasses import dataclass, field, replace
from pathlib import Path

from riskchain.compile import BUILD_COPIES, TableSize
from riskchain.engine.plan import DEFAULT_MAX_TABLE
from riskchain.errors import Diagnostic, SpecError, format_bytes, listing, shorten, warn
from riskchain.spec.impact import Impact, parse_node_impact
from riskchain.spec.kinds import MODEL, require_kind
from riskchain.spec.parametric import PARAMETRIC_KEYS, parse_parametric
from riskchain.spec.probability import FLOW_HINT, Context
from riskchain.spec.tables import (
    CONFIDENCE_LEVELS,
    CptTable,
    Provenance,
    RootTable,
    Row,
    Table,
    check_coverage,
    parse_dist,
    parse_row_key,
)
from riskchain.spec.yamlsrc import BLOCK_SCALAR_HINT, Document, YNode, load_yaml, parse_yaml

FORMAT_VERSION = 1
DEFAULT_STATES = ("no", "yes")

MODEL_KEYS = (
    "riskchain",
    "id",
    "title",
    "horizon",
    "description",
    "scale",
    "strength",
    "sources",
    "targets",
    "nodes",
)
NODE_KEYS = (
    "label",
    "description",
    "states",
    "parents",
    "p",
    "cpt",
    "note",
    "source",
    "sources",
    "confidence",
    "impact",
    "adverse",
    "strength",
    *PARAMETRIC_KEYS,
)
SOURCE_KEYS = ("title", "date", "url", "publisher", "note")
ROW_KEYS = ("p", "note", "source", "sources", "confidence")

_NODE_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
_MODEL_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
_BAD_STATE_CHARS = (",", "|")


@dataclass(frozen=True)
class SourceSpec:
    """A cited source: an id used by nodes and rows, a title, and free details."""

    id: str
    title: str
    date: str | None = None
    url: str | None = None
    publisher: str | None = None
    note: str | None = None

    def to_json(self) -> dict:
        out = {"id": self.id, "title": self.title}
        for key in ("date", "url", "publisher", "note"):
            value = getattr(self, key)
            if value:
                out[key] = value
        return out


@dataclass(frozen=True)
class NodeSpec:
    """One node of a model: its states, parents, table and provenance."""

    id: str
    label: str
    states: tuple[str, ...]
    parents: tuple[str, ...]
    table: Table
    provenance: Provenance = field(default_factory=Provenance)
    description: str | None = None
    line: int = 0
    col: int = 0
    adverse: tuple[str, ...] = ()
    impact: dict[str, Impact] = field(default_factory=dict)
    # pseudo-count of a Dirichlet around the node's exact numbers, for uncertainty analysis
    strength: float | None = None

    def outcome_states(self) -> tuple[str, ...]:
        """The states a risk table reports: ``adverse`` if given; for a binary node
        the one :func:`riskchain.report.query.reported_state` names (``yes``, ``TRUE``,
        ``present``, ..., else its second state); for a graded node every state."""
        if self.adverse:
            return self.adverse
        if len(self.states) == 2:
            # one rule for every command (imported here: it lives with the renderers)
            from riskchain.report.query import reported_state

            return (reported_state(self.states) or self.states[1],)
        return self.states

    def impact_of(self, state: str) -> Impact | None:
        """The impact of this node being in ``state`` (a single impact applies to
        every reported state)."""
        if state in self.impact:
            return self.impact[state]
        return self.impact.get("*") if state in self.outcome_states() else None


@dataclass(frozen=True)
class ModelSpec:
    """A validated model file."""

    path: str
    id: str
    title: str
    horizon: str | None
    description: str | None
    sources: dict[str, SourceSpec]
    targets: tuple[str, ...]
    nodes: dict[str, NodeSpec] = field(default_factory=dict)
    scale: str = "icd203"  # the scale whose words the file's probabilities use
    strength: float | None = None  # default pseudo-count for every node's exact numbers
    # what was accepted but changed (renormalized sums): issued by whoever loads the file
    warnings: tuple[Diagnostic, ...] = ()

    def issue_warnings(self) -> None:
        """Issue :attr:`warnings` as :class:`~riskchain.errors.RiskchainWarning`."""
        for diagnostic in self.warnings:
            warn(diagnostic)


def load_model_spec(
    path: str | Path, display: str | None = None, max_table: float = DEFAULT_MAX_TABLE
) -> ModelSpec:
    """Read and validate a model file.

    ``max_table`` is the memory budget, in bytes, for the tables the model
    expands to (see :func:`build_model`).

    Raises
    ------
    SpecError
        With every problem found, each located by line and column.
    """
    name = display if display is not None else str(path)
    spec = build_model(load_yaml(path, name), default_id=Path(path).stem, max_table=max_table)
    spec.issue_warnings()
    return spec


def parse_model_text(
    text: str, name: str = "<model>", default_id: str = "model", max_table: float = DEFAULT_MAX_TABLE
) -> ModelSpec:
    """Validate model YAML given as text (see :func:`load_model_spec`)."""
    return build_model(parse_yaml(text, name), default_id=default_id, max_table=max_table)


def build_model(
    doc: Document, default_id: str = "model", max_table: float = DEFAULT_MAX_TABLE
) -> ModelSpec:
    """Validate a parsed document as a model file.

    Each node's table is sized from its parents' state counts before anything is
    built: a table whose expansion needs more than ``max_table`` bytes (about
    :data:`~riskchain.compile.BUILD_COPIES` times the table), or that takes the
    model's tables together above it, is refused at the node's ``parents:``.
    """
    require_kind(doc, MODEL)  # a scenario file here: one message, not its unknown keys
    ctx = Context(doc.path, list(doc.diagnostics))
    spec = _Builder(ctx, doc.root, default_id, max_table).build()
    if ctx.diagnostics or spec is None:
        raise SpecError(sorted(ctx.diagnostics, key=lambda d: (d.line, d.col)))
    note = ctx.sum_warning()
    return replace(spec, warnings=(note,)) if note else spec


# ----------------------------------------------------------------------------- helpers


def check_keys(node: YNode, allowed: tuple[str, ...], ctx: Context, where: str) -> None:
    """Report keys of a mapping that are not in ``allowed``."""
    for key, knode, value in node.pairs():
        if key not in allowed:
            if knode.flow and value.is_null():
                hint = FLOW_HINT  # the tail of a value cut at a comma, e.g. {p: beta(3, 7)}
            else:
                hint = ctx.suggest(key, allowed) or f"allowed keys: {listing(allowed)}"
            ctx.error(knode, f"unknown key '{shorten(key)}' in {where}", hint)


_BAD = -1.0  # a strength that was written but could not be read (already reported)


def strength_field(node: YNode | None, ctx: Context, what: str) -> float | None:
    """A Dirichlet pseudo-count: a positive number. None when absent, ``_BAD`` when wrong."""
    if node is None:
        return None
    value = node.number() if node.is_scalar else None
    if value is None or not math.isfinite(value) or value <= 0:
        found = node.text if value is not None else node.describe()
        ctx.error(
            node,
            f"{what} must be a positive number, found {found}",
            "the strength is a pseudo-count: how many cases the numbers are worth (e.g. 20)",
        )
        return _BAD
    return float(value)


def text_field(
    node: YNode | None, ctx: Context, what: str, required: bool = False, parent: YNode | None = None
) -> str | None:
    """A scalar written as text (numbers and dates are taken as written)."""
    if node is None:
        if required:
            ctx.error(parent, f"missing '{what}'")
        return None
    if not node.is_scalar or node.scalar_type() == "null":
        ctx.error(node, f"'{what}' must be text, found {node.describe()}")
        return None
    return node.text


def _expect_map(node: YNode, ctx: Context, what: str) -> bool:
    if not node.is_map:
        ctx.error(node, f"{what} must be a mapping, found {node.describe()}")
        return False
    return True


def _name_list(node: YNode, ctx: Context, what: str) -> list[tuple[str, YNode]] | None:
    """A list of names (a single name is accepted as a one-item list)."""
    if node.is_scalar and node.scalar_type() != "null":
        return [(node.text, node)]
    if not node.is_seq:
        ctx.error(node, f"'{what}' must be a list of names, found {node.describe()}")
        return None
    out = []
    for item in node.items:
        if not item.is_scalar or item.scalar_type() == "null":
            ctx.error(item, f"'{what}' must list names, found {item.describe()}")
            return None
        out.append((item.text, item))
    return out


def topological_order(parents: dict[str, tuple[str, ...]]) -> tuple[list[str], list[str] | None]:
    """Kahn's algorithm in file order; returns ``(order, cycle)`` where ``cycle`` is
    a list ``[a, b, ..., a]`` when the graph has one."""
    children: dict[str, list[str]] = {n: [] for n in parents}
    indeg = {n: 0 for n in parents}
    for n, ps in parents.items():
        for p in ps:
            if p in children:
                children[p].append(n)
                indeg[n] += 1
    ready = deque(n for n in parents if indeg[n] == 0)
    order: list[str] = []
    while ready:
        n = ready.popleft()
        order.append(n)
        for c in children[n]:
            indeg[c] -= 1
            if indeg[c] == 0:
                ready.append(c)
    if len(order) == len(parents):
        return order, None
    # Walk parent links inside the remaining subgraph until a node repeats.
    done = set(order)
    rest = {n for n in parents if n not in done}
    start = next(n for n in parents if n in rest)
    seen: dict[str, int] = {}  # node -> its place on the walk
    n = start
    while n not in seen:
        seen[n] = len(seen)
        n = next(p for p in parents[n] if p in rest)
    cycle = [*list(seen)[seen[n] :], n]
    cycle.reverse()  # parent -> child direction
    return order, cycle


def _colon_hint(body: YNode) -> str | None:
    """``p 30%`` written under a node: a key whose ':' is missing."""
    if not body.plain:
        return None
    key, _, rest = body.text.partition(" ")
    if key not in NODE_KEYS or not rest.strip():
        return None
    return f"a key is followed by ':'; did you mean '{key}: {shorten(rest.strip(), 40)}'?"


def closing_edge(
    parents: dict[str, tuple[str, ...]],
) -> tuple[str, str, list[str]] | None:
    """The edge that closes the first loop when the edges are added in file order
    (nodes in file order, each node's parents in the order written), with that loop.

    Returns ``(parent, child, loop)`` where ``loop`` is ``[child, ..., parent, child]``
    along the arrows, ending with the closing edge; None when the graph has no loop.
    Whether a prefix of the edges has a loop only changes once, so the prefix is
    found by bisection: O((V + E) log E).
    """
    edges = [(p, n) for n, ps in parents.items() for p in ps if p in parents]

    def has_loop(k: int) -> bool:
        order, _ = topological_order(_graph(parents, edges[:k]))
        return len(order) < len(parents)

    if not has_loop(len(edges)):
        return None
    lo, hi = 0, len(edges)  # edges[:lo] have no loop, edges[:hi] have one
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if has_loop(mid) else (mid, hi)
    parent, child = edges[hi - 1]
    # the shortest path child -> ... -> parent along the earlier edges
    children: dict[str, list[str]] = {}
    for p, c in edges[: hi - 1]:
        children.setdefault(p, []).append(c)
    came: dict[str, str | None] = {child: None}
    queue = deque([child])
    while queue and parent not in came:
        v = queue.popleft()
        for c in children.get(v, ()):
            if c not in came:
                came[c] = v
                queue.append(c)
    path: list[str] = []
    v: str | None = parent
    while v is not None:
        path.append(v)
        v = came[v]
    return parent, child, [*reversed(path), child]


def _graph(nodes, edges: list[tuple[str, str]]) -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {n: [] for n in nodes}
    for p, c in edges:
        out[c].append(p)
    return {n: tuple(ps) for n, ps in out.items()}


def _raise_budget(need: float) -> str:
    """The end of a hint: the ``--max-table`` that would let ``need`` bytes through
    (a power of two), when that is a size a machine might have."""
    if need > 1 << 40:
        return ""
    size = 1 << max(20, math.ceil(math.log2(need)))
    text = f"{size >> 30}GiB" if size >= 1 << 30 else f"{size >> 20}MiB"
    return f"; if the machine has the memory, raise the budget with --max-table {text}"


def _cards_text(parent_states: list[tuple[str, ...]]) -> str:
    """``26 parents of 2 states`` or ``3 parents of 2 to 5 states``."""
    cards = [len(s) for s in parent_states]
    n = f"{len(cards)} parent{'s' if len(cards) != 1 else ''}"
    lo, hi = min(cards), max(cards)
    return f"{n} of {lo} states" if lo == hi else f"{n} of {lo} to {hi} states"


def provenance(node: YNode, ctx: Context, sources: dict[str, SourceSpec], where: str) -> Provenance:
    """``note``, ``source``/``sources`` and ``confidence`` of a node or row."""
    note = text_field(node.get("note"), ctx, "note")
    refs: dict[str, None] = {}  # ordered, without repeats
    for key in ("source", "sources"):
        value = node.get(key)
        if value is None:
            continue
        names = _name_list(value, ctx, key)
        for name, item in names or []:
            if name not in sources:
                hint = ctx.suggest(name, sources) or (
                    "declare it under 'sources:' at the top of the model"
                    if not sources
                    else f"declared sources: {listing(sources)}"
                )
                ctx.error(item, f"unknown source '{shorten(name)}' in {where}", hint)
            else:
                refs[name] = None
    confidence = None
    cnode = node.get("confidence")
    if cnode is not None:
        value = text_field(cnode, ctx, "confidence")
        if value is not None:
            if value.lower() in CONFIDENCE_LEVELS:
                confidence = value.lower()
            else:
                ctx.error(
                    cnode,
                    f"confidence must be low, moderate or high, not '{shorten(value)}'",
                    "confidence says how well founded a judgment is; the probability itself goes in p or cpt",
                )
    return Provenance(note, tuple(refs), confidence)


# ----------------------------------------------------------------------------- builder


class _Builder:
    def __init__(
        self, ctx: Context, root: YNode, default_id: str, max_table: float = DEFAULT_MAX_TABLE
    ):
        self.ctx = ctx
        self.root = root
        self.default_id = default_id
        self.max_table = max_table
        self.table_bytes = 0.0  # of the tables sized so far
        self.over_total = False  # the tables together were reported above the budget
        self.sources: dict[str, SourceSpec] = {}
        self.bad_parents: set[str] = set()  # nodes whose 'parents' could not be read

    def build(self) -> ModelSpec | None:
        ctx, root = self.ctx, self.root
        check_keys(root, MODEL_KEYS, ctx, "the model")
        self._version()
        model_id = self.default_id
        idnode = root.get("id")
        if idnode is not None:
            value = text_field(idnode, ctx, "id")
            if value is not None:
                if _MODEL_ID.match(value):
                    model_id = value
                else:
                    ctx.error(
                        idnode,
                        f"model id '{shorten(value)}' may use only letters, digits, '_', '.' and '-'",
                    )
        title = text_field(root.get("title"), ctx, "title") or model_id
        horizon = text_field(root.get("horizon"), ctx, "horizon")
        description = text_field(root.get("description"), ctx, "description")
        scale_node = root.get("scale")
        if scale_node is not None:
            from riskchain.scales import SCALES

            name = text_field(scale_node, ctx, "scale")
            if name is not None and name.lower() in SCALES:
                ctx.scale = SCALES[name.lower()]
            elif name is not None:
                ctx.error(
                    scale_node,
                    f"unknown scale '{shorten(name)}'",
                    ctx.suggest(name, SCALES) or f"scales: {', '.join(SCALES)}",
                )
        strength = strength_field(root.get("strength"), ctx, "the model's strength")
        snode = root.get("sources")
        if snode is not None:
            self._sources(snode)
        nnode = root.get("nodes")
        if nnode is None:
            ctx.error(root, "missing 'nodes'", "a model lists its nodes under 'nodes:'")
            return None
        if not _expect_map(nnode, ctx, "'nodes'"):
            return None
        if not nnode.items:
            ctx.error(nnode, "'nodes' is empty; a model needs at least one node")
            return None
        nodes = self._nodes(nnode)
        # checked against every node written, so a bad node does not hide a misspelt target
        targets = self._targets(root.get("targets"), [k for k, _, _ in nnode.pairs()])
        if nodes is None:
            return None
        return ModelSpec(
            path=ctx.path,
            id=model_id,
            title=title,
            horizon=horizon,
            description=description,
            sources=self.sources,
            targets=targets,
            nodes=nodes,
            scale=ctx.scale.name,
            strength=strength if strength is not _BAD else None,
        )

    def _version(self) -> None:
        ctx, root = self.ctx, self.root
        vnode = root.get("riskchain")
        if vnode is None:
            ctx.error_at(
                1,
                1,
                "missing 'riskchain: 1' (the format version)",
                "add 'riskchain: 1' as the first line",
            )
            return
        kind = vnode.scalar_type()
        if kind == "int" and vnode.number() == FORMAT_VERSION:
            return
        if kind == "int":
            msg = f"unsupported format version '{vnode.text}'; this riskchain reads version {FORMAT_VERSION}"
        elif vnode.is_scalar and vnode.style:
            q = vnode.style if vnode.style in ("'", '"') else "'"
            msg = f"the format version must be a plain whole number, not the quoted text {q}{vnode.text}{q}"
        else:
            found = vnode.text if kind == "float" else vnode.describe()
            msg = f"the format version must be a whole number, found {found}"
        ctx.error(vnode, msg, "write 'riskchain: 1'")

    def _sources(self, snode: YNode) -> None:
        ctx = self.ctx
        if not _expect_map(snode, ctx, "'sources'"):
            return
        for sid, knode, value in snode.pairs():
            if value.is_scalar and value.scalar_type() != "null":
                self.sources[sid] = SourceSpec(sid, value.text)
                continue
            if not value.is_map:
                ctx.error(
                    value,
                    f"source '{sid}' must be a title or a mapping with 'title', found {value.describe()}",
                )
                continue
            check_keys(value, SOURCE_KEYS, ctx, f"source '{sid}'")
            title = text_field(value.get("title"), ctx, "title", required=True, parent=knode)
            details = {
                k: text_field(value.get(k), ctx, k) for k in ("date", "url", "publisher", "note")
            }
            self.sources[sid] = SourceSpec(sid, title or sid, **details)

    def _targets(self, tnode: YNode | None, nodes: list[str]) -> tuple[str, ...]:
        if tnode is None:
            return ()
        names = _name_list(tnode, self.ctx, "targets")
        known = set(nodes)
        out: dict[str, None] = {}
        for name, item in names or []:
            if name not in known:
                self.ctx.error(
                    item, f"unknown target '{shorten(name)}'", self.ctx.suggest(name, nodes)
                )
            else:
                out[name] = None
        return tuple(out)

    def _nodes(self, nnode: YNode) -> dict[str, NodeSpec] | None:
        ctx = self.ctx
        ids = [k for k, _, _ in nnode.pairs()]
        known = set(ids)
        raw: dict[str, tuple[YNode, YNode]] = {}
        states: dict[str, tuple[str, ...]] = {}
        parents: dict[str, tuple[str, ...]] = {}
        good = True
        for nid, knode, body in nnode.pairs():
            if not _NODE_ID.match(nid):
                ctx.error(
                    knode,
                    f"node id '{shorten(nid)}' may use only letters, digits, '_', '.' and '-', and must not start with a digit",
                )
                good = False
                continue
            if not body.is_map:
                ctx.error(
                    body,
                    f"node '{nid}' must be a mapping (label, states, parents, p or cpt), found {body.describe()}",
                    _colon_hint(body),
                )
                good = False
                continue
            check_keys(body, NODE_KEYS, ctx, f"node '{nid}'")
            raw[nid] = (knode, body)
            st = self._states(nid, body)
            if st is None:
                good = False
            else:
                states[nid] = st
            parents[nid] = self._parents(nid, body, ids, known)
        # Cycles (only among edges that exist).
        graph = {n: parents[n] for n in raw}
        _order, cycle = topological_order(graph)
        if cycle is not None:
            # name the edge that closed the loop, not an older one that may be right
            parent, child, cycle = closing_edge(graph)  # type: ignore[misc]
            pnode = raw[child][1].get("parents")
            item = next((x for x in pnode.items if x.text == parent), pnode) if pnode else None
            ctx.error(
                item or raw[child][0],
                "the graph has a cycle: " + " -> ".join(cycle) + f"; the edge {parent} -> "
                f"{child} ('{parent}' among the parents of '{child}') closes it, as the "
                "last of its edges in the file",
                f"a Bayesian network cannot loop; remove '{parent}' from the parents of "
                f"'{child}', or remove or turn round another edge of the loop",
            )
            good = False
        nodes: dict[str, NodeSpec] = {}
        for nid, (knode, body) in raw.items():
            if nid not in states:
                continue
            ps = parents[nid]
            if nid in self.bad_parents or any(p not in states for p in ps):
                continue  # bad or unknown parent, or a parent with bad states: already reported
            if not self._sized(nid, body, states[nid], [states[p] for p in ps]):
                good = False
                continue
            table = self._table(nid, body, states[nid], ps, {p: states[p] for p in ps}, known)
            prov = provenance(body, ctx, self.sources, f"node '{nid}'")
            # checked even when the table is bad, so one error does not hide another
            adverse = self._adverse(nid, body, states[nid])
            strength = strength_field(body.get("strength"), ctx, f"strength of node '{nid}'")
            inode = body.get("impact")
            impact = parse_node_impact(inode, states[nid], ctx, nid) if inode is not None else {}
            if impact and "*" in impact and len(states[nid]) > 2 and not adverse:
                ctx.error(
                    inode,
                    f"one impact for the graded node '{nid}' would apply to every state, good ones included",
                    "say which states it describes with adverse: [...], or give one per state: {state: level}",
                )
                impact = None
            if table is None or adverse is None or impact is None or strength is _BAD:
                good = False
                continue
            label = text_field(body.get("label"), ctx, "label") or nid
            description = text_field(body.get("description"), ctx, "description")
            nodes[nid] = NodeSpec(
                nid,
                label,
                states[nid],
                ps,
                table,
                prov,
                description,
                knode.line,
                knode.col,
                adverse,
                impact,
                strength if strength is not _BAD else None,
            )
        return nodes if good and len(nodes) == len(ids) else None

    def _sized(
        self, nid: str, body: YNode, states: tuple[str, ...], parent_states: list[tuple[str, ...]]
    ) -> bool:
        """Check the node's table against the budget before anything of it is built: alone
        (building it takes BUILD_COPIES times its size) and with the tables before it."""
        size = TableSize.of(len(states), (len(s) for s in parent_states))
        if not parent_states:
            self.table_bytes += size.bytes  # as long as the list of states written
            return True
        need = BUILD_COPIES * size.bytes
        together = self.table_bytes + need  # the tables kept so far, and this one being built
        where = body.keynode("parents") or body
        budget = format_bytes(self.max_table)
        hint = "split the parents with intermediate nodes, or give them fewer states"
        if need > self.max_table:
            self.ctx.error(
                where,
                f"the table of '{nid}' would have {size.entries_text()} entries "
                f"({_cards_text(parent_states)}, {len(states)} states of its own): building it "
                f"needs about {format_bytes(need)}, above the budget of {budget}; refused before "
                "building it",
                hint + _raise_budget(need),
            )
            return False
        self.table_bytes += size.bytes
        if together > self.max_table and not self.over_total:
            self.over_total = True  # said once: every later table would repeat it
            self.ctx.error(
                where,
                f"with the table of '{nid}' the model's tables need about "
                f"{format_bytes(together)} together, above the budget of {budget}; refused "
                "before building them",
                hint + _raise_budget(together),
            )
            return False
        return True

    def _adverse(self, nid: str, body: YNode, states: tuple[str, ...]) -> tuple[str, ...] | None:
        anode = body.get("adverse")
        if anode is None:
            return ()
        names = _name_list(anode, self.ctx, "adverse")
        if names is None:
            return None
        known = self.ctx.members(states)
        out: dict[str, None] = {}
        for name, item in names:
            if name not in known:
                hint = (
                    self.ctx.suggest(name, states)
                    or f"the states of '{nid}' are: {listing(states)}"
                )
                self.ctx.error(
                    item, f"'adverse' of '{nid}' names no state '{shorten(name)}'", hint
                )
                return None
            out[name] = None
        return tuple(out)

    def _states(self, nid: str, body: YNode) -> tuple[str, ...] | None:
        ctx = self.ctx
        snode = body.get("states")
        if snode is None:
            return DEFAULT_STATES
        if not snode.is_seq:
            ctx.error(
                snode,
                f"states of '{nid}' must be a list, found {snode.describe()}",
                "e.g. states: [low, elevated, severe]",
            )
            return None
        if len(snode.items) < 2:
            ctx.error(snode, f"node '{nid}' needs at least two states, found {len(snode.items)}")
            return None
        out: dict[str, None] = {}  # ordered, and fast to look up
        ok = True
        for item in snode.items:
            if not item.is_scalar or item.scalar_type() == "null":
                ctx.error(item, f"a state of '{nid}' must be a name, found {item.describe()}")
                ok = False
                continue
            name = item.text
            if not name.strip():
                ctx.error(
                    item,
                    f"node '{nid}' has an empty state name",
                    BLOCK_SCALAR_HINT if item.style in (">", "|") else None,
                )
                ok = False
            elif name != name.strip():
                ctx.error(item, f"state '{shorten(name)}' of '{nid}' starts or ends with spaces")
                ok = False
            elif name == "*" or any(c in name for c in _BAD_STATE_CHARS):
                ctx.error(
                    item,
                    f"state '{shorten(name)}' of '{nid}' cannot contain ',' or '|' or be '*'",
                    "these characters separate states in CPT row keys",
                )
                ok = False
            elif name in out:
                ctx.error(item, f"node '{nid}' lists state '{shorten(name)}' twice")
                ok = False
            else:
                out[name] = None
        return tuple(out) if ok else None

    def _parents(self, nid: str, body: YNode, ids: list[str], known: set[str]) -> tuple[str, ...]:
        ctx = self.ctx
        pnode = body.get("parents")
        if pnode is None:
            return ()
        names = _name_list(pnode, ctx, "parents")
        if names is None:
            self.bad_parents.add(nid)
        out: dict[str, None] = {}
        for name, item in names or []:
            if name == nid:
                ctx.error(item, f"node '{nid}' lists itself as a parent")
                self.bad_parents.add(nid)
            elif name not in known:
                ctx.error(
                    item, f"unknown parent '{shorten(name)}' of '{nid}'", ctx.suggest(name, ids)
                )
                out[name] = None  # keeps the node's table unchecked (its parent is unknown)
            elif name in out:
                ctx.error(item, f"node '{nid}' lists parent '{name}' twice")
            else:
                out[name] = None
        return tuple(out)

    def _table(
        self,
        nid: str,
        body: YNode,
        states: tuple[str, ...],
        parents: tuple[str, ...],
        parent_states: dict[str, tuple[str, ...]],
        known: set[str],
    ) -> Table | None:
        ctx = self.ctx
        pnode, cnode = body.get("p"), body.get("cpt")
        # in file order, so that the error points at the second one written
        forms = sorted(
            (k for k in ("cpt", *PARAMETRIC_KEYS) if body.get(k) is not None),
            key=lambda k: (body.keynode(k).line, body.keynode(k).col),
        )
        if len(forms) > 1:
            ctx.error(
                body.keynode(forms[1]),
                f"node '{nid}' has both '{forms[0]}' and '{forms[1]}'; give its probabilities one way",
                f"keep one of {', '.join(forms)} and remove the other"
                if len(forms) == 2
                else f"keep one of {', '.join(forms)} and remove the others",
            )
            return None
        if forms and forms[0] != "cpt":
            key = forms[0]
            if not parents:
                ctx.error(
                    body.keynode(key),
                    f"'{key}' describes how parents act on '{nid}', but it has no parents",
                    "give its probability with p: (e.g. p: likely)",
                )
                return None
            if pnode is not None:
                ctx.error(
                    body.keynode("p"),
                    f"node '{nid}' has both 'p' and '{key}'; give its probabilities one way",
                )
                return None
            return parse_parametric(
                key,
                body.get(key),
                nid,
                states,
                parents,
                parent_states,
                ctx,
                lambda node, where: provenance(node, ctx, self.sources, where),
                body.keynode(key),
            )
        if not parents:
            if cnode is not None:
                ctx.error(
                    body.keynode("cpt"),
                    f"node '{nid}' has no parents, so it takes 'p:', not 'cpt:'",
                    "give its probability with p: (e.g. p: likely)",
                )
                return None
            if pnode is None:
                ctx.error(
                    body.keynode("label") or body,
                    f"node '{nid}' has no probability",
                    "a node without parents takes p: (e.g. p: 0.3 or p: likely)",
                )
                return None
            dist = parse_dist(pnode, states, ctx, f"p of '{nid}'")
            return RootTable(dist, pnode.line, pnode.col) if dist else None
        if pnode is not None:
            ctx.error(
                body.keynode("p"),
                f"node '{nid}' has parents ({listing(parents)}), so it takes 'cpt:', not 'p:'",
                "write its rows under cpt:, e.g. 'parent=yes: 0.8' and 'default: 0.1'",
            )
            return None
        if cnode is None:
            ctx.error(
                body.keynode("parents") or body,
                f"node '{nid}' has parents but no 'cpt:'",
                "write its rows under cpt:, e.g. 'parent=yes: 0.8' and 'default: 0.1', "
                "or a parametric form (noisy_or, noisy_and, logic, noisy_max, ranked)",
            )
            return None
        if not _expect_map(cnode, ctx, f"cpt of '{nid}'"):
            return None
        rows: list[Row] = []
        default: Row | None = None
        ok = True
        pairs = list(cnode.pairs())
        cut: set[int] = set()
        for i, (key, knode, value) in enumerate(pairs):
            # Inside {...} a comma ends a key: {a=yes, b=no: 0.3} reads as the rows
            # 'a=yes' (no value) and 'b=no'. Report the row as written, once.
            if i in cut or not (knode.flow and value.is_null() and key != "default"):
                continue
            j = i
            while j + 1 < len(pairs) and pairs[j][2].is_null():
                j += 1
            if j == i and j + 1 == len(pairs):
                continue  # a single row without a value: reported by _row
            cut.update(range(i, j + 1))
            written = ", ".join(k for k, _, _ in pairs[i : min(j + 1, i + 20)])
            ctx.error(
                knode,
                f"row '{shorten(written)}' of '{nid}' is cut at its commas: inside {{...}} a comma ends a key",
                "write rows in block style, one per line, or quote the key",
            )
            ok = False
        for i, (key, knode, value) in enumerate(pairs):
            if i in cut:
                continue
            if key == "default":
                row = self._row(nid, key, knode, value, states, {}, True)
                if row is None:
                    ok = False
                default = row
                continue
            when = parse_row_key(knode, nid, parents, parent_states, known, ctx)
            if when is None:
                ok = False
                continue
            row = self._row(nid, key, knode, value, states, when, False)
            if row is None:
                ok = False
                continue
            rows.append(row)
        if not ok:
            return None
        if not rows and default is None:
            ctx.error(cnode, f"cpt of '{nid}' has no rows")
            return None
        # missing rows are reported at the 'cpt:' key, not at the first row
        where = body.keynode("cpt") or cnode
        table = CptTable(tuple(rows), default, where.line, where.col)
        if not check_coverage(nid, table, parents, parent_states, ctx):
            return None
        return table

    def _row(
        self,
        nid: str,
        key: str,
        knode: YNode,
        value: YNode,
        states: tuple[str, ...],
        when: dict[str, tuple[str, ...]],
        is_default: bool,
    ) -> Row | None:
        ctx = self.ctx
        owner = f"row '{key}' of '{nid}'"
        prov = Provenance()
        # Extended form {p: ..., note: ..., sources: [...]} (unless a state is named 'p').
        if value.is_map and value.get("p") is not None and "p" not in states:
            check_keys(value, ROW_KEYS, ctx, owner)
            prov = provenance(value, ctx, self.sources, owner)
            value = value.get("p")
        if value.is_null() and knode.flow:
            ctx.error(
                value,
                f"{owner} has no value",
                "inside {...} a comma ends a key too: " + "write rows in block style, one per line",
            )
            return None
        dist = parse_dist(value, states, ctx, owner)
        if dist is None:
            return None
        return Row(key, when, dist, prov, is_default, knode.line, knode.col)
