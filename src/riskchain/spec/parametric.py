"""Parametric tables: what analysts actually know, expanded to full CPTs.

A node with five causes needs 32 rows; these forms need one number per cause
(formulas and sources: ``docs/model-format.md``):

* ``noisy_or`` — each cause alone can bring the effect about (Henrion's
  compound form by default: each number is P(effect | only that cause present),
  leak included; ``form: net`` gives Díez's form, the leak switched off).
* ``noisy_and`` — the effect needs every cause; each number is P(effect | all
  causes present except that one) (the De Morgan dual of noisy-OR).
* ``logic`` — deterministic gates: ``and``, ``or``, ``{at_least: k}``.
* ``noisy_max`` — a graded effect whose level is the highest any cause pushes
  it to (Díez 1993; GeNIe's semantics).
* ``ranked`` — Fenton, Neil & Caballero (2007) ranked nodes: ordinal states as
  equal intervals of [0, 1], a truncated normal around a weighted function of
  the parents (WMEAN, WMIN, WMAX, MIXMINMAX).

Every parameter accepts every probability form and keeps its spread.

Each kind is one class (a :class:`~riskchain.spec.tables.Table`) that parses
itself (:meth:`parse`), expands and draws its table, lists the numbers the
analyst wrote for sensitivity analysis, says what ``riskchain set`` can edit
(``set_targets``), and describes itself in the JSON Schema (``schema_*``).
The registry :data:`KINDS` maps each YAML key to its class; adding a kind is
adding a class with :func:`parametric_kind`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from riskchain.errors import listing, power_text, shorten
from riskchain.spec.probability import Context, Prob, parse_prob
from riskchain.spec.tables import Dist, Provenance, Table, Written, parse_dist
from riskchain.spec.yamlsrc import YNode

if TYPE_CHECKING:
    from riskchain.spec.draws import NodeDraws

FORMS = ("compound", "net")
# Keys the parsers check inline (the schema lists them; tests/test_schema.py checks
# that riskchain accepts each and rejects others)
NOISY_KEYS = ("form", "leak")  # besides one key per parent
MAX_CAUSE_KEYS = ("absent",)  # besides one key per state of the parent
LOGIC_KEYS = ("at_least",)
LOGIC_WORDS = ("and", "or")
RANKED_KEYS = ("function", "weights", "variance")
CAUSE_KEYS = ("p", "state", "note", "source", "sources", "confidence")
RANKED_FUNCTIONS = ("wmean", "wmin", "wmax", "mixminmax")
# What the ranked formulas compute to about 1e-13 (checked against 60-digit
# arithmetic): a variance up to 1e6, where the table is already uniform to 1e-7,
# and nonzero weights between 1e-6 and 1e6 (sums of weights near 1e308 overflow,
# products with weights near 1e-308 underflow to 0).
VARIANCE_MAX = 1e6
WEIGHT_MIN = 1e-6
WEIGHT_MAX = 1e6


def present_state(states: Sequence[str]) -> str:
    """The state of a cause that counts as 'present' by default: ``yes`` if it
    has one (any case), else its second state."""
    for s in states:
        if s.lower() == "yes":
            return s
    return states[1]


ProvenanceParser = Callable[[YNode, str], Provenance]


@dataclass(frozen=True)
class Place:
    """Where a parametric table is written: its YAML value ``node`` under the node key
    ``at`` of node ``nid`` (with its states, its parents and theirs), parsed in ``ctx``;
    ``prov`` reads a cause's provenance."""

    node: YNode
    nid: str
    states: tuple[str, ...]
    parents: tuple[str, ...]
    parent_states: dict[str, tuple[str, ...]]
    ctx: Context
    prov: ProvenanceParser | None = None
    at: YNode | None = None


Schema = dict[str, Any]
Fields = dict[str, dict[str, tuple[Schema, str]]]
_BINARY_ONLY: Schema = {"properties": {"states": {"maxItems": 2}}}


class ParametricTable(Table):
    """A parametric table kind: what every kind adds to :class:`Table`.

    The ``schema_*`` members describe the kind in the JSON Schema
    (:mod:`riskchain.schema`, which hands itself in as ``kit`` for its helpers
    ``ref``, ``closed_object``, ``anycase_pattern`` and its shared field texts).
    """

    #: The YAML keys that write this kind, each with its name in notes ("noisy-OR").
    labels: ClassVar[dict[str, str]] = {}
    #: The kind's objects whose keys its parser checks inline: ``{object: keys}``.
    schema_keys: ClassVar[dict[str, tuple[str, ...]]] = {}
    #: What a node written with each key must also have (JSON Schema ``dependentSchemas``).
    schema_rules: ClassVar[dict[str, Schema]] = {}

    @classmethod
    def schema_fields(cls, kit: Any) -> Fields:  # pragma: no cover - every kind has its own
        """Type and description of the kind's keys: ``node`` and ``set`` (the node keys,
        in a model and in a scenario's ``set:``) and each of its own objects."""
        raise NotImplementedError

    @classmethod
    def schema_defs(cls, kit: Any) -> dict[str, Schema]:  # pragma: no cover
        """The model schema's definitions of the kind's tables."""
        raise NotImplementedError

    @classmethod
    def schema_set_defs(cls, kit: Any, model: dict[str, Schema]) -> dict[str, Schema]:
        """The definitions of the kind's tables as a scenario's ``set:`` writes them: any
        part of the model's (``model``: every model definition)."""
        raise NotImplementedError  # pragma: no cover

    @classmethod
    def parse(
        cls, key: str, w: Place, base: Table | None
    ) -> Table | None:  # pragma: no cover - every kind has its own
        """The table written under ``key`` at ``w``; None after reporting errors.

        ``base`` is the table a scenario's ``set:`` changes (None in a model): when it
        is of this kind, the numbers written replace its numbers and the others stay."""
        raise NotImplementedError


#: Every parametric kind by the YAML key that writes it, in the order messages list them.
KINDS: dict[str, type[ParametricTable]] = {}


def parametric_kind(cls: type[ParametricTable]) -> type[ParametricTable]:
    """Register a parametric kind under each of its YAML keys (class decorator)."""
    for key in cls.labels:
        KINDS[key] = cls
    return cls


def kinds() -> list[type[ParametricTable]]:
    """Every parametric kind once, in registry order."""
    return list(dict.fromkeys(KINDS.values()))


@dataclass(frozen=True)
class Cause:
    """One parent of a parametric node: which of its states counts as present, its
    number, and where the number came from."""

    parent: str
    present: str
    p: Prob
    line: int = 0
    col: int = 0
    provenance: Provenance = field(default_factory=Provenance)


