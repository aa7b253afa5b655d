"""Edit one number of a model file in place: ``riskchain set``.

The edit is text surgery, not a YAML re-dump: the value to change is found in
the located YAML tree (:mod:`riskchain.spec.yamlsrc` records where every node
starts and ends), and the new text is spliced into the original string, so
comments, key order, quoting and every other byte stay as the analyst wrote
them. The whole new text is validated as a model before anything is written.

:func:`write_value` plans and writes under the file's lock
(:func:`riskchain.io.files.edit_file`): the file is read, edited, validated and
replaced atomically while no other command may edit it, so two edits of one
file at once both take effect. :func:`set_value` only plans (``--dry-run``).

>>> result = write_value("models/x.yaml", "talks_fail", "likely")   # doctest: +SKIP
>>> print(set_value("models/x.yaml", "talks_fail", "0.7").diff())   # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import difflib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from riskchain.errors import Diagnostic, RiskchainError, SpecError, UsageError, suggest
from riskchain.scales import DEFAULT_SCALE, Scale, get_scale
from riskchain.spec.kinds import MODEL, require_kind
from riskchain.spec.parametric import KINDS
from riskchain.spec.probability import Context, Prob, parse_prob
from riskchain.spec.yamlsrc import Document, YNode, decode_text, parse_yaml

__all__ = [
    "EditError",
    "EditResult",
    "InvalidEditError",
    "apply",
    "edit_text",
    "set_value",
    "write_value",
]

DEFAULT_STATES = ("no", "yes")  # as in riskchain.spec.model (not imported: keeps this module light)
# the parametric kinds with numbers --leak / --cause reach, and those with none
NOISY_KEYS = tuple(k for k, kind in KINDS.items() if kind.set_targets)
OTHER_PARAMETRIC = tuple(k for k, kind in KINDS.items() if not kind.set_targets)
_BOM = "\ufeff"


class EditError(RiskchainError):
    """An edit that cannot be made: an unknown node, state or row, a value that is
    not a probability, a number that is not written in the file (exit 1).

    Attributes
    ----------
    path : str
        The model file.
    message, hint : str
        What is wrong and, where it helps, what to do.
    line, col : int
        Where in the file the problem is (0 when it is not about one place).
    """

    def __init__(
        self, path: str, message: str, hint: str | None = None, line: int = 0, col: int = 0
    ):
        self.path, self.message, self.hint, self.line, self.col = path, message, hint, line, col
        super().__init__(Diagnostic(path, line, col, message, hint).format())

    def lines(self) -> list[str]:
        return str(self).splitlines()


class InvalidEditError(SpecError):
    """The edited text would not be a valid model; carries the validator's diagnostics
    (located in the edited text), and whether the file was valid before the edit."""

    was_valid: bool = True

    def lines(self) -> list[str]:
        note = "note: nothing was written; the file is unchanged"
        if not self.was_valid:
            note += " (it was invalid before this edit too: check it with 'riskchain validate')"
        return [*super().lines(), note]


@dataclass(frozen=True)
class EditResult:
    """One planned edit: the file's text before and after, and what changed.

    Attributes
    ----------
    old_text, new_text : str
        The whole file before and after the edit (a byte-order mark excluded).
    line, col : int
        1-based position of the edited value.
    old_value, new_value : str
        The value's text as written before and after (quotes included).
    path : str
        The file, as the user named it.
    node : str
        The node whose number changes.
    target : str
        Which number of the node: ``p``, ``p[elevated]``, ``cpt[a=yes, b=no]``,
        ``cpt[default][low]``, ``noisy_or.leak``, ``noisy_or.CAUSE`` ...
    start, end : int
        The replaced span of ``old_text``; ``new_text[start:start + len(new_value)]``
        replaces it and everything else is identical.
    bom : bool
        The file starts with a UTF-8 byte-order mark (kept when written).
    """

    old_text: str
    new_text: str
    line: int
    col: int
    old_value: str
    new_value: str
    path: str = ""
    node: str = ""
    target: str = ""
    start: int = 0
    end: int = 0
    bom: bool = False

    @property
    def changed(self) -> bool:
        """False when the new text is the old one (the value was already written so)."""
        return self.old_text != self.new_text

    def diff(self) -> str:
        """A unified diff of the file (``--- path`` / ``+++ path``), git-style."""
        out = []
        for line in difflib.unified_diff(
            self.old_text.splitlines(keepends=True),
            self.new_text.splitlines(keepends=True),
            fromfile=self.path,
            tofile=self.path,
        ):
            out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
        return "".join(out)

    def summary(self) -> str:
        """``set NODE TARGET: OLD -> NEW (path:line:col)``."""
        where = f"{self.path}:{self.line}:{self.col}"
        old = " ".join(self.old_value.split())  # a value written over several lines
        return f"set {self.node} {self.target}: {old} -> {self.new_value} ({where})"


# ----------------------------------------------------------------------------- public API


def set_value(
    path: str | Path,
    node: str,
    value: str,
    when: str | None = None,
    state: str | None = None,
    cause: str | None = None,
    leak: bool = False,
) -> EditResult:
    """Plan the edit of one number of a model file; never writes.

    Parameters
    ----------
    path : str or Path
        The model file.
    node : str
        The node whose number changes.
    value : str
        The new probability in any form the model format accepts: ``0.35``,
        ``35%``, ``likely``, ``[0.2, 0.3]``, ``beta(3, 7)``.
    when : str, optional
        The CPT row: ``"parent=state, ..."`` (matched by meaning: any order and
        spacing; ``|`` and ``*`` select a row written with them) or ``"default"``.
    state : str, optional
        The entry of a ``{state: p}`` mapping (default for a binary node: its
        second state, the one a scalar gives).
    cause : str, optional
        The cause (parent) of a ``noisy_or``/``noisy_and`` table whose number changes.
    leak : bool
        Edit the leak of a ``noisy_or``/``noisy_and``/``noisy_max`` table.

    Returns
    -------
    EditResult
        The old and new text; pass it to :func:`apply` to write it.

    Raises
    ------
    UsageError
        When the file does not exist, or flags that never go together are given.
    EditError
        When the value is not a probability, or the node, state, row or cause is
        not in the file (or the number is not written there).
    InvalidEditError
        When the edited file would not be a valid model (its diagnostics say why).
    SpecError
        When the file is not YAML text.
    """
    from riskchain.io.files import read_input

    name = str(path)
    raw = read_input(path, name)
    return _plan(raw, name, node, value, when, state, cause, leak)


def write_value(
    path: str | Path,
    node: str,
    value: str,
    when: str | None = None,
    state: str | None = None,
    cause: str | None = None,
    leak: bool = False,
) -> EditResult:
    """Edit one number of a model file and write it: :func:`set_value` and :func:`apply`
    done under the file's lock, so concurrent edits of one file never lose each other.

    The file is locked (:func:`riskchain.io.files.edit_file`), read, edited,
    validated and replaced atomically, keeping its owner, group and mode. Two
    commands editing one file at once run one after the other, the second
    editing the first one's result.

    Parameters
    ----------
    path, node, value, when, state, cause, leak
        As :func:`set_value`.

    Returns
    -------
    EditResult
        What changed (``changed`` is False when the value was already written
        so, and then nothing is written).

    Raises
    ------
    UsageError, EditError, InvalidEditError, SpecError
        As :func:`set_value`; nothing is written.
    riskchain.io.files.FileError
        When the file is read-only, has several hard links, belongs to another
        user, lies in a folder that cannot be written, or stays locked by
        another command.
    """
    from riskchain.io.files import edit_file

    name = str(path)
    with edit_file(path, name) as f:
        result = _plan(f.data, name, node, value, when, state, cause, leak)
        if result.changed:
            f.write(_encode(result.new_text, result.bom))
    return result


def _plan(
    raw: bytes,
    name: str,
    node: str,
    value: str,
    when: str | None,
    state: str | None,
    cause: str | None,
    leak: bool,
) -> EditResult:
    text = decode_text(raw, name)
    result = edit_text(text, name, node, value, when=when, state=state, cause=cause, leak=leak)
    if raw.startswith(_BOM.encode("utf-8")):
        result = dataclasses.replace(result, bom=True)
    return result


def apply(result: EditResult) -> None:
    """Write a planned edit under the file's lock, atomically (temporary file in the
    same folder, fsync, rename), keeping the file's owner, group and mode.

    Nothing is written when the edit changes nothing. An interrupted write
    leaves the old file. To plan and write in one step, without the risk of
    the file changing in between, use :func:`write_value`.

    Raises
    ------
    EditError
        When the file changed since the edit was planned.
    riskchain.io.files.FileError
        When the file cannot be edited (see :func:`write_value`).
    """
    if not result.changed:
        return
    from riskchain.io.files import edit_file

    with edit_file(result.path, result.path) as f:
        if f.data != _encode(result.old_text, result.bom):
            raise EditError(
                result.path,
                "the file changed since the edit was planned; nothing was written",
                "run the command again",
            )
        f.write(_encode(result.new_text, result.bom))


def edit_text(
    text: str,
    name: str,
    node: str,
    value: str,
    when: str | None = None,
    state: str | None = None,
    cause: str | None = None,
    leak: bool = False,
    validate: bool = True,
) -> EditResult:
    """:func:`set_value` on a model's text (``name`` is the file name used in messages).

    With ``validate=False`` the new text is only checked to read back the value
    written, not validated as a model (for text that is not a whole model).
    """
    if cause is not None and leak:
        raise UsageError("--cause and --leak select different numbers; give one of them")
    if when is not None and (cause is not None or leak):
        raise UsageError("--when selects a CPT row; --cause and --leak a parametric table's number")
    doc = parse_yaml(text, name)
    require_kind(doc, MODEL)
    scale = _file_scale(doc.root)
    intended, written = _parse_value(value, name, scale)
    target = _Locator(doc, name, node).locate(when, state, cause, leak)
    _check_not_shared(doc.root, target, text, name)
    vnode = target.node
    start, end = _value_span(text, vnode)
    old_value = text[start:end]
    for candidate in _candidates(written, vnode):
        new_text = text[:start] + candidate + text[end:]
        if _reads_back(new_text, name, target.keys, intended, scale, start):
            break
    else:  # pragma: no cover - a double-quoted scalar (or a range of numbers) reads back
        raise EditError(name, f"cannot write '{value}' here so that it reads back unchanged")
    line = text.count("\n", 0, start) + 1
    col = start - (text.rfind("\n", 0, start) + 1) + 1
    if validate and new_text != text:
        _validate(text, new_text, name)
    return EditResult(
        text, new_text, line, col, old_value, candidate, name, node, target.label, start, end
    )


# ----------------------------------------------------------------------------- the value


@dataclass(frozen=True)
class _Written:
    """The new value: a scalar text, or the two ends of a range."""

    kind: str  # "scalar" or "range"
    text: str = ""
    ends: tuple[str, str] = ("", "")


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def _parse_value(value: str, path: str, scale: Scale) -> tuple[Prob, _Written]:
    """The command line's VALUE as a :class:`Prob` (checked) and the text to write."""
    text = value.strip()
    if not text:
        raise EditError(path, "VALUE is empty; give a probability such as 0.35, 35% or likely")
    if "\n" in text or "\r" in text:
        raise EditError(path, "VALUE must be one line")
    if text.startswith("{"):
        raise EditError(
            path,
            f"VALUE '{text}' is a mapping; 'set' changes one number",
            "pick one state's number with --state STATE",
        )
    ctx = Context(path, scale=scale)
    if text.startswith("["):
        if not text.endswith("]"):
            raise EditError(path, f"VALUE '{text}' is not a range [low, high]")
        ends = [_unquote(p.strip()) for p in text[1:-1].split(",")]
        if len(ends) != 2 or not all(ends):
            raise EditError(
                path,
                f"VALUE '{text}' is not a range [low, high]",
                "a range has two ends, e.g. [0.2, 0.3] or [20%, 30%]",
            )
        seq = YNode("seq", 0, 0, items=[YNode("scalar", 0, 0, e, flow=True) for e in ends])
        seq.flow = True
        prob = parse_prob(seq, ctx)
        written = _Written("range", ends=(ends[0], ends[1]))
    else:
        text = _unquote(text).strip()
        prob = parse_prob(YNode("scalar", 0, 0, text), ctx)
        written = _Written("scalar", text)
    if prob is None:
        d = ctx.diagnostics[0]
        raise EditError(path, f"VALUE: {d.message}", d.hint)
    return prob, written


