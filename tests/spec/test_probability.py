"""Probability values and distributions: every written form parses to the right numbers.

The expected values are worked out by hand: ICD 203 terms stand for the
midpoint of their band, ranges for their midpoint, ``beta(a, b)`` for its mean
``a / (a + b)``. Distributions are checked after compiling a model, i.e. as the
engines see them.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskchain.compile import compile_spec
from riskchain.errors import SpecError
from riskchain.spec.model import parse_model_text
from riskchain.spec.probability import Context, parse_prob
from riskchain.spec.yamlsrc import parse_yaml


def prob(text: str):
    """Parse ``text`` as the YAML value of a probability; return (Prob or None, messages)."""
    node = parse_yaml(f"v: {text}\n", "t.yaml").root.get("v")
    ctx = Context("t.yaml")
    return parse_prob(node, ctx), [d.message for d in ctx.diagnostics]


def compiled(text: str):
    """Validate and compile a model given as (indented) YAML text."""
    return compile_spec(parse_model_text(textwrap.dedent(text), "m.yaml"))


def cpt(text: str, node: str) -> np.ndarray:
    model = compiled(text)
    return model.cpts[model.node(node)]


def spec_errors(text: str) -> list[str]:
    with pytest.raises(SpecError) as info:
        parse_model_text(textwrap.dedent(text), "m.yaml")
    return [d.message for d in info.value.diagnostics]


# ----------------------------------------------------------------------------- single values

ICD203_MIDPOINTS = [
    # (term, alias, low, high, midpoint worked out by hand)
    ("almost no chance", "remote", 0.01, 0.05, 0.03),
    ("very unlikely", "highly improbable", 0.05, 0.20, 0.125),
    ("unlikely", "improbable", 0.20, 0.45, 0.325),
    ("roughly even chance", "roughly even odds", 0.45, 0.55, 0.50),
    ("likely", "probable", 0.55, 0.80, 0.675),
    ("very likely", "highly probable", 0.80, 0.95, 0.875),
    ("almost certain", "nearly certain", 0.95, 0.99, 0.97),
]


@pytest.mark.parametrize(("term", "alias", "low", "high", "mid"), ICD203_MIDPOINTS)
def test_icd203_terms_are_band_midpoints_in_both_wordings(term, alias, low, high, mid):
    """Both ICD 203 wordings give the band's midpoint and keep the band as the range."""
    for text in (term, alias):
        p, errors = prob(text)
        assert errors == []
        assert p.kind == "term"
        assert p.point == pytest.approx(mid, abs=1e-12)
        assert (p.low, p.high) == pytest.approx((low, high), abs=1e-12)
        assert p.uncertain


@pytest.mark.parametrize(
    ("text", "mid"),
    [
        ("LIKELY", 0.675),
        ("Very Likely", 0.875),
        ("Highly-Probable", 0.875),
        ("almost_certain", 0.97),
    ],
)
def test_terms_ignore_case_spaces_and_dashes(text, mid):
    """Terms are matched case-insensitively, with '-' and '_' read as spaces."""
    p, errors = prob(text)
    assert errors == []
    assert p.point == pytest.approx(mid, abs=1e-12)


@pytest.mark.parametrize(
    ("text", "point", "kind"),
    [
        ("0.35", 0.35, "number"),
        (".5", 0.5, "number"),
        ("0", 0.0, "number"),
        ("1", 1.0, "number"),
        ("1e-3", 0.001, "number"),
        ("'0.35'", 0.35, "number"),
        ("35%", 0.35, "percent"),
        ("'12.5%'", 0.125, "percent"),
        ("100%", 1.0, "percent"),
        ("0%", 0.0, "percent"),
    ],
)
def test_numbers_and_percentages_are_exact(text, point, kind):
    """Numbers and percentages are exact: no spread, the range is the point itself."""
    p, errors = prob(text)
    assert errors == []
    assert p.kind == kind
    assert p.point == pytest.approx(point, abs=1e-15)
    assert (p.low, p.high) == (p.point, p.point)
    assert not p.uncertain