@parametric_kind
@dataclass(frozen=True)
class NoisyOr(ParametricTable):
    """Leaky noisy-OR for a binary effect: P(yes | x) from a leak and one number per cause."""

    labels: ClassVar[dict[str, str]] = {"noisy_or": "noisy-OR", "noisy_and": "noisy-AND"}
    set_targets: ClassVar[tuple[str, ...]] = ("leak", "cause")
    schema_keys: ClassVar[dict[str, tuple[str, ...]]] = {"noisy": NOISY_KEYS}
    schema_rules: ClassVar[dict[str, Schema]] = {
        "noisy_or": _BINARY_ONLY,
        "noisy_and": _BINARY_ONLY,
    }

    @classmethod
    def schema_fields(cls, kit: Any) -> Fields:
        ref = kit.ref
        return {
            "node": {
                "noisy_or": (
                    ref("noisy"),
                    "Noisy-OR (binary node): each cause alone can bring the effect about. "
                    "{leak: p, form: compound|net, PARENT: p, ...}; each number is "
                    "P(effect | only that cause present) in the compound form (the default).",
                ),
                "noisy_and": (
                    ref("noisy"),
                    "Noisy-AND (binary node): the effect needs every cause. "
                    "{leak: p, form: compound|net, PARENT: p, ...}; each number is "
                    "P(effect | all causes present except that one).",
                ),
            },
            "set": {
                "noisy_or": (
                    ref("noisySet"),
                    "For a node the model writes with noisy_or: the leak, form or causes given "
                    "replace the model's; the others stay.",
                ),
                "noisy_and": (
                    ref("noisySet"),
                    "For a node the model writes with noisy_and: the leak, form or causes given "
                    "replace the model's; the others stay.",
                ),
            },
            "cause": {
                "p": (ref("probability"), "P(effect) for this cause (see the form)."),
                "state": (
                    ref("stateName"),
                    "The parent's state that counts as present (default: yes, else its second state).",
                ),
                "note": kit.NOTE,
                "source": kit.SOURCE,
                "sources": kit.SOURCES,
                "confidence": kit.CONFIDENCE_FIELD,
            },
            "noisy": {
                "form": (
                    {"enum": list(FORMS)},
                    "compound (default): each cause's number includes the leak (Henrion); "
                    "net: the number without the leak (Díez).",
                ),
                "leak": (
                    ref("probability"),
                    "The probability of the effect when no cause is present (noisy_or) "
                    "or when every cause is present (noisy_and).",
                ),
            },
        }

    @classmethod
    def schema_defs(cls, kit: Any) -> dict[str, Schema]:
        return {
            "cause": {
                "description": "A cause's number, or {p, state, note, source(s), confidence}.",
                "oneOf": [
                    kit.ref("probability"),
                    kit.closed_object(
                        "cause", "A cause's number with its present state and provenance.", ["p"]
                    ),
                ],
            },
            "noisy": {
                "description": "Leak, form, and one number per parent (every parent).",
                "type": "object",
                "minProperties": 1,
                "propertyNames": kit.ref("nodeId"),
                "properties": kit.properties("noisy"),
                "additionalProperties": kit.ref("cause"),
            },
        }

    @classmethod
    def schema_set_defs(cls, kit: Any, model: dict[str, Schema]) -> dict[str, Schema]:
        noisy = model["noisy"] | {
            "description": "Leak, form and causes to replace; the model's others stay.",
        }
        return {"noisySet": noisy, "cause": model["cause"]}

    causes: tuple[Cause, ...]
    leak: Prob | None
    form: str = "compound"
    negate: bool = False  # noisy_and: the same algebra on the complements
    line: int = 0
    col: int = 0

    @property
    def kind(self) -> str:  # type: ignore[override]
        return "noisy_and" if self.negate else "noisy_or"

    @classmethod
    def parse(cls, key: str, w: Place, base: Table | None) -> Table | None:
        return parse_noisy(
            w.node, w.nid, w.states, w.parents, w.parent_states, w.ctx, key == "noisy_and",
            w.prov, w.at, base if isinstance(base, NoisyOr) else None,
        )  # fmt: skip

    def draw(self, drawer: NodeDraws, n: int) -> np.ndarray:
        leak = drawer.prob(self.leak, n) if self.leak is not None else None
        causes = [drawer.prob(c.p, n) for c in self.causes]
        return self.expand_with(causes, leak, drawer.parent_states)

    def numbers(self, parent_states: Mapping[str, Sequence[str]]) -> Iterator[Written]:
        if self.leak is not None:
            yield Written("leak", {}, prob=self.leak)
        for c in self.causes:
            yield Written(f"cause {c.parent}={c.present}", {c.parent: c.present}, prob=c.p)

    def written(self) -> list[dict]:
        what = "all causes present" if self.negate else "no cause present"
        out = [{"row": "form", "text": self.form}]
        out.append({"row": f"leak ({what})", "text": self.leak.text if self.leak else "none"})
        for c in self.causes:
            out.append(
                {"row": f"{c.parent}={c.present}", "text": c.p.text, **c.provenance.to_json()}
            )
        return out

    def expand(self, card: int, parent_states: Sequence[Sequence[str]]) -> np.ndarray:
        return self.expand_with(
            [c.p.point for c in self.causes], self.leak.point if self.leak else None, parent_states
        )

    def expand_with(
        self,
        ps: Sequence[float | np.ndarray],
        leak: float | np.ndarray | None,
        parent_states: Sequence[Sequence[str]],
    ) -> np.ndarray:
        """The CPT for given parameter values: floats (the point values) or arrays of
        draws, which give a table per draw, shape ``(*draws, *parents, 2)``.

        In a draw a cause can fall below the leak; it then counts as the leak (a cause
        never lowers the chance in noisy-OR), which validation enforces for point values.
        """
        arrs = [np.asarray(p, dtype=np.float64) for p in ps]
        leak_arr = np.asarray(
            (0.0 if not self.negate else 1.0) if leak is None else leak, dtype=np.float64
        )
        batch = np.broadcast_shapes(leak_arr.shape, *(a.shape for a in arrs))
        shape = [len(s) for s in parent_states]
        out = np.empty((*batch, *shape, 2))
        present = [states.index(c.present) for c, states in zip(self.causes, parent_states)]
        compound = self.form == "compound"
        with np.errstate(divide="ignore", invalid="ignore"):
            if not self.negate:
                base = 1.0 - leak_arr  # P(no | no cause present)
                factors = [
                    np.minimum(np.where(base > 0, (1.0 - a) / base, 1.0 - a), 1.0)
                    if compound
                    else 1.0 - a
                    for a in arrs
                ]
            else:
                top = leak_arr  # P(yes | every cause present)
                factors = [
                    np.minimum(np.where(top > 0, a / top, a), 1.0) if compound else a for a in arrs
                ]
        # The product over causes for every parent combination at once: each cause
        # contributes its factor along its own axis (1 in the other states), so
        # the numbers are those of a loop over the combinations, in the same order.
        y = _along(base if not self.negate else top, batch, len(shape))
        for i, (f, pr) in enumerate(zip(factors, present)):
            g = np.ones((*batch, shape[i]))
            if not self.negate:
                g[..., pr] = f  # noisy_or: the factor applies where the cause is present
            else:
                g[...] = np.broadcast_to(f, batch)[..., None]  # noisy_and: where it is absent
                g[..., pr] = 1.0
            y = y * _along(g, batch, len(shape), i)
        y = np.broadcast_to(y, (*batch, *shape))
        y = 1.0 - np.clip(y, 0.0, 1.0) if not self.negate else np.clip(y, 0.0, 1.0)
        out[..., 0] = 1.0 - y
        out[..., 1] = y
        return out


