"""Drawing whole tables from the spread of the analyst's numbers.

Every number keeps its spread when it is parsed (:class:`~riskchain.spec.probability.Prob`).
Here each is drawn:

- an estimative term or a range ``[a, b]``: uniform over its range (the words
  of ICD 203 stand for a band, with no preference for any point inside it);
- ``beta(a, b)``: that Beta distribution;
- an exact number (``0.35``, ``35%``): exactly itself, unless a *strength* applies
  (the node's ``strength:``, else the model's, else the command line's
  ``--strength``): then a distribution written only with exact numbers is drawn
  from a Dirichlet with concentration ``strength x point`` (a Beta for a single
  probability), whose mean is the number written.

Within a distribution, the state left out takes the remainder of each draw; when
the drawn numbers add up to more than 1 the remainder is 0 and the draw is
rescaled to sum to 1. A row covering several parent combinations (``a=*``,
``default``) is one judgment and is drawn once per draw for all of them.

Draws are reproducible and independent of how they are split into chunks: every
parameter has its own random stream, keyed by the seed, the node and the
parameter's place in the node, and a chunk continues each stream where the
previous chunk stopped.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from riskchain.spec.probability import Prob
from riskchain.spec.scenario import SetSpec
from riskchain.spec.tables import CptTable, Dist, Row, Table

# Where a node's spread comes from, for labelling intervals honestly.
OWN = "own"  # terms, ranges, beta(a, b) written in the file
FILE_STRENGTH = "file-strength"  # a strength: written in the model file
FLAG_STRENGTH = "flag-strength"  # the command line's --strength


@dataclass
class NodeDraws:
    """Draws the tables of one node, chunk after chunk.

    Parameters
    ----------
    key : int
        The node's stable key in the random streams (its index in the model).
    table : Table
        How the node's probabilities are written.
    states : tuple of str
        The node's states.
    parent_states : sequence of tuple of str
        The states of each parent, in ``parents`` order.
    seed : int
        The run's seed.
    strength : float or None
        The Dirichlet strength for exact numbers (None: exact numbers stay exact).
    strength_source : str
        :data:`FILE_STRENGTH` or :data:`FLAG_STRENGTH`: where ``strength`` came from.
    """

    key: int
    table: Table | None
    states: tuple[str, ...]
    parent_states: Sequence[tuple[str, ...]]
    seed: int
    strength: float | None = None
    strength_source: str = FLAG_STRENGTH
    sources: set[str] = field(default_factory=set)
    # Draws of this chunk by number (id of a Prob or Dist); ``shared`` are another
    # drawer's, used as they are for the same numbers: a scenario's table that keeps
    # some of the model's numbers draws those exactly as the model's table did, so a
    # change between scenarios is not blurred by numbers neither of them changed.
    drawn: dict[int, np.ndarray] = field(default_factory=dict)
    shared: dict[int, np.ndarray] = field(default_factory=dict)
    _streams: dict[int, np.random.Generator] = field(default_factory=dict)
    _counter: int = 0

    # -- random streams ------------------------------------------------------------
    def _rng(self) -> np.random.Generator:
        """The next parameter's own stream (the same parameter gets the same stream
        in every chunk, because parameters are visited in the same order)."""
        k = self._counter
        self._counter += 1
        rng = self._streams.get(k)
        if rng is None:
            rng = np.random.default_rng([self.seed, self.key, k])
            self._streams[k] = rng
        return rng

    # -- single numbers and distributions ----------------------------------------------
    def prob(self, p: Prob, n: int) -> np.ndarray:
        """``n`` draws of one probability."""
        if id(p) in self.shared:
            self._counter += 1  # the stream it would have used stays its own
            out = self.shared[id(p)]
        else:
            out = self._prob(p, n)
        self.drawn[id(p)] = out
        return out

    def _prob(self, p: Prob, n: int) -> np.ndarray:
        rng = self._rng()
        if p.kind in ("term", "range"):
            self.sources.add(OWN)
            if p.high > p.low:
                return rng.uniform(p.low, p.high, n)
            return np.full(n, p.point)
        if p.kind == "beta":
            self.sources.add(OWN)
            a, b = p.params
            return rng.beta(a, b, n)
        if self.strength is not None and 0.0 < p.point < 1.0:
            self.sources.add(self.strength_source)
            s = self.strength
            return rng.beta(s * p.point, s * (1.0 - p.point), n)
        return np.full(n, p.point)

    def dirichlet(self, point: np.ndarray, n: int) -> np.ndarray:
        """``n`` draws ``(n, card)`` from a Dirichlet around ``point`` (zeros stay zero)."""
        rng = self._rng()
        if self.strength is None or np.count_nonzero(point) < 2:
            return np.broadcast_to(point, (n, point.shape[-1])).copy()
        self.sources.add(self.strength_source)
        g = rng.standard_gamma(self.strength * point, (n, point.shape[-1]))
        total = g.sum(axis=-1, keepdims=True)
        # a draw whose gammas all underflow (tiny concentrations) falls back on the point
        bad = total[:, 0] <= 0
        if bad.any():
            g[bad] = point
            total[bad] = 1.0
        g /= total
        return g

    def dist(self, d: Dist, n: int) -> np.ndarray:
        """``n`` draws ``(n, card)`` of a distribution as written."""
        exact = all(not p.uncertain for p in d.given.values())
        if id(d) in self.shared:
            self._counter += 1 if exact else len(d.given)  # the streams _dist would use
            out = self.shared[id(d)]
        else:
            out = self._dist(d, n)
        self.drawn[id(d)] = out
        return out

    def _dist(self, d: Dist, n: int) -> np.ndarray:
        if all(not p.uncertain for p in d.given.values()):
            return self.dirichlet(d.point(), n)
        card = len(d.states)
        out = np.zeros((n, card))
        where = {s: j for j, s in enumerate(d.states)}
        for s, p in d.given.items():
            out[:, where[s]] = self.prob(p, n)
        if d.remainder is not None:
            j = where[d.remainder]
            out[:, j] = np.maximum(0.0, 1.0 - out.sum(axis=-1))
        total = out.sum(axis=-1, keepdims=True)
        return np.divide(out, total, out=np.full_like(out, 1.0 / card), where=total > 0)

    def columns(self, point: np.ndarray, n: int) -> np.ndarray:
        """``n`` draws of a whole expanded table, each column Dirichlet around its point."""
        if self.strength is None:
            return np.broadcast_to(point, (n, *point.shape)).copy()
        card = point.shape[-1]
        flat = point.reshape(-1, card)
        out = np.empty((n, *flat.shape))
        for i, col in enumerate(flat):
            out[:, i] = self.dirichlet(col, n)
        return out.reshape(n, *point.shape)

    # -- tables -----------------------------------------------------------------------
    def draw(self, n: int) -> np.ndarray:
        """The next ``n`` draws of the node's table, shape ``(n, *parents, card)``."""
        self._counter = 0
        self.drawn = {}
        return self._table(self.table, n)

    def _table(self, t: Table | None, n: int) -> np.ndarray:
        if t is None:  # pragma: no cover - every node has a table
            raise TypeError("no table to draw")
        return t.draw(self, n)  # the table calls back prob / dist / columns / cpt

    def apply_set(self, base: np.ndarray, s: SetSpec, n: int) -> np.ndarray:
        """``base`` draws ``(n, *parents, card)`` with a scenario's own numbers written
        over them, drawn like the model's (call on a NodeDraws keyed for that setting).

        A parametric setting draws its whole table; the numbers it keeps from the
        table before it are taken from :attr:`shared` (that table's draws)."""
        self._counter = 0
        self.drawn = {}
        if s.table is not None:
            return self._table(s.table, n)
        card, ps = len(self.states), self.parent_states
        out = np.array(base, dtype=np.float64)
        flat = (n, *([1] * len(ps)), card)
        if s.p is not None:
            out[...] = self.dist(s.p, n).reshape(flat)
        if s.default is not None:
            out[...] = self.dist(s.default.dist, n).reshape(flat)
        lookup = [{st: j for j, st in enumerate(states)} for states in ps]
        for row in s.rows:
            self._row(out, row, lookup, n)
        return out

    def cpt(self, t: CptTable, n: int) -> np.ndarray:
        """``n`` draws of a ``cpt:`` table: the default row, then each row over it."""
        card, ps = len(self.states), self.parent_states
        shape = (n, *(len(s) for s in ps), card)
        out = np.empty(shape)
        if t.default is not None:
            out[...] = self.dist(t.default.dist, n).reshape(n, *([1] * len(ps)), card)
        lookup = [{s: j for j, s in enumerate(states)} for states in ps]
        for row in t.rows:
            self._row(out, row, lookup, n)
        return out

    def _row(self, out: np.ndarray, row: Row, lookup: list[dict[str, int]], n: int) -> None:
        values = self.dist(row.dist, n)
        index = [[lk[s] for s in chosen] for chosen, lk in zip(row.when.values(), lookup)]
        if all(len(ix) == 1 for ix in index):
            out[(slice(None), *(ix[0] for ix in index))] = values
        else:
            grid = np.ix_(range(n), *index, range(values.shape[-1]))
            out[grid] = values.reshape(n, *([1] * len(index)), values.shape[-1])


def stream_key(*parts: str) -> int:
    """A stable integer for naming a random stream after text (a scenario, a node)."""
    return zlib.crc32("\x1f".join(parts).encode())