def test_range_is_its_midpoint_and_keeps_its_ends():
    """[0.2, 0.3] stands for 0.25 with the range 0.2 to 0.3; percentages work as ends."""
    p, errors = prob("[0.2, 0.3]")
    assert errors == []
    assert (p.kind, p.point, p.low, p.high) == ("range", pytest.approx(0.25), 0.2, 0.3)
    p, errors = prob("[10%, 40%]")
    assert errors == []
    assert (p.point, p.low, p.high) == (pytest.approx(0.25), 0.1, 0.4)


def test_beta_is_its_mean_and_keeps_its_parameters():
    """beta(3, 7) has mean 3 / 10; its parameters are kept for uncertainty analysis."""
    p, errors = prob("beta(3, 7)")
    assert errors == []
    assert (p.kind, p.params) == ("beta", (3.0, 7.0))
    assert p.point == pytest.approx(0.3, abs=1e-15)
    p, _ = prob("Beta( 1 , 19 )")
    assert p.point == pytest.approx(0.05, abs=1e-15)


def test_beta_with_huge_parameters_is_refused_not_zero():
    """beta(1e308, 1e308) gave P(yes) = 0 (a + b overflows); parameters above 1e9 are
    refused with the mean the analyst meant, computed without overflow."""
    for text, mean in (("beta(1e308, 1e308)", "0.5"), ("beta(3e9, 1e9)", "0.75")):
        ctx = Context("t.yaml")
        assert parse_prob(parse_yaml(f"v: {text}\n", "t.yaml").root.get("v"), ctx) is None
        ((d,),) = [ctx.diagnostics]
        assert d.message == f"{text}: a and b must be at most 1e9"
        assert d.hint == (
            "with pseudo-counts this large the distribution is a single number "
            f"(its mean a/(a+b) = {mean}): write that number instead"
        )


def test_beta_up_to_the_limit_is_its_mean():
    p, errors = prob("beta(2.5e8, 7.5e8)")
    assert errors == [] and p.point == 0.25
    p, errors = prob("beta(1e9, 1e9)")
    assert errors == [] and p.point == 0.5
    p, errors = prob("beta(1e-300, 1e-300)")
    assert errors == [] and p.point == 0.5


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1.5", "probability 1.5 is outside [0, 1]"),
        ("-0.1", "probability -0.1 is outside [0, 1]"),
        ("150%", "probability 150% is outside [0, 1]"),
        (".inf", "probability .inf is not a finite number"),
        ("[0.3, 0.2]", "range [0.3, 0.2] has its low end above its high end"),
        ("[0.1, 0.2, 0.3]", "a range is [low, high]; found a list of 3 items"),
        ("[likely, 0.9]", "a range end must be a number or percentage, not 'likely'"),
        ("beta(0, 2)", "beta(0, 2) needs two positive numbers"),
        ("yes", "unknown probability 'yes': not a term of scale icd203 (the default)"),
        ("true", "expected a probability, found a boolean"),
        ("", "expected a probability, found nothing"),
        ("{a: 1}", "expected a probability, found a mapping"),
    ],
)
def test_bad_values_are_refused_with_a_message(text, message):
    """Each malformed value yields no probability and one message saying what is wrong."""
    p, errors = prob(text)
    assert p is None
    assert errors == [message]


# ----------------------------------------------------------------------------- distributions


def test_binary_scalar_is_probability_of_second_state():
    """On a two-state node a scalar is P(second state), whatever the states are called."""
    table = cpt(
        """\
        riskchain: 1
        nodes:
          a: {p: 0.3}
          b:
            states: [high, low]
            p: 20%
        """,
        "b",
    )
    assert table.tolist() == pytest.approx([0.8, 0.2], abs=1e-15)
    assert cpt("riskchain: 1\nnodes:\n  a: {p: 0.3}\n", "a").tolist() == pytest.approx(
        [0.7, 0.3], abs=1e-15
    )


def test_remainder_state_gets_one_minus_the_rest():
    """The one state left out of a mapping gets 1 - (sum of the others)."""
    table = cpt(
        """\
        riskchain: 1
        nodes:
          b:
            states: [low, mid, high]
            p: {low: 0.2, high: 30%}
        """,
        "b",
    )
    assert table.tolist() == pytest.approx([0.2, 0.5, 0.3], abs=1e-15)


