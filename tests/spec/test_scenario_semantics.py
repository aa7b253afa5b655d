"""What a valid scenario file means: ``extends`` resolution, defaults, and ``set`` numbers.

The expectations are written by hand from the files below, never computed by
riskchain itself.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from riskchain.analysis.scenarios import scenario_model
from riskchain.errors import SpecError
from riskchain.model import Model
from riskchain.spec.scenario import ScenarioFile, load_scenario_file

# a: no/yes root; b: low/high root; c: three states with parents a and b.
MODEL = """\
riskchain: 1
id: small
targets: [c]
nodes:
  a:
    p: 0.3
  b:
    states: [low, high]
    p: {low: 0.6}
  c:
    states: [none, some, lots]
    parents: [a, b]
    cpt:
      a=yes, b=high: {none: 0.1, some: 0.2, lots: 0.7}
      a=yes, b=low: {none: 0.3, some: 0.3, lots: 0.4}
      default: {none: 0.8, some: 0.15, lots: 0.05}
  d:
    parents: [c]
    cpt:
      c=lots: 0.9
      default: 0.2
"""

# The table of c as the model writes it, indexed [a][b][c].
C_TABLE = np.array(
    [
        [[0.8, 0.15, 0.05], [0.8, 0.15, 0.05]],  # a=no: b=low, b=high (default)
        [[0.3, 0.3, 0.4], [0.1, 0.2, 0.7]],  # a=yes: b=low, b=high
    ]
)


def load(tmp_path: Path, scenarios: str, header: str = "", model: str = MODEL) -> ScenarioFile:
    """Write the model and a scenario file beside it; load the scenario file."""
    (tmp_path / "small.yaml").write_text(model)
    path = tmp_path / "scenarios.yaml"
    path.write_text(f"riskchain: 1\nmodel: small.yaml\n{header}scenarios:\n{scenarios}")
    return load_scenario_file(path)


def c_table(sf: ScenarioFile, sid: str) -> np.ndarray:
    """The table of c with scenario ``sid``'s settings applied in order."""
    spec = sf.model.nodes["c"]
    table = spec.table.expand(3, [("no", "yes"), ("low", "high")])
    for s in sf.scenarios[sid].sets.get("c", []):
        table = s.apply(table, spec, [("no", "yes"), ("low", "high")])
    return table


# ----------------------------------------------------------------------------- extends


CHAIN = """\
  grand:
    description: The grandparent
    given: {a: yes, b: high}
    likelihood: {d: {no: 0.5, yes: 1}}
  parent:
    extends: grand
    do: {a: no}
  child:
    extends: parent
    description: The child
    given: {a: yes}
    likelihood: {b: {low: 1, high: 0.25}}
"""


def test_grandchild_inherits_the_grandparent(tmp_path):
    """A chain of two: the grandparent's findings reach the grandchild unless overridden."""
    sf = load(tmp_path, CHAIN)
    child = sf.scenarios["child"]
    assert child.chain == ["child", "parent", "grand"]
    assert child.given == {"a": "yes"}
    assert child.do == {}
    assert child.likelihood == {"d": {"no": 0.5, "yes": 1.0}, "b": {"low": 1.0, "high": 0.25}}
    assert child.description == "The child"


def test_a_chain_of_a_hundred_extends_is_read(tmp_path):
    """s100 extends s99 ... extends s0: the whole chain is inherited."""
    body = "  s0:\n    given: {a: yes}\n" + "".join(
        f"  s{i}:\n    extends: s{i - 1}\n" for i in range(1, 101)
    )
    sf = load(tmp_path, body)
    assert len(sf.scenarios["s100"].chain) == 101
    assert sf.scenarios["s100"].given == {"a": "yes"}


def test_a_longer_chain_is_refused_once(tmp_path):
    """Three thousand scenarios each extending the one before took 36 s (every chain
    walked again and again); beyond 100 extends the file is refused, at the first
    scenario too far down, once."""
    body = "  s0:\n    given: {a: yes}\n" + "".join(
        f"  s{i}:\n    extends: s{i - 1}\n" for i in range(1, 3000)
    )
    with pytest.raises(SpecError) as info:
        load(tmp_path, body)
    ((line, col, message),) = [(d.line, d.col, d.message) for d in info.value.diagnostics]
    assert (line, col) == (5 + 2 * 101, 14)  # the 'extends' of s101
    assert message == "scenario 's101' extends a chain of more than 100 scenarios"


def test_child_do_removes_the_parents_given_for_that_node(tmp_path):
    """``parent`` forces a, so the grandparent's observation of a is gone; b stays observed."""
    sf = load(tmp_path, CHAIN)
    parent = sf.scenarios["parent"]
    assert parent.chain == ["parent", "grand"]
    assert parent.given == {"b": "high"}
    assert parent.do == {"a": "no"}
    assert parent.likelihood == {"d": {"no": 0.5, "yes": 1.0}}
    assert parent.description is None  # not inherited: it would mislabel its column