def _along(
    arr: np.ndarray | float, batch: tuple[int, ...], k: int, axis: int | None = None
) -> np.ndarray:
    """``arr`` placed for broadcasting over ``k`` parent axes after the ``batch`` axes:
    shape ``(*batch, 1, ...)`` when ``axis`` is None, else its last axis (a parent's
    states) becomes parent axis ``axis``: ``(*batch, 1, .., n, .., 1)``."""
    a = np.asarray(arr, dtype=np.float64)
    if axis is None:
        return np.broadcast_to(a, batch).reshape(*batch, *([1] * k))
    n = a.shape[-1]
    a = np.broadcast_to(a, (*batch, n))
    return a.reshape(*batch, *([1] * axis), n, *([1] * (k - axis - 1)))


@parametric_kind
@dataclass(frozen=True)
class Logic(ParametricTable):
    """Deterministic gate over the parents' present states."""

    op: str  # "and", "or", "at_least"
    k: int
    present: tuple[str, ...]
    line: int = 0
    col: int = 0
    parents: tuple[str, ...] = ()
    kind = "logic"
    labels: ClassVar[dict[str, str]] = {"logic": "logic"}
    schema_keys: ClassVar[dict[str, tuple[str, ...]]] = {"logic": LOGIC_KEYS}
    schema_rules: ClassVar[dict[str, Schema]] = {"logic": _BINARY_ONLY}

    @classmethod
    def schema_fields(cls, kit: Any) -> Fields:
        return {
            "node": {
                "logic": (
                    kit.ref("logic"),
                    "A deterministic gate (binary node) over the parents' present states: "
                    "and, or, or {at_least: k}.",
                ),
            },
            "set": {
                "logic": (
                    kit.ref("logic"),
                    "For a node the model writes with logic: the gate that replaces it.",
                ),
            },
            "logic": {
                "at_least": (
                    {"type": "integer", "minimum": 1},
                    "Yes when at least this many parents are present (1 to the number of parents).",
                ),
            },
        }

    @classmethod
    def schema_defs(cls, kit: Any) -> dict[str, Schema]:
        return {
            "logic": {
                "description": "and, or, or {at_least: k}.",
                "oneOf": [
                    {"enum": list(LOGIC_WORDS)},
                    kit.closed_object(
                        "logic", "Yes when at least k parents are present.", ["at_least"]
                    ),
                ],
            },
        }

    @classmethod
    def schema_set_defs(cls, kit: Any, model: dict[str, Schema]) -> dict[str, Schema]:
        return {"logic": model["logic"]}

    @classmethod
    def parse(cls, key: str, w: Place, base: Table | None) -> Table | None:
        # a scenario's logic replaces the model's whole
        return parse_logic(w.node, w.nid, w.states, w.parents, w.parent_states, w.ctx, w.at)

    def draw(self, drawer: NodeDraws, n: int) -> np.ndarray:
        card, ps = len(drawer.states), drawer.parent_states
        return np.broadcast_to(self.expand(card, ps), (n, *[len(s) for s in ps], card)).copy()

    def written(self) -> list[dict]:
        text = {"and": "all", "or": "any"}.get(self.op, f"at least {self.k}")
        what = [f"{p}={s}" for p, s in zip(self.parents, self.present)] or list(self.present)
        return [{"row": "logic", "text": f"yes when {text} of " + ", ".join(what) + " hold"}]

    def expand(self, card: int, parent_states: Sequence[Sequence[str]]) -> np.ndarray:
        shape = [len(s) for s in parent_states]
        out = np.empty((*shape, 2))
        idx = [states.index(p) for p, states in zip(self.present, parent_states)]
        need = {"and": len(idx), "or": 1, "at_least": self.k}[self.op]
        # how many parents are in their present state, for every combination at once
        count = np.zeros([1] * len(shape), dtype=np.int16)
        for i, (n, pr) in enumerate(zip(shape, idx)):
            hit = (np.arange(n) == pr).astype(np.int16)
            count = count + hit.reshape(*([1] * i), n, *([1] * (len(shape) - i - 1)))
        on = np.broadcast_to(count >= need, shape)
        out[..., 1] = on
        out[..., 0] = ~on
        return out


@dataclass(frozen=True)
class MaxCause:
    """A noisy-MAX cause: its absent state and, for each other state, a distribution of the effect."""

    parent: str
    absent: str
    dists: tuple[tuple[str, Dist], ...]  # (parent state, distribution over the effect's states)