def test_remainder_may_be_zero():
    """States given summing to exactly 1 leave 0 for the remainder state (not an error)."""
    table = cpt(
        "riskchain: 1\nnodes:\n  b:\n    states: [x, y, z]\n    p: {x: 0.25, y: 0.75}\n", "b"
    )
    assert table.tolist() == [0.25, 0.75, 0.0]


def test_sum_within_tolerance_is_renormalized_exactly():
    """A full distribution off by less than 1e-6 is accepted and rescaled to sum to 1."""
    table = cpt(
        """\
        riskchain: 1
        nodes:
          b:
            states: [x, y, z]
            p: {x: 0.3333333, y: 0.3333333, z: 0.3333333}
        """,
        "b",
    )
    assert table.tolist() == pytest.approx([1 / 3, 1 / 3, 1 / 3], abs=1e-15)
    assert abs(table.sum() - 1.0) <= 2e-16


def test_sum_just_outside_tolerance_is_refused():
    """1.2e-4 too much is beyond the 1e-4 tolerance and names how far off it is."""
    errors = spec_errors(
        "riskchain: 1\nnodes:\n  b:\n    states: [x, y]\n    p: {x: 0.50006, y: 0.50006}\n"
    )
    assert errors == ["p of 'b': probabilities sum to 1.00012, not 1 (0.00012 too much)"]


SIX_DECIMALS = """\
riskchain: 1
nodes:
  b:
    states: [x, y, z]
    p: {x: 0.333333, y: 0.333333, z: 0.333333}
  c:
    parents: [b]
    cpt:
      b=x: {no: 0.5, yes: 0.5}
      default: {no: 0.500001, yes: 0.500001}
"""


def test_six_decimal_sums_are_renormalized_with_one_warning_per_file(tmp_path, capsys):
    """Sums off by more than 1e-6 but within 1e-4 (six-decimal numbers) are accepted and
    renormalized; the file gets one warning, at the first such distribution, naming the
    count and the largest gap; the CLI prints it once however often the file is read."""
    import warnings

    from riskchain.cli import main
    from riskchain.errors import RiskchainWarning
    from riskchain.model import load_model

    path = tmp_path / "six.yaml"
    path.write_text(SIX_DECIMALS)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = load_model(path)
    assert [w.category for w in caught] == [RiskchainWarning]
    assert str(caught[0].message) == (
        f"{path}:5:8: warning: 2 distributions sum to 1 only within 2e-06 (the first is here): "
        "renormalized (a sum within 0.0001 of 1 is taken for a rounding)\n"
        "    hint: numbers rounded to a few decimals (0.333333 three times) do this; write one "
        "state's number as the remainder to silence it"
    )
    assert model.cpt("b").tolist() == pytest.approx([1 / 3] * 3, abs=1e-15)
    assert model.cpt("c")[1].tolist() == pytest.approx([0.5, 0.5], abs=1e-15)
    for args in (["query", str(path)], ["show", str(path)], ["validate", str(path)]):
        assert main(args) == 0
        err = capsys.readouterr().err
        assert err.count("warning:") == 1, (args, err)
    # a scenario file's 'set:' numbers too: one warning for it, one for its model
    scenarios = tmp_path / "s.yaml"
    scenarios.write_text(
        "riskchain: 1\nmodel: six.yaml\nscenarios:\n  base: {}\n  other:\n    set:\n"
        "      b: {p: {x: 0.2, y: 0.2, z: 0.599999}}\n"
    )
    assert main(["table", str(scenarios)]) == 0
    err = capsys.readouterr().err
    assert err.count("warning:") == 2, err
    assert f"{scenarios}:7:14: warning: a distribution sums to 1 only within 1e-06" in err


def test_cpt_rows_with_alternatives_star_and_default():
    """Rows with '|', '*' and a default fill the right cells of the table."""
    table = cpt(
        """\
        riskchain: 1
        nodes:
          a: {p: 0.5}
          level:
            states: [low, mid, high]
            p: {low: 0.2, mid: 0.3}
          c:
            parents: [a, level]
            cpt:
              a=yes, level=low|mid: 0.9
              a=no, level=*: [0.2, 0.4]
              default: beta(1, 9)
        """,
        "c",
    )
    p_yes = table[..., 1]  # indexed [a][level]
    np.testing.assert_allclose(p_yes, [[0.3, 0.3, 0.3], [0.9, 0.9, 0.1]], rtol=0, atol=1e-15)