def test_child_given_removes_the_parents_do_for_that_node(tmp_path):
    """``child`` observes a, which ``parent`` forced: the force is gone, not kept beside it."""
    sf = load(tmp_path, CHAIN)
    assert sf.scenarios["child"].do == {}
    assert sf.scenarios["child"].given == {"a": "yes"}


def test_child_likelihood_replaces_the_parents_observation(tmp_path):
    """A likelihood for b replaces the inherited observation of b (b is softened, not seen)."""
    sf = load(tmp_path, CHAIN)
    assert "b" not in sf.scenarios["child"].given
    assert sf.scenarios["child"].likelihood["b"] == {"low": 1.0, "high": 0.25}


def test_child_given_replaces_the_parents_likelihood(tmp_path):
    """An observation of d replaces the inherited likelihood of d."""
    sf = load(tmp_path, CHAIN + "  seen:\n    extends: child\n    given: {d: yes}\n")
    seen = sf.scenarios["seen"]
    assert seen.given == {"a": "yes", "d": "yes"}
    assert seen.likelihood == {"b": {"low": 1.0, "high": 0.25}}
    assert seen.chain == ["seen", "child", "parent", "grand"]


def test_likelihood_is_kept_in_state_order(tmp_path):
    """Weights written in any order are stored in the node's state order."""
    sf = load(tmp_path, "  s:\n    likelihood: {c: {lots: 3, none: 1, some: 0}}\n")
    assert list(sf.scenarios["s"].likelihood["c"].items()) == [
        ("none", 1.0),
        ("some", 0.0),
        ("lots", 3.0),
    ]


def test_sets_are_layered_parent_first(tmp_path):
    """The parent's ``p`` for c is applied first, then the child's row writes over it."""
    scenarios = """\
  base:
    set:
      c: {p: {none: 0.5, some: 0.25}}
  sharper:
    extends: base
    set:
      c:
        cpt:
          a=yes, b=high: {none: 0, some: 0, lots: 1}
"""
    sf = load(tmp_path, scenarios)
    sets = sf.scenarios["sharper"].sets["c"]
    assert [s.scenario for s in sets] == ["base", "sharper"]
    expected = np.array(
        [
            [[0.5, 0.25, 0.25], [0.5, 0.25, 0.25]],
            [[0.5, 0.25, 0.25], [0.0, 0.0, 1.0]],
        ]
    )
    np.testing.assert_allclose(c_table(sf, "sharper"), expected)
    # The same table once the model is compiled with the scenario's numbers.
    model = scenario_model(Model(sf.model), sf.scenarios["sharper"])
    np.testing.assert_allclose(model.cpt("c"), expected)
    np.testing.assert_allclose(c_table(sf, "base"), np.full((2, 2, 3), [0.5, 0.25, 0.25]))


def test_a_child_set_of_another_node_keeps_the_parents(tmp_path):
    """Settings for different nodes add up; the scenario itself sets nothing of c."""
    scenarios = """\
  base:
    set:
      a: {p: 0.9}
  more:
    extends: base
    set:
      d: {p: 0.5}
"""
    sf = load(tmp_path, scenarios)
    assert list(sf.scenarios["more"].sets) == ["a", "d"]
    assert [s.scenario for s in sf.scenarios["more"].sets["a"]] == ["base"]
    assert list(sf.scenarios["base"].sets) == ["a"]


# ----------------------------------------------------------------------------- defaults


def test_baseline_defaults_to_the_first_scenario(tmp_path):
    """Without ``baseline`` the first scenario written is the baseline."""
    sf = load(tmp_path, "  second_written_first:\n    given: {a: yes}\n  other: {}\n")
    assert sf.baseline == "second_written_first"
    assert list(sf.scenarios) == ["second_written_first", "other"]


def test_baseline_as_written(tmp_path):
    """``baseline`` names any scenario of the file."""
    sf = load(tmp_path, "  one: {}\n  two: {}\n", header="baseline: two\n")
    assert sf.baseline == "two"


def test_targets_default_to_the_models_targets(tmp_path):
    """Without ``targets`` the model's targets are used."""
    sf = load(tmp_path, "  one: {}\n")
    assert sf.targets == ("c",)


def test_targets_default_to_every_node_when_the_model_names_none(tmp_path):
    """A model without targets: every node, in model order."""
    sf = load(tmp_path, "  one: {}\n", model=MODEL.replace("targets: [c]\n", ""))
    assert sf.targets == ("a", "b", "c", "d")


def test_targets_as_written(tmp_path):
    """``targets`` replaces the model's, in the order written, repeats dropped."""
    sf = load(tmp_path, "  one: {}\n", header="targets: [d, a, d]\n")
    assert sf.targets == ("d", "a")


def test_model_path_is_relative_to_the_scenario_file(tmp_path, monkeypatch):
    """The model is found beside the scenario file whatever the working folder."""
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    sf = load(tmp_path, "  one: {}\n")
    assert sf.model_path == tmp_path / "small.yaml"
    assert sf.model.id == "small"


# ----------------------------------------------------------------------------- SetSpec.apply


def one_set(tmp_path: Path, body: str, node: str = "c"):
    """The single SetSpec of scenario 's', whose ``set`` of ``node`` is ``body``."""
    sf = load(tmp_path, f"  s:\n    set:\n      {node}:\n{body}")
    (spec,) = sf.scenarios["s"].sets[node]
    return sf, spec


