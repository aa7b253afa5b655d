"""Other tools' network files: export and import of BIF, XMLBIF, Hugin NET, UAI and GeNIe XDSL.

Each format goes through pgmpy's writer and reader, with the fixes each needs
done here, before writing or after reading:

* **BIF** (``.bif``, ``.bif.gz``) and **XMLBIF** (``.xmlbif``, ``.xml``):
  pgmpy's writers, numbers written exactly (``repr``); no labels.
* **Hugin NET** (``.net``): node names must be identifiers, so ids such as
  ``a.b-c`` are written ``a_b_c`` with the original kept in a user attribute
  ``riskchain_id``; labels go to ``label``, a layered layout to ``position``.
  pgmpy's writer rounds numbers to 8 decimals. On import the file is read by
  riskchain (comments, quoted state names, attributes) and only the tables are
  handed to pgmpy's reader, whose grammar stops at spaces or parentheses in
  state names and at labels containing ``node``.
* **GeNIe XDSL** (``.xdsl``): node and state ids must be identifiers
  (``<5`` becomes ``lt5``); the originals are kept in the node's comment in
  GeNIe's ``<extensions>`` section (``riskchain names: {...}``), labels in
  its ``<name>``. pgmpy's writer leaves parents after children, places nodes
  at random and claims to be GeNIe; those are fixed. Numbers have 16 decimals.
* **UAI** (``.uai``): no names at all. pgmpy 1.1's UAI writer lists each table
  with the child's state varying slowest while the format (and every UAI
  solver) varies the last variable of the scope, the child, fastest, and its
  reader reads multi-parent tables with the parents swapped; so UAI is written
  and read here, to the format's specification.

Parametric tables (noisy-OR, noisy-MAX, ...) are written as their expanded
CPTs in every format. :func:`export_model` returns, with the file's content,
notes saying what the export had to change. pgmpy is imported only inside
functions.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import logging
import math
import re
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from riskchain.compile import CompiledModel
from riskchain.errors import Diagnostic, warn
from riskchain.io import bif
from riskchain.io.bif import Imported, ImportFailure
from riskchain.spec.parametric import KINDS

if TYPE_CHECKING:
    from riskchain.model import Model


@dataclass(frozen=True)
class Format:
    """A network file format riskchain exports and imports.

    Attributes
    ----------
    name : str
        Short name (``xdsl``), also accepted in place of a path.
    suffixes : tuple of str
        File name endings that select it.
    title : str
        What the format is called.
    tools : str
        Which tools read it.
    """

    name: str
    suffixes: tuple[str, ...]
    title: str
    tools: str


FORMATS: tuple[Format, ...] = (
    Format("bif", (".bif",), "BIF", "pgmpy, bnlearn, SamIam, Weka"),
    Format("bif.gz", (".bif.gz",), "BIF (gzip)", "pgmpy, bnlearn (after gunzip)"),
    Format(
        "xmlbif", (".xmlbif", ".bifxml", ".xml"), "XMLBIF 0.3", "pgmpy, JavaBayes, Weka, SamIam, aGrUM"
    ),
    Format("net", (".net",), "Hugin NET", "Hugin, GeNIe, SamIam, pgmpy"),
    Format("uai", (".uai",), "UAI", "UAI solvers (toulbar2, Merlin, ...), pgmpy"),
    Format("xdsl", (".xdsl",), "GeNIe XDSL", "GeNIe, SMILE, pgmpy"),
)

#: How the parametric table kinds of the model format are named in notes.
KIND_NAMES = {key: kind.labels[key] for key, kind in KINDS.items()}

NET_DECIMALS = 8  # pgmpy's NETWriter rounds to this many decimals
XDSL_DECIMALS = 16  # pgmpy's XDSLWriter prints this many decimals
_ULP = 1e-15  # changes below this are the last bit of a double, not worth a note


def suffix_list() -> str:
    """Every file ending riskchain reads and writes, for messages."""
    return ", ".join(s for f in FORMATS for s in f.suffixes)


def format_of(target: str | Path) -> Format | None:
    """The format a path's ending (or a format name such as ``xdsl``) selects, else None."""
    text = str(target).lower()
    for fmt in FORMATS:
        if text == fmt.name:
            return fmt
    name = Path(text).name
    # longest ending first, so that "x.bif.gz" is gzip BIF
    for fmt in sorted(FORMATS, key=lambda f: -max(len(s) for s in f.suffixes)):
        if any(name.endswith(s) and len(name) > len(s) for s in fmt.suffixes):
            return fmt
    return None


# ============================================================================= export


@dataclass
class _Facts:
    """What an export needs of a model besides its arrays."""

    compiled: CompiledModel
    title: str
    labels: dict[str, str]
    descriptions: dict[str, str]
    kinds: dict[str, str]


def _facts(model: Model | CompiledModel) -> _Facts:
    if isinstance(model, CompiledModel):
        return _Facts(model, model.id, {}, {}, {})
    from riskchain.report.safe import one_line, terminal_text

    spec = model.spec
    nodes = spec.nodes
    # display text only (names are data): no control character, which XML (GeNIe) does
    # not allow and a terminal showing a NET file would act on
    return _Facts(
        model.compiled,
        one_line(spec.title or spec.id),
        # one line each: NET strings and GeNIe names are shown on a node
        {
            n: " ".join(one_line(nodes[n].label).split())
            for n in nodes
            if nodes[n].label not in ("", n)
        },
        {
            n: terminal_text(nodes[n].description)
            for n in nodes
            if getattr(nodes[n], "description", None)
        },
        {n: nodes[n].table.kind for n in nodes},
    )