@parametric_kind
@dataclass(frozen=True)
class NoisyMax(ParametricTable):
    """Noisy-MAX: P(Y <= y | x) = L(y) * prod_i C_i(y | x_i) / L(y) (compound) or L(y) * prod C_i (net)."""

    causes: tuple[MaxCause, ...]
    leak: Dist | None
    form: str = "compound"
    line: int = 0
    col: int = 0
    kind = "noisy_max"
    labels: ClassVar[dict[str, str]] = {"noisy_max": "noisy-MAX"}
    set_targets: ClassVar[tuple[str, ...]] = ("leak",)  # a cause holds distributions
    schema_keys: ClassVar[dict[str, tuple[str, ...]]] = {
        "noisy_max": NOISY_KEYS,
        "max cause": MAX_CAUSE_KEYS,
    }

    @classmethod
    def schema_fields(cls, kit: Any) -> Fields:
        ref = kit.ref
        return {
            "node": {
                "noisy_max": (
                    ref("noisyMax"),
                    "Noisy-MAX (graded node, states from lowest to highest): "
                    "{leak: {state: p}, form: compound|net, PARENT: {absent: state, STATE: {state: p}}}.",
                ),
            },
            "set": {
                "noisy_max": (
                    ref("noisyMaxSet"),
                    "For a node the model writes with noisy_max: the leak, form and each cause "
                    "state's distribution given replace the model's (a cause naming its absent "
                    "state is given whole); the others stay.",
                ),
            },
            "noisy_max": {
                "form": (
                    {"enum": list(FORMS)},
                    "compound (default): each cause's distribution includes the leak; net: without it.",
                ),
                "leak": (
                    ref("distribution"),
                    "The distribution of the effect when every cause is absent (default: its lowest state).",
                ),
            },
            "max cause": {
                "absent": (
                    ref("stateName"),
                    "The parent's state that leaves the effect to the leak (default: its first state).",
                ),
            },
        }

    @classmethod
    def schema_defs(cls, kit: Any) -> dict[str, Schema]:
        return {
            "noisyMax": {
                "description": "Leak, form, and for every parent a distribution of the effect "
                "for each of the parent's states but its absent one.",
                "type": "object",
                "minProperties": 1,
                "propertyNames": kit.ref("nodeId"),
                "properties": kit.properties("noisy_max"),
                "additionalProperties": kit.ref("maxCause"),
            },
            "maxCause": {
                "description": "{absent: state, STATE: {state: p}, ...}: for each of the parent's "
                "states but the absent one, a distribution of the effect.",
                "type": "object",
                "minProperties": 1,
                "propertyNames": kit.ref("stateName"),
                "properties": kit.properties("max cause"),
                "additionalProperties": kit.ref("distribution"),
            },
        }

    @classmethod
    def schema_set_defs(cls, kit: Any, model: dict[str, Schema]) -> dict[str, Schema]:
        noisy_max = model["noisyMax"] | {
            "description": "Leak, form and, per cause, distributions of the effect for some "
            "of its states; the model's others stay.",
        }
        return {"noisyMaxSet": noisy_max, "maxCause": model["maxCause"] | {"minProperties": 1}}

    @classmethod
    def parse(cls, key: str, w: Place, base: Table | None) -> Table | None:
        return parse_noisy_max(
            w.node, w.nid, w.states, w.parents, w.parent_states, w.ctx, w.at,
            base if isinstance(base, NoisyMax) else None,
        )  # fmt: skip

    def draw(self, drawer: NodeDraws, n: int) -> np.ndarray:
        card = len(drawer.states)
        leak = drawer.dist(self.leak, n) if self.leak is not None else np.eye(card)[0]
        dists = [{state: drawer.dist(d, n) for state, d in c.dists} for c in self.causes]
        return self.expand_with(leak, dists, card, drawer.parent_states)

    def numbers(self, parent_states: Mapping[str, Sequence[str]]) -> Iterator[Written]:
        if self.leak is not None:
            yield Written("leak", {}, dist=self.leak)
        for c in self.causes:
            for pstate, d in c.dists:
                yield Written(f"cause {c.parent}={pstate}", {c.parent: pstate}, dist=d)

    def written(self) -> list[dict]:
        out = [{"row": "form", "text": self.form}]
        out.append({"row": "leak", "text": self.leak.text() if self.leak else "lowest state"})
        for c in self.causes:
            out += [{"row": f"{c.parent}={state}", "text": d.text()} for state, d in c.dists]
        return out

    def expand(self, card: int, parent_states: Sequence[Sequence[str]]) -> np.ndarray:
        leak = self.leak.point() if self.leak is not None else np.eye(card)[0]
        dists = [{state: d.point() for state, d in c.dists} for c in self.causes]
        return self.expand_with(leak, dists, card, parent_states)

    def expand_with(
        self,
        leak: np.ndarray,
        dists: Sequence[Mapping[str, np.ndarray]],
        card: int,
        parent_states: Sequence[Sequence[str]],
    ) -> np.ndarray:
        """The CPT for given distributions (the leak's, and each cause's per parent state):
        point vectors ``(card,)`` or draws ``(*draws, card)``, giving ``(*draws, *parents, card)``."""
        leak = np.asarray(leak, dtype=np.float64)
        batch = np.broadcast_shapes(
            leak.shape[:-1], *(np.shape(d)[:-1] for table in dists for d in table.values())
        )
        cum_leak = np.cumsum(leak, axis=-1)
        cause_cums = []
        for table, states in zip(dists, parent_states):
            cums = {}
            where = {s: j for j, s in enumerate(states)}
            for state, dist in table.items():
                c = np.cumsum(np.asarray(dist, dtype=np.float64), axis=-1)
                if self.form == "compound":
                    c, lk = np.broadcast_arrays(c, cum_leak)
                    c = np.divide(c, lk, out=np.ones_like(c), where=lk > 0)
                cums[where[state]] = c
            cause_cums.append(cums)
        shape = [len(s) for s in parent_states]
        k = len(shape)
        # every combination at once: each cause multiplies along its own axis
        # (1 in its absent state), in the order a loop over the causes would
        # (in place in the one table-sized array: its size was checked against the budget)
        cum = np.empty((*batch, *shape, card))
        cum[...] = np.broadcast_to(cum_leak, (*batch, card)).reshape(*batch, *([1] * k), card)
        for i, (cums, n) in enumerate(zip(cause_cums, shape)):
            g = np.ones((*batch, n, card))
            for j, c in cums.items():
                g[..., j, :] = c
            cum *= g.reshape(*batch, *([1] * i), n, *([1] * (k - i - 1)), card)
        np.clip(cum, 0.0, 1.0, out=cum)
        cum[..., -1] = 1.0
        np.maximum.accumulate(cum, axis=-1, out=cum)
        for j in range(card - 1, 0, -1):  # the distribution from the cumulative one
            cum[..., j] -= cum[..., j - 1]
        return cum


