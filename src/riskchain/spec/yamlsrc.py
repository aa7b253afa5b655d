"""YAML text -> a small tree of located nodes.

Model files are read with ruamel.yaml's parser (its C parser when installed)
but composed here, because riskchain needs things the stock composer does not
give together: every duplicate key reported (not only the first), YAML 1.2
scalars (``yes`` and ``0`` stay text until a field asks for a number), a line
and column on every node, and a hard cap on alias expansion so a "billion
laughs" file is refused instead of exhausting memory.
"""

from __future__ import annotations

import gc
import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from riskchain.errors import Diagnostic, SpecError

# Alias expansion cap: a file may reuse anchors, but the expanded tree may not
# exceed this many nodes beyond ten times the nodes actually written, nor this many
# characters of text beyond ten times the file's length (one long anchor used as a
# thousand labels is few nodes but a thousand copies of its text in every output).
_EXPANSION_SLACK = 100_000
_EXPANSION_FACTOR = 10
_EXPANSION_CHARS_SLACK = 1 << 20

# Collections nested deeper than this are refused as soon as the one too deep opens:
# a model file needs about eight levels, and the parser slows down with depth.
MAX_DEPTH = 100

BLOCK_SCALAR_HINT = (
    "'>' and '|' at the start of a value begin a block of text in YAML; "
    "quote values that start with them, e.g. '>=7.5'"
)

_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_INT = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)


@dataclass(eq=False, slots=True)
class YNode:
    """One YAML node with its position.

    ``kind`` is ``"map"``, ``"seq"`` or ``"scalar"``. For a map, ``items`` is
    the ordered list of ``(key, value)`` node pairs (duplicates already removed
    and reported); for a sequence, ``items`` is the list of nodes; for a scalar,
    ``text`` is the raw text and ``style`` is ``""`` (plain) or the quote
    character. ``flow`` is true when the node was written inside ``{...}`` or
    ``[...]``. ``start`` and ``end`` are character offsets into the parsed text:
    ``text[start:end]`` is the node as written (with its anchor or tag, quotes
    and brackets); an alias yields its anchor's node, offsets included.
    """

    kind: str
    line: int
    col: int
    text: str = ""
    style: str = ""
    items: list = field(default_factory=list)
    flow: bool = False
    tag: str | None = None
    size: int = 1  # nodes in the fully expanded subtree (aliases counted in full)
    start: int = -1
    end: int = -1
    chars: int = 0  # characters of scalar text in the fully expanded subtree

    # -- scalars -------------------------------------------------------------
    @property
    def is_scalar(self) -> bool:
        return self.kind == "scalar"

    @property
    def is_map(self) -> bool:
        return self.kind == "map"

    @property
    def is_seq(self) -> bool:
        return self.kind == "seq"

    @property
    def plain(self) -> bool:
        return self.kind == "scalar" and self.style == "" and self.tag is None

    def is_null(self) -> bool:
        return self.plain and bool(_NULL.match(self.text))

    def scalar_type(self) -> str:
        """YAML 1.2 core-schema type of a scalar: null, bool, int, float or str."""
        if self.kind != "scalar":
            return self.kind
        if not self.plain:
            return "str"
        t = self.text
        if _NULL.match(t):
            return "null"
        if _BOOL.match(t):
            return "bool"
        if _INT.match(t):
            return "int"
        if _FLOAT.match(t):
            return "float"
        return "str"

    def number(self) -> float | None:
        """The scalar as a number if it is a plain int or float, else None."""
        kind = self.scalar_type()
        if kind == "int":
            if self.text[:2] in ("0o", "0x"):
                n = int(self.text, 0)
                # float() of a whole number beyond the float range raises
                return float(n) if n.bit_length() <= 1000 else math.inf
            return float(self.text)  # (beyond the float range: inf)
        if kind == "float":
            t = self.text.lower()
            if t.endswith(".inf"):
                return float("-inf") if t.startswith("-") else float("inf")
            if t == ".nan":
                return float("nan")
            return float(self.text)
        return None

    # -- mappings ------------------------------------------------------------
    def get(self, key: str) -> YNode | None:
        for k, v in self.items:
            if k.text == key:
                return v
        return None

    def keynode(self, key: str) -> YNode | None:
        for k, _ in self.items:
            if k.text == key:
                return k
        return None

    def pairs(self) -> Iterator[tuple[str, YNode, YNode]]:
        """``(key text, key node, value node)`` for each entry of a map."""
        for k, v in self.items:
            yield k.text, k, v

    def describe(self) -> str:
        """Words for the node's type, used in "expected X, found Y" messages."""
        kind = self.scalar_type()
        return {
            "map": "a mapping",
            "seq": "a list",
            "null": "nothing",
            "bool": "a boolean",
            "int": "a number",
            "float": "a number",
            "str": f"'{self.text}'" if len(self.text) <= 40 else "text",
        }[kind]