def export_model(model: Model | CompiledModel, target: str | Path) -> tuple[str | bytes, list[str]]:
    """A model written in another tool's format.

    Parameters
    ----------
    model : riskchain.Model or CompiledModel
        A loaded model (labels, descriptions and table kinds are used) or bare arrays.
    target : str or pathlib.Path
        A file name whose ending selects the format (see :data:`FORMATS`), or a
        format name (``bif``, ``bif.gz``, ``xmlbif``, ``net``, ``uai``, ``xdsl``).

    Returns
    -------
    (data, notes)
        ``data`` is the file's text, or bytes for ``bif.gz``; ``notes`` say what
        the export had to change: parametric tables expanded, names made
        identifiers, labels not kept, numbers rounded.

    Raises
    ------
    ValueError
        If ``target`` selects no format.
    """
    fmt = format_of(target)
    if fmt is None:
        raise ValueError(f"{target}: unknown network format; riskchain writes {suffix_list()}")
    facts = _facts(model)
    notes: list[str] = []
    parametric = [f"{n} ({KIND_NAMES[k]})" for n, k in facts.kinds.items() if k in KIND_NAMES]
    if parametric:
        notes.append("parametric tables written as full CPTs: " + ", ".join(parametric))
    with _quiet():
        if fmt.name in ("bif", "bif.gz"):
            text = _bif_text(facts, notes)
        elif fmt.name == "xmlbif":
            text = _xmlbif_text(facts, notes)
        elif fmt.name == "net":
            text = _net_text(facts, notes)
        elif fmt.name == "uai":
            text = _uai_text(facts, notes)
        else:
            text = _xdsl_text(facts, notes)
    if fmt.name == "bif.gz":
        return gzip.compress(text.encode("utf-8"), mtime=0), notes
    return text, notes


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """pgmpy's warnings (Python's and its logger's) silenced: the notes say what matters."""
    logger = logging.getLogger("pgmpy")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


# ----------------------------------------------------------------------------- names


_SYMBOLS = (("<=", "le"), (">=", "ge"), ("<", "lt"), (">", "gt"), ("=", "eq"), ("+", "plus"))


def identifier(name: str, taken: set[str], prefix: str = "n", words: bool = False) -> str:
    """``name`` as an identifier (a letter, then letters, digits, ``_``), unique in ``taken``.

    ``words`` spells comparison signs (``>=7.5`` becomes ``ge7_5``), for state names.
    The result is added to ``taken`` (which holds lower-cased identifiers).
    """
    text = name
    if words:
        for sign, word in _SYMBOLS:
            text = text.replace(sign, word)
        text = re.sub(r"(?<![A-Za-z0-9])-(?=\d)", "minus", text)
    text = re.sub(r"[^A-Za-z0-9_]+", "_", text)
    if words:
        text = text.strip("_")
    if not text[:1].isalpha():
        text = prefix + (text if words or text.startswith("_") else "_" + text)
    base, k = text, 2
    while text.lower() in taken:  # unique ignoring case: not every tool tells case apart
        text = f"{base}_{k}"
        k += 1
    taken.add(text.lower())
    return text


_STRICT = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")


def identifiers(names: Sequence[str], prefix: str = "n", words: bool = False) -> list[str]:
    """Each name as an identifier (see :func:`identifier`); names that already are one stay."""
    out: list[str | None] = [None] * len(names)
    taken: set[str] = set()
    for i, name in enumerate(names):
        if _STRICT.match(name) and name.lower() not in taken:
            out[i] = name
            taken.add(name.lower())
    return [o if o is not None else identifier(n, taken, prefix, words) for n, o in zip(names, out)]


def _node_ids(m: CompiledModel) -> list[str]:
    return identifiers(m.names)


def _renamed(m: CompiledModel, names: Sequence[str], states: Sequence[Sequence[str]]):
    return CompiledModel(m.id, tuple(names), tuple(tuple(s) for s in states), m.parents, m.cpts)


def _examples(pairs: list[tuple[str, str]], limit: int = 4) -> str:
    shown = ", ".join(f"{a} -> {b}" for a, b in pairs[:limit])
    return shown + (f" and {len(pairs) - limit} more" if len(pairs) > limit else "")


def _labels_note(facts: _Facts, fmt: str, notes: list[str]) -> None:
    if facts.labels:
        notes.append(f"node labels not kept ({fmt} has no place for them)")


# GeNIe draws a node as a bar chart: its name on top, then a row per state (GeNIe's own
# default, 128 x 64 px, holds a two-state node). Sizes in GeNIe's pixels.
CHART_TITLE_H = 28
CHART_ROW_H = 18
CHART_MIN_W, CHART_MAX_W = 128, 240
CHART_BAR_W = 100  # a state's bar and its percentage, right of the state's name
LAYOUT_MARGIN = 20