def _file_scale(root: YNode) -> Scale:
    """The scale whose words the file's probabilities use (``scale:`` at the top)."""
    node = root.get("scale") if root.is_map else None
    if node is not None and node.is_scalar:
        try:
            return get_scale(node.text)
        except KeyError:
            pass
    return DEFAULT_SCALE


def _quote(text: str, style: str) -> str:
    if style == "'":
        return "'" + text.replace("'", "''") + "'"
    if style == '"':
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


def _candidates(written: _Written, old: YNode) -> list[str]:
    """Texts for the new value, best first: the old quoting, plain, then quoted.

    A range is always a flow list (quoted, it would be text, not a range).
    """
    if written.kind == "range":
        return [f"[{written.ends[0]}, {written.ends[1]}]"]
    styles = ["", "'", '"']
    if old.is_scalar and old.style in ("'", '"'):
        styles.remove(old.style)
        styles.insert(0, old.style)
    return [_quote(written.text, s) for s in styles]


def _reads_back(
    text: str, name: str, keys: Sequence[str], intended: Prob, scale: Scale, start: int
) -> bool:
    """The new text parses, and the value at ``keys`` (starting at ``start``) is ``intended``."""
    try:
        doc = parse_yaml(text, name)
    except SpecError:
        return False
    node: YNode | None = doc.root
    for key in keys:
        node = node.get(key) if node is not None and node.is_map else None
    if node is None or _value_start(text, node) != start:
        return False
    got = parse_prob(node, Context(name, scale=scale))
    return got is not None and (got.kind, got.point, got.low, got.high, got.text, got.params) == (
        intended.kind,
        intended.point,
        intended.low,
        intended.high,
        intended.text,
        intended.params,
    )