# ----------------------------------------------------------------------------- YAML 1.2 names


def test_yaml_1_2_words_and_digits_stay_state_names():
    """yes/no/on/0/1 and symbols are text as states and in row keys; YAML 1.1 would not agree."""
    model = compiled(
        """\
        riskchain: 1
        nodes:
          flag:
            states: [yes, no]
            p: 0.3
          switch:
            states: [off, on]
            p: {on: 0.4}
          bit:
            states: [0, 1]
            p: 1
          grade:
            states: ['<5', '>=7.5', 12+, Asy/Patch]
            p: {'<5': 0.1, '>=7.5': 0.2, 12+: 0.3}
          out:
            parents: [flag, switch, bit, grade]
            cpt:
              flag=yes, switch=on, bit=0, grade=<5: 0.9
              flag=no, switch=off, bit=1, grade=>=7.5|12+: 0.8
              flag=*, switch=on, bit=1, grade=Asy/Patch: 0.7
              default: 0.1
        """
    )
    assert model.states[model.node("flag")] == ("yes", "no")
    assert model.states[model.node("switch")] == ("off", "on")
    assert model.states[model.node("bit")] == ("0", "1")
    assert model.states[model.node("grade")] == ("<5", ">=7.5", "12+", "Asy/Patch")
    assert model.cpts[model.node("flag")].tolist() == pytest.approx([0.7, 0.3], abs=1e-15)
    assert model.cpts[model.node("switch")].tolist() == pytest.approx([0.6, 0.4], abs=1e-15)
    assert model.cpts[model.node("bit")].tolist() == [0.0, 1.0]
    assert model.cpts[model.node("grade")].tolist() == pytest.approx([0.1, 0.2, 0.3, 0.4])
    out = model.cpts[model.node("out")][..., 1]  # [flag][switch][bit][grade]
    assert out[0, 1, 0, 0] == pytest.approx(0.9)
    assert out[1, 0, 1, 1] == pytest.approx(0.8)
    assert out[1, 0, 1, 2] == pytest.approx(0.8)
    assert out[0, 1, 1, 3] == pytest.approx(0.7)
    assert out[1, 1, 1, 3] == pytest.approx(0.7)
    assert out[0, 0, 0, 0] == pytest.approx(0.1)
    assert int(np.isclose(out, 0.1).sum()) == 32 - 5


def test_numbers_are_text_outside_probabilities():
    """Labels, titles, ids, horizons and dates keep the text written, not a parsed number."""
    spec = parse_model_text(
        textwrap.dedent(
            """\
            riskchain: 1
            id: 007
            title: yes
            horizon: 12
            sources:
              s1: {title: 1e3, date: 2024-10-18}
            nodes:
              a:
                label: 0.30
                p: 0.30
                sources: [s1]
            """
        ),
        "m.yaml",
    )
    assert (spec.id, spec.title, spec.horizon) == ("007", "yes", "12")
    assert (spec.sources["s1"].title, spec.sources["s1"].date) == ("1e3", "2024-10-18")
    assert spec.nodes["a"].label == "0.30"


# ----------------------------------------------------------------------------- properties

_weights = st.lists(st.integers(min_value=1, max_value=1000), min_size=2, max_size=6)


def _yaml_dist(states: list[str], values: list[float]) -> str:
    return "{" + ", ".join(f"{s}: {v!r}" for s, v in zip(states, values)) + "}"


@settings(max_examples=60, deadline=None)
@given(weights=_weights)
def test_any_written_distribution_compiles_to_its_normalized_values(weights):
    """Values rounded to 7 decimals (sum off by < 1e-6) compile to value / sum."""
    total = sum(weights)
    values = [round(w / total, 7) for w in weights]
    states = [f"s{i}" for i in range(len(values))]
    text = f"riskchain: 1\nnodes:\n  n:\n    states: [{', '.join(states)}]\n    p: {_yaml_dist(states, values)}\n"
    table = cpt(text, "n")
    expected = np.array(values) / sum(values)
    np.testing.assert_allclose(table, expected, rtol=0, atol=1e-15)