@parametric_kind
@dataclass(frozen=True)
class Ranked(ParametricTable):
    """Fenton-Neil ranked node: a truncated normal on [0, 1] around f(parents)."""

    function: str
    weights: tuple[float, ...]
    variance: float
    line: int = 0
    col: int = 0
    parents: tuple[str, ...] = ()
    kind = "ranked"
    labels: ClassVar[dict[str, str]] = {"ranked": "ranked"}
    schema_keys: ClassVar[dict[str, tuple[str, ...]]] = {"ranked": RANKED_KEYS}
    schema_rules: ClassVar[dict[str, Schema]] = {
        "ranked": {
            "required": ["states"],
            "properties": {"states": {"minItems": 3, "maxItems": 5}},
        },
    }

    @classmethod
    def schema_fields(cls, kit: Any) -> Fields:
        ref = kit.ref
        return {
            "node": {
                "ranked": (
                    ref("ranked"),
                    "A ranked node (3 to 5 ordered states): a truncated normal around a weighted "
                    "function of the parents. {function, weights, variance}.",
                ),
            },
            "set": {
                "ranked": (
                    ref("rankedSet"),
                    "For a node the model writes with ranked: the function, weights (each parent's "
                    "on its own) and variance given replace the model's; the others stay.",
                ),
            },
            "ranked": {
                "function": (
                    {
                        "type": "string",
                        "anyOf": [
                            {"enum": list(RANKED_FUNCTIONS)},
                            {"pattern": kit.anycase_pattern(RANKED_FUNCTIONS)},
                        ],
                    },
                    "How the parents combine (any case): "
                    + ", ".join(RANKED_FUNCTIONS)
                    + " (default wmean).",
                ),
                "weights": (
                    {
                        "oneOf": [
                            {
                                "type": "object",
                                "propertyNames": ref("nodeId"),
                                "additionalProperties": {"type": "number", "minimum": 0},
                            },
                            {
                                "type": "array",
                                "minItems": 2,
                                "maxItems": 2,
                                "items": {"type": "number", "minimum": 0},
                            },
                        ]
                    },
                    "{PARENT: weight} for every parent (default: all 1; at least 1 for wmin and "
                    "wmax), or [w_min, w_max] for mixminmax.",
                ),
                "variance": (
                    {"type": "number", "exclusiveMinimum": 0},
                    "The spread around the weighted function (e.g. 0.01: tight, 0.1: loose).",
                ),
            },
        }

    @classmethod
    def schema_defs(cls, kit: Any) -> dict[str, Schema]:
        ranked = kit.closed_object(
            "ranked",
            "A ranked node (Fenton, Neil & Caballero 2007): ordinal states as equal intervals "
            "of [0, 1], a truncated normal around a weighted function of the parents.",
            required=["variance"],
        )
        ranked["if"] = {
            "required": ["function"],
            "properties": {"function": {"pattern": kit.anycase_pattern(["mixminmax"])}},
        }
        ranked["then"] = {"required": ["weights"], "properties": {"weights": {"type": "array"}}}
        ranked["else"] = {"properties": {"weights": {"type": "object"}}}
        return {"ranked": ranked}

    @classmethod
    def schema_set_defs(cls, kit: Any, model: dict[str, Schema]) -> dict[str, Schema]:
        dropped = ("required", "if", "then", "else")  # a set gives any part of the model's
        ranked = {k: v for k, v in model["ranked"].items() if k not in dropped}
        ranked["description"] = "Function, weights and variance to replace; the model's others stay."
        return {"rankedSet": ranked}

    @classmethod
    def parse(cls, key: str, w: Place, base: Table | None) -> Table | None:
        return parse_ranked(
            w.node, w.nid, w.states, w.parents, w.ctx, w.at,
            base if isinstance(base, Ranked) else None,
        )  # fmt: skip

    def draw(self, drawer: NodeDraws, n: int) -> np.ndarray:
        # written with weights and a variance, not probabilities: only a strength spreads it
        return drawer.columns(self.expand(len(drawer.states), drawer.parent_states), n)

    def written(self) -> list[dict]:
        names = ("min", "max") if self.function == "mixminmax" else self.parents
        if len(names) == len(self.weights):
            weights = [f"{n}: {w:g}" for n, w in zip(names, self.weights)]
        else:
            weights = [f"{w:g}" for w in self.weights]
        return [
            {"row": "function", "text": self.function.upper()},
            {"row": "weights", "text": ", ".join(weights)},
            {"row": "variance", "text": f"{self.variance:g}"},
        ]

    def expand(self, card: int, parent_states: Sequence[Sequence[str]]) -> np.ndarray:
        shape = [len(s) for s in parent_states]
        k = len(shape)
        # each parent's interval midpoints along its own axis: the function is then
        # computed for every combination at once, in the order ranked_mean takes
        x = [
            np.array([(j + 0.5) / n for j in range(n)]).reshape(
                *([1] * i), n, *([1] * (k - i - 1))
            )
            for i, n in enumerate(shape)
        ]
        mean = np.broadcast_to(ranked_mean(self.function, x, self.weights), shape)
        # few distinct means (parents share their midpoints): the bins of each once
        values, where = np.unique(mean, return_inverse=True)
        bins = np.array([truncated_normal_bins(float(m), self.variance, card) for m in values])
        return bins[where.reshape(shape)]


def ranked_mean(function: str, x: Sequence, w: Sequence[float]):
    """WMEAN, WMIN, WMAX or MIXMINMAX of parent values ``x`` with weights ``w``
    (Fenton, Neil & Caballero 2007). MIXMINMAX takes weights (w_min, w_max).

    ``x`` holds floats, or arrays that broadcast together (then the result is an
    array: the function of every combination of their values)."""
    n = len(x)
    if function == "wmean":
        return sum(wi * xi for wi, xi in zip(w, x)) / sum(w)
    if function == "wmin":
        if n == 1:
            return x[0]
        return functools.reduce(
            np.minimum,
            ((w[i] * x[i] + sum(x[j] for j in range(n) if j != i)) / (w[i] + n - 1) for i in range(n)),
        )
    if function == "wmax":
        if n == 1:
            return x[0]
        return functools.reduce(
            np.maximum,
            ((w[i] * x[i] + sum(x[j] for j in range(n) if j != i)) / (w[i] + n - 1) for i in range(n)),
        )
    if function == "mixminmax":
        wmin, wmax = w
        lo, hi = functools.reduce(np.minimum, x), functools.reduce(np.maximum, x)
        return (wmin * lo + wmax * hi) / (wmin + wmax)
    raise ValueError(function)


def truncated_normal_bins(mean: float, variance: float, card: int) -> np.ndarray:
    """Mass of N(mean, variance) truncated to [0, 1] in ``card`` equal intervals."""
    sd = math.sqrt(variance)
    edges = [k / card for k in range(card + 1)]
    cdf = [0.5 * (1.0 + math.erf((e - mean) / (sd * math.sqrt(2.0)))) for e in edges]
    mass = np.diff(cdf)
    total = cdf[-1] - cdf[0]
    if total <= 0:  # mean far outside [0, 1]: all mass at the nearer end
        out = np.zeros(card)
        out[0 if mean < 0.5 else -1] = 1.0
        return out
    return mass / total


# ----------------------------------------------------------------------------- parsing


def _ambiguous(states: Sequence[str]) -> bool:
    """A parent whose present state cannot be guessed: more than two states, none ``yes``."""
    return len(states) != 2 and not any(s.lower() == "yes" for s in states)


def _cause(
    key: str,
    knode: YNode,
    value: YNode,
    states: tuple[str, ...],
    ctx: Context,
    owner: str,
    prov: ProvenanceParser | None = None,
    present: str | None = None,
) -> Cause | None:
    """One cause of a noisy-OR/AND: ``CAUSE: p`` or ``CAUSE: {p: ..., state: ..., note: ...}``.

    ``present`` is the present state when none is written (a scenario changing a cause
    keeps the one its table has); by default ``yes``, else the second state."""
    known = present is not None
    present = present if present is not None else present_state(states)
    provenance = Provenance()
    pnode = value
    if value.is_map:
        for k, kn, _ in value.pairs():
            if k not in CAUSE_KEYS:
                ctx.error(
                    kn,
                    f"unknown key '{k}' in cause '{key}' of {owner}",
                    ctx.suggest(k, CAUSE_KEYS)
                    or "a cause takes p, and optionally state, note, source, sources, confidence",
                )
                return None
        pnode = value.get("p")
        if pnode is None:
            ctx.error(
                knode,
                f"cause '{key}' of {owner} has no 'p'",
                f"write {key}: {{p: 0.3}} (with state, note, sources or confidence beside p)",
            )
            return None
        provenance = prov(value, f"cause '{key}' of {owner}") if prov is not None else Provenance()
        snode = value.get("state")
        if snode is not None:
            if not snode.is_scalar or snode.text not in ctx.members(states):
                ctx.error(
                    snode,
                    f"cause '{key}' of {owner}: '{key}' has no state '{snode.text}'",
                    ctx.suggest(snode.text, states) or f"its states are: {listing(states)}",
                )
                return None
            present = snode.text
    if (not value.is_map or value.get("state") is None) and not known and _ambiguous(states):
        ctx.error(
            knode,
            f"cause '{key}' of {owner} has {len(states)} states and none is 'yes': "
            "name the one that counts as present",
            f"write {key}: {{state: {states[-1]}, p: ...}} (its states are: {listing(states)})",
        )
        return None
    p = parse_prob(pnode, ctx)
    if p is None:
        return None
    return Cause(key, present, p, knode.line, knode.col, provenance)


