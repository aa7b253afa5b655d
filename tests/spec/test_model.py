"""Model validation on hostile sizes: tables sized before they are built, work linear in
the file, messages that stay short.

Time is not measured here (see ``bench/bench_fuzz.py --slow`` and docs/benchmarks.md);
what makes time quadratic is counted instead: comparisons between names, and the
"did you mean" hints computed.
"""

from __future__ import annotations

import textwrap
import tracemalloc

import pytest

from riskchain.compile import BUILD_COPIES, compile_spec
from riskchain.errors import SpecError
from riskchain.spec.model import build_model, parse_model_text
from riskchain.spec.probability import SUGGESTIONS
from riskchain.spec.yamlsrc import YNode, parse_yaml

MiB = 1 << 20


def fan_in(n: int, body: list[str], states: str = "") -> str:
    """A model whose node 'c' has the ``n`` binary parents p0 ... p(n-1)."""
    parents = ", ".join(f"p{i}" for i in range(n))
    lines = ["riskchain: 1", "nodes:"] + [f"  p{i}: {{p: 0.5}}" for i in range(n)]
    lines += ["  c:", *([f"    states: [{states}]"] if states else []), f"    parents: [{parents}]"]
    return "\n".join(lines + [f"    {line}" for line in body]) + "\n"


def refusal(text: str, **kw) -> list[tuple[int, int, str]]:
    with pytest.raises(SpecError) as info:
        parse_model_text(text, "m.yaml", **kw)
    return [(d.line, d.col, d.message) for d in info.value.diagnostics]


# ----------------------------------------------------------------------------- table sizes


def test_forty_parents_are_refused_at_parents_before_any_table_is_built():
    """2^41 entries (16 TiB) are refused with a position, allocating almost nothing."""
    text = fan_in(40, ["cpt:", "  default: 0.3"])
    tracemalloc.start()
    try:
        found = refusal(text)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    ((line, col, msg),) = found
    assert (line, col) == (text.splitlines().index(f"    parents: [{', '.join(f'p{i}' for i in range(40))}]") + 1, 5)
    assert "2,199,023,255,552 entries" in msg and "40 parents of 2 states" in msg
    assert "48.0 TiB" in msg and "above the budget of 1.0 GiB" in msg
    assert peak < 5 * MiB


@pytest.mark.parametrize(
    ("body", "states"),
    [
        (["cpt:", "  default: 0.3"], ""),
        (["noisy_or: {leak: 0.01, " + ", ".join(f"p{i}: 0.3" for i in range(20)) + "}"], ""),
        (["ranked: {variance: 0.01}"], "low, mid, high"),
    ],
)
def test_the_budget_counts_building_the_table(body, states):
    """A 20-parent table (2^21 entries, 16 MiB; 24 MiB with three states) needs
    BUILD_COPIES times that to build: refused under that, read above it."""
    text = fan_in(20, body, states)
    table = 2**21 * 8 * (3 if states else 2) // 2
    need = BUILD_COPIES * table
    ((_, _, msg),) = refusal(text, max_table=need - 1)
    assert "refused before building it" in msg
    # (the parents' own tables take a few hundred bytes more)
    spec = parse_model_text(text, "m.yaml", max_table=need + 4096)
    assert compile_spec(spec).cpts[-1].nbytes == table


def test_a_table_refused_alone_is_not_counted_with_the_others():
    """After a 40-parent node is refused, the nodes after it are sized as usual."""
    text = fan_in(40, ["cpt:", "  default: 0.3"]) + "  d:\n    parents: [p0, p1]\n    cpt: {default: 0.5}\n"
    assert len(refusal(text)) == 1


def test_tables_together_above_the_budget_are_refused_once():
    """Each 16 MiB table fits a 64 MiB budget alone (48 MiB to build); together they do not."""
    lines = ["riskchain: 1", "nodes:"] + [f"  p{i}: {{p: 0.5}}" for i in range(20)]
    parents = ", ".join(f"p{i}" for i in range(20))
    for k in range(4):
        lines += [f"  c{k}:", f"    parents: [{parents}]", "    cpt: {default: 0.5}"]
    found = refusal("\n".join(lines) + "\n", max_table=64 * MiB + 4096)
    assert len(found) == 1
    ((line, _, msg),) = found
    assert line == 2 + 20 + 3 * 2 + 2  # the parents of c2: 16 + 16 + 48 > 64 MiB
    assert "with the table of 'c2' the model's tables need about 80.0 MiB together" in msg