def chart_sizes(facts: _Facts) -> list[tuple[int, int]]:
    """Each node's GeNIe bar chart ``(width, height)``: tall enough for a row per state,
    wide enough for its name (within 128-240 px) and its longest state name."""
    from riskchain.report.graph import text_width

    m = facts.compiled
    out = []
    for name, states in zip(m.names, m.states):
        label = facts.labels.get(name, name)
        need = max(text_width(label, 11.0) + 12, max(text_width(s, 11.0) for s in states) + CHART_BAR_W)
        width = int(min(max(math.ceil(need), CHART_MIN_W), CHART_MAX_W))
        out.append((width, CHART_TITLE_H + CHART_ROW_H * len(states)))
    return out


def _layout(facts: _Facts) -> list[tuple[int, int, int, int]]:
    """Each node's box ``(x, y, width, height)``: the bar chart sizes of :func:`chart_sizes`
    placed by the layered layout ``riskchain graph`` draws with, causes above effects."""
    from riskchain.report.graph import layout

    m = facts.compiled
    sizes = chart_sizes(facts)
    edges = [(m.names[p], m.names[c]) for c, ps in enumerate(m.parents) for p in ps]
    boxes = layout(m.names, edges, dict(zip(m.names, sizes))).boxes
    return [
        (round(boxes[n].x) + LAYOUT_MARGIN, round(boxes[n].y) + LAYOUT_MARGIN, w, h)
        for n, (w, h) in zip(m.names, sizes)
    ]


def _pgmpy(m: CompiledModel):
    from riskchain.engine.pgmpy_bridge import to_pgmpy

    net = to_pgmpy(m)
    net.name = m.id
    return net


def _largest_change(m: CompiledModel, written) -> float:
    """The largest change of a number between the tables and their text in the file."""
    worst = 0.0
    for arr in m.cpts:
        worst = max(worst, float(np.max(np.abs(written(arr) - arr))) if arr.size else 0.0)
    return worst


# ----------------------------------------------------------------------------- writers


_BIF_UNSAFE = re.compile(r'[(){};,"]|//|/\*|^\s|\s$')


def _bif_text(facts: _Facts, notes: list[str]) -> str:
    from pgmpy.readwrite import BIFWriter

    m = facts.compiled
    states = []
    changed: list[tuple[str, str]] = []
    for i, ss in enumerate(m.states):
        # BIF delimits names with these: "(a)" in a row key would end the key
        taken = {x.lower() for x in ss if not _BIF_UNSAFE.search(x)}
        new = []
        for state in ss:
            if _BIF_UNSAFE.search(state):
                base = text = _BIF_UNSAFE.sub("_", state)
                k = 2
                while text.lower() in taken:
                    text, k = f"{base}_{k}", k + 1
                taken.add(text.lower())
                changed.append((f"{m.names[i]}={state}", text))
                state = text
            new.append(state)
        states.append(new)
    if changed:
        notes.append(
            "state names BIF cannot hold were changed (originals lost): " + _examples(changed)
        )
    _labels_note(facts, "BIF", notes)
    return str(BIFWriter(_pgmpy(_renamed(m, m.names, states))))


def _xmlbif_text(facts: _Facts, notes: list[str]) -> str:
    from pgmpy.readwrite import XMLBIFWriter

    _labels_note(facts, "XMLBIF", notes)
    m = facts.compiled
    writer = XMLBIFWriter(_pgmpy(m))
    # pgmpy turns each state name into an identifier ("<7.5" and ">=7.5" both become
    # "_7_5"); XMLBIF's OUTCOME is free text, so the names are put back as they are
    for variable in writer.xml.iter("VARIABLE"):
        name = variable.findtext("NAME")
        outcomes = variable.findall("OUTCOME")
        for outcome, state in zip(outcomes, m.states[m.index[str(name)]]):
            outcome.text = state
    return str(writer)


def _hugin_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _net_text(facts: _Facts, notes: list[str]) -> str:
    from pgmpy.readwrite import NETWriter

    m = facts.compiled
    ids = _node_ids(m)
    renamed = [(n, i) for n, i in zip(m.names, ids) if n != i]
    if renamed:
        notes.append(
            "node ids made Hugin identifiers: "
            + _examples(renamed)
            + " (each original kept in the node's riskchain_id attribute)"
        )
    # pgmpy writes state names between quotes as they are: escape them for Hugin
    states = [[_hugin_string(s)[1:-1] for s in ss] for ss in m.states]
    net = _pgmpy(_renamed(m, ids, states))
    for i, (x, y, w, h) in enumerate(_layout(facts)):
        # pgmpy writes each node attribute as "key = value;"; Hugin's position is the centre
        attrs = net.nodes[ids[i]]
        attrs["label"] = _hugin_string(facts.labels.get(m.names[i], m.names[i]))
        attrs["position"] = f"({x + w // 2} {y + h // 2})"
        if ids[i] != m.names[i]:
            attrs["riskchain_id"] = _hugin_string(m.names[i])
    worst = _largest_change(m, lambda a: np.round(a, NET_DECIMALS))
    if worst > _ULP:
        notes.append(f"numbers rounded to {NET_DECIMALS} decimals (largest change {worst:.2g})")
    return str(NETWriter(net))