@settings(max_examples=60, deadline=None)
@given(weights=_weights, left_out=st.integers(min_value=0, max_value=5))
def test_left_out_state_receives_the_remainder(weights, left_out):
    """Leaving any one state out gives it 1 - sum of the rest (others unchanged)."""
    total = sum(weights)
    values = [w / total for w in weights]
    k = left_out % len(values)
    states = [f"s{i}" for i in range(len(values))]
    given_states = [s for i, s in enumerate(states) if i != k]
    given_values = [v for i, v in enumerate(values) if i != k]
    text = (
        f"riskchain: 1\nnodes:\n  n:\n    states: [{', '.join(states)}]\n"
        f"    p: {_yaml_dist(given_states, given_values)}\n"
    )
    table = cpt(text, "n")
    expected = list(values)
    expected[k] = 1 - sum(given_values)
    np.testing.assert_allclose(table, expected, rtol=0, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(
        st.lists(st.integers(min_value=1, max_value=99), min_size=3, max_size=3),
        min_size=3,
        max_size=3,
    )
)
def test_cpt_rows_in_block_style_compile_row_by_row(rows):
    """Each row of a 3x3 CPT written as {state: percent} lands in its own slice."""
    pct = [[100 * r[0] // sum(r), 100 * r[1] // sum(r)] for r in rows]
    lines = [
        "riskchain: 1",
        "nodes:",
        "  par:",
        "    states: [a, b, c]",
        "    p: {a: 0.2, b: 0.3}",
        "  child:",
        "    states: [x, y, z]",
        "    parents: [par]",
        "    cpt:",
    ]
    for state, (px, py) in zip("abc", pct):
        lines.append(f"      par={state}: {{x: {px}%, y: {py}%}}")
    table = cpt("\n".join(lines) + "\n", "child")
    expected = [[px / 100, py / 100, 1 - px / 100 - py / 100] for px, py in pct]
    np.testing.assert_allclose(table, expected, rtol=0, atol=1e-12)


# ----------------------------------------------------------------------------- the scale in force


def test_a_word_of_another_scale_names_the_scale_in_force_as_the_docs_show(tmp_path, capsys):
    """docs/model-format.md's example of `scale: phia`: it is valid, and with an ICD 203
    word in it the error names phia and the term of phia that word's midpoint falls in."""
    from riskchain.cli import main

    doc = (Path(__file__).resolve().parents[2] / "docs" / "model-format.md").read_text()
    section = doc[doc.index("### Terms of another scale") :]
    example = re.search(r"```yaml\n(.*?)```", section, re.S).group(1)
    model = tmp_path / "model.yaml"
    model.write_text(example)
    assert main(["validate", str(model)]) == 0
    model.write_text(example.replace("highly likely", "very likely"))
    capsys.readouterr()
    assert main(["validate", str(model)]) == 1
    err = capsys.readouterr().err.replace(str(model), "model.yaml")
    shown = re.search(r"<!-- scale-error:begin -->\n```text\n(.*?)```", section, re.S).group(1)
    assert err == shown + "1 error in 1 file\n"


def test_a_word_of_another_scale_gets_its_equivalent_on_the_default_scale():
    """A PHIA word in an ICD 203 file: the message says ICD 203 is the default, the hint
    gives the word's band, the ICD 203 term of its midpoint, and how to switch."""
    node = parse_yaml("v: realistic possibility\n", "t.yaml").root.get("v")
    ctx = Context("t.yaml")
    assert parse_prob(node, ctx) is None
    (d,) = ctx.diagnostics
    assert d.message == (
        "unknown probability 'realistic possibility': not a term of scale icd203 (the default)"
    )
    assert d.hint == (
        "'realistic possibility' is a term of scale phia [40–50%]; on icd203 its midpoint, "
        "45%, is 'roughly even chance' [45–55%]; or write 'scale: phia' at the top of the "
        "model file"
    )


def test_a_misspelt_word_on_a_chosen_scale_gets_a_word_of_that_scale():
    from riskchain.scales import PHIA

    node = parse_yaml("v: higly likely\n", "t.yaml").root.get("v")
    ctx = Context("t.yaml", scale=PHIA)
    assert parse_prob(node, ctx) is None
    (d,) = ctx.diagnostics
    assert d.message.endswith("not a term of scale phia (chosen by the model's 'scale:')")
    assert d.hint == "did you mean 'highly likely'?"
