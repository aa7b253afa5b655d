"""The network as a picture: causes above effects, each node with its probabilities.

``riskchain graph`` draws a model the way GeNIe and Netica show one: a box per
node with its label and, per state, a bar of the state's probability under the
question asked (a scenario, findings, interventions). Observed and forced nodes
are marked differently, and the arrows an intervention cuts are drawn cut, so a
reader never mistakes "we saw it" for "we made it happen".

Three steps, each a pure function:

- :func:`graph_view` asks the model (one exact query for every node) and gathers
  what the boxes show;
- :func:`layout` lays the network out in layers (a Sugiyama-style layered
  layout in pure Python: longest-path layers, long arrows routed through
  dummy points, crossings reduced by barycentre sweeps and adjacent swaps,
  positions by isotonic regression), deterministic and free of system tools;
- :func:`render_svg`, :func:`render_png` and :func:`render_dot` draw it: the SVG
  is written by hand (text stays text, the same input gives the same bytes);
  the PNG draws the same scene with matplotlib (imported only there) and
  :func:`riskchain.report.style.png_bytes`; the DOT text is the same graph for
  people who lay graphs out with Graphviz.

The library never writes files; the CLI does.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from riskchain.engine.plan import DEFAULT_MAX_TABLE
from riskchain.report import style
from riskchain.report.safe import one_line, xml_attr, xml_text
from riskchain.report.text import pct
from riskchain.scales import DEFAULT_SCALE, Scale, estimate

if TYPE_CHECKING:
    from riskchain.model import Model

FORMATS = ("svg", "png", "dot")
DEFAULT_DEPTH = 1  # --focus without --depth: the node, its parents and its children

# What a finding is called on the picture: the tag on the box and the legend.
OBSERVED = "observed"
FORCED = "forced"
SOFT = "likelihood"
TAGS = {OBSERVED: "observed", FORCED: "forced (do)", SOFT: "soft evidence"}
OWN_TAG = "scenario's numbers"
TARGET_TAG = "target"
FOCUS_TAG = "focus"
SCALE_NAMES = {"icd203": "ICD 203", "phia": "PHIA", "kent": "Kent"}

# ----------------------------------------------------------------------------- sizes, in px
# (SVG user units; the PNG draws 100 of them per inch, at style.DPI)

FONT = "DejaVu Sans, Verdana, Arial, sans-serif"
TITLE_PX = 17.0
SUB_PX = 11.5
LEGEND_PX = 10.5
LABEL_PX = 11.5  # node label, bold
ID_PX = 9.0
ROW_PX = 10.0
WORD_PX = 9.5
TAG_PX = 8.5
CHANGE_PX = 9.0

PAD = 7.0  # inside a box
LABEL_W = 170.0  # a label wraps at this width
LINE_H = 14.0
ID_H = 14.0
ROW_H = 14.0
WORD_H = 13.0
BAR_W = 70.0
BAR_H = 9.0
STATE_MAX_W = 120.0  # longer state names are shortened (the tooltip has them whole)
COL_GAP = 6.0
MIN_BOX_W = 150.0

BOX_GAP = 26.0  # between boxes of a layer
DUMMY_GAP = 12.0  # beside an arrow passing through a layer
LAYER_GAP = 70.0  # between layers: room for the arrows
MARGIN = 22.0
PNG_SCALE = 1.0  # times style.DPI per 100 SVG units: the picture at its size, at print quality
MAX_PNG_PIXELS = 30e6  # larger drawings get a smaller PNG scale (the SVG stays whole)

# Colours, from the shared style: blue bars on a grey track; an observed node in ink, a
# forced one in vermilion (the style's colour for "find this line"); the tags carry the
# words, so nothing depends on colour alone and grey-scale print keeps every mark.
BAR = style.HIGH_END
TRACK = style.BAND_SHADES[0]
BOX_EDGE = "#6b6b6b"
ARROW = "#6b6b6b"
CUT = style.EDGE
OBSERVED_FILL = style.tint(style.HIGH_END, 0.10)
FORCED_FILL = style.tint(style.EDGE, 0.12)
OWN_FILL = "#e4e4e4"
BASE_TICK = style.INK  # the baseline's probability, across a bar

# Advance widths of DejaVu Sans (the font style.py fixes for the PNG), per 1000 em, for
# printable ASCII: text is measured without a font library, so SVG and PNG agree.
_ASCII = "".join(chr(c) for c in range(32, 127))
_W_REGULAR = (
    318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337, 636,
    636, 636, 636, 636, 636, 636, 636, 636, 636, 337, 337, 838, 838, 838, 531, 1000, 684,
    686, 698, 770, 632, 575, 775, 752, 295, 295, 656, 557, 863, 748, 787, 603, 787, 695,
    635, 611, 732, 684, 989, 685, 611, 685, 390, 337, 390, 838, 500, 500, 613, 635, 550,
    635, 615, 352, 635, 634, 278, 278, 579, 278, 974, 634, 612, 635, 635, 411, 521, 392,
    634, 592, 818, 592, 592, 525, 636, 337, 636, 838,
)  # fmt: skip
_W_BOLD = (
    348, 456, 521, 838, 696, 1002, 872, 306, 457, 457, 523, 838, 380, 415, 380, 365, 696,
    696, 696, 696, 696, 696, 696, 696, 696, 696, 400, 400, 838, 838, 838, 580, 1000, 774,
    762, 734, 830, 683, 683, 821, 837, 372, 372, 775, 637, 995, 837, 850, 733, 850, 770,
    720, 682, 812, 774, 1103, 771, 724, 725, 457, 365, 457, 838, 500, 500, 675, 716, 593,
    716, 678, 435, 716, 712, 343, 343, 665, 343, 1042, 712, 687, 716, 716, 493, 595, 478,
    712, 652, 924, 645, 652, 582, 712, 365, 712, 838,
)  # fmt: skip
_REGULAR = dict(zip(_ASCII, _W_REGULAR))
_BOLD = dict(zip(_ASCII, _W_BOLD))


def text_width(text: str, size: float, bold: bool = False) -> float:
    """Width of ``text`` in DejaVu Sans at ``size`` px (other fonts are a little wider or
    narrower; boxes keep a margin). Characters outside ASCII count as wide as ``M``."""
    table = _BOLD if bold else _REGULAR
    wide = table["M"]
    return sum(table.get(c, wide) for c in text) * size / 1000


def wrap(text: str, width: float, size: float, bold: bool = False) -> list[str]:
    """``text`` in lines no wider than ``width`` px, broken at spaces (a word longer
    than the width stays whole on its own line)."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        trial = f"{line} {word}" if line else word
        if line and text_width(trial, size, bold) > width:
            lines.append(line)
            line = word
        else:
            line = trial
    if line or not lines:
        lines.append(line)
    return lines


def _shorten(text: str, width: float, size: float) -> str:
    if text_width(text, size) <= width:
        return text
    while text and text_width(text + "…", size) > width:
        text = text[:-1]
    return text + "…"


# ----------------------------------------------------------------------------- what is shown


