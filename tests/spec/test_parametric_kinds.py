"""Each parametric table kind is one class, found through one registry.

The registry (:data:`riskchain.spec.parametric.KINDS`) is what every other part
reads: the validator's keys, ``riskchain set``, the export notes, the JSON
Schema. Outside ``spec/parametric.py`` no code names a kind's class, so adding
a kind is adding a class there.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import numpy as np
import pytest

from riskchain import edit, schema
from riskchain.io import formats
from riskchain.spec import model as spec_model
from riskchain.spec import parametric
from riskchain.spec import scenario as spec_scenario
from riskchain.spec.draws import NodeDraws
from riskchain.spec.model import parse_model_text
from riskchain.spec.tables import Table

SRC = Path(parametric.__file__).resolve().parents[1]
KIND_CLASSES = {cls.__name__ for cls in parametric.KINDS.values()}

MODEL = textwrap.dedent(
    """\
    riskchain: 1
    nodes:
      a: {p: 0.3}
      b: {p: likely}
      g: {states: [low, mid, high], p: {low: 0.5, mid: 0.3}}
      o:
        parents: [a, b]
        noisy_or: {leak: 0.05, a: [0.5, 0.7], b: 0.4}
      n:
        parents: [a, b]
        noisy_and: {leak: 0.9, a: 0.2, b: {p: "beta(2, 5)"}}
      l:
        parents: [a, b]
        logic: {at_least: 1}
      m:
        states: [none, some, lots]
        parents: [a, g]
        noisy_max:
          leak: {none: 0.9, some: 0.08}
          a: {yes: {none: 0.3, some: 0.4}}
          g: {absent: low, mid: {none: 0.5, some: 0.3}, high: {none: roughly even chance, some: 0.2}}
      r:
        states: [low, mid, high]
        parents: [g, m]
        ranked: {function: wmax, weights: {g: 2, m: 1}, variance: 0.05}
    """
)


def test_the_registry_is_what_every_part_reads():
    keys = tuple(parametric.KINDS)
    assert keys == parametric.PARAMETRIC_KEYS == ("noisy_or", "noisy_and", "logic", "noisy_max", "ranked")
    assert set(edit.NOISY_KEYS) | set(edit.OTHER_PARAMETRIC) == set(keys)
    assert tuple(formats.KIND_NAMES) == keys
    assert set(keys) <= set(spec_model.NODE_KEYS)
    assert set(keys) <= set(spec_scenario.SET_KEYS)
    model_schema, scenario_schema = schema.build_schema("model"), schema.build_schema("scenario")
    assert set(keys) <= set(model_schema["$defs"]["node"]["properties"])
    assert set(keys) <= set(scenario_schema["$defs"]["set"]["properties"])


@pytest.mark.parametrize("kind", parametric.kinds(), ids=lambda k: k.__name__)
def test_each_kind_describes_its_own_keys_in_the_schema(kind):
    """A kind's schema texts cover exactly its YAML keys, in a model and in a ``set:``,
    and every object whose keys its parser checks."""
    fields = kind.schema_fields(schema)
    assert set(fields["node"]) == set(fields["set"]) == set(kind.labels)
    assert set(kind.schema_keys) <= set(fields)
    for obj, keys in kind.schema_keys.items():
        assert set(fields[obj]) == set(keys), obj
    model_defs = schema.build_schema("model")["$defs"]
    for name, definition in kind.schema_defs(schema).items():
        assert model_defs[name] == definition


def _kind_names_used(path: Path) -> list[str]:
    """Names of the kinds' classes that a module imports or tests with isinstance."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom):
            found += [a.name for a in node.names if a.name in KIND_CLASSES]
        elif isinstance(node, ast.Call) and getattr(node.func, "id", "") == "isinstance":
            kinds = node.args[1] if len(node.args) > 1 else None
            names = kinds.elts if isinstance(kinds, ast.Tuple) else [kinds]
            found += [n.id for n in names if isinstance(n, ast.Name) and n.id in KIND_CLASSES]
    return found


def test_no_module_but_the_kinds_own_names_a_kind():
    """The isinstance chains over the kinds (draws, sensitivity, ...) are calls on the kind."""
    used = {
        str(p.relative_to(SRC)): names
        for p in sorted(SRC.rglob("*.py"))
        if p.name != "parametric.py" and (names := _kind_names_used(p))
    }
    assert used == {}


@pytest.fixture(scope="module")
def spec():
    return parse_model_text(MODEL, "kinds.yaml", "kinds")


class Recorder(NodeDraws):
    """Records the numbers a table's draw asks for (and draws their point values)."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.asked: list[int] = []

    def prob(self, p, n):
        self.asked.append(id(p))
        return np.full(n, p.point)

    def dist(self, d, n):
        self.asked.append(id(d))
        return np.broadcast_to(d.point(), (n, len(d.states))).copy()


@pytest.mark.parametrize("node", ["o", "n", "l", "m", "r"])
def test_each_kind_draws_the_numbers_it_lists(spec, node):
    """What a kind lists for sensitivity analysis is what its draws vary, in the same
    order; drawn at their point values the numbers give the expanded table."""
    nodes = spec.nodes
    table: Table = nodes[node].table
    assert type(table) is parametric.KINDS[table.kind]
    parents = nodes[node].parents
    parent_states = [tuple(nodes[p].states) for p in parents]
    drawer = Recorder(
        key=0, table=table, states=tuple(nodes[node].states), parent_states=parent_states, seed=1
    )
    drawn = drawer.draw(3)
    listed = [w.prob if w.prob is not None else w.dist for w in table.numbers(dict(zip(parents, parent_states)))]
    assert [id(x) for x in listed] == drawer.asked
    assert (len(listed) > 0) == (node in ("o", "n", "m"))
    expanded = table.expand(len(nodes[node].states), parent_states)
    np.testing.assert_allclose(drawn, np.broadcast_to(expanded, drawn.shape), rtol=0, atol=1e-15)