def parse_noisy(
    node: YNode,
    nid: str,
    states: tuple[str, ...],
    parents: tuple[str, ...],
    parent_states: dict[str, tuple[str, ...]],
    ctx: Context,
    negate: bool,
    prov: ProvenanceParser | None = None,
    at: YNode | None = None,
    base: NoisyOr | None = None,
) -> NoisyOr | None:
    """``noisy_or:`` / ``noisy_and:`` of node ``nid``: ``{leak: p, form: compound|net, CAUSE: p, ...}``.

    ``at`` is the node's ``noisy_or:`` key, where errors about the whole table point.
    With ``base`` (a scenario's ``set:``), the numbers written replace those of ``base``
    and the others stay: no cause is required, and the whole table is checked.
    """
    at = at or node
    name = "noisy_and" if negate else "noisy_or"
    owner = f"{name} of '{nid}'"
    if len(states) != 2:
        ctx.error(
            at,
            f"{name} needs a binary node; '{nid}' has {len(states)} states",
            "use noisy_max for a graded effect",
        )
        return None
    if not node.is_map:
        ctx.error(
            node, f"{owner} must be a mapping {{leak: p, CAUSE: p, ...}}, found {node.describe()}"
        )
        return None
    form, leak = "compound", None
    causes: dict[str, Cause] = {}
    ok = True
    for key, knode, value in node.pairs():
        if key == "form":
            parsed = _form(value, ctx, owner)
            ok = ok and parsed is not None
            form = parsed or form
        elif key == "leak":
            leak = parse_prob(value, ctx)
            ok = ok and leak is not None
        elif key in parents:
            was = _cause_of(base, key)
            present = was.present if was is not None else None
            c = _cause(key, knode, value, parent_states[key], ctx, owner, prov, present)
            if c is None:
                ok = False
            else:
                causes[key] = c
        else:
            ctx.error(
                knode,
                f"'{key}' in {owner} is not a parent of '{nid}' (nor leak or form)",
                ctx.suggest(key, [*parents, "leak", "form"])
                or f"the parents of '{nid}' are: {', '.join(parents)}",
            )
            ok = False
    missing = [p for p in parents if p not in causes]
    if ok and missing and base is None:
        ctx.error(
            at,
            f"{owner} gives no number for parent{'s' if len(missing) > 1 else ''} {listing(missing)}",
            "every parent is a cause with its own number",
        )
        ok = False
    if not ok:
        return None
    if base is not None:  # the numbers not written stay as the table had them
        causes = {c.parent: c for c in base.causes} | causes
        form = form if node.get("form") is not None else base.form
    table = NoisyOr(
        tuple(causes[p] for p in parents),
        leak if leak is not None or base is None else base.leak,
        form,
        negate,
        node.line,
        node.col,
    )
    written = {k for k, _, _ in node.pairs()}
    # where a problem with a number this scenario did not write is reported: at what it changed
    changed = node.get("leak") or node.get("form") or at
    if leak is not None and (leak.point >= 1 if not negate else leak.point <= 0):
        # checked first: against such a leak every compound number would look wrong too
        ctx.error(
            node.get("leak"),
            f"the leak of {owner} is {leak.point:g}: it leaves the causes nothing to do",
            (
                f"the leak is P({nid} | no cause present), the chance from causes outside the model; "
                "it must be below 1"
                if not negate
                else f"the leak is P({nid} | every cause present); it must be above 0"
            ),
        )
        return None
    # Compound numbers include the leak: a cause cannot do less than the leak alone.
    leak = table.leak
    if table.form == "compound" and leak is not None:
        for c in table.causes:
            # (a tolerance, so that 'almost no chance' is not below a leak of 0.03)
            bad = c.p.point < leak.point - 1e-9 if not negate else c.p.point > leak.point + 1e-9
            if bad:
                rel = "below" if not negate else "above"
                what = (
                    "P(effect | only this cause)"
                    if not negate
                    else "P(effect | all causes but this one)"
                )
                mine = c.parent in written
                ctx.error_at(
                    c.line if mine else changed.line,
                    c.col if mine else changed.col,
                    f"cause '{c.parent}' of {owner}: {what} = {c.p.point:g}"
                    + ("" if mine else " (not set here)")
                    + f" is {rel} the leak {leak.point:g}",
                    "in the compound form each number includes the leak; use form: net for numbers without it",
                )
                ok = False
    return table if ok else None


def _cause_of(table: Table | None, parent: str) -> Cause | None:
    """The cause ``parent`` of a noisy-OR/AND table, if ``table`` is one that has it."""
    if not isinstance(table, NoisyOr):
        return None
    return next((c for c in table.causes if c.parent == parent), None)


def parse_logic(
    node: YNode,
    nid: str,
    states: tuple[str, ...],
    parents: tuple[str, ...],
    parent_states: dict[str, tuple[str, ...]],
    ctx: Context,
    at: YNode | None = None,
) -> Logic | None:
    """``logic: and | or | {at_least: k}`` over the parents' present states."""
    at = at or node
    owner = f"logic of '{nid}'"
    if len(states) != 2:
        ctx.error(at, f"logic needs a binary node; '{nid}' has {len(states)} states")
        return None
    unclear = [p for p in parents if _ambiguous(parent_states[p])]
    if unclear:
        p = unclear[0]
        ctx.error(
            at,
            f"{owner}: parent '{p}' has {len(parent_states[p])} states and none is 'yes', "
            "so it is not clear which one makes it true",
            "logic counts 'yes' (or the second of two states) as true; "
            "write this table with cpt: or noisy_or instead",
        )
        return None
    present = tuple(present_state(parent_states[p]) for p in parents)
    if node.is_scalar and node.text in LOGIC_WORDS:
        return Logic(node.text, 0, present, node.line, node.col, parents)
    if node.is_map and node.get("at_least") is not None and len(node.items) == 1:
        knode = node.get("at_least")
        k = knode.number()
        if k is None or not math.isfinite(k) or k != int(k) or not 1 <= k <= len(parents):
            ctx.error(
                knode,
                f"at_least of {owner} must be a whole number from 1 to {len(parents)} "
                f"(its number of parents), not {knode.text if knode.is_scalar else knode.describe()}",
            )
            return None
        return Logic("at_least", int(k), present, node.line, node.col, parents)
    hint = "and: all parents hold; or: at least one; {at_least: k}: k or more"
    if node.is_scalar:
        hint = ctx.suggest(node.text, ("and", "or", "at_least")) or hint
    ctx.error(node, f"{owner} must be and, or, or {{at_least: k}}; found {node.describe()}", hint)
    return None