@dataclass(frozen=True)
class NodeView:
    """What one box shows.

    Attributes
    ----------
    id, label : str
        The node's id and label.
    states : tuple of str
        Its states, in model order.
    probs : tuple of float
        The probability of each state under the question.
    finding : {"observed", "forced", "likelihood"} or None
        How the question touched the node.
    state : str or None
        The observed or forced state.
    own_numbers : bool
        The scenario replaced this node's numbers (its ``set:``).
    word : str
        The estimative word of a two-state node's reported state
        (``"yes: likely [55–80%]"``, ``"present: ..."``, ``"TRUE: ..."``: see
        :func:`riskchain.report.query.reported_state`); empty for observed or forced
        nodes and for nodes with more states.
    target : bool
        A declared target (of the model, or of the scenario file).
    baseline : tuple of float or None
        Each state's probability under the baseline scenario, when the picture
        compares a scenario with it.
    hidden : (int, int)
        Parents and children of the node left out of a ``focus`` picture.
    focus : bool
        The node a ``focus`` picture is drawn around.
    """

    id: str
    label: str
    states: tuple[str, ...]
    probs: tuple[float, ...]
    finding: str | None = None
    state: str | None = None
    own_numbers: bool = False
    word: str = ""
    target: bool = False
    baseline: tuple[float, ...] | None = None
    hidden: tuple[int, int] = (0, 0)
    focus: bool = False

    def tags(self) -> list[str]:
        """The tags on the box, in order: focus, target, the finding, the scenario's numbers."""
        out = [FOCUS_TAG] if self.focus else []
        out += [TARGET_TAG] if self.target else []
        out += [TAGS[self.finding]] if self.finding else []
        return out + ([OWN_TAG] if self.own_numbers else [])

    def changes(self) -> tuple[str, ...]:
        """Each state's change against the baseline, in percentage points (``+12.3 pp``;
        ``±0 pp`` below 0.05); empty without a baseline."""
        if self.baseline is None:
            return ()
        return tuple(_change(p - b) for p, b in zip(self.probs, self.baseline))


def _change(d: float) -> str:
    return "±0 pp" if abs(d) < 0.0005 else f"{d * 100:+.1f} pp"


@dataclass(frozen=True)
class GraphView:
    """Everything the picture shows: the question, the nodes, the arrows.

    ``edges`` are ``(parent, child)`` pairs; ``cut`` those an intervention cuts
    (every arrow into a forced node).
    """

    model: str
    title: str
    horizon: str | None
    scenario: str | None
    description: str | None
    nodes: tuple[NodeView, ...]
    edges: tuple[tuple[str, str], ...]
    given: dict[str, str] = field(default_factory=dict)
    do: dict[str, str] = field(default_factory=dict)
    likelihood: dict[str, dict[str, float]] = field(default_factory=dict)
    own_numbers: tuple[str, ...] = ()
    evidence_probability: float = 1.0
    scale: str = DEFAULT_SCALE.name
    baseline: str | None = None  # the scenario the changes are against
    focus: str | None = None  # the node a neighbourhood picture is centred on
    depth: int = 0
    left_out: tuple[str, ...] = ()  # nodes a focus picture leaves out

    @property
    def total(self) -> int:
        """How many nodes the model has (drawn or left out)."""
        return len(self.nodes) + len(self.left_out)

    @property
    def cut(self) -> tuple[tuple[str, str], ...]:
        """The arrows cut by an intervention: every arrow into a forced node."""
        return tuple(e for e in self.edges if e[1] in self.do)

    def node(self, node_id: str) -> NodeView:
        return next(n for n in self.nodes if n.id == node_id)


def graph_view(
    model: Model,
    given: Mapping[str, str] | None = None,
    do: Mapping[str, str] | None = None,
    likelihood: Mapping[str, Mapping[str, float]] | None = None,
    *,
    scenario: str | None = None,
    description: str | None = None,
    own_numbers: Iterable[str] = (),
    scale: Scale = DEFAULT_SCALE,
    max_table: float = DEFAULT_MAX_TABLE,
    targets: Iterable[str] | None = None,
    baseline: Mapping[str, Mapping[str, float]] | None = None,
    baseline_name: str | None = None,
    focus: str | None = None,
    depth: int = DEFAULT_DEPTH,
) -> GraphView:
    """Ask the model for every node's distribution and gather what the picture shows.

    Parameters
    ----------
    model : Model
        The model, with a scenario's own numbers already in place.
    given, do, likelihood : mapping, optional
        The findings, as for :meth:`riskchain.Model.query`.
    scenario, description : str, optional
        The scenario's id and description, for the title.
    own_numbers : iterable of str
        Nodes whose numbers the scenario replaced (marked on their boxes).
    scale : Scale
        Scale of the estimative words.
    max_table : float
        Memory budget for the query, in bytes.
    targets : iterable of str, optional
        The declared targets, marked on their boxes (default: the model's).
    baseline : mapping, optional
        Every node's distribution ``{node: {state: p}}`` under the baseline scenario;
        each box then shows its states' changes against it.
    baseline_name : str, optional
        The baseline scenario's id, for the header.
    focus : str, optional
        Draw only this node and its parents and children up to ``depth`` steps (its
        causes' causes, its effects' effects, ...); the probabilities are still the
        whole model's.
    depth : int
        How many steps from ``focus``.

    Returns
    -------
    GraphView

    Raises
    ------
    UsageError, ImpossibleEvidenceError, TooLargeError
        As :meth:`riskchain.Model.query`; a ``focus`` that is not a node, or a
        negative ``depth``.
    """
    from riskchain.report.query import reported_state

    shown, hidden = _neighbourhood(model, focus, depth)
    res = model.query(
        given=given, do=do, likelihood=likelihood, targets=model.nodes, max_table=max_table
    )
    own = [n for n in model.nodes if n in set(own_numbers)]
    marked = set(model.spec.targets if targets is None else targets)
    nodes = []
    for name in shown:
        states = tuple(model.states(name))
        post = res.posteriors[name]
        finding = res.finding(name)
        state = res.given.get(name) or res.do.get(name)
        word = ""
        rep = reported_state(states)
        if rep is not None and finding in (None, SOFT):
            term = estimate(post[rep], scale)
            word = f"{rep}: {term}" if term else ""
        before = baseline.get(name) if baseline is not None else None
        nodes.append(
            NodeView(
                name,
                model.label(name),
                states,
                tuple(post[s] for s in states),
                finding,
                state,
                name in own,
                word,
                name in marked,
                tuple(before[s] for s in states) if before is not None else None,
                hidden.get(name, (0, 0)),
                name == focus,
            )
        )
    keep = set(shown)
    edges = tuple(
        (p, n) for n in shown for p in model.spec.nodes[n].parents if p in keep
    )
    return GraphView(
        model=model.id,
        title=model.title,
        horizon=model.horizon,
        scenario=scenario,
        description=description,
        nodes=tuple(nodes),
        edges=edges,
        given=dict(res.given),
        do=dict(res.do),
        likelihood={k: dict(v) for k, v in res.likelihood.items()},
        own_numbers=tuple(own),
        evidence_probability=res.evidence_probability,
        scale=scale.name,
        baseline=baseline_name if baseline is not None else None,
        focus=focus,
        depth=depth if focus is not None else 0,
        left_out=tuple(n for n in model.nodes if n not in keep),
    )