@dataclass
class Document:
    """A parsed file: its root node, the name used in messages, and problems
    (such as duplicate keys) that did not stop parsing."""

    path: str
    root: YNode
    diagnostics: list[Diagnostic] = field(default_factory=list)


def _diag(path: str, line: int, col: int, msg: str, hint: str | None = None) -> Diagnostic:
    return Diagnostic(path, line, col, msg, hint)


def read_text(path: str | Path, display: str | None = None) -> str:
    """Read a file as UTF-8 text, refusing binary files with a located error.

    Raises
    ------
    UsageError
        When the path does not exist or is a folder (a usage error, exit 2).
    SpecError
        When the file is binary or not UTF-8.
    """
    name = display if display is not None else str(path)
    return decode_text(read_bytes(path, name), name)


def read_bytes(path: str | Path, display: str | None = None) -> bytes:
    """Read a file's bytes, with the errors of :func:`read_text` for a missing
    file, a folder or an unreadable file.

    Only a regular file is read, and only up to the input size limit: a FIFO
    or a device (``/dev/zero``) is refused without blocking, a larger file
    before it is read (see :func:`riskchain.io.files.read_input`).
    """
    from riskchain.io.files import read_input

    name = display if display is not None else str(path)
    return read_input(path, name)


def decode_text(data: bytes, name: str) -> str:
    """Decode bytes as UTF-8; NUL bytes mean a binary file, invalid UTF-8 another encoding."""
    nul = data.find(b"\x00")
    if nul >= 0:
        line, col = _position(data, nul)
        raise SpecError(
            [
                _diag(
                    name,
                    line,
                    col,
                    "not a text file: it contains NUL bytes",
                    "model and scenario files are UTF-8 YAML text",
                )
            ]
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line, col = _position(data, exc.start)
        raise SpecError(
            [
                _diag(
                    name,
                    line,
                    col,
                    f"not UTF-8 text: byte 0x{data[exc.start]:02x} is not valid UTF-8",
                    "save the file as UTF-8; model and scenario files are UTF-8 YAML text",
                )
            ]
        ) from None


def _position(data: bytes, offset: int) -> tuple[int, int]:
    before = data[:offset]
    line = before.count(b"\n") + 1
    col = offset - (before.rfind(b"\n") + 1) + 1
    return line, col


def parse_yaml(text: str, name: str) -> Document:
    """Parse YAML text into a :class:`Document`.

    Raises
    ------
    SpecError
        On syntax errors, empty documents, several documents, non-mapping
        roots, recursive or undefined aliases and alias-expansion bombs.
        Duplicate keys do not stop parsing: they are returned in
        ``Document.diagnostics`` so they are reported with everything else.
    """
    if not text.strip() or all(
        not ln.strip() or ln.lstrip().startswith("#") for ln in text.splitlines()
    ):
        what = "the file is empty" if not text.strip() else "the file holds only comments"
        raise SpecError([_diag(name, 1, 1, what, "a model file starts with 'riskchain: 1'")])
    composer = _Composer(name)
    with gc_paused():
        root = composer.compose(text)
    if root is None:
        raise SpecError(composer.errors)
    if not root.is_map:
        raise SpecError(
            [
                _diag(
                    name,
                    root.line,
                    root.col,
                    f"expected a mapping of keys at the top of the file, found {root.describe()}",
                    "a model file starts with 'riskchain: 1'",
                )
            ]
        )
    return Document(name, root, composer.errors)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Suspend the cyclic garbage collector for a block that builds many objects.

    Reading a large model creates hundreds of thousands of small objects that
    all stay alive; the collector would traverse them again and again (about a
    third of the time of composing a 3 MB file) to find no garbage. Reference
    counting still frees everything as usual. At the end, the objects the block
    made are handed to the oldest generation at once (``gc.freeze()`` then
    ``gc.unfreeze()``, two list splices), so the collector does not traverse
    them all as young objects right after; it is skipped when the program keeps
    objects frozen itself. The collector is turned back on (unless it was off).
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        if gc.get_freeze_count() == 0:
            gc.freeze()
            gc.unfreeze()
        gc.enable()


def load_yaml(path: str | Path, display: str | None = None) -> Document:
    """Read and parse one YAML file (see :func:`parse_yaml`)."""
    name = display if display is not None else str(path)
    return parse_yaml(read_text(path, name), name)


def _yaml_parser():
    from ruamel.yaml import YAML

    try:
        return YAML(typ="safe", pure=False)
    except Exception:  # pragma: no cover - C parser missing
        return YAML(typ="safe", pure=True)


class _Composer:
    def __init__(self, name: str):
        self.name = name
        self.errors: list[Diagnostic] = []
        self.anchors: dict[str, YNode] = {}
        self.open_anchors: set[str] = set()
        self.pending: dict[int, str] = {}
        self.written = 0
        self.expanded = 0
        self.text_chars = 0  # the length of the text composed
        self.expanded_chars = 0  # scalar text added by aliases
        self.last_end = 0  # end offset of the last node read (ends block collections)

    def compose(self, text: str) -> YNode | None:
        from ruamel.yaml.error import MarkedYAMLError, YAMLError

        self.text_chars = len(text)
        events = _yaml_parser().parse(text)
        try:
            return self._stream(events)
        except MarkedYAMLError as exc:
            layout = _layout_error(text, exc)
            if layout is not None:
                # a line out of line: point at it and say so, not at where the parser gave up
                line, col, msg, hint = layout
                self.errors = [_diag(self.name, line, col, f"YAML syntax error: {msg}", hint)]
                return None
            mark = exc.problem_mark or exc.context_mark
            if exc.context_mark is not None and (
                "did not find expected" in (exc.problem or "")
                or "block scalar" in (exc.context or "")
            ):
                # an unclosed bracket is reported at end of input, a bad block scalar
                # after its '>' or '|': point at where it starts
                mark = exc.context_mark
            line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
            problem = exc.problem or exc.context or "invalid YAML"
            msg = f"YAML syntax error: {problem}"
            if exc.context and exc.problem:
                msg += f" ({exc.context}" + (
                    " that starts here)" if mark is exc.context_mark else ")"
                )
            hint = _syntax_hint(problem, text, line, exc.context or "")
            self.errors = [_diag(self.name, line, col, msg, hint)]
            return None
        except YAMLError as exc:
            self.errors = [_diag(self.name, 1, 1, f"YAML syntax error: {exc}")]
            return None
        except _Abort:
            return None

    def _stream(self, events) -> YNode | None:
        from ruamel.yaml.events import (
            AliasEvent,
            DocumentStartEvent,
            MappingEndEvent,
            MappingStartEvent,
            ScalarEvent,
            SequenceEndEvent,
            SequenceStartEvent,
        )

        # This loop runs once per YAML event (about 275,000 for a 3 MB imported
        # network), so the common cases are inlined and kept in locals: the open
        # collection, whether it is a sequence or flow, and its pending key.
        root: YNode | None = None
        docs = 0
        # Each open collection with its pending mapping key (None when a key is expected).
        stack: list[list] = []
        top: list | None = None  # stack[-1]
        top_node: YNode | None = None
        top_seq = False
        in_flow = False  # inside a flow collection (every child is flow)
        anchors = self.anchors
        count = 0  # nodes written, added to written and expanded at the end
        for ev in events:
            cls = ev.__class__
            if cls is ScalarEvent:
                mark = ev.start_mark
                tag = ev.tag
                end = ev.end_mark.index
                value = ev.value
                node = YNode(
                    "scalar",
                    mark.line + 1,
                    mark.column + 1,
                    value,
                    ev.style or "",
                    [],
                    in_flow,
                    tag if tag is not None and tag != "!" else None,
                    1,
                    mark.index,
                    end,
                    len(value),
                )
                count += 1
                if ev.anchor:
                    anchors[ev.anchor] = node
                if top is None:
                    root = node
                elif top_seq:
                    top_node.items.append(node)  # type: ignore[union-attr]
                elif top[1] is None:
                    top[1] = node
                else:
                    top_node.items.append((top[1], node))  # type: ignore[union-attr]
                    top[1] = None
                self.last_end = end
                continue
            if cls is MappingEndEvent or cls is SequenceEndEvent:
                node = stack.pop()[0]
                # a block collection's end event comes after trailing comments
                node.end = self.last_end = ev.end_mark.index if node.flow else self.last_end
                size = 1
                chars = 0
                if node.kind == "map":
                    self._finish_map(node)
                    for k, v in node.items:
                        size += k.size + v.size
                        chars += k.chars + v.chars
                else:
                    for v in node.items:
                        size += v.size
                        chars += v.chars
                node.size = size
                node.chars = chars
                if self.pending:
                    self._close_anchor(node)
                root = self._attach(stack, node, root)
                if stack:
                    top = stack[-1]
                    top_node = top[0]
                    top_seq = top_node.kind == "seq"  # type: ignore[union-attr]
                    in_flow = top_node.flow  # type: ignore[union-attr]
                else:
                    top = top_node = None
                    top_seq = in_flow = False
                continue
            mark = ev.start_mark
            line, col = mark.line + 1, mark.column + 1
            if cls is MappingStartEvent or cls is SequenceStartEvent:
                if len(stack) >= MAX_DEPTH:
                    # before the parser goes deeper: its time grows with the depth
                    self._fail(
                        line,
                        col,
                        f"lists and mappings are nested more than {MAX_DEPTH} levels deep here; "
                        "refusing the file",
                        "a model or scenario file needs about eight levels",
                    )
                node = YNode(
                    "map" if cls is MappingStartEvent else "seq",
                    line,
                    col,
                    flow=bool(ev.flow_style) or in_flow,
                    tag=ev.tag,
                    start=mark.index,
                )
                if ev.anchor:
                    # an alias may only refer to the node once it is complete
                    self.open_anchors.add(ev.anchor)
                    self.pending[id(node)] = ev.anchor
                count += 1
                top = [node, None]
                stack.append(top)
                top_node = node
                top_seq = cls is SequenceStartEvent
                in_flow = node.flow
                continue
            if cls is AliasEvent:
                self.written += count
                self.expanded += count
                count = 0
                target = anchors.get(ev.anchor)
                if target is None:
                    if ev.anchor in self.open_anchors:
                        self._fail(
                            line,
                            col,
                            f"alias *{ev.anchor} refers to a node that contains it "
                            "(recursive alias)",
                        )
                    self._fail(
                        line, col, f"alias *{ev.anchor} refers to an anchor that is not defined"
                    )
                self.expanded += target.size
                self.expanded_chars += target.chars
                self.last_end = ev.end_mark.index
                self._check_expansion(line, col)
                root = self._attach(stack, target, root)
                continue
            if cls is DocumentStartEvent:
                docs += 1
                if docs > 1:
                    self._fail(
                        line,
                        col,
                        "the file holds more than one YAML document ('---')",
                        "keep one model or scenario per file",
                    )
        self.written += count
        self.expanded += count
        return root

    @staticmethod
    def _attach(stack: list[list], node: YNode, root: YNode | None) -> YNode | None:
        if not stack:
            return node
        top = stack[-1]
        if top[0].kind == "seq":
            top[0].items.append(node)
        elif top[1] is None:
            top[1] = node
        else:
            top[0].items.append((top[1], node))
            top[1] = None
        return root

    def _close_anchor(self, node: YNode) -> None:
        anchor = self.pending.pop(id(node), None)
        if anchor is not None:
            self.anchors[anchor] = node
            self.open_anchors.discard(anchor)

    def _check_expansion(self, line: int, col: int) -> None:
        nodes = _EXPANSION_SLACK + _EXPANSION_FACTOR * self.written
        chars = _EXPANSION_CHARS_SLACK + _EXPANSION_FACTOR * self.text_chars
        if self.expanded > nodes:
            what = f"expand this file to more than {nodes:,} nodes"
        elif self.expanded_chars > chars:
            what = f"repeat more than {chars:,} characters of text in this file of {self.text_chars:,}"
        else:
            return
        self._fail(
            line,
            col,
            f"aliases {what}; refusing it (an alias-expansion bomb?)",
            "use anchors and aliases sparingly; write repeated values out",
        )

    def _finish_map(self, node: YNode) -> None:
        keys = [k.text if k.kind == "scalar" else None for k, _ in node.items]
        if len(set(keys)) == len(keys) and None not in keys and "<<" not in keys:
            return  # the common case: nothing to report or merge
        seen: dict[str, YNode] = {}
        kept: list[tuple[YNode, YNode]] = []
        merges: list[tuple[YNode, YNode]] = []
        for key, value in node.items:
            if not key.is_scalar:
                self.errors.append(
                    _diag(
                        self.name,
                        key.line,
                        key.col,
                        "a key must be plain text, not a list or mapping",
                    )
                )
                continue
            if key.plain and key.text == "<<":
                merges.append((key, value))
                continue
            if key.text in seen:
                first = seen[key.text]
                self.errors.append(
                    _diag(
                        self.name,
                        key.line,
                        key.col,
                        f"duplicate key '{key.text}' (first written at line {first.line})",
                        "YAML keeps only one of them; remove or rename one",
                    )
                )
                continue
            seen[key.text] = key
            kept.append((key, value))
        # YAML merge keys: explicit keys win over merged ones.
        for key, value in merges:
            sources = value.items if value.is_seq else [value]
            for src in sources:
                if not src.is_map:
                    self.errors.append(
                        _diag(
                            self.name,
                            key.line,
                            key.col,
                            "'<<' (merge) needs a mapping or a list of mappings",
                        )
                    )
                    continue
                for k, v in src.items:
                    if k.text not in seen:
                        seen[k.text] = k
                        kept.append((k, v))
        node.items = kept

    def _fail(self, line: int, col: int, msg: str, hint: str | None = None) -> None:
        self.errors.append(_diag(self.name, line, col, msg, hint))
        raise _Abort


class _Abort(Exception):
    pass


def _syntax_hint(problem: str, text: str, line: int, context: str = "") -> str | None:
    if "block scalar" in context:
        return BLOCK_SCALAR_HINT
    if "tab character" in problem:
        return "YAML does not allow tabs for indentation; use spaces"
    if "cannot start any token" in problem:
        src = text.splitlines()[line - 1] if 0 < line <= len(text.splitlines()) else ""
        if "\t" in src:
            return "YAML does not allow tabs for indentation; use spaces"
        return "quote values that start with a special character, e.g. '>=7.5' or '@x'"
    if "mapping values are not allowed" in problem:
        return "a value containing ': ' must be quoted"
    if "expected ',' or ']'" in problem or "expected ',' or '}'" in problem:
        return "a flow list or mapping is not closed; check brackets and quotes"
    return None


# ----------------------------------------------------------------------------- layout mistakes

# A line of block YAML: its indentation, an optional '- ', then a key and ':' (the
# colon followed by a space or the end of the line), then the rest.
_KEY_LINE = re.compile(r"^( *)(?:- +)?([^\s#:'\"\[\]{}][^:#]*?) *:(?: +(.*))?$")
_MAX_LAYOUT_SCAN = 100_000  # lines read to learn the file's indentation step


def _layout_error(text: str, exc) -> tuple[int, int, str, str] | None:
    """A layout mistake behind a parser error, said where it is.

    The parser reports a key indented one space too far, or a key without its
    ':', where it gives up: often the next line, with a message about something
    else. Three cases are recognized from the parser's two marks and the lines
    around them: a key with no ':' ("could not find expected ':'"), a line out of
    step with the mapping it should belong to ("did not find expected key" or
    "'-' indicator"), and a line that YAML reads as more of the value above it
    because it is indented deeper ("mapping values are not allowed"). Returns
    ``(line, col, message, hint)``, or None to keep the parser's own report.
    """
    problem, context = exc.problem or "", exc.context or ""
    pmark, cmark = exc.problem_mark, exc.context_mark
    if pmark is None:
        return None
    lines = text.splitlines()
    if "could not find expected ':'" in problem and "simple key" in context and cmark:
        return _missing_colon(lines, cmark.line)
    if "did not find expected key" in problem or "expected '-' indicator" in problem:
        closed = _closed_key(lines, pmark.line)
        near = [pmark.line, _previous(lines, pmark.line), closed, cmark.line if cmark else None]
        culprit = _out_of_step(lines, near)
        if culprit is not None:
            return culprit
        return _not_aligned(lines, pmark.line, closed, cmark.line if cmark else None)
    if "mapping values are not allowed" in problem:
        return _runs_on(lines, pmark.line, pmark.column)
    return None


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _content(line: str) -> bool:
    """A line that holds YAML (not blank, not only a comment)."""
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def _previous(lines: list[str], i: int) -> int | None:
    """The index of the nearest line before ``i`` that holds YAML."""
    for j in range(min(i, len(lines)) - 1, -1, -1):
        if _content(lines[j]):
            return j
    return None


def _what(line: str) -> str:
    """A line's key (``'label'``), else its text, for a message."""
    m = _KEY_LINE.match(line)
    text = m.group(2).strip() if m else line.strip()
    return f"'{text if len(text) <= 40 else text[:39] + '…'}'"


def _step(lines: list[str], skip: set[int]) -> int | None:
    """The file's indentation step: the commonest indent a line adds to the line
    before it, from pairs of lines that do not involve the lines in question."""
    counts: dict[int, int] = {}
    last = None  # (index, indent) of the previous line holding YAML
    for i, line in enumerate(lines[:_MAX_LAYOUT_SCAN]):
        if not _content(line):
            continue
        n = _indent(line)
        if last is not None and n > last[1] and last[0] not in skip and i not in skip:
            counts[n - last[1]] = counts.get(n - last[1], 0) + 1
        last = (i, n)
    if not counts:
        return None
    return max(sorted(counts), key=lambda d: counts[d])


def _spaces(n: int) -> str:
    return f"{n} space{'s' if n != 1 else ''}"


def _missing_colon(lines: list[str], i: int) -> tuple[int, int, str, str] | None:
    """``p 30%`` where ``p: 30%`` was meant: the parser complains on the next line."""
    if i >= len(lines):
        return None
    line = lines[i]
    body = line.strip()
    lead = body[:2] if body.startswith("- ") else ""
    body = body[len(lead) :].strip()
    if not body or ":" in body or body[0] in "'\"[{&*!|>#":
        return None
    key, _, rest = body.partition(" ")
    rest = rest.strip()
    suggestion = f"{lead}{key}: {rest}" if rest else f"{lead}{key}:"
    shown = body if len(body) <= 40 else body[:39] + "…"
    return (
        i + 1,
        _indent(line) + 1,
        f"'{shown}' has no ':' after its key",
        f"a key and its value are written 'key: value'; did you mean '{suggestion}'?",
    )


def _out_of_step(
    lines: list[str], candidates: list[int | None]
) -> tuple[int, int, str, str] | None:
    """The first of ``candidates`` (line indices) indented out of the file's step (the
    step learnt from every pair of lines but those of the first two candidates, the
    lines where the parser stopped)."""
    seen = [i for i in dict.fromkeys(candidates) if i is not None and 0 <= i < len(lines)]
    step = _step(lines, {i for i in candidates[:2] if i is not None})
    if step is None or step < 2:
        return None
    for i in seen:
        n = _indent(lines[i])
        if n % step == 0 or not _content(lines[i]):
            continue
        others = [j for j in seen if j != i and _content(lines[j]) and _indent(lines[j]) % step == 0]
        near = min(others, key=lambda j: (abs(_indent(lines[j]) - n), -j), default=None)
        hint = "the keys of one mapping, and the items of one list, start in the same column"
        if near is not None:
            hint += f"; line {near + 1} ({_what(lines[near])}) starts at {_spaces(_indent(lines[near]))}"
        return (
            i + 1,
            n + 1,
            f"{_what(lines[i])} is indented {_spaces(n)}, out of step with the lines "
            f"around it (indented in steps of {step})",
            hint,
        )
    return None


def _closed_key(lines: list[str], i: int) -> int | None:
    """The first, least indented line of the deeper block just above line ``i``: the
    key of the mapping that line ``i`` closes (its siblings' column)."""
    if i >= len(lines):
        return None
    n = _indent(lines[i])
    best = None
    for j in range(i - 1, max(-1, i - _MAX_LAYOUT_SCAN), -1):
        if not _content(lines[j]):
            continue
        if _indent(lines[j]) <= n:
            break
        if best is None or _indent(lines[j]) <= _indent(lines[best]):
            best = j
    return best


def _not_aligned(
    lines: list[str], i: int, j: int | None, k: int | None
) -> tuple[int, int, str, str] | None:
    """A key that lines up neither with the deeper key above it (line ``j``) nor with
    the first key (line ``k``) of the mapping YAML goes back to."""
    if i >= len(lines) or j is None or not _content(lines[i]):
        return None
    n, m = _indent(lines[i]), _indent(lines[j])
    if n >= m:
        return None
    outer = ""
    like = f"like {_what(lines[j])} ({m})"
    if k is not None and k < len(lines) and k != j and _indent(lines[k]) < n:
        outer = f" nor with {_what(lines[k])} (line {k + 1}, {_spaces(_indent(lines[k]))})"
        like += f" or like {_what(lines[k])} ({_indent(lines[k])})"
    return (
        i + 1,
        n + 1,
        f"{_what(lines[i])} (indented {_spaces(n)}) lines up neither with {_what(lines[j])} "
        f"(line {j + 1}, {_spaces(m)}){outer}, so YAML cannot tell which mapping it belongs to",
        f"the keys of one mapping start in the same column: indent {_what(lines[i])} {like}",
    )


def _runs_on(lines: list[str], i: int, col: int) -> tuple[int, int, str, str] | None:
    """A ``key: value`` line read as more of the value of the line above it."""
    j = _previous(lines, i)
    if i >= len(lines) or j is None:
        return None
    here = _KEY_LINE.match(lines[i])
    if here is None or here.end(2) != col or _indent(lines[i]) <= _indent(lines[j]):
        return None  # a ': ' inside a value on its own line: the quoting hint fits
    above = _KEY_LINE.match(lines[j])
    if above is None:
        missing = _missing_colon(lines, j)
        if missing is None:
            return None
        line, col_, _msg, _hint = missing
        key = lines[j].strip().removeprefix("- ").strip()
        return (
            line,
            col_,
            f"'{key}' has no ':' after it, so YAML reads the next line as more of its text",
            f"did you mean '{key}:'?",
        )
    if not above.group(3):
        return None
    culprit = _out_of_step(lines, [j, i])
    why = (
        f"as written, YAML reads line {i + 1} as more of the value of {_what(lines[j])} "
        "(it is indented deeper)"
    )
    if culprit is not None:
        line, col_, msg, hint = culprit
        return line, col_, msg, f"{hint}; {why}"
    return (
        i + 1,
        _indent(lines[i]) + 1,
        f"{_what(lines[i])} is indented deeper than {_what(lines[j])} above it, so YAML "
        "reads it as more of that value",
        f"the keys of one mapping start in the same column: indent {_what(lines[i])} like "
        f"{_what(lines[j])} (line {j + 1}, {_spaces(_indent(lines[j]))})",
    )