@pytest.mark.parametrize(
    ("body", "states"),
    [
        (["cpt:", "  default: 0.3"], ""),
        (["cpt:", "  " + ", ".join(f"p{i}=*" for i in range(16)) + ", p16=yes: 0.3",
          "  " + ", ".join(f"p{i}=*" for i in range(16)) + ", p16=no: 0.6"], ""),
        (["noisy_or: {leak: 0.01, " + ", ".join(f"p{i}: 0.3" for i in range(17)) + "}"], ""),
        (["noisy_and: {leak: 0.9, " + ", ".join(f"p{i}: 0.3" for i in range(17)) + "}"], ""),
        (["logic: {at_least: 2}"], ""),
        (["noisy_max: {leak: {low: 0.9, mid: 0.08}, "
          + ", ".join(f"p{i}: {{yes: {{low: 0.5, mid: 0.3}}}}" for i in range(17)) + "}"],
         "low, mid, high"),
        (["ranked: {function: wmax, variance: 0.01}"], "low, mid, high"),
    ],
    ids=["default", "rows", "noisy_or", "noisy_and", "logic", "noisy_max", "ranked"],
)
def test_building_a_table_stays_within_the_estimate(body, states):
    """The estimate the budget is checked against is honest: reading and compiling a
    17-parent table of each kind peaks below BUILD_COPIES times the table."""
    text = fan_in(17, body, states)
    tracemalloc.start()
    try:
        compiled = compile_spec(parse_model_text(text, "m.yaml"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    table = compiled.cpts[-1].nbytes
    assert table >= 2 * MiB
    assert peak <= BUILD_COPIES * table


# ----------------------------------------------------------------------------- linear work


class Counted(str):
    """A name that counts how often it is compared for equality."""

    calls = 0

    def __eq__(self, other):
        Counted.calls += 1
        return str.__eq__(self, other)

    __hash__ = str.__hash__


def _count_names(node: YNode) -> None:
    """Replace every scalar's text by a :class:`Counted` copy."""
    if node.is_scalar:
        node.text = Counted(node.text)
    for item in node.items:
        for child in item if isinstance(item, tuple) else (item,):
            _count_names(child)


def test_names_are_looked_up_in_sets_not_lists():
    """A node with 3,000 states, every one given a probability: checking the states
    (listed twice?), the keys of p (a state?) and the rows compares each name about
    a few times, not once per other name (millions of comparisons before)."""
    n = 3000
    text = textwrap.dedent(
        f"""\
        riskchain: 1
        nodes:
          a:
            states: [{", ".join(f"s{i}" for i in range(n))}]
            p: {{{", ".join(f"s{i}: {1 / n}" for i in range(n - 1))}}}
            adverse: [{", ".join(f"s{i}" for i in range(n))}]
          b:
            parents: [a]
            cpt:
        """
    ) + "".join(f"      a=s{i}: 0.5\n" for i in range(n))
    doc = parse_yaml(text, "m.yaml")
    _count_names(doc.root)
    Counted.calls = 0
    spec = build_model(doc)
    assert len(spec.nodes["a"].states) == n
    assert Counted.calls < 20 * n


def test_did_you_mean_stops_after_a_few():
    """Forty misspelt keys: the first SUGGESTIONS get a "did you mean", the rest the list."""
    nodes = "".join(f"  n{i}:\n    lable: x\n    p: 0.5\n" for i in range(40))
    with pytest.raises(SpecError) as found:
        parse_model_text("riskchain: 1\nnodes:\n" + nodes)
    hints = [d.hint for d in found.value.diagnostics]
    assert len(hints) == 40
    assert sum("did you mean 'label'?" in h for h in hints) == SUGGESTIONS
    assert all(h.startswith("allowed keys: label, ") for h in hints[SUGGESTIONS:])


def test_long_lists_in_messages_are_cut():
    """The states missing from a 5,000-state distribution are named up to twenty."""
    n = 5000
    text = f"riskchain: 1\nnodes:\n  a:\n    states: [{', '.join(f's{i}' for i in range(n))}]\n    p: {{s0: 0.5}}\n"
    ((_, _, msg),) = refusal(text)
    assert msg == (
        "p of 'a': states " + ", ".join(f"s{i}" for i in range(1, 21)) + " and 4,979 more "
        "have no probability"
    )


# ----------------------------------------------------------------------------- cycles


def _first_loop_by_networkx(parents: dict[str, tuple[str, ...]]):
    """The edge whose addition, in file order, first makes a loop (networkx decides)."""
    import networkx as nx

    g = nx.DiGraph()
    g.add_nodes_from(parents)
    for child, ps in parents.items():
        for p in ps:
            g.add_edge(p, child)
            if not nx.is_directed_acyclic_graph(g):
                return p, child
    return None


@pytest.mark.parametrize("seed", range(40))
def test_the_cycle_error_names_the_edge_that_closed_the_loop(seed):
    """Random graphs with loops: the edge named is the one that, added in file order,
    first closes a loop (as networkx finds it), and the loop printed is a real loop of
    the file's edges ending with that edge."""
    import itertools
    import random

    from riskchain.spec.model import closing_edge

    rng = random.Random(seed)
    names = [f"n{i}" for i in range(rng.randint(3, 12))]
    parents = {
        n: tuple(rng.sample([m for m in names if m != n], rng.randint(0, min(3, len(names) - 1))))
        for n in names
    }
    expected = _first_loop_by_networkx(parents)
    got = closing_edge(parents)
    if expected is None:
        assert got is None
        return
    assert got is not None
    parent, child, loop = got
    assert (parent, child) == expected
    assert loop[0] == loop[-1] == child and loop[-2] == parent
    assert all(a in parents[b] for a, b in itertools.pairwise(loop))


def test_the_cycle_error_points_at_the_closing_parent():
    """An old chain a -> b -> c and a new edge c -> a written last: the error is at
    'c' in a's parents (written last in the file), and names that edge."""
    text = textwrap.dedent(
        """\
        riskchain: 1
        nodes:
          b:
            parents: [a]
            cpt: {default: 0.5}
          c:
            parents: [b]
            cpt: {default: 0.5}
          a:
            parents: [c]
            cpt: {default: 0.5}
        """
    )
    with pytest.raises(SpecError) as info:
        parse_model_text(text)
    (d,) = info.value.diagnostics
    assert (d.line, d.col) == (10, 15)
    assert d.message.startswith("the graph has a cycle: a -> b -> c -> a; the edge c -> a")
    assert d.hint.startswith("a Bayesian network cannot loop; remove 'c' from the parents of 'a'")