def graph_question(
    path: str | Path,
    scenario: str | None = None,
    given: Mapping[str, str] | None = None,
    do: Mapping[str, str] | None = None,
    likelihood: Mapping[str, Mapping[str, float]] | None = None,
    *,
    scale: Scale = DEFAULT_SCALE,
    max_table: float = DEFAULT_MAX_TABLE,
    focus: str | None = None,
    depth: int = DEFAULT_DEPTH,
    model: str | Path | None = None,
) -> GraphView:
    """The picture of a question asked of a model file, or of scenario ``scenario`` of a
    scenario file (with ``given``/``do``/``likelihood`` on top, as ``riskchain graph``
    asks it); ``model`` replaces the model file a scenario file names.

    A scenario's picture marks the scenario file's targets and, unless the scenario is
    the file's baseline, shows each state's change against the baseline scenario.

    Raises
    ------
    UsageError, SpecError, ImpossibleEvidenceError, TooLargeError
        As :func:`riskchain.analysis.scenarios.pose` and :func:`graph_view`.
    """
    from riskchain.analysis.scenarios import load_scenarios, pose, scenario_model

    q = pose(path, scenario, given, do, likelihood, max_table, model)
    before: dict[str, dict[str, float]] | None = None
    baseline_name = None
    if q.scenario is not None:
        sf, base = load_scenarios(path, max_table, model)
        if sf.baseline != q.scenario.id:
            b = sf.scenarios[sf.baseline]
            res = scenario_model(base, b).query(
                given=b.given, do=b.do, likelihood=b.likelihood, targets=base.nodes,
                max_table=max_table,
            )  # fmt: skip
            before, baseline_name = res.posteriors, b.id
    return graph_view(
        q.model,
        q.given,
        q.do,
        q.likelihood,
        scenario=q.scenario.id if q.scenario is not None else None,
        description=q.scenario.description if q.scenario is not None else None,
        own_numbers=q.scenario.sets if q.scenario is not None else (),
        scale=scale,
        max_table=max_table,
        targets=q.targets if q.targets else None,
        baseline=before,
        baseline_name=baseline_name,
        focus=focus,
        depth=depth,
    )


def _neighbourhood(
    model: Model, focus: str | None, depth: int
) -> tuple[list[str], dict[str, tuple[int, int]]]:
    """The nodes a picture draws (file order), and for each drawn node how many of its
    parents and children are left out. Without ``focus``, every node.

    With it: the node, its parents up to ``depth`` generations up and its children up
    to ``depth`` generations down (not their other parents: ask for a wider picture
    by focusing there)."""
    from riskchain.errors import UsageError

    if focus is None:
        return list(model.nodes), {}
    if depth < 0:
        raise UsageError(f"--depth: a number of steps, 0 or more, got {depth}")
    try:
        model.compiled.node(focus)
    except UsageError as exc:  # an unknown node, with a "did you mean"
        raise UsageError(f"--focus: {exc}") from None
    spec = model.spec.nodes
    children: dict[str, list[str]] = {n: [] for n in model.nodes}
    for n in model.nodes:
        for p in spec[n].parents:
            children[p].append(n)
    keep = {focus}
    for step in (lambda n: spec[n].parents, lambda n: children[n]):
        ring = {focus}
        for _ in range(depth):
            ring = {m for n in ring for m in step(n)} - keep
            keep |= ring
    shown = [n for n in model.nodes if n in keep]
    hidden = {
        n: (
            sum(p not in keep for p in spec[n].parents),
            sum(c not in keep for c in children[n]),
        )
        for n in shown
    }
    return shown, hidden


# ----------------------------------------------------------------------------- layout


@dataclass(frozen=True)
class Box:
    """A node's box: top-left corner, size, layer (0 at the top)."""

    x: float
    y: float
    w: float
    h: float
    layer: int

    @property
    def cx(self) -> float:
        return self.x + self.w / 2


@dataclass(frozen=True)
class Route:
    """An arrow from ``source``'s bottom to ``target``'s top, through ``points``."""

    source: str
    target: str
    points: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class Layout:
    """Boxes, arrow routes and the size of the drawing (origin at the top left)."""

    boxes: dict[str, Box]
    routes: tuple[Route, ...]
    width: float
    height: float
    layers: tuple[tuple[str, ...], ...]  # real nodes per layer, left to right


def layers_of(nodes: Sequence[str], edges: Sequence[tuple[str, str]]) -> dict[str, int]:
    """Each node's layer: one below its lowest parent (longest path from the causes);
    a node without parents sits just above its highest child, so a background cause
    does not drag a long arrow down the page."""
    parents: dict[str, list[str]] = {n: [] for n in nodes}
    children: dict[str, list[str]] = {n: [] for n in nodes}
    for p, c in edges:
        parents[c].append(p)
        children[p].append(c)
    layer: dict[str, int] = {}
    for n in _topological(nodes, parents, children):
        layer[n] = max((layer[p] + 1 for p in parents[n]), default=0)
    for n in nodes:
        if not parents[n] and children[n]:
            layer[n] = min(layer[c] for c in children[n]) - 1
    return layer


def _topological(nodes, parents, children) -> list[str]:
    """Kahn's order, ties in file order (so the layout is deterministic)."""
    waiting = {n: len(parents[n]) for n in nodes}
    ready = [n for n in nodes if waiting[n] == 0]
    rank = {n: i for i, n in enumerate(nodes)}
    out: list[str] = []
    while ready:
        ready.sort(key=rank.__getitem__)
        n = ready.pop(0)
        out.append(n)
        for c in children[n]:
            waiting[c] -= 1
            if waiting[c] == 0:
                ready.append(c)
    if len(out) != len(nodes):
        raise ValueError("the graph has a cycle")
    return out


def layout(
    nodes: Sequence[str],
    edges: Sequence[tuple[str, str]],
    sizes: Mapping[str, tuple[float, float]],
) -> Layout:
    """Lay a DAG out in layers, causes above effects.

    Parameters
    ----------
    nodes : sequence of str
        Node ids; their order breaks ties, so the same input gives the same layout.
    edges : sequence of (str, str)
        ``(parent, child)`` arrows.
    sizes : mapping of str to (float, float)
        Each node's box width and height.

    Returns
    -------
    Layout
        Every parent's box is in a higher layer (smaller ``layer``, smaller ``y``)
        than its children's; no two boxes overlap; arrows that span several layers
        pass between the boxes of the layers they cross.
    """
    layer = layers_of(nodes, edges)
    depth = max(layer.values(), default=-1) + 1
    # Items per layer: real nodes and one dummy per layer an arrow crosses.
    width: dict[Any, float] = {n: sizes[n][0] for n in nodes}
    chains: list[list[Any]] = []
    for p, c in edges:
        chain: list[Any] = [p]
        for k in range(layer[p] + 1, layer[c]):
            d = ("dummy", p, c, k)
            width[d] = 0.0
            layer[d] = k  # type: ignore[index]
            chain.append(d)
        chain.append(c)
        chains.append(chain)
    up: dict[Any, list[Any]] = {x: [] for x in width}
    down: dict[Any, list[Any]] = {x: [] for x in width}
    for chain in chains:
        for a, b in itertools.pairwise(chain):
            down[a].append(b)
            up[b].append(a)
    rows: list[list[Any]] = [[] for _ in range(depth)]
    for n in nodes:
        rows[layer[n]].append(n)
    for chain in chains:
        for d in chain[1:-1]:
            rows[layer[d]].append(d)  # type: ignore[index]

    rows = _order(rows, up, down)
    xs = _place(rows, width, up, down)

    # y: layers top-aligned; a layer is as tall as its tallest box.
    tops, y = [], 0.0
    for row in rows:
        tops.append(y)
        y += max((sizes[n][1] for n in row if n in sizes), default=0.0) + LAYER_GAP
    height = max(y - LAYER_GAP, 0.0)
    bottoms = [
        t + max((sizes[n][1] for n in row if n in sizes), default=0.0) for t, row in zip(tops, rows)
    ]
    left = min((xs[x] - width[x] / 2 for x in xs), default=0.0)
    right = max((xs[x] + width[x] / 2 for x in xs), default=0.0)
    boxes = {
        n: Box(
            round(xs[n] - width[n] / 2 - left, 2),
            round(tops[layer[n]], 2),
            sizes[n][0],
            sizes[n][1],
            layer[n],
        )
        for n in nodes
    }
    routes = _routes(chains, boxes, {x: xs[x] - left for x in xs}, layer, tops, bottoms)
    return Layout(
        boxes,
        routes,
        round(right - left, 2),
        round(height, 2),
        tuple(tuple(n for n in row if n in sizes) for row in rows),
    )