def _uai_text(facts: _Facts, notes: list[str]) -> str:
    m = facts.compiled
    notes.append(
        f"UAI keeps no names: nodes are numbered 0-{len(m) - 1} in the model's order "
        "and states 0, 1, ... in each node's order; labels not kept"
    )
    lines = ["BAYES", str(len(m)), " ".join(str(c) for c in m.cards), str(len(m))]
    # each table's scope lists the parents, then the child (the format requires it last)
    lines += [" ".join(str(v) for v in (len(ps) + 1, *ps, i)) for i, ps in enumerate(m.parents)]
    lines.append("")
    for arr in m.cpts:
        # riskchain's arrays are (parents..., child): C order varies the child fastest,
        # which is the format's order (the last variable of the scope varies fastest)
        lines.append(str(arr.size))
        lines.append(" ".join(repr(float(x)) for x in arr.ravel()))
    return "\n".join(lines) + "\n"


def _xdsl_text(facts: _Facts, notes: list[str]) -> str:
    import xml.etree.ElementTree as ET

    from pgmpy.readwrite import XDSLWriter

    from riskchain._version import __version__

    m = facts.compiled
    ids = _node_ids(m)
    state_ids = []
    renamed_states: list[tuple[str, str]] = []
    for i, ss in enumerate(m.states):
        new = identifiers(ss, prefix="s", words=True)
        renamed_states += [(f"{m.names[i]}={a}", b) for a, b in zip(ss, new) if a != b]
        state_ids.append(new)
    renamed = [(n, i) for n, i in zip(m.names, ids) if n != i]
    if renamed:
        notes.append("node ids made GeNIe identifiers: " + _examples(renamed))
    if renamed_states:
        notes.append("state names made GeNIe identifiers: " + _examples(renamed_states))
    if renamed or renamed_states:
        notes.append("original names kept in each renamed node's GeNIe comment")
    network_id = identifier(m.id, set(), prefix="net")
    writer = XDSLWriter(_pgmpy(_renamed(m, ids, state_ids)), network_id=network_id)
    root = writer.root
    # SMILE reads a node's parents before the node: write the nodes in topological order
    order = m.topological_order()
    nodes = root.find("nodes")
    assert nodes is not None
    by_id = {el.get("id"): el for el in nodes}
    for el in list(nodes):
        nodes.remove(el)
    for v in order:
        nodes.append(by_id[ids[v]])
    genie = root.find("extensions/genie")
    assert genie is not None
    genie.set("app", f"riskchain {__version__}")
    genie.set("name", facts.title)
    gnodes = {el.get("id"): el for el in genie.findall("node")}
    for el in gnodes.values():
        genie.remove(el)
    layout = _layout(facts)
    for v in order:
        el = gnodes[ids[v]]
        name = m.names[v]
        el.find("name").text = facts.labels.get(name, name)  # type: ignore[union-attr]
        x, y, w, h = layout[v]
        # the box and the bar chart GeNIe shows in it: the same rectangle
        el.find("position").text = f"{x} {y} {x + w} {y + h}"  # type: ignore[union-attr]
        chart = el.find("barchart")
        if chart is not None:
            chart.set("width", str(w))
            chart.set("height", str(h))
        comment = [facts.descriptions.get(name, "").strip()]
        original: dict[str, Any] = {}
        if ids[v] != name:
            original["id"] = name
        if list(m.states[v]) != state_ids[v]:
            original["states"] = list(m.states[v])
        if original:
            comment.append("riskchain names: " + json.dumps(original, ensure_ascii=False))
        text = "\n\n".join(c for c in comment if c)
        if text:
            position = list(el).index(el.find("position")) + 1  # type: ignore[arg-type]
            el.insert(position, ET.Element("comment"))
            el[position].text = text
        genie.append(el)
    worst = _largest_change(m, lambda a: np.vectorize(lambda x: float(f"{x:.16f}"))(a))
    if worst > _ULP:
        notes.append(f"numbers written with {XDSL_DECIMALS} decimals (largest change {worst:.2g})")
    ET.indent(root, space="    ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


# ============================================================================= import


@dataclass
class ImportResult:
    """An imported network: the model file text, the model compiled from it, and notes."""

    text: str
    model: CompiledModel
    notes: list[str]
    fmt: Format


def import_file(path: str | Path) -> ImportResult:
    """Read a network file of any format in :data:`FORMATS` and write it as a model file.

    The text is validated by reading it back, and its tables are checked to
    equal the ones read from the file, before it is returned.

    Raises
    ------
    ImportFailure
        If the file type is unknown, the file cannot be read, or it holds what a
        model file cannot (decision nodes, a Markov network, ...).
    """
    fmt = format_of(Path(path).name)
    if fmt is None:
        raise ImportFailure(
            f"cannot import this file type; riskchain imports {suffix_list()}", path=str(path)
        )
    imp = read_network(path)
    note = bif.sum_warning(imp)
    imp.warnings += [note] if note else []
    text = bif.to_yaml(imp)
    for message in imp.warnings:  # the CLI prints each, once
        warn(Diagnostic(str(path), 0, 0, message, severity="warning"))
    return ImportResult(text, bif.checked(text, imp, path), imp.notes, fmt)


def import_network(path: str | Path) -> tuple[str, CompiledModel]:
    """``(model file text, compiled model)`` of a network file of any format (see :func:`import_file`)."""
    result = import_file(path)
    return result.text, result.model


def read_network(path: str | Path) -> Imported:
    """Read a network file of any format in :data:`FORMATS`, as :func:`riskchain.io.bif.read_bif` does.

    Raises
    ------
    ImportFailure
        As :func:`import_file`.
    """
    p = Path(path)
    fmt = format_of(p.name)
    where = str(path)
    if fmt is None:
        raise ImportFailure(
            f"cannot import this file type; riskchain imports {suffix_list()}", path=where
        )
    if fmt.name in ("bif", "bif.gz"):
        return bif.read_bif(p)
    from riskchain.io.files import read_input

    data = read_input(p, where)  # a regular file only (never a FIFO), size-capped
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ImportFailure(
            f"not UTF-8 text ({exc.reason} at byte {exc.start})", path=where
        ) from None
    stem = p.name[: -len(next(s for s in fmt.suffixes if p.name.lower().endswith(s)))]
    model_id = re.sub(r"[^A-Za-z0-9_.\-]", "_", stem) or "network"
    readers = {"xmlbif": _read_xmlbif, "net": _read_net, "uai": _read_uai, "xdsl": _read_xdsl}
    with _quiet():
        return _cleaned(readers[fmt.name](text, where, model_id), where)


_MODEL_NODE_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*\Z")  # the model format's rule


def _cleaned(imp: Imported, where: str) -> Imported:
    """``imp`` with names a model file cannot hold changed (node ids, states with ``,`` or ``|``).

    A renamed node keeps its name as its label when the file gave none.
    """
    m = imp.model
    taken = {n for n in m.names if _MODEL_NODE_ID.match(n)}
    ids = []
    for n in m.names:
        if _MODEL_NODE_ID.match(n):
            ids.append(n)
            continue
        base = text = re.sub(r"[^A-Za-z0-9_.\-]+", "_", n)
        text = base = text if _MODEL_NODE_ID.match(text) else "_" + text
        k = 2
        while text in taken:
            text, k = f"{base}_{k}", k + 1
        taken.add(text)
        ids.append(text)
    states = []
    changed: list[tuple[str, str]] = []
    for i, ss in enumerate(m.states):
        new = [s.replace(",", ";").replace("|", "/") if s != "*" else "any" for s in ss]
        new = [n if n.strip() else f"s{k}" for k, n in enumerate(new)]
        if len(set(new)) < len(new):
            new = [f"{n}_{k}" for k, n in enumerate(new)]
        changed += [(f"{ids[i]}={a}", b) for a, b in zip(ss, new) if a != b]
        states.append(new)
    renamed = [(a, b) for a, b in zip(m.names, ids) if a != b]
    if not renamed and not changed:
        return imp
    notes = list(imp.notes)
    if renamed:
        notes.append("node ids a model file cannot hold were changed: " + _examples(renamed))
    if changed:
        notes.append("state names with ',' or '|' were changed: " + _examples(changed))
    new_id = dict(zip(m.names, ids))
    labels = {new_id[n]: label for n, label in imp.labels.items()}
    for old, new in renamed:
        labels.setdefault(new, old)
    raw = {new_id[n]: imp.raw[n] for n in m.names}
    parents = {ids[i]: [ids[q] for q in ps] for i, ps in enumerate(m.parents)}
    model = _build(where, m.id, ids, dict(zip(ids, states)), parents, raw)
    return Imported(model, raw, imp.source, labels, imp.fmt, imp.reader, notes)


def _line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _build(
    where: str,
    model_id: str,
    names: list[str],
    states: dict[str, list[str]],
    parents: dict[str, list[str]],
    raw: dict[str, np.ndarray],
) -> CompiledModel:
    try:
        return CompiledModel.from_tables(model_id, names, [states[n] for n in names], parents, raw)
    except (ValueError, KeyError) as exc:
        raise ImportFailure(str(exc), path=where) from None


def _tables(net, names: list[str]):
    """States, parents and tables (axes: parents..., node) of a pgmpy network."""
    cpds = {str(c.variable): c for c in net.get_cpds()}
    states: dict[str, list[str]] = {}
    parents: dict[str, list[str]] = {}
    raw: dict[str, np.ndarray] = {}
    for n in names:
        cpd = cpds[n]
        states[n] = [str(s) for s in cpd.state_names[cpd.variables[0]]]
        parents[n] = [str(v) for v in cpd.variables[1:]]
        values = np.asarray(cpd.get_values(), dtype=np.float64)
        shape = [len(cpd.state_names[v]) for v in cpd.variables[1:]]
        raw[n] = np.moveaxis(values.reshape([values.shape[0], *shape]), 0, -1)
    return states, parents, raw


def _rename(
    names: list[str],
    states: dict[str, list[str]],
    parents: dict[str, list[str]],
    raw: dict[str, np.ndarray],
    new_names: dict[str, str],
    new_states: dict[str, list[str]],
):
    """The network with some nodes and states renamed (keys are the names in the file)."""
    ids = {n: new_names.get(n, n) for n in names}
    return (
        [ids[n] for n in names],
        {ids[n]: new_states.get(n, states[n]) for n in names},
        {ids[n]: [ids[p] for p in parents[n]] for n in names},
        {ids[n]: raw[n] for n in names},
    )


def _restorable(names: list[str], new_names: dict[str, str]) -> bool:
    final = [new_names.get(n, n) for n in names]
    return len(set(final)) == len(final)


# ----------------------------------------------------------------------------- XMLBIF


def _parse_xml(text: str, where: str):
    import xml.etree.ElementTree as ET

    try:
        return ET.fromstring(text)
    except ET.ParseError as exc:
        line, col = exc.position
        message = re.sub(r": line \d+, column \d+$", "", str(exc))
        raise ImportFailure(
            f"not well-formed XML: {message}", path=where, line=line, col=col + 1
        ) from None


def _read_xmlbif(text: str, where: str, model_id: str) -> Imported:
    from pgmpy.readwrite import XMLBIFReader

    root = _parse_xml(text, where)
    if root.find("NETWORK/VARIABLE") is None:
        raise ImportFailure("no variables found; is it an XMLBIF file?", path=where)
    try:
        net = XMLBIFReader(string=text).get_model()
    except Exception as exc:  # pgmpy raises assorted errors on bad input
        raise ImportFailure(f"pgmpy could not read it as XMLBIF: {exc}", path=where) from None
    names = [str(n) for n in net.nodes()]
    states, parents, raw = _tables(net, names)
    model = _build(where, model_id, names, states, parents, raw)
    return Imported(model, raw, Path(where).name, fmt="XMLBIF", reader="pgmpy's XMLBIFReader")


# ----------------------------------------------------------------------------- Hugin NET

_NET_MASK = re.compile(r'"(?:[^"\\]|\\.)*"|%[^\n]*', re.S)
_NET_NODE = re.compile(
    r"\b(?:(discrete|continuous)\s+)?(node|decision|utility)\s+([A-Za-z_][A-Za-z0-9_]*)\s*\{([^{}]*)\}"
)
_NET_ATTR = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*=\s*([^;]*);")
_NET_POTENTIAL = re.compile(r"\bpotential\s*\(([^()]*)\)\s*\{([^{}]*)\}")
_NET_DATA = re.compile(r"\bdata\s*=\s*([^;]*);")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def _hugin_unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text[1:-1], flags=re.S)