def _value_start(text: str, node: YNode) -> int:
    """Where the value itself starts: after an anchor (``&a``) or tag (``!!str``)."""
    pos = node.start
    while pos < len(text) and text[pos] in "&!":
        while pos < len(text) and text[pos] not in " \t\r\n":
            pos += 1
        while pos < len(text) and text[pos] in " \t":
            pos += 1
    return pos


def _value_span(text: str, node: YNode) -> tuple[int, int]:
    start, end = _value_start(text, node), node.end
    if node.is_scalar and node.style in (">", "|"):
        end = start + len(text[start:end].rstrip(" \t\r\n"))  # keep the line break after it
    return start, end


def _validate(old_text: str, new_text: str, name: str) -> None:
    """Refuse the new text unless it is a valid model (as ``riskchain validate`` checks it)."""
    from riskchain.compile import compile_spec
    from riskchain.spec.model import build_model

    def check(text: str) -> None:
        compile_spec(build_model(parse_yaml(text, name), default_id=Path(name).stem))

    try:
        check(new_text)
    except SpecError as exc:
        error = InvalidEditError(list(exc.diagnostics))
        try:
            check(old_text)
        except SpecError:
            error.was_valid = False
        raise error from None


def _encode(text: str, bom: bool) -> bytes:
    return ((_BOM if bom else "") + text).encode("utf-8")