def _crossings(upper: Sequence[Any], lower: Sequence[Any], down: Mapping[Any, list[Any]]) -> int:
    """Arrow crossings between two adjacent layers (inversions, counted with a Fenwick tree)."""
    pos = {x: i for i, x in enumerate(lower)}
    seq = [pos[b] for a in upper for b in sorted(down[a], key=pos.__getitem__)]
    tree = [0] * (len(lower) + 1)
    count = 0
    for seen, v in enumerate(seq):
        i, below = v + 1, 0
        while i > 0:
            below += tree[i]
            i -= i & -i
        count += seen - below  # earlier arrows that end to the right of this one
        i = v + 1
        while i <= len(lower):
            tree[i] += 1
            i += i & -i
    return count


def _total(rows, down) -> int:
    return sum(_crossings(a, b, down) for a, b in itertools.pairwise(rows))


def _order(rows: list[list[Any]], up, down) -> list[list[Any]]:
    """Reduce crossings: barycentre sweeps down and up, then swaps of neighbours; the
    best order seen is kept (ties: file order, so the result is deterministic)."""

    def sweep(rows: list[list[Any]], downward: bool) -> list[list[Any]]:
        rows = [list(r) for r in rows]
        span = range(1, len(rows)) if downward else range(len(rows) - 2, -1, -1)
        for i in span:
            ref = rows[i - 1] if downward else rows[i + 1]
            pos = {x: j for j, x in enumerate(ref)}
            here = {x: j for j, x in enumerate(rows[i])}
            nbrs = up if downward else down

            # a node without neighbours there keeps its relative place (scaled to the
            # other layer's width)
            stretch = max(len(ref) - 1, 1) / max(len(rows[i]) - 1, 1)

            def key(x: Any, pos=pos, here=here, nbrs=nbrs, stretch=stretch) -> tuple[float, int]:
                ns = nbrs[x]
                bary = sum(pos[n] for n in ns) / len(ns) if ns else here[x] * stretch
                return (bary, here[x])

            rows[i].sort(key=key)
        return rows

    best, best_cost = rows, _total(rows, down)
    cur = rows
    for it in range(12):
        cur = sweep(cur, downward=it % 2 == 0)
        cost = _total(cur, down)
        if cost < best_cost:
            best, best_cost = cur, cost
    return _transpose([list(r) for r in best], up, down)


def _transpose(rows: list[list[Any]], up, down) -> list[list[Any]]:
    """Swap neighbours in a layer while that removes crossings."""

    def pair(u: Any, v: Any, i: int) -> int:
        # crossings between u's and v's arrows when u is left of v
        total = 0
        for other, nbrs in ((i - 1, up), (i + 1, down)):
            if not 0 <= other < len(rows):
                continue
            pos = {x: j for j, x in enumerate(rows[other])}
            total += sum(1 for a in nbrs[u] for b in nbrs[v] if pos[a] > pos[b])
        return total

    for _ in range(20):
        improved = False
        for i, row in enumerate(rows):
            for j in range(len(row) - 1):
                u, v = row[j], row[j + 1]
                if pair(v, u, i) < pair(u, v, i):
                    row[j], row[j + 1] = v, u
                    improved = True
        if not improved:
            break
    return rows