def _read_net(text: str, where: str, model_id: str) -> Imported:

    # Mask strings (kept by offset) and comments, keeping every offset for positions.
    strings: dict[int, str] = {}

    def mask(match: re.Match) -> str:
        token = match.group(0)
        if token.startswith("%"):
            return " " * len(token)
        strings[match.start()] = _hugin_unquote(token)
        return '"' + re.sub(r"[^\n]", "x", token[1:-1]) + '"'

    masked = _NET_MASK.sub(mask, text)

    def strings_in(start: int, end: int) -> list[str]:
        return [s for k, s in sorted(strings.items()) if start <= k < end]

    def fail(message: str, offset: int) -> ImportFailure:
        line, col = _line_col(text, offset)
        return ImportFailure(message, path=where, line=line, col=col)

    names: list[str] = []
    states: dict[str, list[str]] = {}
    labels: dict[str, str] = {}
    original: dict[str, str] = {}
    for match in _NET_NODE.finditer(masked):
        kind = match.group(1) or match.group(2)
        name = match.group(3)
        if kind != "node" and kind != "discrete":
            raise fail(
                f"node '{name}' is a {kind} node; riskchain imports discrete chance nodes only",
                match.start(),
            )
        body_at = match.start(4)
        for attr in _NET_ATTR.finditer(match.group(4)):
            key, at = attr.group(1), body_at + attr.start(2)
            values = strings_in(at, body_at + attr.end(2))
            if key == "states":
                # quoted as Hugin writes them, or bare words as pyAgrum does: (yes no )
                bare = attr.group(2).strip()
                states[name] = values or re.findall(r"[^\s()]+", bare)
            elif key == "label" and values:
                labels[name] = values[0]
            elif key == "riskchain_id" and values:
                original[name] = values[0]
        if name not in states:
            raise fail(f"node '{name}' has no states", match.start())
        if len(states[name]) < 2 or len(set(states[name])) < len(states[name]):
            raise fail(f"node '{name}' needs two or more distinct states", match.start())
        if name in names:
            raise fail(f"node '{name}' is defined twice", match.start())
        names.append(name)
    if not names:
        raise ImportFailure("no nodes found; is it a Hugin NET file?", path=where)
    potentials: dict[str, tuple[list[str], list[str]]] = {}
    for match in _NET_POTENTIAL.finditer(masked):
        head = match.group(1).replace("|", " | ").split()
        child, given = head[0], [h for h in head[1:] if h != "|"]
        if missing := [h for h in [child, *given] if h not in states]:
            raise fail(f"the potential names '{missing[0]}', which is not a node", match.start())
        if child in potentials:
            raise fail(f"'{child}' has a second potential", match.start())
        data = _NET_DATA.search(match.group(2))
        if data is None:
            raise fail(f"the potential of '{child}' has no data", match.start())
        numbers = re.findall(r"[-+0-9.eE]+", data.group(1))
        expected = len(states[child]) * int(np.prod([len(states[g]) for g in given]))
        if len(numbers) != expected:
            raise fail(
                f"the potential of '{child}' has {len(numbers)} numbers, expected {expected}",
                match.start(2) + data.start(1),
            )
        potentials[child] = (given, numbers)
    if missing_tables := [n for n in names if n not in potentials]:
        raise ImportFailure(f"node '{missing_tables[0]}' has no potential", path=where)
    parents: dict[str, list[str]] = {}
    raw: dict[str, np.ndarray] = {}
    for child in names:
        parents[child], raw[child] = _net_table(child, *potentials[child], states, where)
    notes: list[str] = []
    if original and not _restorable(names, original):
        notes.append("riskchain_id attributes ignored: they name two nodes alike")
        original = {}
    elif original:
        notes.append(f"node ids restored from riskchain_id attributes ({len(original)} nodes)")
    final_names, final_states, final_parents, final_raw = _rename(
        names, states, parents, raw, original, {}
    )
    model = _build(where, model_id, final_names, final_states, final_parents, final_raw)
    return Imported(
        model,
        final_raw,
        Path(where).name,
        labels={original.get(n, n): label for n, label in labels.items()},
        fmt="Hugin NET",
        reader="pgmpy's NETReader",
        notes=notes,
    )