def parse_noisy_max(
    node: YNode,
    nid: str,
    states: tuple[str, ...],
    parents: tuple[str, ...],
    parent_states: dict[str, tuple[str, ...]],
    ctx: Context,
    at: YNode | None = None,
    base: NoisyMax | None = None,
) -> NoisyMax | None:
    """``noisy_max: {leak: {state: p}, form: compound|net, CAUSE: {absent: s, s1: {state: p}, ...}}``.

    The effect's states are ordered from the lowest (first) to the highest; a
    cause's ``absent`` state (default: its first) leaves the effect to the leak.
    With ``base`` (a scenario's ``set:``), the distributions written replace those of
    ``base`` state by state and the others stay (a cause that names its ``absent``
    state is given whole); the whole table is checked.
    """
    at = at or node
    before = {c.parent: c for c in base.causes} if base is not None else {}
    owner = f"noisy_max of '{nid}'"
    if not node.is_map:
        ctx.error(node, f"{owner} must be a mapping, found {node.describe()}")
        return None
    form, leak = "compound", None
    causes: dict[str, MaxCause] = {}
    ok = True
    for key, knode, value in node.pairs():
        if key == "form":
            parsed = _form(value, ctx, owner)
            ok = ok and parsed is not None
            form = parsed or form
        elif key == "leak":
            leak = parse_dist(value, states, ctx, f"leak of {owner}")
            ok = ok and leak is not None
        elif key in parents:
            pst = parent_states[key]
            if not value.is_map:
                ctx.error(
                    value,
                    f"cause '{key}' of {owner} must map its states to distributions over {nid}'s states",
                    f"e.g. {key}: {{{pst[-1]}: {{{states[0]}: 0.5}}}}",
                )
                ok = False
                continue
            absent = before[key].absent if key in before else pst[0]
            dists = []
            anode = value.get("absent")
            if anode is not None:
                if not anode.is_scalar or anode.text not in ctx.members(pst):
                    ctx.error(
                        anode,
                        f"'{key}' has no state '{anode.text}' (absent state in {owner})",
                        ctx.suggest(anode.text, pst) or f"its states are: {listing(pst)}",
                    )
                    ok = False
                    continue
                absent = anode.text
            for s, sk, sv in value.pairs():
                if s == "absent":
                    continue
                if s not in ctx.members(pst):
                    ctx.error(
                        sk,
                        f"'{key}' has no state '{s}' ({owner})",
                        ctx.suggest(s, pst) or f"its states are: {listing(pst)}",
                    )
                    ok = False
                    continue
                if s == absent:
                    ctx.error(
                        sk,
                        f"'{key}={s}' is the absent state of cause '{key}' in {owner}: "
                        "it leaves the effect to the leak and takes no distribution",
                        "give distributions for the other states, or name another absent state "
                        "with absent: ...",
                    )
                    ok = False
                    continue
                d = parse_dist(sv, states, ctx, f"'{key}={s}' of {owner}")
                if d is None:
                    ok = False
                    continue
                dists.append((s, d))
            given = {s for s, _, _ in value.pairs()}
            missing = [s for s in pst if s != absent and s not in given]
            if key in before and anode is None:  # a scenario's numbers over the table's
                dists = [*(x for x in before[key].dists if x[0] not in given), *dists]
                dists.sort(key=lambda x: pst.index(x[0]))
                missing = []
            if missing:
                ctx.error(
                    knode,
                    f"cause '{key}' of {owner} gives no distribution for {listing(missing)}",
                    f"'{absent}' is its absent state; give the others",
                )
                ok = False
                continue
            causes[key] = MaxCause(key, absent, tuple(dists))
        else:
            ctx.error(
                knode,
                f"'{key}' in {owner} is not a parent of '{nid}' (nor leak or form)",
                ctx.suggest(key, [*parents, "leak", "form"])
                or f"the parents of '{nid}' are: {', '.join(parents)}",
            )
            ok = False
    missing = [p for p in parents if p not in causes]
    if ok and missing and base is None:
        ctx.error(
            at,
            f"{owner} gives nothing for parent{'s' if len(missing) > 1 else ''} {listing(missing)}",
            "every parent is a cause: map each of its states but the absent one to a distribution",
        )
        ok = False
    written = {
        (k, st) for k, _, v in node.pairs() if k in causes and v.is_map for st, _, _ in v.pairs()
    }
    if base is not None:  # the numbers not written stay as the table had them
        causes = before | causes
        form = form if node.get("form") is not None else base.form
        leak = leak if node.get("leak") is not None else base.leak
    # where a problem with a number this scenario did not write is reported: at what it changed
    changed = node.get("leak") or node.get("form") or at
    if ok and form == "compound":
        # Compound numbers include the leak: P(Y <= y | only this cause) = L(y) * N(y), where
        # N is the cause's own (net) cumulative distribution. So the ratio to the leak must be
        # at most 1 (a cause only pushes the effect up) and must not fall as y rises.
        cum_leak = np.cumsum(leak.point()) if leak is not None else np.ones(len(states))
        for c in causes.values():
            for state, d in c.dists:
                cum = np.cumsum(d.point())
                mine = (c.parent, state) in written
                where = d if mine else changed
                what = f"'{c.parent}={state}'" + ("" if mine else " (not set here)")
                if np.any(cum[:-1] > cum_leak[:-1] + 1e-12):
                    ctx.error_at(
                        where.line,
                        where.col,
                        f"{what} of {owner} makes low levels of '{nid}' more likely than the leak does",
                        "in the compound form a cause can only push the effect up; use form: net for numbers without the leak",
                    )
                    ok = False
                    continue
                pos = np.flatnonzero(cum_leak[:-1] > 0)
                ratio = cum[pos] / cum_leak[pos]
                drops = np.flatnonzero(np.diff(ratio) < -1e-9)
                if drops.size:
                    lo, hi = pos[drops[0]], pos[drops[0] + 1]
                    ctx.error_at(
                        where.line,
                        where.col,
                        f"{what} of {owner} cannot be the leak combined with one cause: "
                        f"relative to the leak it multiplies P({nid} <= {states[lo]}) by "
                        f"{ratio[drops[0]]:.3g} but P({nid} <= {states[hi]}) by {ratio[drops[0] + 1]:.3g}",
                        "the effect's level is the highest that the leak or any cause brings about, "
                        f"so P({nid} <= level | only this cause) / P({nid} <= level | leak) "
                        "must not fall as the level rises; check the numbers, or use form: net",
                    )
                    ok = False
    return (
        NoisyMax(tuple(causes[p] for p in parents), leak, form, node.line, node.col) if ok else None
    )


def _form(value: YNode, ctx: Context, owner: str) -> str | None:
    """The ``form:`` of a noisy table (compound or net); None after reporting an error."""
    if value.is_scalar and value.text in FORMS:
        return value.text
    ctx.error(
        value,
        f"form of {owner} must be compound or net, not {value.describe()}",
        ctx.suggest(value.text, FORMS) if value.is_scalar else None,
    )
    return None


def _finite(node: YNode | None) -> float | None:
    """The node's number if it is a finite number, else None."""
    value = node.number() if node is not None else None
    return value if value is not None and math.isfinite(value) else None