def _isotonic(values: Sequence[float], weights: Sequence[float]) -> list[float]:
    """Weighted least-squares non-decreasing fit (pool adjacent violators)."""
    blocks: list[list[float]] = []  # [mean, weight, count]
    for v, w in zip(values, weights):
        blocks.append([v, w, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, w2, c2 = blocks.pop()
            m1, w1, c1 = blocks.pop()
            blocks.append([(m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2, c1 + c2])
    out: list[float] = []
    for m, _, c in blocks:
        out.extend([m] * int(c))
    return out


def _place(rows: list[list[Any]], width: Mapping[Any, float], up, down) -> dict[Any, float]:
    """x of each item's centre: as close to its neighbours' mean as the order and the
    gaps allow (isotonic regression per layer), swept down, up, then both ways."""

    def gap(a: Any, b: Any) -> float:
        dummy = isinstance(a, tuple) or isinstance(b, tuple)
        return (width[a] + width[b]) / 2 + (DUMMY_GAP if dummy else BOX_GAP)

    offsets = []
    for row in rows:
        off = [0.0]
        for a, b in itertools.pairwise(row):
            off.append(off[-1] + gap(a, b))
        offsets.append(off)
    xs: dict[Any, float] = {}
    for row, off in zip(rows, offsets):
        mid = off[-1] / 2 if off else 0.0
        xs.update({x: o - mid for x, o in zip(row, off)})

    def fit(i: int, which: tuple) -> None:
        row, off = rows[i], offsets[i]
        wanted, weights = [], []
        for x in row:
            ns = [n for nbrs in which for n in nbrs[x]]
            wanted.append(sum(xs[n] for n in ns) / len(ns) if ns else xs[x])
            # arrows through a layer pull harder, so long arrows run straight
            weights.append((4.0 if isinstance(x, tuple) else 1.0) * (1.0 if ns else 0.25))
        fitted = _isotonic([w - o for w, o in zip(wanted, off)], weights)
        xs.update({x: f + o for x, f, o in zip(row, fitted, off)})

    n = len(rows)
    for _ in range(6):
        for i in range(1, n):
            fit(i, (up,))
        for i in range(n - 2, -1, -1):
            fit(i, (down,))
    for _ in range(4):
        for i in range(n):
            fit(i, (up, down))
    return {x: round(v, 2) for x, v in xs.items()}


def _ports(ends: list[tuple[float, Any]], box: Box) -> dict[Any, float]:
    """Spread the arrows leaving (or entering) a box along its edge, ordered by where
    they go, so they do not all meet in one point."""
    ends = sorted(ends, key=lambda e: e[0])
    k = len(ends)
    span = min(box.w * 0.7, 16.0 * (k - 1))
    return {
        key: box.cx - span / 2 + (span * j / (k - 1) if k > 1 else 0)
        for j, (_, key) in enumerate(ends)
    }


def _routes(chains, boxes, xs, layer, tops, bottoms) -> tuple[Route, ...]:
    # where each arrow heads for first / comes from last, to order the ports
    out_ends: dict[str, list] = {}
    in_ends: dict[str, list] = {}
    for k, chain in enumerate(chains):
        p, c = chain[0], chain[-1]
        out_ends.setdefault(p, []).append((xs[chain[1]], k))
        in_ends.setdefault(c, []).append((xs[chain[-2]], k))
    out_port = {p: _ports(v, boxes[p]) for p, v in out_ends.items()}
    in_port = {c: _ports(v, boxes[c]) for c, v in in_ends.items()}
    routes = []
    for k, chain in enumerate(chains):
        p, c = chain[0], chain[-1]
        bp, bc = boxes[p], boxes[c]
        x0 = out_port[p][k]
        pts = [(x0, bp.y + bp.h)]
        if bp.y + bp.h < bottoms[layer[p]]:
            pts.append((x0, bottoms[layer[p]]))  # straight down past taller neighbours
        for d in chain[1:-1]:
            pts.append((xs[d], tops[layer[d]]))
            pts.append((xs[d], bottoms[layer[d]]))
        pts.append((in_port[c][k], bc.y))
        routes.append(Route(p, c, tuple((round(x, 2), round(y, 2)) for x, y in pts)))
    return tuple(routes)


# ----------------------------------------------------------------------------- the scene
# The drawing as a list of shapes, in drawing order; SVG and PNG render the same list.


@dataclass(frozen=True)
class _Rect:
    x: float
    y: float
    w: float
    h: float
    fill: str
    stroke: str | None = None
    lw: float = 0.0
    rx: float = 0.0
    dash: tuple[float, ...] | None = None


@dataclass(frozen=True)
class _Text:
    x: float
    y: float  # baseline
    text: str
    size: float
    colour: str = style.INK
    bold: bool = False
    italic: bool = False
    anchor: str = "start"  # start | middle | end

    def __post_init__(self) -> None:
        # what is drawn is one line without control characters, in SVG and PNG alike
        object.__setattr__(self, "text", one_line(self.text))


@dataclass(frozen=True)
class _Path:
    # ("M", x, y) | ("L", x, y) | ("C", x1, y1, x2, y2, x, y)
    ops: tuple[tuple, ...]
    stroke: str
    lw: float
    dash: tuple[float, ...] | None = None
    fill: str | None = None  # a closed, filled shape (an arrowhead)


@dataclass
class _Group:
    """Shapes that belong together (a node, an arrow): an SVG ``<g>`` with attributes."""

    attrs: dict[str, str]
    items: list[Any]
    tooltip: str | None = None


@dataclass
class _Scene:
    width: float
    height: float
    groups: list[_Group]


def _box_size(node: NodeView) -> tuple[float, float]:
    return _box_parts(node)[0]


def _box_parts(node: NodeView) -> tuple[tuple[float, float], list[str], float, float]:
    """(width, height), label lines, state column width, percent column width."""
    lines = wrap(node.label, LABEL_W, LABEL_PX, bold=True)
    label_w = max(text_width(line, LABEL_PX, bold=True) for line in lines)
    state_w = min(max(text_width(s, ROW_PX) for s in node.states), STATE_MAX_W)
    pct_w = max(text_width(pct(p), ROW_PX) for p in node.probs)
    row_w = state_w + COL_GAP + BAR_W + COL_GAP + pct_w + _change_width(node)
    id_w = _id_line_width(node)
    word_w = text_width(node.word, WORD_PX) if node.word else 0.0
    hidden = _hidden_text(node)
    hidden_w = text_width(hidden, WORD_PX) if hidden else 0.0
    w = max(MIN_BOX_W, 2 * PAD + max(label_w, row_w, id_w, word_w, hidden_w))
    h = PAD + LINE_H * len(lines) + (ID_H if _has_id_line(node) else 0.0) + 3
    h += ROW_H * len(node.states) + (WORD_H if node.word else 0.0) + PAD - 2
    h += WORD_H if hidden else 0.0
    return (round(w, 1), round(h, 1)), lines, state_w, pct_w


def _change_width(node: NodeView) -> float:
    """The column of changes against the baseline (with the gap before it), or 0."""
    changes = node.changes()
    return COL_GAP + max(text_width(c, CHANGE_PX, bold=True) for c in changes) if changes else 0.0


def _hidden_text(node: NodeView) -> str:
    """``2 causes and 1 effect not drawn`` for a node at the edge of a focus picture."""
    parents, children = node.hidden
    parts = [f"{parents} cause{'s' * (parents != 1)}"] if parents else []
    parts += [f"{children} effect{'s' * (children != 1)}"] if children else []
    return " and ".join(parts) + " not drawn" if parts else ""


def _has_id_line(node: NodeView) -> bool:
    return node.id != node.label or bool(node.tags())


def _tag_width(tag: str) -> float:
    return text_width(tag, TAG_PX, bold=True) + 8


def _id_line_width(node: NodeView) -> float:
    if not _has_id_line(node):
        return 0.0
    shown = text_width(node.id, ID_PX) if node.id != node.label else 0.0
    tags = sum(_tag_width(t) + 4 for t in node.tags())
    return shown + (8 if shown and tags else 0) + tags


def _tag(x: float, y: float, tag: str) -> list[Any]:
    """A tag: blue on white (target), white words on ink (observed) or vermilion
    (forced), ink on white (soft evidence), grey on light grey (the scenario's
    numbers). ``(x, y)``: top left."""
    w = _tag_width(tag)
    fill, stroke, colour = {
        TARGET_TAG: ("#ffffff", BAR, BAR),
        FOCUS_TAG: (style.tint(BAR, 0.18), None, style.INK),
        TAGS[OBSERVED]: (style.INK, None, "#ffffff"),
        TAGS[FORCED]: (style.EDGE_INK, None, "#ffffff"),  # white text needs the darker shade
        TAGS[SOFT]: ("#ffffff", style.INK, style.INK),
        OWN_TAG: (OWN_FILL, None, style.SOFT_INK),
    }[tag]
    return [
        _Rect(x, y, w, 11.5, fill, stroke, 0.8 if stroke else 0.0, rx=5.5),
        _Text(x + w / 2, y + 8.8, tag, TAG_PX, colour, bold=True, anchor="middle"),
    ]


def _node_shapes(node: NodeView, box: Box, dx: float, dy: float) -> _Group:
    (_w, _h), lines, state_w, _pct_w = _box_parts(node)
    x, y = box.x + dx, box.y + dy
    fill, stroke, lw, dash = "#ffffff", BOX_EDGE, 1.0, None
    if node.finding == OBSERVED:
        fill, stroke, lw = OBSERVED_FILL, style.INK, 2.6
    elif node.finding == FORCED:
        fill, stroke, lw = FORCED_FILL, CUT, 2.6
    elif node.finding == SOFT:
        stroke, lw, dash = style.INK, 1.6, (5.0, 3.0)
    items: list[Any] = [_Rect(x, y, box.w, box.h, fill, stroke, lw, rx=4.0, dash=dash)]
    if node.finding == FORCED:
        # a double border: told apart from an observed node's single one in grey-scale too
        items.append(_Rect(x + 3.5, y + 3.5, box.w - 7, box.h - 7, fill, CUT, 1.0, rx=2.5))
    cy = y + PAD
    for line in lines:
        cy += LINE_H
        items.append(_Text(x + PAD, cy - 3, line, LABEL_PX, style.INK, bold=True))
    if _has_id_line(node):
        cy += ID_H
        if node.id != node.label:
            items.append(_Text(x + PAD, cy - 3.5, node.id, ID_PX, style.QUIET_INK))
        tx = x + box.w - PAD
        for tag in reversed(node.tags()):
            tx -= _tag_width(tag)
            items += _tag(tx, cy - 12.0, tag)
            tx -= 4
    cy += 3
    bar_x = x + PAD + state_w + COL_GAP
    changes = node.changes()
    pct_right = x + box.w - PAD - _change_width(node)
    for k, (s, p) in enumerate(zip(node.states, node.probs)):
        cy += ROW_H
        base = cy - 3.5
        items.append(_Text(x + PAD, base, _shorten(s, STATE_MAX_W, ROW_PX), ROW_PX, style.SOFT_INK))
        items.append(_Rect(bar_x, base - BAR_H + 1, BAR_W, BAR_H, TRACK))
        if p > 0:
            # a sliver stays visible for a tiny probability
            items.append(_Rect(bar_x, base - BAR_H + 1, max(BAR_W * p, 0.8), BAR_H, BAR))
        items.append(_Text(pct_right, base, pct(p), ROW_PX, style.INK, anchor="end"))
        if changes:
            # the baseline's probability: a tick across the bar; the change beside it
            tx = bar_x + BAR_W * node.baseline[k]  # type: ignore[index]
            items.append(_Path((("M", tx, base - BAR_H - 1), ("L", tx, base + 2)), BASE_TICK, 1.6))
            quiet = changes[k].startswith("±")
            colour = style.QUIET_INK if quiet else style.INK
            items.append(_Text(x + box.w - PAD, base, changes[k], CHANGE_PX, colour,
                               bold=not quiet, anchor="end"))  # fmt: skip
    if node.word:
        cy += WORD_H
        items.append(_Text(x + PAD, cy - 3, node.word, WORD_PX, style.SOFT_INK, italic=True))
    hidden = _hidden_text(node)
    if hidden:
        cy += WORD_H
        items.append(_Text(x + PAD, cy - 3, hidden, WORD_PX, style.QUIET_INK, italic=True))
    attrs = {"class": "node", "data-node": node.id}
    if node.finding:
        attrs["data-finding"] = node.finding
        attrs["data-state"] = node.state or ""
    if node.own_numbers:
        attrs["data-own-numbers"] = "yes"
    if node.target:
        attrs["data-target"] = "yes"
    tip = f"{node.label} ({node.id})"
    if node.finding in (OBSERVED, FORCED):
        tip += f" — {TAGS[node.finding]}: {node.state}"
    rows = [f"{s}: {pct(p)}" for s, p in zip(node.states, node.probs)]
    if changes:
        rows = [f"{r} ({c} against the baseline)" for r, c in zip(rows, changes)]
    tip += "\n" + "\n".join(rows)
    return _Group(attrs, items, tip)


def _curve(points: Sequence[tuple[float, float]]) -> list[tuple]:
    """Path operations through ``points``: straight where x does not change, else an
    S-curve leaving and arriving vertically (so arrowheads point straight down)."""
    ops: list[tuple] = [("M", *points[0])]
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        if abs(x1 - x0) < 0.5:
            ops.append(("L", x1, y1))
        else:
            m = (y1 - y0) / 2
            ops.append(("C", x0, y0 + m, x1, y1 - m, x1, y1))
    return ops


def _edge_shapes(route: Route, cut: bool, dx: float, dy: float) -> _Group:
    pts = [(x + dx, y + dy) for x, y in route.points]
    tx, ty = pts[-1]
    items: list[Any] = []
    if cut:
        # the arrow stops short of the forced node, dashed, ended by a cross: cut
        stop = 13.0
        items.append(_Path(tuple(_curve([*pts[:-1], (tx, ty - stop)])), CUT, 1.5, (4.0, 3.0)))
        r, cy = 4.5, ty - stop + 1
        items.append(_Path((("M", tx - r, cy - r), ("L", tx + r, cy + r)), CUT, 2.2))
        items.append(_Path((("M", tx - r, cy + r), ("L", tx + r, cy - r)), CUT, 2.2))
    else:
        head = 7.0
        items.append(_Path(tuple(_curve([*pts[:-1], (tx, ty - head + 1)])), ARROW, 1.1))
        items.append(_Path(_arrowhead(tx, ty, head), ARROW, 0.0, fill=ARROW))
    attrs = {"class": "edge cut" if cut else "edge", "data-from": route.source}
    attrs["data-to"] = route.target
    tip = f"{route.source} → {route.target}" + (" (cut by the intervention)" if cut else "")
    return _Group(attrs, items, tip)


def _arrowhead(x: float, y: float, size: float) -> tuple[tuple, ...]:
    return (("M", x, y), ("L", x - size * 0.45, y - size), ("L", x + size * 0.45, y - size), ("Z",))


def _legend_items(view: GraphView) -> list[tuple[str, str]]:
    """(mark, explanation) pairs; observed, forced and cut always (their absence is news
    too), soft evidence and the scenario's numbers only when on the picture."""
    out = [
        ("bar", "probability of each state under this question"),
        ("observed", "observed (given): a finding, taken as fact"),
        ("forced", "forced (do): made to happen; its causes learn nothing from it"),
        ("cut", "arrow cut by an intervention"),
    ]
    if view.likelihood:
        out.append(("soft", "soft evidence: a likelihood on the node"))
    if view.own_numbers:
        out.append(("own", "the scenario replaced this node's numbers (set:)"))
    if any(n.word for n in view.nodes):
        name = SCALE_NAMES.get(view.scale, view.scale)
        out.append(("word", f"the {name} estimative word for a two-state node's outcome"))
    if view.focus is not None:
        out.append(("focus", "the node the picture is drawn around (--focus)"))
    if any(n.target for n in view.nodes):
        out.append(("target", "a target: an outcome the model or scenario file asks about"))
    if view.baseline is not None:
        out.append(
            ("baseline", f"the baseline '{view.baseline}': its probability, and the change from it")
        )
    return out


def _legend(view: GraphView, x0: float, y0: float, width: float) -> tuple[list[Any], float]:
    """The legend's shapes, flowed into rows no wider than ``width``; and its height."""
    items: list[Any] = []
    x, y = x0, y0
    row_h = 18.0
    for mark, text in _legend_items(view):
        shapes: list[Any]
        if mark == "bar":
            shapes, w = (
                [
                    _Rect(0, -BAR_H + 1, 40, BAR_H, TRACK),
                    _Rect(0, -BAR_H + 1, 26, BAR_H, BAR),
                ],
                40.0,
            )
        elif mark == "cut":
            shapes = [
                _Path((("M", 0, -4), ("L", 26, -4)), CUT, 1.5, (4.0, 3.0)),
                _Path((("M", 28, -8.5), ("L", 37, 0.5)), CUT, 2.2),
                _Path((("M", 28, 0.5), ("L", 37, -8.5)), CUT, 2.2),
            ]
            w = 36.0
        elif mark == "baseline":
            shapes = [
                _Rect(0, -BAR_H + 1, 40, BAR_H, TRACK),
                _Rect(0, -BAR_H + 1, 26, BAR_H, BAR),
                _Path((("M", 18, -BAR_H - 1), ("L", 18, 2)), BASE_TICK, 1.6),
                _Text(44, 0, "+8.0 pp", CHANGE_PX, style.INK, bold=True),
            ]
            w = 44 + text_width("+8.0 pp", CHANGE_PX, bold=True)
        elif mark == "word":
            sample = "yes: likely"
            shapes = [_Text(0, 0, sample, WORD_PX, style.SOFT_INK, italic=True)]
            w = text_width(sample, WORD_PX)
        else:
            tag = {
                "observed": TAGS[OBSERVED],
                "forced": TAGS[FORCED],
                "soft": TAGS[SOFT],
                "target": TARGET_TAG,
                "focus": FOCUS_TAG,
            }.get(mark, OWN_TAG)
            shapes, w = _tag(0, -9.0, tag), _tag_width(tag)
        full = w + 6 + text_width(text, LEGEND_PX)
        if x > x0 and x + full > x0 + width:
            x, y = x0, y + row_h
        items += [_moved(s, x, y) for s in shapes]
        items.append(_Text(x + w + 6, y, text, LEGEND_PX, style.SOFT_INK))
        x += full + 22
    return items, y - y0 + row_h


def _moved(shape: Any, dx: float, dy: float) -> Any:
    if isinstance(shape, _Rect):
        return _Rect(shape.x + dx, shape.y + dy, shape.w, shape.h, shape.fill, shape.stroke,
                     shape.lw, shape.rx, shape.dash)  # fmt: skip
    if isinstance(shape, _Text):
        return _Text(shape.x + dx, shape.y + dy, shape.text, shape.size, shape.colour,
                     shape.bold, shape.italic, shape.anchor)  # fmt: skip
    ops = tuple(
        (op[0], *[v + (dx if k % 2 == 0 else dy) for k, v in enumerate(op[1:])]) for op in shape.ops
    )
    return _Path(ops, shape.stroke, shape.lw, shape.dash, shape.fill)


def _findings_text(view: GraphView) -> list[str]:
    """The question, one line per kind of finding; observed and forced always, "none"
    included, so a reader knows nothing was forced when nothing was."""

    def join(d: Mapping[str, str]) -> str:
        return ", ".join(f"{k}={v}" for k, v in d.items()) or "none"

    lines = [f"observed (given): {join(view.given)}", f"forced (do): {join(view.do)}"]
    if view.likelihood:
        lines.append(f"soft evidence (likelihood): {', '.join(view.likelihood)}")
    if view.own_numbers:
        lines.append(f"the scenario's own numbers (set:): {', '.join(view.own_numbers)}")
    last = f"horizon: {view.horizon or 'not stated in the model'}"
    if view.given or view.likelihood:
        last += f"; P(findings) = {view.evidence_probability:.4g}"
    return [*lines, last]


def _focus_text(view: GraphView) -> str:
    """What a focus picture shows, and what it leaves out."""
    steps = "1 step" if view.depth == 1 else f"{view.depth} steps"
    shown = f"{len(view.nodes)} of {view.total} nodes"
    text = (
        f"Focus on {view.focus}: its causes and effects up to {steps} ({shown}; "
        "probabilities from the whole network)."
    )
    if view.left_out:
        names = ", ".join(view.left_out[:8])
        more = f" and {len(view.left_out) - 8} more" if len(view.left_out) > 8 else ""
        text += f" Left out: {names}{more}."
    return text


def _header(view: GraphView, width: float) -> tuple[list[Any], float]:
    """Title, the question (scenario and findings, with 'none' said), horizon, legend."""
    items: list[Any] = []
    y = MARGIN
    title = view.title if view.title == view.model else f"{view.title} ({view.model})"
    for line in wrap(title, width, TITLE_PX, bold=True):
        y += TITLE_PX + 4
        items.append(_Text(MARGIN, y, line, TITLE_PX, style.INK, bold=True))
    if view.scenario is not None:
        head = f"Scenario {view.scenario}" + (f": {view.description}" if view.description else "")
    elif not (view.given or view.do or view.likelihood):
        head = "Nothing observed, nothing forced: the model's own probabilities"
    else:
        head = "No scenario: the model file's numbers, with the findings below"
    lines = [(head, True)] + [(t, False) for t in _findings_text(view)]
    if view.baseline is not None:
        lines.append(
            (
                f"Changes against the baseline scenario '{view.baseline}': beside each "
                "percentage, in percentage points; the tick across each bar marks the "
                "baseline's probability.",
                False,
            )
        )
    if view.focus is not None:
        lines.append((_focus_text(view), False))
    for text, strong in lines:
        for k, line in enumerate(wrap(text, width, SUB_PX, bold=strong)):
            y += SUB_PX + 5 if k == 0 else SUB_PX + 3
            colour = style.INK if strong else style.SOFT_INK
            items.append(_Text(MARGIN, y, line, SUB_PX, colour, bold=strong))
    y += 22
    legend, h = _legend(view, MARGIN, y, width)
    items += legend
    return items, y + h - 4


def _scene(view: GraphView) -> _Scene:
    sizes = {n.id: _box_size(n) for n in view.nodes}
    lay = layout([n.id for n in view.nodes], view.edges, sizes)
    inner = max(lay.width, 640.0)
    head, head_h = _header(view, inner)
    dx = MARGIN + (inner - lay.width) / 2
    dy = head_h + 18
    cut = set(view.cut)
    groups = [_Group({"class": "header"}, head)]
    groups += [_edge_shapes(r, (r.source, r.target) in cut, dx, dy) for r in lay.routes]
    groups += [_node_shapes(n, lay.boxes[n.id], dx, dy) for n in view.nodes]
    return _Scene(round(inner + 2 * MARGIN), round(dy + lay.height + MARGIN), groups)


# ----------------------------------------------------------------------------- SVG


def _num(v: float) -> str:
    """A coordinate with at most two decimals and no trailing zeros (stable, small)."""
    text = f"{v:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _svg_item(item: Any) -> str:
    if isinstance(item, _Rect):
        out = (
            f'<rect x="{_num(item.x)}" y="{_num(item.y)}" width="{_num(item.w)}" '
            f'height="{_num(item.h)}" fill="{item.fill}"'
        )
        if item.rx:
            out += f' rx="{_num(item.rx)}"'
        if item.stroke:
            out += f' stroke="{item.stroke}" stroke-width="{_num(item.lw)}"'
        if item.dash:
            out += f' stroke-dasharray="{" ".join(_num(d) for d in item.dash)}"'
        return out + "/>"
    if isinstance(item, _Text):
        out = f'<text x="{_num(item.x)}" y="{_num(item.y)}" font-size="{_num(item.size)}"'
        if item.colour != style.INK:
            out += f' fill="{item.colour}"'
        if item.bold:
            out += ' font-weight="bold"'
        if item.italic:
            out += ' font-style="italic"'
        if item.anchor != "start":
            out += f' text-anchor="{item.anchor}"'
        return out + f">{xml_text(item.text)}</text>"
    d = " ".join(op[0] + " ".join(_num(v) for v in op[1:]) for op in item.ops)
    if item.fill:
        return f'<path d="{d}" fill="{item.fill}"/>'
    out = f'<path d="{d}" fill="none" stroke="{item.stroke}" stroke-width="{_num(item.lw)}"'
    if item.dash:
        out += f' stroke-dasharray="{" ".join(_num(v) for v in item.dash)}"'
    return out + "/>"


def render_svg(view: GraphView) -> str:
    """The picture as SVG text.

    Every node is a ``<g class="node" data-node="ID">`` (with ``data-finding`` =
    ``observed``, ``forced`` or ``likelihood`` and ``data-state`` when the question
    touched it), every arrow a ``<g class="edge">`` (``class="edge cut"`` when an
    intervention cut it) with ``data-from`` and ``data-to``; each has a ``<title>``
    tooltip. The same view gives the same text.
    """
    scene = _scene(view)
    w, h = scene.width, scene.height
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
        f'viewBox="0 0 {w} {h}" font-family={xml_attr(FONT)}>',
        f"<title>{xml_text(view.title)}</title>",
        f'<rect width="{w}" height="{h}" fill="#ffffff"/>',
    ]
    for g in scene.groups:
        attrs = "".join(f" {k}={xml_attr(v)}" for k, v in g.attrs.items())
        out.append(f"<g{attrs}>")
        if g.tooltip:
            out.append(f"<title>{xml_text(g.tooltip)}</title>")
        out += [_svg_item(item) for item in g.items]
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


# ----------------------------------------------------------------------------- PNG


def render_png(view: GraphView) -> bytes:
    """The same picture as :func:`render_svg`, drawn with matplotlib as a PNG.

    matplotlib is imported here only; the bytes come from
    :func:`riskchain.report.style.png_bytes` (no metadata: the same view gives the
    same bytes).
    """
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyBboxPatch, PathPatch
    from matplotlib.path import Path as MPath

    scene = _scene(view)
    pt = 72 / 100  # scene units are 1/100 inch; matplotlib sizes are in points
    codes = {"M": MPath.MOVETO, "L": MPath.LINETO}
    with style.context():
        # a network of hundreds of nodes would make a PNG of hundreds of megapixels
        scale = min(PNG_SCALE, math.sqrt(MAX_PNG_PIXELS / (scene.width * scene.height)))
        fig = Figure(figsize=(scene.width / 100, scene.height / 100), dpi=style.DPI * scale)
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_xlim(0, scene.width)
        ax.set_ylim(scene.height, 0)
        ax.set_axis_off()
        z = 0.0
        for g in scene.groups:
            for item in g.items:
                z += 0.001  # later shapes on top, as in the SVG
                if isinstance(item, _Rect):
                    ax.add_patch(
                        FancyBboxPatch(
                            (item.x, item.y),
                            item.w,
                            item.h,
                            boxstyle=f"round,pad=0,rounding_size={item.rx}"
                            if item.rx
                            else "square,pad=0",
                            facecolor=item.fill,
                            edgecolor=item.stroke or "none",
                            linewidth=item.lw * pt,
                            linestyle=_mpl_dash(item.dash, item.lw),
                            zorder=z,
                        )
                    )
                elif isinstance(item, _Text):
                    ax.text(
                        item.x,
                        item.y,
                        item.text,
                        fontsize=item.size * pt,
                        color=item.colour,
                        fontweight="bold" if item.bold else "normal",
                        fontstyle="italic" if item.italic else "normal",
                        ha={"start": "left", "middle": "center", "end": "right"}[item.anchor],
                        va="baseline",
                        zorder=z,
                        parse_math=False,
                    )
                else:
                    verts, kinds = [], []
                    for op in item.ops:
                        if op[0] == "C":
                            verts += [op[1:3], op[3:5], op[5:7]]
                            kinds += [MPath.CURVE4] * 3
                        elif op[0] == "Z":
                            verts.append(verts[0])
                            kinds.append(MPath.CLOSEPOLY)
                        else:
                            verts.append(op[1:3])
                            kinds.append(codes[op[0]])
                    ax.add_patch(
                        PathPatch(
                            MPath(verts, kinds),
                            facecolor=item.fill or "none",
                            edgecolor=item.stroke if item.lw else "none",
                            linewidth=item.lw * pt,
                            linestyle=_mpl_dash(item.dash, item.lw),
                            capstyle="butt",
                            zorder=z,
                        )
                    )
        return style.png_bytes(fig)


def _mpl_dash(dash: tuple[float, ...] | None, lw: float) -> Any:
    """An SVG dash pattern (scene units) as matplotlib's, which scales it by line width."""
    if not dash or not lw:
        return "solid"
    return (0, tuple(d / lw for d in dash))


# ----------------------------------------------------------------------------- DOT


def _dot_id(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _html(text: str) -> str:
    """Text for a Graphviz HTML-like label (XML: Graphviz parses it with expat)."""
    return xml_text(text)


def _dot_label(node: NodeView) -> str:
    lines = wrap(node.label, LABEL_W, LABEL_PX, bold=True)
    label = "<BR/>".join(_html(x) for x in lines)
    cells = [f'<TR><TD COLSPAN="3" ALIGN="LEFT" BALIGN="LEFT"><B>{label}</B></TD></TR>']
    sub = " · ".join([node.id] + [t for t in node.tags()])
    if node.finding in (OBSERVED, FORCED):
        sub += f" = {node.state}"
    changes = node.changes() or ("",) * len(node.states)
    cells.append(
        f'<TR><TD COLSPAN="3" ALIGN="LEFT"><FONT POINT-SIZE="8" COLOR="{style.QUIET_INK}">'
        f"{_html(sub)}</FONT></TD></TR>"
    )
    full = 60
    for s, p, change in zip(node.states, node.probs, changes):
        filled = round(full * p)
        bar = ""
        if filled:
            bar += f'<TD FIXEDSIZE="TRUE" WIDTH="{filled}" HEIGHT="8" BGCOLOR="{BAR}"></TD>'
        if full - filled:
            bar += (
                f'<TD FIXEDSIZE="TRUE" WIDTH="{full - filled}" HEIGHT="8" BGCOLOR="{TRACK}"></TD>'
            )
        cells.append(
            f'<TR><TD ALIGN="LEFT">{_html(s)}</TD><TD><TABLE BORDER="0" CELLBORDER="0" '
            f'CELLSPACING="0" CELLPADDING="0"><TR>{bar}</TR></TABLE></TD>'
            f'<TD ALIGN="RIGHT">{_html(pct(p))}'
            + (f" <B>{_html(change)}</B>" if change else "")
            + "</TD></TR>"
        )
    if node.word:
        cells.append(f'<TR><TD COLSPAN="3" ALIGN="LEFT"><I>{_html(node.word)}</I></TD></TR>')
    colour, fill, border = BOX_EDGE, "#ffffff", 1
    if node.finding == OBSERVED:
        colour, fill, border = style.INK, OBSERVED_FILL, 3
    elif node.finding == FORCED:
        colour, fill, border = CUT, FORCED_FILL, 3
    elif node.finding == SOFT:
        colour, border = style.INK, 2
    return (
        f'<<TABLE BORDER="{border}" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2" '
        f'COLOR="{colour}" BGCOLOR="{fill}" STYLE="ROUNDED">' + "".join(cells) + "</TABLE>>"
    )


def render_dot(view: GraphView) -> str:
    """The same graph as Graphviz DOT text (``dot -Tsvg``): HTML-like labels with a bar
    per state, observed and forced nodes marked, cut arrows dashed and labelled."""
    head = view.title if view.scenario is None else f"{view.title} — scenario {view.scenario}"
    extra = [_focus_text(view)] if view.focus is not None else []
    if view.baseline is not None:
        extra.append(f"changes in percentage points against the baseline '{view.baseline}'")
    sub = "<BR/>".join(_html(line) for line in [*_findings_text(view), *extra])
    out = [
        f"// riskchain graph of model {view.model}: causes above effects",
        f"digraph {_dot_id(view.model)} {{",
        f'  graph [rankdir=TB, labelloc=t, fontname="DejaVu Sans", nodesep=0.25, ranksep=0.45, '
        f'label=<<B>{_html(head)}</B><BR/><FONT POINT-SIZE="10">{sub}</FONT>>];',
        '  node [shape=plain, fontname="DejaVu Sans", fontsize=10];',
        f'  edge [color="{ARROW}", arrowsize=0.7];',
    ]
    for node in view.nodes:
        out.append(f"  {_dot_id(node.id)} [label={_dot_label(node)}];")
    cut = set(view.cut)
    for p, c in view.edges:
        attrs = ""
        if (p, c) in cut:
            attrs = (
                f' [style=dashed, color="{CUT}", arrowhead=tee, label="cut (do)", '
                f'fontcolor="{CUT}", fontsize=8]'
            )
        out.append(f"  {_dot_id(p)} -> {_dot_id(c)}{attrs};")
    out.append("}")
    return "\n".join(out) + "\n"


def render(view: GraphView, fmt: str) -> str | bytes:
    """The picture in ``fmt`` (``svg``, ``png`` or ``dot``).

    Raises
    ------
    ValueError
        For another format.
    """
    fmt = fmt.lower()
    if fmt == "svg":
        return render_svg(view)
    if fmt == "png":
        return render_png(view)
    if fmt == "dot":
        return render_dot(view)
    raise ValueError(f"graph format must be svg, png or dot, got {fmt!r}")