def test_model_table_as_written(tmp_path):
    """The starting point of the next tests: the model's own table of c."""
    sf = load(tmp_path, "  s: {}\n")
    np.testing.assert_allclose(c_table(sf, "s"), C_TABLE)


def test_p_on_a_node_with_parents_sets_every_row(tmp_path):
    """``p`` on c: the same distribution whatever a and b."""
    sf, s = one_set(tmp_path, "        p: {none: 0.2, some: 0.3, lots: 0.5}\n")
    assert s.p is not None and s.rows == () and s.default is None
    np.testing.assert_allclose(c_table(sf, "s"), np.full((2, 2, 3), [0.2, 0.3, 0.5]))


def test_cpt_rows_replace_only_their_combinations(tmp_path):
    """One row: a=no, b=high changes; the other three keep the model's numbers."""
    body = "        cpt:\n          a=no, b=high: {none: 0.25, some: 0.25, lots: 0.5}\n"
    sf, s = one_set(tmp_path, body)
    expected = np.array(
        [
            [[0.8, 0.15, 0.05], [0.25, 0.25, 0.5]],
            [[0.3, 0.3, 0.4], [0.1, 0.2, 0.7]],
        ]
    )
    np.testing.assert_allclose(c_table(sf, "s"), expected)
    assert s.default is None and [r.key for r in s.rows] == ["a=no, b=high"]


def test_cpt_row_with_a_wildcard_covers_every_state_of_that_parent(tmp_path):
    """``b=*`` replaces both b rows under a=yes."""
    body = "        cpt:\n          a=yes, b=*: {none: 0, some: 0.5}\n"
    sf, _ = one_set(tmp_path, body)
    expected = np.array(
        [
            [[0.8, 0.15, 0.05], [0.8, 0.15, 0.05]],
            [[0.0, 0.5, 0.5], [0.0, 0.5, 0.5]],
        ]
    )
    np.testing.assert_allclose(c_table(sf, "s"), expected)


def test_default_replaces_every_row_not_named(tmp_path):
    """``default`` overwrites the three rows not named, including the model's a=yes, b=low."""
    body = (
        "        cpt:\n"
        "          a=yes, b=high: {none: 0, some: 0, lots: 1}\n"
        "          default: {none: 1, some: 0, lots: 0}\n"
    )
    sf, s = one_set(tmp_path, body)
    expected = np.array(
        [
            [[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]],
            [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]],
        ]
    )
    np.testing.assert_allclose(c_table(sf, "s"), expected)
    assert s.default is not None and s.default.key == "default"


def test_default_written_first_still_gives_way_to_the_rows(tmp_path):
    """Row order in the file does not matter: a named row wins over ``default``."""
    body = (
        "        cpt:\n"
        "          default: {none: 1, some: 0, lots: 0}\n"
        "          a=no, b=low: {none: 0, some: 1, lots: 0}\n"
    )
    sf, _ = one_set(tmp_path, body)
    expected = np.array(
        [
            [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]],
            [[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]],
        ]
    )
    np.testing.assert_allclose(c_table(sf, "s"), expected)


def test_p_on_a_binary_child_and_a_root(tmp_path):
    """A scalar is P(second state): d is yes with 0.75 whatever c; root a is yes with 0.6."""
    sf = load(tmp_path, "  s:\n    set:\n      d: {p: 75%}\n      a: {p: 0.6}\n")
    d = sf.model.nodes["d"]
    (sd,) = sf.scenarios["s"].sets["d"]
    table = d.table.expand(2, [("none", "some", "lots")])
    np.testing.assert_allclose(
        table, [[0.8, 0.2], [0.8, 0.2], [0.1, 0.9]]
    )  # the model's own, for reference
    np.testing.assert_allclose(sd.apply(table, d, [("none", "some", "lots")]), [[0.25, 0.75]] * 3)
    a = sf.model.nodes["a"]
    (sa,) = sf.scenarios["s"].sets["a"]
    np.testing.assert_allclose(sa.apply(a.table.expand(2, []), a, []), [0.4, 0.6])


def test_apply_returns_a_new_array(tmp_path):
    """The model's table is left as it was."""
    sf, s = one_set(tmp_path, "        p: {none: 1, some: 0, lots: 0}\n")
    spec = sf.model.nodes["c"]
    table = spec.table.expand(3, [("no", "yes"), ("low", "high")])
    s.apply(table, spec, [("no", "yes"), ("low", "high")])
    np.testing.assert_allclose(table, C_TABLE)


def test_set_keeps_its_provenance(tmp_path):
    """note and confidence are kept with the numbers; the scenario is named."""
    body = "        p: likely\n        note: Talks have stalled.\n        confidence: low\n"
    _, s = one_set(tmp_path, body, node="a")
    assert s.provenance.note == "Talks have stalled."
    assert s.provenance.confidence == "low"
    assert s.scenario == "s"
    assert s.p is not None and s.p.point()[1] == pytest.approx(0.675)