def _net_table(
    child: str, given: list[str], numbers: list[str], states: dict[str, list[str]], where: str
) -> tuple[list[str], np.ndarray]:
    """One node's table read by pgmpy's NETReader from a network of just that potential.

    pgmpy's NET grammar stops at spaces, commas and parentheses in state names
    and takes "node x" inside a label for a node, and it rescans the whole text
    for every node (quadratic in the file's size): so it is handed each table
    alone, with plain state names.
    """
    from pgmpy.readwrite import NETReader

    parts = ["net {\n}\n"]
    for n in dict.fromkeys([child, *given]):
        placeholders = " ".join(f'"s{k}"' for k in range(len(states[n])))
        parts.append(f"node {n}{{\n    states = ({placeholders});\n}}\n")
    bar = " | " + " ".join(given) if given else " |"
    parts.append(f"potential ({child}{bar}){{\n data = ({' '.join(numbers)});\n}}\n")
    try:
        net = NETReader(string="".join(parts)).get_model()
    except Exception as exc:  # pgmpy raises assorted errors on bad input
        raise ImportFailure(
            f"pgmpy could not read the potential of '{child}': {exc}", path=where
        ) from None
    _, parents, raw = _tables(net, [child])
    return parents[child], raw[child]


# ----------------------------------------------------------------------------- UAI