# ----------------------------------------------------------------------------- finding the number


@dataclass(frozen=True)
class _Target:
    keys: tuple[str, ...]  # key path from the root to the value node
    node: YNode
    label: str


def _names(node: YNode | None) -> list[str]:
    """A list of names (or one name) as written; [] when absent or malformed."""
    if node is None:
        return []
    if node.is_scalar and not node.is_null():
        return [node.text]
    if node.is_seq:
        return [i.text for i in node.items if i.is_scalar]
    return []


class _Locator:
    """Finds the value node a ``set`` command names, from the YAML tree alone (the
    file need not be valid before the edit, so an edit can repair it)."""

    def __init__(self, doc: Document, path: str, node: str):
        self.path = path
        root = doc.root
        nodes = root.get("nodes")
        if nodes is None or not nodes.is_map:
            raise EditError(path, "the file has no 'nodes' mapping; is it a model file?")
        self.nodes = nodes
        body = nodes.get(node)
        if body is None:
            ids = [k for k, _, _ in nodes.pairs()]
            hint = suggest(node, ids)
            raise EditError(path, f"no node '{node}' in the model", hint)
        if not body.is_map:
            raise EditError(path, f"node '{node}' is not a mapping", None, body.line, body.col)
        self.id = node
        self.body = body
        self.states = self.states_of(body)
        self.parents = _names(body.get("parents"))

    def error(self, message: str, hint: str | None = None, at: YNode | None = None) -> EditError:
        line, col = (at.line, at.col) if at is not None else (0, 0)
        return EditError(self.path, message, hint, line, col)

    @staticmethod
    def states_of(body: YNode) -> tuple[str, ...]:
        snode = body.get("states")
        return tuple(_names(snode)) if snode is not None else DEFAULT_STATES

    # -- dispatch --------------------------------------------------------------
    def locate(self, when: str | None, state: str | None, cause: str | None, leak: bool) -> _Target:
        base = ("nodes", self.id)
        body = self.body
        noisy = [k for k in NOISY_KEYS if body.get(k) is not None]
        if cause is not None or leak:
            flag = "--leak" if leak else "--cause"
            if not noisy:
                other = [k for k in (*OTHER_PARAMETRIC, "cpt", "p") if body.get(k) is not None]
                how = f" (it is written with '{other[0]}')" if other else ""
                raise self.error(
                    f"{flag}: node '{self.id}' has no {_or_list(NOISY_KEYS)} table{how}",
                    "--cause and --leak edit parametric tables; use --when for a cpt row"
                    if "cpt" in other
                    else None,
                    body,
                )
            return self._parametric(base, noisy[0], state, cause, leak)
        if noisy or any(body.get(k) is not None for k in OTHER_PARAMETRIC):
            key = (noisy or [k for k in OTHER_PARAMETRIC if body.get(k) is not None])[0]
            if key in OTHER_PARAMETRIC:
                raise self.error(
                    f"node '{self.id}' is written with '{key}', which has no probability to set",
                    "edit its parameters in the file",
                    body.keynode(key),
                )
            table = body.get(key)
            causes = [k for k, _, _ in table.pairs() if k not in ("leak", "form")]
            raise self.error(
                f"node '{self.id}' is written with '{key}': say which number with --leak or --cause PARENT",
                f"its causes: {', '.join(causes)}" if causes else None,
                body.keynode(key),
            )
        cpt = body.get("cpt")
        if when is not None:
            if cpt is None:
                what = "has no parents" if not self.parents else "has no 'cpt'"
                raise self.error(
                    f"--when: node '{self.id}' {what}; its number is its 'p'",
                    "leave out --when to edit p",
                    body,
                )
            return self._row(base, cpt, when, state)
        if cpt is not None:
            rows = [k for k, _, _ in cpt.pairs()] if cpt.is_map else []
            raise self.error(
                f"node '{self.id}' has a cpt: say which row with --when",
                (f"e.g. --when '{rows[0]}'" if rows else "e.g. --when 'parent=yes'")
                + (" or --when default" if "default" in rows else ""),
                body.keynode("cpt"),
            )
        pnode = body.get("p")
        if pnode is None:
            raise self.error(f"node '{self.id}' has no 'p' written", None, body)
        return self._entry((*base, "p"), "p", pnode, state, extended=False)

    # -- a distribution: scalar, {state: p}, or {p: ..., note: ...} ------------------
    def _entry(
        self, keys: tuple[str, ...], label: str, value: YNode, state: str | None, extended: bool
    ) -> _Target:
        states = self.states
        if extended and value.is_map and value.get("p") is not None and "p" not in states:
            keys, value = (*keys, "p"), value.get("p")
        if state is not None and state not in states:
            hint = suggest(state, states) or f"its states are: {', '.join(states)}"
            raise self.error(f"--state: node '{self.id}' has no state '{state}'", hint)
        if value.is_map:
            written = [k for k, _, _ in value.pairs()]
            if state is None:
                if len(states) != 2:
                    raise self.error(
                        f"{label} of '{self.id}' is a mapping {{state: p}}: say which state with --state",
                        f"states written: {', '.join(written)}",
                        value,
                    )
                state = states[1]
            if state not in written:
                raise self._remainder(label, state, written, value)
            return _Target((*keys, state), value.get(state), f"{label}[{state}]")
        if value.is_null():
            raise self.error(f"{label} of '{self.id}' has no value written", None, value)
        if len(states) != 2:
            raise self.error(
                f"{label} of '{self.id}' is not a mapping {{state: p}}, but the node has "
                f"{len(states)} states; fix the file first",
                None,
                value,
            )
        if state is not None and state != states[1]:
            raise self._remainder(label, state, [states[1]], value)
        return _Target(keys, value, label)

    def _remainder(self, label: str, state: str, written: list[str], at: YNode) -> EditError:
        return self.error(
            f"{label} of '{self.id}' does not write '{state}': it receives the remainder "
            f"(1 minus the others); the states written are: {', '.join(written)}",
            "set one of the written states, or write this state in the file",
            at,
        )

    # -- cpt rows ----------------------------------------------------------------------
    def _parent_states(self) -> dict[str, tuple[str, ...]]:
        out = {}
        for p in self.parents:
            body = self.nodes.get(p)
            if body is None or not body.is_map:
                raise self.error(f"parent '{p}' of '{self.id}' is not a node of the model")
            out[p] = self.states_of(body)
        return out

    def _row(self, base: tuple[str, ...], cpt: YNode, when: str, state: str | None) -> _Target:
        if not cpt.is_map:
            raise self.error(f"cpt of '{self.id}' is not a mapping", None, cpt)
        keys = (*base, "cpt")
        if when.strip() == "default":
            row = cpt.get("default")
            if row is None:
                raise self.error(
                    f"cpt of '{self.id}' has no default row",
                    "name a row by its parents' states, e.g. --when 'parent=yes'",
                    cpt,
                )
            return self._entry((*keys, "default"), "cpt[default]", row, state, extended=True)
        pstates = self._parent_states()
        wanted = self._combinations(_parse_when(when), pstates)
        rows = self._written_rows(cpt, pstates)
        exact = [(k, kn) for k, kn, covers in rows if covers == wanted]
        if len(exact) > 1:
            raise self.error(
                f"rows '{exact[0][0]}' and '{exact[1][0]}' of '{self.id}' both cover --when '{when}'",
                "each parent combination may be given once; fix the file first",
                exact[1][1],
            )
        if exact:
            key, _ = exact[0]
            return self._entry((*keys, key), f"cpt[{key}]", cpt.get(key), state, extended=True)
        overlap = [(k, kn, covers) for k, kn, covers in rows if covers & wanted]
        shown = _show_when(when)
        default = cpt.keynode("default")
        if len(wanted) == 1 and overlap:
            key, knode, covers = overlap[0]
            raise self.error(
                f"no row is written for {shown} alone: row '{key}' (line {knode.line}) covers it "
                f"together with {len(covers) - 1} other combination{'s' if len(covers) > 2 else ''}",
                f"edit that whole row with --when '{key}', or split the row in the file "
                "to give this combination its own number",
                knode,
            )
        if overlap:
            listed = ", ".join(f"'{k}' (line {kn.line})" for k, kn, _ in overlap)
            raise self.error(
                f"no row of '{self.id}' is written for exactly {shown}; rows covering part of it: {listed}",
                "name one row's combinations exactly, or edit the file",
            )
        if default is not None:
            raise self.error(
                f"no row is written for {shown}: the default row (line {default.line}) covers it",
                "edit the default row with --when default (it also covers every other "
                "combination not listed), or add a row for this combination to the file",
                default,
            )
        raise self.error(f"cpt of '{self.id}' has no row for {shown}", None, cpt)

    def _combinations(
        self, pairs: list[tuple[str, list[str]]], pstates: dict[str, tuple[str, ...]]
    ) -> frozenset[tuple[str, ...]]:
        chosen: dict[str, list[str]] = {}
        for name, alts in pairs:
            if name not in pstates:
                hint = suggest(name, self.parents) or (
                    f"the parents of '{self.id}' are: {', '.join(self.parents)}"
                    if self.parents
                    else f"'{self.id}' has no parents"
                )
                raise self.error(f"--when: '{name}' is not a parent of '{self.id}'", hint)
            if name in chosen:
                raise self.error(f"--when names '{name}' twice")
            sts = pstates[name]
            if alts == ["*"]:
                chosen[name] = list(sts)
                continue
            for alt in alts:
                if alt not in sts:
                    hint = suggest(alt, sts) or f"the states of '{name}' are: {', '.join(sts)}"
                    raise self.error(f"--when: '{name}' has no state '{alt}'", hint)
            chosen[name] = alts
        missing = [p for p in self.parents if p not in chosen]
        if missing:
            raise self.error(
                f"--when names no state for {', '.join(missing)}",
                f"name every parent of '{self.id}' ({', '.join(self.parents)}), "
                "or --when default for the default row",
            )
        return frozenset(itertools.product(*(chosen[p] for p in self.parents)))

    def _written_rows(
        self, cpt: YNode, pstates: dict[str, tuple[str, ...]]
    ) -> list[tuple[str, YNode, frozenset[tuple[str, ...]]]]:
        """Each row but default with the parent combinations it covers (rows whose
        key cannot be read are left out: the validator reports them)."""
        from riskchain.spec.tables import parse_row_key

        out = []
        scratch = Context(self.path)
        for key, knode, _ in cpt.pairs():
            if key == "default":
                continue
            when = parse_row_key(knode, self.id, self.parents, pstates, list(pstates), scratch)
            if when is None:
                continue
            covers = frozenset(itertools.product(*(when[p] for p in self.parents)))
            out.append((key, knode, covers))
        return out

    # -- parametric tables -------------------------------------------------------------
    def _parametric(
        self, base: tuple[str, ...], key: str, state: str | None, cause: str | None, leak: bool
    ) -> _Target:
        table = self.body.get(key)
        assert table is not None
        if not table.is_map:
            raise self.error(f"{key} of '{self.id}' is not a mapping", None, table)
        keys = (*base, key)
        if leak:
            value = table.get("leak")
            if value is None:
                raise self.error(
                    f"{key} of '{self.id}' has no leak written",
                    "add 'leak: p' to the table in the file",
                    table,
                )
            return self._entry((*keys, "leak"), f"{key}.leak", value, state, extended=False)
        assert cause is not None
        if "cause" not in KINDS[key].set_targets:
            raise self.error(
                f"--cause: a {key} cause holds one distribution per parent state; "
                f"edit '{cause}' of '{self.id}' in the file",
                None,
                table,
            )
        value = table.get(cause)
        if value is None or cause in ("leak", "form"):
            written = [k for k, _, _ in table.pairs() if k not in ("leak", "form")]
            if cause in self.parents:
                msg = f"{key} of '{self.id}' gives no number for cause '{cause}'"
                hint = "add it to the table in the file"
            else:
                msg = f"--cause: '{cause}' is not a cause of '{self.id}'"
                hint = suggest(cause, written) or f"its causes: {', '.join(written)}"
            raise self.error(msg, hint, table)
        keys = (*keys, cause)
        if value.is_map and value.get("p") is not None:
            keys, value = (*keys, "p"), value.get("p")
        elif value.is_map:
            raise self.error(f"cause '{cause}' of '{self.id}' has no 'p' written", None, value)
        return self._entry(keys, f"{key}.{cause}", value, state, extended=False)


