"""How a node's probabilities are written: distributions, root tables, CPT rows.

Every table kind knows how to parse itself from YAML and how to expand to a
full conditional probability table (numpy array indexed by each parent's state
in ``parents`` order, then the node's own state). Parametric kinds (noisy-OR,
logic gates, ...) plug in here as further :class:`Table` subclasses.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from riskchain.errors import listing, shorten
from riskchain.spec.probability import (
    FLOW_HINT,
    QUIET_SUM_TOLERANCE,
    SUM_TOLERANCE,
    Context,
    Prob,
    parse_prob,
)
from riskchain.spec.yamlsrc import YNode

if TYPE_CHECKING:  # the drawer is above the tables (it imports them)
    from riskchain.spec.draws import NodeDraws

CONFIDENCE_LEVELS = ("low", "moderate", "high")


@dataclass(frozen=True)
class Provenance:
    """Where a number came from: free-text reasoning, cited sources, confidence.

    Confidence (low / moderate / high) says how well founded a judgment is; it
    is kept apart from the probability and never changes a number.
    """

    note: str | None = None
    sources: tuple[str, ...] = ()
    confidence: str | None = None

    def to_json(self) -> dict:
        out: dict = {}
        if self.note:
            out["note"] = self.note
        if self.sources:
            out["sources"] = list(self.sources)
        if self.confidence:
            out["confidence"] = self.confidence
        return out

    @property
    def empty(self) -> bool:
        return not (self.note or self.sources or self.confidence)


@dataclass(frozen=True)
class Dist:
    """A distribution over a node's states as written.

    ``given`` maps each state written to its :class:`Prob`; ``remainder``
    names the one state (if any) left out, which receives ``1 - sum``.
    """

    states: tuple[str, ...]
    given: dict[str, Prob]
    remainder: str | None
    line: int = 0
    col: int = 0

    def point(self) -> np.ndarray:
        """The point distribution in state order, renormalized to sum to 1 exactly."""
        vec = np.array([self.given[s].point if s in self.given else 0.0 for s in self.states])
        if self.remainder is not None:
            vec[self.states.index(self.remainder)] = max(0.0, 1.0 - float(vec.sum()))
        total = float(vec.sum())
        return vec / total if total > 0 else vec

    def to_json(self) -> dict:
        out = {s: p.to_json() for s, p in self.given.items()}
        if self.remainder is not None:
            out[self.remainder] = {"kind": "remainder"}
        return out

    def text(self) -> str:
        """As written: ``P(yes) = likely`` for a binary scalar, else ``{low: 0.1, severe: rest}``."""
        if len(self.states) == 2 and len(self.given) == 1 and self.remainder is not None:
            state, prob = next(iter(self.given.items()))
            return f"P({state}) = {prob.text}"
        parts = [f"{s}: {p.text}" for s, p in self.given.items()]
        if self.remainder is not None:
            parts.append(f"{self.remainder}: rest")
        return "{" + ", ".join(parts) + "}"


@dataclass(frozen=True)
class Written:
    """One number (or distribution) the analyst wrote in a table, as sensitivity
    analysis varies it.

    ``label`` names it (``leak``, ``cause a=yes``, ``row 'a=yes'``); ``when`` the parent
    states it applies to (``a|b`` for several); either ``prob``, a probability of the
    node's present state, or ``dist``, a distribution each of whose written entries
    is a number.
    """

    label: str
    when: dict[str, str]
    prob: Prob | None = None
    dist: Dist | None = None


class Table:
    """Base of every way of writing a node's probabilities.

    A table kind knows how to expand to a full CPT (:meth:`expand`), how to draw
    tables from the spread of its numbers (:meth:`draw`), which numbers the
    analyst wrote (:meth:`numbers`) and how to list them (``written()``). The
    parametric kinds (``spec/parametric.py``) also parse themselves and say how
    ``riskchain set`` reaches their numbers.
    """

    kind = "table"
    line = 0
    col = 0
    #: Which of the table's numbers ``riskchain set --leak`` / ``--cause`` can edit.
    set_targets: ClassVar[tuple[str, ...]] = ()

    def expand(
        self, card: int, parent_states: Sequence[Sequence[str]]
    ) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def draw(self, drawer: NodeDraws, n: int) -> np.ndarray:
        """``n`` draws of the expanded table, ``(n, *parents, card)``, each number drawn
        by ``drawer`` (in the table's order: every number has its own random stream)."""
        raise TypeError(f"no draws for tables of kind {self.kind!r}")  # pragma: no cover

    def numbers(self, parent_states: Mapping[str, Sequence[str]]) -> Iterator[Written]:
        """The numbers the analyst wrote, in the table's order (none by default)."""
        return iter(())


@dataclass(frozen=True)
class RootTable(Table):
    """``p:`` of a node without parents."""

    dist: Dist
    line: int = 0
    col: int = 0
    kind = "p"

    def expand(self, card: int, parent_states: Sequence[Sequence[str]]) -> np.ndarray:
        return self.dist.point()

    def draw(self, drawer: NodeDraws, n: int) -> np.ndarray:
        return drawer.dist(self.dist, n)

    def numbers(self, parent_states: Mapping[str, Sequence[str]]) -> Iterator[Written]:
        yield Written("p", {}, dist=self.dist)

    def written(self) -> list[dict]:
        return [{"row": "p", "text": self.dist.text(), "value": self.dist.to_json()}]


@dataclass(frozen=True)
class Row:
    """One CPT row: a set of parent states and the distribution that applies.

    ``when`` maps every parent to the tuple of its states the row covers
    (one state, several with ``a|b``, or all with ``*``). The ``default`` row
    has ``when`` empty and ``is_default`` true.
    """

    key: str
    when: dict[str, tuple[str, ...]]
    dist: Dist
    provenance: Provenance = field(default_factory=Provenance)
    is_default: bool = False
    line: int = 0
    col: int = 0


@dataclass(frozen=True)
class CptTable(Table):
    """``cpt:`` rows keyed ``parent=state, ...`` with an optional ``default`` row."""

    rows: tuple[Row, ...]
    default: Row | None = None
    line: int = 0
    col: int = 0
    kind = "cpt"

    def expand(self, card: int, parent_states: Sequence[Sequence[str]]) -> np.ndarray:
        shape = (*(len(s) for s in parent_states), card)
        out = np.empty(shape)
        if self.default is not None:
            out[...] = self.default.dist.point()
        else:
            out[...] = np.nan
        lookup = [{s: j for j, s in enumerate(states)} for states in parent_states]
        for row in self.rows:
            # row.when is ordered like the parents
            index = [[lk[s] for s in chosen] for chosen, lk in zip(row.when.values(), lookup)]
            if all(len(ix) == 1 for ix in index):
                out[tuple(ix[0] for ix in index)] = row.dist.point()
            else:
                out[np.ix_(*index, range(card))] = row.dist.point()
        return out

    def draw(self, drawer: NodeDraws, n: int) -> np.ndarray:
        return drawer.cpt(self, n)

    def numbers(self, parent_states: Mapping[str, Sequence[str]]) -> Iterator[Written]:
        for row in [*self.rows, *([self.default] if self.default is not None else [])]:
            when = {p: (ss[0] if len(ss) == 1 else "|".join(ss)) for p, ss in row.when.items()}
            # a parent the row covers whole is no condition
            full = {p: s for p, s in when.items() if s != "|".join(parent_states[p])}
            label = "default row" if row.is_default else f"row '{row.key}'"
            yield Written(label, full, dist=row.dist)

    def written(self) -> list[dict]:
        rows = [*self.rows, *([self.default] if self.default is not None else [])]
        return [
            {
                "row": r.key,
                "text": r.dist.text(),
                "value": r.dist.to_json(),
                **r.provenance.to_json(),
            }
            for r in rows
        ]


# ----------------------------------------------------------------------------- parsing


def parse_dist(node: YNode, states: tuple[str, ...], ctx: Context, owner: str) -> Dist | None:
    """Parse a distribution over ``states``: a scalar for a binary node
    (``P(second state)``) or a mapping ``{state: p}`` with at most one state left out."""
    if node.is_map:
        return _parse_mapping_dist(node, states, ctx, owner)
    if len(states) != 2:
        listed = listing(states)
        if node.is_null() and node.flow:
            ctx.error(node, f"{owner}: no value given", FLOW_HINT)
        else:
            ctx.error(
                node,
                f"{owner} has {len(states)} states ({listed}); give a mapping {{state: probability}}",
                "one state may be left out: it receives the remainder",
            )
        return None
    p = parse_prob(node, ctx)
    if p is None:
        return None
    return Dist(states, {states[1]: p}, states[0], node.line, node.col)


def _parse_mapping_dist(
    node: YNode, states: tuple[str, ...], ctx: Context, owner: str
) -> Dist | None:
    given: dict[str, Prob] = {}
    ok = True
    known = ctx.members(states)
    for key, knode, vnode in node.pairs():
        if key not in known:
            hint = ctx.suggest(key, states) or f"its states are: {listing(states)}"
            ctx.error(knode, f"{owner}: unknown state '{shorten(key)}'", hint)
            ok = False
            continue
        p = parse_prob(vnode, ctx)
        if p is None:
            ok = False
            continue
        given[key] = p
    if not ok:
        return None
    missing = [s for s in states if s not in given]
    total = sum(p.point for p in given.values())
    if len(missing) > 1:
        ctx.error(
            node,
            f"{owner}: states {listing(missing)} have no probability",
            "give every state a probability, or leave out exactly one to receive the remainder",
        )
        return None
    if missing:
        if total > 1 + QUIET_SUM_TOLERANCE:  # nothing would be left for the remainder
            ctx.error(
                node,
                f"{owner}: the probabilities given sum to {_g(total)}, leaving nothing for '{missing[0]}' "
                f"({_g(total - 1)} too much)",
            )
            return None
        return Dist(states, given, missing[0], node.line, node.col)
    if abs(total - 1) > SUM_TOLERANCE:
        direction = "too much" if total > 1 else "short"
        ctx.error(
            node,
            f"{owner}: probabilities sum to {_g(total)}, not 1 ({_g(abs(total - 1))} {direction})",
            "leave out one state to let it receive the remainder"
            if any(p.uncertain for p in given.values())
            else None,
        )
        return None
    ctx.renormalize(node, total)
    return Dist(states, given, None, node.line, node.col)


def _g(x: float) -> str:
    text = f"{x:.6g}"
    if text == "1" and x != 1:
        text = f"{x:.12g}"  # a sum just off 1 must not read "sums to 1, not 1"
    return text


def parse_row_key(
    knode: YNode,
    node_id: str,
    parents: Sequence[str],
    parent_states: dict[str, tuple[str, ...]],
    all_nodes: Collection[str],
    ctx: Context,
    fix_parents: str | None = None,
) -> dict[str, tuple[str, ...]] | None:
    """Parse ``parent=state, parent=a|b, parent=*`` into ``{parent: states}``.

    ``fix_parents`` replaces the advice "add it to parents" where that is not
    possible (a scenario changes numbers, not parents).

    Every parent must be named; errors point at the offending part of the key.
    """
    text = knode.text
    shown = shorten(text)  # the row as it appears in messages
    base = 1 if knode.style in ("'", '"') else 0
    when: dict[str, tuple[str, ...]] = {}
    ok = True
    pos = 0
    for part in text.split(","):
        offset = base + pos + (len(part) - len(part.lstrip()))
        pos += len(part) + 1
        item = part.strip()
        if not item:
            ctx.error(
                knode,
                f"row '{shown}' of '{node_id}' has an empty part",
                "separate parent=state pairs with ', '",
                offset,
            )
            ok = False
            continue
        if "=" not in item:
            ctx.error(
                knode,
                f"'{item}' in row '{shown}' of '{node_id}' is not parent=state",
                "write rows as 'parent=state, parent=state' (or 'default')",
                offset,
            )
            ok = False
            continue
        name, _, raw_value = item.partition("=")
        name, value = name.strip(), raw_value.strip()
        if name not in parent_states:
            if name in all_nodes:
                fix = fix_parents or f"add '{name}' to parents"
                hint = f"the parents of '{node_id}' are: {listing(parents)}; {fix}"
                msg = f"'{name}' in row '{shown}' is not a parent of '{node_id}'"
            else:
                hint = ctx.suggest(name, parents) or f"the parents of '{node_id}' are: {listing(parents)}"
                msg = f"unknown parent '{shorten(name)}' in row '{shown}' of '{node_id}'"
            ctx.error(knode, msg, hint, offset)
            ok = False
            continue
        if name in when:
            ctx.error(knode, f"row '{shown}' of '{node_id}' names '{name}' twice", None, offset)
            ok = False
            continue
        states = parent_states[name]
        if value == "*":
            when[name] = states
            continue
        known = ctx.members(states)
        chosen: dict[str, None] = {}
        apos = offset + len(item) - len(raw_value)  # where the states start
        for raw_alt in raw_value.split("|"):
            alt = raw_alt.strip()
            aoff = apos + len(raw_alt) - len(raw_alt.lstrip())
            apos += len(raw_alt) + 1
            if alt not in known:
                hint = ctx.suggest(alt, states) or f"the states of '{name}' are: {listing(states)}"
                ctx.error(
                    knode,
                    f"'{name}' has no state '{shorten(alt)}' (in row '{shown}' of '{node_id}')",
                    hint,
                    aoff,
                )
                ok = False
                break
            chosen[alt] = None
        else:
            when[name] = tuple(chosen)
    if not ok:
        return None
    missing = [p for p in parents if p not in when]
    if missing:
        ctx.error(
            knode,
            f"row '{shown}' of '{node_id}' does not name {listing(missing)}",
            "every row names every parent; use parent=* for 'any state'",
        )
        return None
    return {p: when[p] for p in parents}


def check_coverage(
    node_id: str,
    table: CptTable,
    parents: Sequence[str],
    parent_states: dict[str, tuple[str, ...]],
    ctx: Context,
    limit: int = 8,
) -> bool:
    """Report overlapping rows and, when there is no default row, missing ones."""
    shape = tuple(len(parent_states[p]) for p in parents)
    # the row covering each parent combination: the smallest integer type that can
    # number the rows (the table's size was checked against the budget, not this)
    dtype = np.int32 if len(table.rows) < 2**31 - 1 else np.int64
    owner = np.full(shape, -1, dtype=dtype)
    lookup = [{s: j for j, s in enumerate(parent_states[p])} for p in parents]
    ok = True
    overlaps = 0
    for i, row in enumerate(table.rows):
        chosen = [[lk[s] for s in row.when[p]] for p, lk in zip(parents, lookup)]
        if all(len(c) == 1 for c in chosen):
            index = tuple(c[0] for c in chosen)  # the common case: one combination
            prev = int(owner[index])
            clash = np.array([prev]) if prev >= 0 else np.empty(0, dtype=np.int64)
            block = None
        else:
            index = np.ix_(*chosen)
            block = owner[index]
            clash = block[block >= 0]
        if clash.size:
            first = table.rows[int(clash[0])]
            if overlaps < limit:
                ctx.error_at(
                    row.line,
                    row.col,
                    f"row '{row.key}' of '{node_id}' overlaps row '{first.key}' (line {first.line}) "
                    f"on {clash.size} parent combination{'s' if clash.size > 1 else ''}",
                    "each parent combination may be given once",
                )
            overlaps += 1
            ok = False
        if block is None:
            if not clash.size:
                owner[index] = i
        else:
            owner[index] = np.where(block >= 0, block, i)
    if table.default is None:
        nholes = int(np.count_nonzero(owner < 0))
        if nholes:
            combos = [
                ", ".join(f"{p}={parent_states[p][j]}" for p, j in zip(parents, hole))
                for hole in _first_holes(owner, limit)
            ]
            more = f" and {nholes - limit:,} more" if nholes > limit else ""
            ctx.error_at(
                table.line,
                table.col,
                f"cpt of '{node_id}' has no row for {nholes:,} parent combination"
                f"{'s' if nholes > 1 else ''}: " + "; ".join(combos) + more,
                "add the rows, or a 'default:' row for every combination not listed",
            )
            ok = False
    return ok


def _first_holes(owner: np.ndarray, limit: int, chunk: int = 1 << 16) -> list[tuple[int, ...]]:
    """The first ``limit`` parent combinations no row covers, found a chunk at a time
    (``np.argwhere`` on the whole table would hold every hole times every parent)."""
    flat = owner.reshape(-1)
    found: list[int] = []
    for start in range(0, flat.size, chunk):
        idx = np.flatnonzero(flat[start : start + chunk] < 0)
        found.extend(int(start + i) for i in idx[: limit - len(found)])
        if len(found) >= limit:
            break
    return [tuple(int(j) for j in np.unravel_index(i, owner.shape)) for i in found]