def _read_uai(text: str, where: str, model_id: str) -> Imported:
    # UAI is whitespace-separated numbers after a type word; "c" lines are comments (UAI
    # 2016), and pyAgrum ends scope lines with "# name" comments
    bare = re.sub(r"(?m)^[ \t]*c\b[^\n]*|#[^\n]*", lambda m: " " * len(m.group(0)), text)
    tokens = list(re.finditer(r"\S+", bare))
    pos = 0

    def fail(message: str, index: int | None = None) -> ImportFailure:
        at = tokens[min(pos if index is None else index, len(tokens) - 1)].start() if tokens else 0
        line, col = _line_col(text, at)
        return ImportFailure(message, path=where, line=line, col=col)

    def take(what: str, kind: type = int) -> Any:
        nonlocal pos
        if pos >= len(tokens):
            raise ImportFailure(f"the file ends where {what} should be", path=where)
        word = tokens[pos].group(0)
        try:
            value = kind(word)
        except ValueError:
            raise fail(f"expected {what}, found '{word}'") from None
        if (kind is int and value < 0) or (kind is float and not np.isfinite(value)):
            raise fail(f"expected {what}, found '{word}'")
        pos += 1
        return value

    kind = take("the network type", str)
    if kind.upper() == "MARKOV":
        raise fail("a Markov network (MARKOV); riskchain imports Bayesian networks (BAYES)", 0)
    if kind.upper() != "BAYES":
        raise fail(f"expected BAYES as the first word, found '{kind}'", 0)
    n = take("the number of variables")
    if n < 1:
        raise fail("no variables")
    cards = [take(f"the domain size of variable {i}") for i in range(n)]
    for i, c in enumerate(cards):
        if c < 2:
            raise fail(f"variable {i} has {c} states; riskchain needs two or more", 2 + i)
    count = take("the number of functions")
    if count != n:
        raise fail(f"{count} functions for {n} variables; a Bayesian network has one per variable")
    scopes: list[list[int]] = []
    for f in range(count):
        size = take(f"the scope size of function {f}")
        start = pos
        scope = [take(f"a variable of function {f}'s scope") for _ in range(size)]
        if size < 1 or any(v >= n for v in scope) or len(set(scope)) < size:
            raise fail(f"function {f} has a bad scope {scope}", start)
        scopes.append(scope)
    child_of = [s[-1] for s in scopes]
    if sorted(child_of) != list(range(n)):
        raise fail("each variable must be the last of exactly one function's scope (its CPT)")
    names = [f"v{i}" for i in range(n)]
    states = {names[i]: [f"s{k}" for k in range(c)] for i, c in enumerate(cards)}
    parents: dict[str, list[str]] = {}
    raw: dict[str, np.ndarray] = {}
    for f, scope in enumerate(scopes):
        start = pos
        size = take(f"the table size of function {f}")
        shape = [cards[v] for v in scope]
        if size != int(np.prod(shape)):
            raise fail(
                f"function {f} has {size} entries, its scope needs {int(np.prod(shape))}", start
            )
        values = np.array([take(f"entry {k} of function {f}", float) for k in range(size)])
        # the last variable of the scope (the child) varies fastest: C order
        child = names[scope[-1]]
        parents[child] = [names[v] for v in scope[:-1]]
        raw[child] = values.reshape(shape)
    if pos < len(tokens):
        raise fail(f"unexpected '{tokens[pos].group(0)}' after the last table")
    model = _build(where, model_id, names, states, parents, raw)
    note = f"UAI has no names: nodes named v0-v{n - 1} and states s0, s1, ... in the file's order"
    return Imported(
        model, raw, Path(where).name, fmt="UAI", reader="riskchain's UAI reader", notes=[note]
    )