def parse_ranked(
    node: YNode,
    nid: str,
    states: tuple[str, ...],
    parents: tuple[str, ...],
    ctx: Context,
    at: YNode | None = None,
    base: Ranked | None = None,
) -> Ranked | None:
    """``ranked: {function: wmean|wmin|wmax|mixminmax, weights: {PARENT: w} or [wmin, wmax], variance: v}``.

    With ``base`` (a scenario's ``set:``), what is written replaces what ``base`` has
    (each parent's weight on its own) and the rest stays; the whole table is checked.
    """
    at = at or node
    owner = f"ranked of '{nid}'"
    if not 3 <= len(states) <= 5:
        ctx.error(
            at,
            f"ranked nodes have 3 to 5 ordered states; '{nid}' has {len(states)}",
            "list them from lowest to highest, e.g. states: [low, medium, high]",
        )
        return None
    if not node.is_map:
        ctx.error(
            node,
            f"{owner} must be a mapping (function, weights, variance), found {node.describe()}",
        )
        return None
    for key, knode, _ in node.pairs():
        if key not in RANKED_KEYS:
            ctx.error(
                knode,
                f"unknown key '{key}' in {owner}",
                ctx.suggest(key, RANKED_KEYS),
            )
            return None
    fnode = node.get("function")
    default = base.function if base is not None else "wmean"
    function = default if fnode is None else fnode.text.lower() if fnode.is_scalar else ""
    if function not in RANKED_FUNCTIONS:
        ctx.error(
            fnode,
            f"function of {owner} must be one of {', '.join(RANKED_FUNCTIONS)}, not {fnode.describe()}",
            ctx.suggest(function, RANKED_FUNCTIONS) if function else None,
        )
        return None
    vnode = node.get("variance")
    variance = _finite(vnode) if vnode is not None or base is None else base.variance
    if variance is None or not variance > 0:
        ctx.error(
            vnode or at, f"{owner} needs a positive 'variance' (e.g. 0.01: tight, 0.1: loose)"
        )
        return None
    if variance > VARIANCE_MAX:
        ctx.error(
            vnode,
            f"variance of {owner} is {shorten(vnode.text)}; it must be at most {power_text(VARIANCE_MAX)}",
            "above about 10 the table is already nearly uniform; 0.01 is tight, 0.1 loose",
        )
        return None
    wnode = node.get("weights")
    # a scenario's weights replace the table's one by one, if the function takes the same kind
    same_kind = base is not None and (base.function == "mixminmax") == (function == "mixminmax")
    kept = base.weights if base is not None and same_kind else None
    if function == "mixminmax" and wnode is None and kept is not None:
        weights = kept
    elif function == "mixminmax":
        if (
            wnode is None
            or not wnode.is_seq
            or len(wnode.items) != 2
            or any(_finite(i) is None or _finite(i) < 0 for i in wnode.items)
        ):
            ctx.error(
                wnode or at,
                f"{owner}: mixminmax takes weights [w_min, w_max] (two nonnegative numbers)",
            )
            return None
        weights = tuple(float(_finite(i)) for i in wnode.items)
        for item, w, name in zip(wnode.items, weights, ("w_min", "w_max")):
            if not _weight_in_range(w, item, ctx, owner, name):
                return None
        if sum(weights) <= 0:
            ctx.error(wnode, f"{owner}: the weights cannot both be 0")
            return None
    else:
        before = dict(zip(parents, kept)) if kept is not None else {}
        if wnode is None and base is not None and kept is None:
            ctx.error(
                fnode or at,
                f"{owner}: {function} takes a weight per parent, not the [w_min, w_max] of mixminmax",
                f"give them with weights: {{{parents[0]}: 1, ...}}",
            )
            return None
        if wnode is None:
            weights = tuple(before.get(p, 1.0) for p in parents)
        elif not wnode.is_map:
            ctx.error(
                wnode,
                f"{owner}: weights must map each parent to a number",
                f"e.g. weights: {{{parents[0]}: 2}}",
            )
            return None
        else:
            got = {}
            for k, kn, v in wnode.pairs():
                if k not in parents:
                    ctx.error(
                        kn,
                        f"'{k}' in the weights of {owner} is not a parent of '{nid}'",
                        ctx.suggest(k, parents) or f"the parents of '{nid}' are: {', '.join(parents)}",
                    )
                    return None
                num = _finite(v)
                if num is None or num < 0:
                    ctx.error(v, f"weight of '{k}' in {owner} must be a nonnegative number")
                    return None
                if not _weight_in_range(num, v, ctx, owner, f"'{k}'"):
                    return None
                if function in ("wmin", "wmax") and num < 1:
                    ctx.error(
                        v,
                        f"weight of '{k}' in {owner} is {num:g}; {function} weights are at least 1",
                        f"1 = no extra pull; a larger weight lets '{k}' pull the result "
                        + ("down" if function == "wmin" else "up")
                        + " harder",
                    )
                    return None
                got[k] = num
            got = before | got
            missing = [p for p in parents if p not in got]
            if missing:
                ctx.error(wnode, f"{owner}: no weight for {listing(missing)}")
                return None
            weights = tuple(got[p] for p in parents)
        written = {k for k, _, _ in wnode.pairs()} if wnode is not None and wnode.is_map else set()
        for p, w in zip(parents, weights):
            if function in ("wmin", "wmax") and w < 1 and p not in written:
                ctx.error(
                    fnode or at,
                    f"weight of '{p}' in {owner} is {w:g} (not set here); {function} weights are at least 1",
                    f"give '{p}' a weight of 1 or more under weights:",
                )
                return None
        if function == "wmean" and sum(weights) <= 0:
            ctx.error(wnode or fnode or at, f"{owner}: the weights cannot all be 0")
            return None
    return Ranked(function, weights, float(variance), node.line, node.col, parents)


def _weight_in_range(w: float, node: YNode, ctx: Context, owner: str, name: str) -> bool:
    """A ranked weight is 0 or between WEIGHT_MIN and WEIGHT_MAX (only ratios matter)."""
    if w == 0 or WEIGHT_MIN <= w <= WEIGHT_MAX:
        return True
    ctx.error(
        node,
        f"weight of {name} in {owner} is {shorten(node.text)}; nonzero weights must be between "
        f"{power_text(WEIGHT_MIN)} and {power_text(WEIGHT_MAX)}",
        "a weight of 1e6 already lets its parent decide alone; for wmean and mixminmax only "
        "the ratios between the weights matter, so they can be scaled together",
    )
    return False


def parse_parametric(
    key: str,
    node: YNode,
    nid: str,
    states: tuple[str, ...],
    parents: tuple[str, ...],
    parent_states: dict[str, tuple[str, ...]],
    ctx: Context,
    prov: ProvenanceParser | None = None,
    at: YNode | None = None,
    base: Table | None = None,
) -> Table | None:
    """Parse the table of the parametric kind the node key ``key`` names (see
    :meth:`ParametricTable.parse`; ``logic`` is replaced whole by a scenario)."""
    place = Place(node, nid, states, parents, parent_states, ctx, prov, at)
    return KINDS[key].parse(key, place, base)


#: The YAML keys of the parametric kinds, in the order messages list them.
PARAMETRIC_KEYS = tuple(KINDS)
