"""Validated spec -> :class:`CompiledModel`: node order, state indices, CPT arrays.

A compiled model is plain numpy data; the engines never see YAML. CPT arrays
are indexed by each parent's state (in ``parents`` order) and then by the
node's own state, so ``cpts[i][..., k]`` is P(node i = state k | parents) and
every innermost vector sums to 1.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from riskchain.errors import UsageError, suggest

# Tables read from other tools sum to 1 only within this tolerance: six-decimal writers
# (pyAgrum, GeNIe) give 0.333333 three times. The same tolerance as in model files.
IMPORT_TOLERANCE = 1e-4
# Within this a sum is off by a last decimal or a double's rounding: nothing is said.
QUIET_TOLERANCE = 1e-6

BYTES_PER_ENTRY = 8  # float64
# Expanding a table holds, at its peak, the table, the normalized copy made of it and
# a few masks: about this many times its size (measured: 2.6 for a 2^27-entry table).
BUILD_COPIES = 3


@dataclass(frozen=True)
class TableSize:
    """The size of a node's table, known before it is built.

    ``entries`` is exact below 2**1000 (else None); ``log2`` is always set.
    """

    entries: int | None
    log2: float

    @classmethod
    def of(cls, card: int, parent_cards: Iterable[int]) -> TableSize:
        cards = [card, *parent_cards]
        bits = sum(math.log2(c) for c in cards if c > 0)
        return cls(math.prod(cards) if bits < 1000 else None, bits)

    @property
    def bytes(self) -> float:
        """Bytes of the table (inf when beyond a float)."""
        if self.entries is None:
            return math.inf
        return float(self.entries) * BYTES_PER_ENTRY

    def entries_text(self) -> str:
        if self.entries is not None and self.entries < 10**15:
            return f"{self.entries:,}"
        return f"about 10^{self.log2 * math.log10(2):.0f}"


@dataclass(eq=False)
class CompiledModel:
    """A Bayesian network as arrays.

    Attributes
    ----------
    id : str
        Model id.
    names : tuple of str
        Node ids in file order; node ``i`` is ``names[i]``.
    states : tuple of tuple of str
        State names of each node.
    parents : tuple of tuple of int
        Parent indices of each node, in the order of the CPT axes.
    cpts : tuple of numpy.ndarray
        ``cpts[i]`` has shape ``(*cards of parents, card of i)``.
    """

    id: str
    names: tuple[str, ...]
    states: tuple[tuple[str, ...], ...]
    parents: tuple[tuple[int, ...], ...]
    cpts: tuple[np.ndarray, ...]
    index: dict[str, int] = field(init=False)
    cards: tuple[int, ...] = field(init=False)
    children: tuple[tuple[int, ...], ...] = field(init=False)
    _plans: dict = field(init=False, default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.index = {n: i for i, n in enumerate(self.names)}
        self.cards = tuple(len(s) for s in self.states)
        kids: list[list[int]] = [[] for _ in self.names]
        for i, ps in enumerate(self.parents):
            for p in ps:
                kids[p].append(i)
        self.children = tuple(tuple(k) for k in kids)

    def __len__(self) -> int:
        return len(self.names)

    # -- names <-> indices -----------------------------------------------------
    def node(self, name: str) -> int:
        """Index of node ``name``.

        Raises
        ------
        UsageError
            If there is no such node (with a "did you mean").
        """
        try:
            return self.index[name]
        except KeyError:
            hint = suggest(name, self.names)
            raise UsageError(
                f"no node '{name}' in model '{self.id}'" + (f"; {hint}" if hint else "")
            ) from None

    def state(self, node: int | str, state: str) -> int:
        """Index of ``state`` of ``node``; raises :class:`UsageError` if unknown."""
        i = self.node(node) if isinstance(node, str) else node
        try:
            return self.states[i].index(state)
        except ValueError:
            hint = suggest(state, self.states[i])
            raise UsageError(
                f"node '{self.names[i]}' has no state '{state}' (states: {', '.join(self.states[i])})"
                + (f"; {hint}" if hint else "")
            ) from None

    # -- construction ----------------------------------------------------------
    @classmethod
    def from_tables(
        cls,
        model_id: str,
        names: Sequence[str],
        states: Sequence[Sequence[str]],
        parents: Mapping[str, Sequence[str]],
        cpts: Mapping[str, np.ndarray],
    ) -> CompiledModel:
        """Build from named tables (used by importers and tests).

        Each innermost vector must sum to 1 within :data:`IMPORT_TOLERANCE`; it is
        renormalized exactly (:func:`sum_gaps` tells how far off the sums were).

        Raises
        ------
        ValueError
            On a shape mismatch or a vector that does not sum to 1.
        """
        index = {n: i for i, n in enumerate(names)}
        par = tuple(tuple(index[p] for p in parents.get(n, ())) for n in names)
        arrays = []
        for i, n in enumerate(names):
            arr = np.asarray(cpts[n], dtype=np.float64)
            shape = (*(len(states[p]) for p in par[i]), len(states[i]))
            if arr.shape != shape:
                raise ValueError(f"table of '{n}' has shape {arr.shape}, expected {shape}")
            arrays.append(normalize_columns(arr, n))
        return cls(model_id, tuple(names), tuple(tuple(s) for s in states), par, tuple(arrays))

    def with_cpts(self, cpts: Mapping[int, np.ndarray]) -> CompiledModel:
        """A copy with some CPT arrays replaced (structure unchanged)."""
        arrays = list(self.cpts)
        for i, arr in cpts.items():
            arrays[i] = np.asarray(arr, dtype=np.float64)
        return CompiledModel(self.id, self.names, self.states, self.parents, tuple(arrays))

    def topological_order(self) -> list[int]:
        """Node indices with every parent before its children (file order where free)."""
        indeg = [len(p) for p in self.parents]
        ready = deque(i for i, d in enumerate(indeg) if d == 0)
        order: list[int] = []
        while ready:
            i = ready.popleft()
            order.append(i)
            for c in self.children[i]:
                indeg[c] -= 1
                if indeg[c] == 0:
                    ready.append(c)
        if len(order) != len(self.names):
            raise ValueError("the graph has a cycle")
        return order


def normalize_columns(arr: np.ndarray, name: str = "", tol: float = IMPORT_TOLERANCE) -> np.ndarray:
    """Check that the last axis sums to 1 within ``tol`` and renormalize it exactly."""
    if np.any(~np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"table of '{name}' has negative or non-finite entries")
    sums = arr.sum(axis=-1, keepdims=True)
    worst = float(np.max(np.abs(sums - 1))) if sums.size else 0.0
    if worst > tol:
        flat = sums.ravel()
        bad = float(flat[np.argmax(np.abs(flat - 1))])
        raise ValueError(
            f"a distribution in the table of '{name}' sums to {bad:.8g}, not 1 "
            f"(sums within {tol:g} of 1 are renormalized)"
        )
    return arr / sums


def sum_gaps(tables: Mapping[str, np.ndarray], quiet: float = QUIET_TOLERANCE) -> tuple[int, float]:
    """How many distributions of ``tables`` (last axis) sum to 1 only within more than
    ``quiet``, and the largest gap: what renormalizing them changed."""
    count, worst = 0, 0.0
    for arr in tables.values():
        gaps = np.abs(np.asarray(arr, dtype=np.float64).sum(axis=-1) - 1)
        count += int(np.count_nonzero(gaps > quiet))
        worst = max(worst, float(gaps.max(initial=0.0)))
    return count, worst


def compile_spec(spec) -> CompiledModel:
    """Expand every node's table of a :class:`~riskchain.spec.model.ModelSpec` into arrays."""
    names = list(spec.nodes)
    states = [spec.nodes[n].states for n in names]
    parents = {n: spec.nodes[n].parents for n in names}
    cpts = {}
    for n in names:
        node = spec.nodes[n]
        cpts[n] = node.table.expand(len(node.states), [spec.nodes[p].states for p in node.parents])
    return CompiledModel.from_tables(spec.id, names, states, parents, cpts)