# ----------------------------------------------------------------------------- XDSL

_NAMES_LINE = re.compile(r"riskchain names: (\{.*\})\s*$", re.M)


def _read_xdsl(text: str, where: str, model_id: str) -> Imported:
    import xml.etree.ElementTree as ET

    from pgmpy.readwrite import XDSLReader

    root = _parse_xml(text, where)
    nodes = root.find("nodes")
    if root.tag != "smile" or nodes is None:
        raise ImportFailure("not a GeNIe XDSL file (no <smile> with <nodes>)", path=where)
    for el in nodes:
        if el.tag != "cpt":
            raise ImportFailure(
                f"node '{el.get('id')}' is a <{el.tag}> node; pgmpy reads only <cpt> nodes: "
                "in GeNIe, change its type to a general chance node (CPT) and save again",
                path=where,
            )
        probs = el.find("probabilities")
        if probs is None or not (probs.text or "").strip():
            raise ImportFailure(f"node '{el.get('id')}' has no probabilities", path=where)
        # pgmpy splits on single spaces: GeNIe and hand-written files may wrap lines
        probs.text = " ".join(probs.text.split())  # type: ignore[union-attr]
        parents = el.find("parents")
        if parents is not None:
            parents.text = " ".join((parents.text or "").split())
    names = [str(el.get("id")) for el in nodes]
    if not names:
        raise ImportFailure("no nodes found; is it a GeNIe XDSL file?", path=where)
    try:
        net = XDSLReader(string=ET.tostring(root, "unicode")).get_model()
    except Exception as exc:  # pgmpy raises assorted errors on bad input
        raise ImportFailure(f"pgmpy could not read it as XDSL: {exc}", path=where) from None
    states, parents_of, raw = _tables(net, names)
    labels: dict[str, str] = {}
    new_names: dict[str, str] = {}
    new_states: dict[str, list[str]] = {}
    ignored: list[str] = []
    for el in root.iter("node"):  # GeNIe's drawing, <extensions><genie> (and its submodels)
        nid = el.get("id")
        if nid not in states:
            continue
        name_el = el.find("name")
        if name_el is not None and (name_el.text or "").strip():
            labels[nid] = name_el.text.strip()  # type: ignore[union-attr]
        comment = el.find("comment")
        found = _NAMES_LINE.search(comment.text or "") if comment is not None else None
        if found is None:
            continue
        try:
            original = json.loads(found.group(1))
            if "id" in original:
                assert isinstance(original["id"], str) and original["id"]
                new_names[nid] = original["id"]
            if "states" in original:
                ss = original["states"]
                assert isinstance(ss, list) and all(isinstance(s, str) for s in ss)
                assert len(ss) == len(states[nid]) == len(set(ss))
                new_states[nid] = ss
        except (ValueError, AssertionError):
            ignored.append(nid)
    notes: list[str] = []
    if ignored:
        notes.append(
            "names in GeNIe comments ignored (not as riskchain writes them): " + ", ".join(ignored)
        )
    if new_names and not _restorable(names, new_names):
        notes.append("node names in GeNIe comments ignored: they name two nodes alike")
        new_names = {}
    if new_names or new_states:
        notes.append(
            f"names restored from GeNIe comments ({len(new_names)} node ids, "
            f"{len(new_states)} nodes' states)"
        )
    final_names, final_states, final_parents, final_raw = _rename(
        names, states, parents_of, raw, new_names, new_states
    )
    model = _build(where, model_id, final_names, final_states, final_parents, final_raw)
    return Imported(
        model,
        final_raw,
        Path(where).name,
        labels={new_names.get(n, n): label for n, label in labels.items()},
        fmt="GeNIe XDSL",
        reader="pgmpy's XDSLReader",
        notes=notes,
        warnings=_agrum_warning(root, text, final_parents),
    )


_AGRUM = re.compile(r"\b(?:py)?agrum\b[ \t]*([0-9][0-9.]*)?", re.I)


def _agrum_warning(root: Any, text: str, parents: dict[str, list[str]]) -> list[str]:
    """A warning when the file says aGrUM wrote it (``<genie app="aGrUM 3.3.1">`` or
    pyAgrum's opening comment) and a node has two or more parents: aGrUM 3.3 writes
    XDSL tables with the parents in reverse order (the first varying fastest, where
    the format varies the last fastest), so those tables come in scrambled."""
    genie = root.find("extensions/genie")
    app = genie.get("app", "") if genie is not None else ""
    found = _AGRUM.search(app) or _AGRUM.search(text[:2000])
    several = [n for n, ps in parents.items() if len(ps) > 1]
    if found is None or not several:
        return []
    version = f" {found.group(1)}" if found.group(1) else ""
    shown = ", ".join(several[:4]) + (f" and {len(several) - 4} more" if len(several) > 4 else "")
    return [
        f"the file says it was written by aGrUM{version}, which writes XDSL tables with the "
        "parents in reverse order (the first parent varying fastest, where the format varies "
        f"the last fastest): the tables of {shown} are probably scrambled; import a .bif or "
        ".net written by aGrUM instead, which keep the order (see docs/formats.md)"
    ]