def _or_list(words: Sequence[str]) -> str:
    """``a, b or c``."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _parse_when(text: str) -> list[tuple[str, list[str]]]:
    """``"a=yes, b=no|maybe, c=*"`` -> ``[(a, [yes]), (b, [no, maybe]), (c, [*])]``.

    Raises
    ------
    UsageError
        When the text is not ``PARENT=STATE, ...`` (a malformed flag, exit 2).
    """
    out = []
    for part in text.split(","):
        item = part.strip()
        name, sep, states = item.partition("=")
        name, states = name.strip(), states.strip()
        alts = [s.strip() for s in states.split("|")]
        if not sep or not name or not all(alts):
            raise UsageError(
                f"--when: '{item}' is not PARENT=STATE (write --when 'a=yes, b=no' or --when default)"
            )
        out.append((name, alts))
    return out


def _show_when(text: str) -> str:
    return ", ".join(p.strip() for p in text.split(","))


def _check_not_shared(root: YNode, target: _Target, text: str, path: str) -> None:
    """Refuse to edit a value reached through a YAML alias or merge key (``*a``,
    ``<<: *a``): the text holds it once, for every place that uses it."""
    seen: dict[int, int] = {}
    stack = [root]
    while stack:
        node = stack.pop()
        seen[id(node)] = seen.get(id(node), 0) + 1
        if seen[id(node)] > 1:
            continue
        if node.is_map:
            for _, v in node.items:
                stack.append(v)
        elif node.is_seq:
            stack.extend(node.items)
    node: YNode | None = root
    for key in target.keys:
        node = node.get(key) if node is not None and node.is_map else None
        if node is not None and seen.get(id(node), 0) > 1:
            anchor = ""
            if text[node.start : node.start + 1] == "&":
                anchor = " &" + text[node.start + 1 :].split(None, 1)[0]
            raise EditError(
                path,
                f"{target.label} of '{target.keys[1]}' is shared through the YAML anchor{anchor} "
                f"at line {node.line}; editing it would change every place that uses it",
                "write the value out where you want to change it instead of the alias, then edit it",
                node.line,
                node.col,
            )
