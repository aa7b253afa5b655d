"""Parametric tables (noisy_or, noisy_and, logic, noisy_max, ranked) against hand computations.

Every expected table here is computed in this file from the published formulas
(Henrion 1989 and Díez 1993 for noisy-OR/MAX, De Morgan for noisy-AND, Fenton,
Neil & Caballero 2007 for ranked nodes, with ``scipy.stats.truncnorm``), never
with riskchain's own expansion helpers. Models are written as YAML text, as an
analyst would, and read with :func:`riskchain.spec.model.parse_model_text`.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from scipy.stats import truncnorm

from riskchain.cli import main
from riskchain.engine.pgmpy_bridge import query_pgmpy
from riskchain.errors import ImpossibleEvidenceError, SpecError
from riskchain.model import Model
from riskchain.spec.model import parse_model_text

TOL = 1e-12
DOC = Path(__file__).resolve().parents[2] / "docs" / "model-format.md"
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)

#: ICD 203 terms and their point values (docs/model-format.md), kept apart from the code.
TERMS = {
    "almost no chance": 0.03,
    "very unlikely": 0.125,
    "unlikely": 0.325,
    "roughly even chance": 0.5,
    "likely": 0.675,
    "very likely": 0.875,
    "almost certain": 0.97,
}


# ----------------------------------------------------------------------------- helpers


def load(text: str) -> Model:
    """A model from YAML text (indented freely)."""
    return Model(parse_model_text(textwrap.dedent(text)))


def load_doc(doc: dict) -> Model:
    """A model from a Python document (JSON is YAML 1.2 flow style)."""
    return Model(parse_model_text(json.dumps(doc)))


def messages(text: str) -> list[str]:
    with pytest.raises(SpecError) as exc:
        parse_model_text(textwrap.dedent(text))
    return [d.message for d in exc.value.diagnostics]


def root(states: list[str]) -> dict:
    """A root node with the given states, uniform (the last state takes the rest)."""
    n = len(states)
    return {"states": states, "p": {s: 1 / n for s in states[:-1]}}


def combos(shape):
    return itertools.product(*(range(n) for n in shape))


def noisy_or_by_hand(leak: float, ps, on, form: str) -> float:
    """P(yes | x): 1 − (1 − p0) Π_{i on} (1 − p_i), with p_i = 1 − (1 − p'_i)/(1 − p0) (compound)."""
    q = 1.0 - leak
    for p, present in zip(ps, on):
        if present:
            q *= (1.0 - p) / (1.0 - leak) if form == "compound" else 1.0 - p
    return 1.0 - q


def noisy_and_by_hand(leak: float, ps, on, form: str) -> float:
    """P(yes | x) = L Π_{i off} p_i (net), or L Π_{i off} p'_i / L (compound), L = P(yes | all on)."""
    y = leak
    for p, present in zip(ps, on):
        if not present:
            y *= p / leak if form == "compound" else p
    return y


def noisy_max_by_hand(leak, cause_dists, picked, form: str) -> np.ndarray:
    """P(Y | x) from P(Y <= y | x) = L(y) Π_i C_i(y | x_i) / L(y) (compound) or L(y) Π_i C_i (net).

    ``cause_dists[i]`` maps a present state of cause i to its distribution over
    Y; ``picked[i]`` is cause i's state (absent when not in the mapping).
    """
    big_l = np.cumsum(leak)
    cum = big_l.copy()
    for dists, s in zip(cause_dists, picked):
        if s in dists:
            c = np.cumsum(dists[s])
            cum = cum * (c / big_l if form == "compound" else c)
    return np.diff(np.concatenate([[0.0], cum]))


def fenton_mean(function: str, x, w) -> float:
    """Fenton, Neil & Caballero (2007): WMEAN, WMIN, WMAX, MIXMINMAX."""
    n = len(x)
    if function == "wmean":
        return sum(wi * xi for wi, xi in zip(w, x)) / sum(w)
    if function in ("wmin", "wmax"):
        each = [(w[i] * x[i] + (sum(x) - x[i])) / (w[i] + n - 1) for i in range(n)]
        return min(each) if function == "wmin" else max(each)
    w_min, w_max = w
    return (w_min * min(x) + w_max * max(x)) / (w_min + w_max)


# ----------------------------------------------------------------------------- noisy-OR

CAUSES_3 = """
    riskchain: 1
    nodes:
      a: {p: 0.3}
      b: {p: 0.6}
      c: {states: [off, on], p: 0.5}
"""


def test_noisy_or_compound_matches_henrion():
    """Compound (default): each number is P(yes | only that cause present), leak included."""
    m = load(
        CAUSES_3
        + """
      y:
        parents: [a, b, c]
        noisy_or:
          leak: 0.05
          a: likely
          b: 0.3
          c: {state: on, p: 0.5}
    """
    )
    cpt = m.cpt("y")
    for x in combos((2, 2, 2)):
        expected = noisy_or_by_hand(0.05, [0.675, 0.3, 0.5], [j == 1 for j in x], "compound")
        assert cpt[x][1] == pytest.approx(expected, abs=TOL)
        assert cpt[x][0] == pytest.approx(1 - expected, abs=TOL)
    # the numbers as the analyst means them
    assert cpt[0, 0, 0, 1] == pytest.approx(0.05, abs=TOL)  # no cause: the leak
    assert cpt[1, 0, 0, 1] == pytest.approx(0.675, abs=TOL)  # only a
    assert cpt[0, 1, 0, 1] == pytest.approx(0.3, abs=TOL)  # only b
    assert cpt[0, 0, 1, 1] == pytest.approx(0.5, abs=TOL)  # only c=on
    # two causes: 1 - 0.95 * (0.325/0.95) * (0.7/0.95)
    assert cpt[1, 1, 0, 1] == pytest.approx(1 - 0.325 * 0.7 / 0.95, abs=TOL)


def test_noisy_or_net_matches_diez():
    """Net: each number is P(yes | only that cause, leak switched off)."""
    m = load(
        CAUSES_3
        + """
      y:
        parents: [a, b, c]
        noisy_or: {form: net, leak: 0.1, a: 0.4, b: 0.25, c: 0.8}
    """
    )
    cpt = m.cpt("y")
    for x in combos((2, 2, 2)):
        on = [j == 1 for j in x]
        q = 0.9 * math.prod(1 - p for p, o in zip([0.4, 0.25, 0.8], on) if o)
        assert cpt[x][1] == pytest.approx(1 - q, abs=TOL)
        assert cpt[x][1] == pytest.approx(noisy_or_by_hand(0.1, [0.4, 0.25, 0.8], on, "net"))
    assert cpt[1, 0, 0, 1] == pytest.approx(1 - 0.9 * 0.6, abs=TOL)  # only a: leak or a


@pytest.mark.parametrize("leak", [0.0, 0.05, 0.3])
def test_noisy_or_compound_and_net_agree_after_conversion(leak):
    """p_net = 1 − (1 − p_compound) / (1 − leak) gives the same table."""
    compound = [0.35, 0.6, 0.9]
    net = [1 - (1 - p) / (1 - leak) for p in compound]
    a = load(
        CAUSES_3
        + f"""
      y:
        parents: [a, b, c]
        noisy_or: {{leak: {leak}, a: {compound[0]}, b: {compound[1]}, c: {compound[2]}}}
    """
    )
    b = load_doc(
        {
            "riskchain": 1,
            "nodes": {
                "a": {"p": 0.3},
                "b": {"p": 0.6},
                "c": {"states": ["off", "on"], "p": 0.5},
                "y": {
                    "parents": ["a", "b", "c"],
                    "noisy_or": {
                        "form": "net",
                        "leak": leak,
                        "a": net[0],
                        "b": net[1],
                        "c": net[2],
                    },
                },
            },
        }
    )
    np.testing.assert_allclose(a.cpt("y"), b.cpt("y"), atol=TOL)


def test_noisy_or_without_leak_is_leak_zero():
    base = (
        textwrap.dedent(CAUSES_3)
        + "  y:\n    parents: [a, b, c]\n    noisy_or: {FORM a: 0.4, b: 0.2, c: 0.7}\n"
    )
    for form in ("", "form: net,"):
        none = load(base.replace("FORM", form)).cpt("y")
        zero = load(base.replace("FORM", form + " leak: 0,")).cpt("y")
        np.testing.assert_allclose(none, zero, atol=TOL)
        assert none[0, 0, 0, 1] == 0.0
    # without a leak, compound and net coincide
    compound = load(base.replace("FORM", "")).cpt("y")
    np.testing.assert_allclose(
        compound, load(base.replace("FORM", "form: net,")).cpt("y"), atol=TOL
    )


def test_present_state_of_a_cause_without_yes():
    """A binary cause without 'yes' is present in its second state, or in the one named."""
    text = """
        riskchain: 1
        nodes:
          alarm: {states: [off, on], p: 0.5}
          y:
            parents: [alarm]
            noisy_or: {leak: 0.1, alarm: CAUSE}
    """
    default = load(text.replace("CAUSE", "0.7")).cpt("y")
    named = load(text.replace("CAUSE", "{state: on, p: 0.7}")).cpt("y")
    flipped = load(text.replace("CAUSE", "{state: off, p: 0.7}")).cpt("y")
    np.testing.assert_allclose(default, named, atol=TOL)
    np.testing.assert_allclose(default[:, 1], [0.1, 0.7], atol=TOL)  # off, on
    np.testing.assert_allclose(flipped[:, 1], [0.7, 0.1], atol=TOL)


def test_graded_cause_with_explicit_present_state():
    """Only the named state is present; every other state of the parent counts as absent."""
    m = load(
        """
        riskchain: 1
        nodes:
          a: {p: 0.3}
          threat:
            states: [low, elevated, severe]
            p: {low: 0.5, elevated: 0.3}
          y:
            parents: [a, threat]
            noisy_or:
              leak: 0.05
              a: 0.4
              threat: {state: elevated, p: 0.6}
        """
    )
    cpt = m.cpt("y")
    for ia, it in combos((2, 3)):
        expected = noisy_or_by_hand(0.05, [0.4, 0.6], [ia == 1, it == 1], "compound")
        assert cpt[ia, it, 1] == pytest.approx(expected, abs=TOL)
    np.testing.assert_allclose(cpt[:, 0], cpt[:, 2], atol=TOL)  # low and severe alike


def test_graded_cause_with_a_yes_state_needs_no_state():
    m = load(
        """
        riskchain: 1
        nodes:
          x: {states: [no, maybe, yes], p: {no: 0.5, maybe: 0.3}}
          y:
            parents: [x]
            noisy_or: {leak: 0.2, x: 0.9}
        """
    )
    np.testing.assert_allclose(m.cpt("y")[:, 1], [0.2, 0.2, 0.9], atol=TOL)


def test_cause_provenance_is_kept_and_checked():
    text = """
        riskchain: 1
        sources:
          report: "Annual threat report"
        nodes:
          a: {p: 0.3}
          b: {p: 0.6}
          y:
            parents: [a, b]
            noisy_or:
              leak: 0.05
              a: {p: likely, note: the usual route, sources: [SRC], confidence: moderate}
              b: 0.3
    """
    written = load(text.replace("SRC", "report")).describe()["nodes"][-1]["written"]
    assert {"row": "a=yes", "text": "likely"} | {
        "note": "the usual route",
        "sources": ["report"],
        "confidence": "moderate",
    } in written
    assert messages(text.replace("SRC", "reprot")) == [
        "unknown source 'reprot' in cause 'a' of noisy_or of 'y'"
    ]


# ----------------------------------------------------------------------------- noisy-AND

AND_2 = """
    riskchain: 1
    nodes:
      funding: {p: 0.8}
      staff: {states: [absent, present], p: 0.7}
      launch:
        parents: [funding, staff]
        noisy_and: BODY
"""


def test_noisy_and_compound_meaning():
    """leak = P(yes | all causes present); p_i = P(yes | only cause i absent)."""
    cpt = load(AND_2.replace("BODY", "{leak: 0.9, funding: 0.2, staff: 0.5}")).cpt("launch")
    assert cpt[1, 1, 1] == pytest.approx(0.9, abs=TOL)  # all present
    assert cpt[0, 1, 1] == pytest.approx(0.2, abs=TOL)  # only funding absent
    assert cpt[1, 0, 1] == pytest.approx(0.5, abs=TOL)  # only staff absent
    assert cpt[0, 0, 1] == pytest.approx(0.9 * (0.2 / 0.9) * (0.5 / 0.9), abs=TOL)
    for x in combos((2, 2)):
        on = [j == 1 for j in x]
        assert cpt[x][1] == pytest.approx(noisy_and_by_hand(0.9, [0.2, 0.5], on, "compound"))
        assert cpt[x].sum() == pytest.approx(1.0, abs=TOL)


def test_noisy_and_net_and_conversion():
    """Net: P(yes | x) = leak · Π_{i absent} p_i; compound p'_i = leak · p_i gives the same table."""
    net = load(AND_2.replace("BODY", "{form: net, leak: 0.8, funding: 0.5, staff: 0.25}"))
    cpt = net.cpt("launch")
    for x in combos((2, 2)):
        on = [j == 1 for j in x]
        assert cpt[x][1] == pytest.approx(noisy_and_by_hand(0.8, [0.5, 0.25], on, "net"))
    compound = load(
        AND_2.replace("BODY", f"{{leak: 0.8, funding: {0.8 * 0.5}, staff: {0.8 * 0.25}}}")
    )
    np.testing.assert_allclose(compound.cpt("launch"), cpt, atol=TOL)


def test_noisy_and_is_noisy_or_on_the_complements():
    """De Morgan: noisy-AND of yes = 1 − noisy-OR of no over the causes' absent states."""
    lk, p1, p2 = 0.9, 0.2, 0.5
    and_cpt = load(AND_2.replace("BODY", f"{{leak: {lk}, funding: {p1}, staff: {p2}}}"))
    or_body = f"{{leak: {1 - lk}, funding: {{state: 'no', p: {1 - p1}}}, staff: {{state: absent, p: {1 - p2}}}}}"
    or_cpt = load(AND_2.replace("noisy_and", "noisy_or").replace("BODY", or_body))
    np.testing.assert_allclose(
        and_cpt.cpt("launch")[..., 1], or_cpt.cpt("launch")[..., 0], atol=TOL
    )


# ----------------------------------------------------------------------------- logic


def logic_model(n: int, op) -> Model:
    """n binary parents; odd ones have states [off, on] (present: on)."""
    nodes = {f"x{i}": root(["off", "on"] if i % 2 else ["no", "yes"]) for i in range(n)}
    nodes["g"] = {"parents": list(nodes), "logic": op}
    return load_doc({"riskchain": 1, "nodes": nodes})


@pytest.mark.parametrize(
    "n, op, need",
    [(n, "and", n) for n in (2, 3, 4)]
    + [(n, "or", 1) for n in (2, 3, 4)]
    + [(n, {"at_least": k}, k) for n in (2, 3, 4) for k in range(1, n + 1)],
)
def test_logic_gates(n, op, need):
    cpt = logic_model(n, op).cpt("g")
    assert cpt.shape == (2,) * n + (2,)
    for x in combos((2,) * n):
        expected = 1.0 if sum(x) >= need else 0.0
        assert tuple(cpt[x]) == (1.0 - expected, expected)


def test_logic_with_graded_parent_that_has_yes():
    m = load(
        """
        riskchain: 1
        nodes:
          a: {p: 0.5}
          b: {states: [no, partly, yes], p: {no: 0.5, partly: 0.3}}
          g: {parents: [a, b], logic: and}
        """
    )
    np.testing.assert_array_equal(m.cpt("g")[..., 1], [[0, 0, 0], [0, 0, 1]])


# ----------------------------------------------------------------------------- noisy-MAX

MAX_ROOTS = {
    "a": root(["no", "yes"]),
    "t": root(["low", "elevated", "severe"]),
}
EFFECT = ["none", "mild", "severe"]


def max_model(leak, causes, form: str | None = None, absent: dict | None = None) -> Model:
    """Effect 'd' with states EFFECT; causes maps a parent to {state: distribution}."""
    body: dict = {} if form is None else {"form": form}
    if leak is not None:
        body["leak"] = dict(zip(EFFECT, leak))
    for parent, dists in causes.items():
        body[parent] = {s: dict(zip(EFFECT, d)) for s, d in dists.items()}
        if absent and parent in absent:
            body[parent]["absent"] = absent[parent]
    nodes = {**MAX_ROOTS, "d": {"states": EFFECT, "parents": list(causes), "noisy_max": body}}
    return load_doc({"riskchain": 1, "nodes": nodes})


LEAK = [0.8, 0.15, 0.05]
COMPOUND = {
    "a": {"yes": [0.4, 0.35, 0.25]},
    "t": {"elevated": [0.6, 0.25, 0.15], "severe": [0.2, 0.3, 0.5]},
}


def test_noisy_max_compound_matches_formula():
    cpt = max_model(LEAK, COMPOUND).cpt("d")
    cause_dists = [COMPOUND["a"], COMPOUND["t"]]
    for ia, it in combos((2, 3)):
        picked = [["no", "yes"][ia], ["low", "elevated", "severe"][it]]
        expected = noisy_max_by_hand(np.array(LEAK), cause_dists, picked, "compound")
        np.testing.assert_allclose(cpt[ia, it], expected, atol=TOL)
    # the numbers as the analyst means them: P(d | only this cause in this state)
    np.testing.assert_allclose(cpt[0, 0], LEAK, atol=TOL)
    np.testing.assert_allclose(cpt[1, 0], COMPOUND["a"]["yes"], atol=TOL)
    np.testing.assert_allclose(cpt[0, 2], COMPOUND["t"]["severe"], atol=TOL)
    # both: P(d <= none) = 0.8 * (0.4/0.8) * (0.2/0.8) = 0.1
    assert cpt[1, 2, 0] == pytest.approx(0.1, abs=TOL)


def test_noisy_max_net_matches_formula_and_compound():
    """Net numbers N_i; the compound numbers C_i with cumulative L · N_i give the same table."""
    net = {
        "a": {"yes": [0.5, 0.3, 0.2]},
        "t": {"elevated": [0.7, 0.3, 0.0], "severe": [0.1, 0.4, 0.5]},
    }
    cpt = max_model(LEAK, net, form="net").cpt("d")
    for ia, it in combos((2, 3)):
        picked = [["no", "yes"][ia], ["low", "elevated", "severe"][it]]
        expected = noisy_max_by_hand(np.array(LEAK), [net["a"], net["t"]], picked, "net")
        np.testing.assert_allclose(cpt[ia, it], expected, atol=TOL)
    big_l = np.cumsum(LEAK)
    compound = {
        p: {s: list(np.diff(np.concatenate([[0.0], big_l * np.cumsum(d)]))) for s, d in ds.items()}
        for p, ds in net.items()
    }
    np.testing.assert_allclose(max_model(LEAK, compound).cpt("d"), cpt, atol=1e-9)


def test_noisy_max_without_leak_and_absent_state():
    """No leak: the lowest level unless a cause acts. ``absent:`` names a cause's off state."""
    dists = {"low": [0.3, 0.7, 0.0], "severe": [0.0, 0.2, 0.8]}
    cpt = max_model(None, {"t": dists}, form="net", absent={"t": "elevated"}).cpt("d")
    np.testing.assert_allclose(cpt[1], [1.0, 0.0, 0.0], atol=TOL)  # elevated: absent
    np.testing.assert_allclose(cpt[0], dists["low"], atol=TOL)
    np.testing.assert_allclose(cpt[2], dists["severe"], atol=TOL)


# ----------------------------------------------------------------------------- ranked


RANKED_PARENTS = {
    "q1": ["low", "med", "high"],
    "q2": ["no", "yes"],
    "q3": ["vl", "l", "m", "h", "vh"],
}


def ranked_model(function: str, weights, variance: float, card: int) -> Model:
    states = ["s1", "s2", "s3", "s4", "s5"][:card]
    nodes = {p: root(s) for p, s in RANKED_PARENTS.items()}
    body = {"function": function, "variance": variance}
    if weights is not None:
        body["weights"] = weights
    nodes["r"] = {"states": states, "parents": list(RANKED_PARENTS), "ranked": body}
    return load_doc({"riskchain": 1, "nodes": nodes})


def ranked_by_hand(function: str, w, variance: float, card: int) -> np.ndarray:
    """Each row: TNormal(f(midpoints), variance) on [0, 1], integrated over ``card`` intervals."""
    shape = [len(s) for s in RANKED_PARENTS.values()]
    rows = list(combos(shape))
    means = np.array(
        [fenton_mean(function, [(j + 0.5) / n for j, n in zip(x, shape)], w) for x in rows]
    )[:, None]  # parents' values: their interval midpoints
    sd = math.sqrt(variance)
    dist = truncnorm((0.0 - means) / sd, (1.0 - means) / sd, loc=means, scale=sd)
    mass = np.diff(dist.cdf(np.linspace(0.0, 1.0, card + 1)[None, :]), axis=1)
    return mass.reshape(*shape, card)


@pytest.mark.parametrize(
    "function, weights, card",
    [
        ("wmean", {"q1": 3, "q2": 1, "q3": 2}, 3),
        ("wmean", None, 5),
        ("wmin", {"q1": 3, "q2": 1, "q3": 2}, 4),
        ("wmax", {"q1": 1, "q2": 4, "q3": 1.5}, 3),
        ("mixminmax", [1, 3], 5),
    ],
)
@pytest.mark.parametrize("variance", [0.005, 0.05, 0.5])
def test_ranked_matches_fenton(function, weights, card, variance):
    cpt = ranked_model(function, weights, variance, card).cpt("r")
    if weights is None:
        w = [1.0, 1.0, 1.0]
    elif isinstance(weights, dict):
        w = [weights[p] for p in RANKED_PARENTS]
    else:
        w = weights
    np.testing.assert_allclose(cpt, ranked_by_hand(function, w, variance, card), atol=1e-9)


def test_ranked_wmin_with_unit_weights_is_the_mean():
    """(x_i + Σ_{j≠i} x_j) / n is the plain mean for every i."""
    a = ranked_model("wmin", {"q1": 1, "q2": 1, "q3": 1}, 0.01, 3).cpt("r")
    b = ranked_model("wmean", None, 0.01, 3).cpt("r")
    np.testing.assert_allclose(a, b, atol=TOL)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"function": "wmean", "weights": {"q1": 1e308, "q2": 1e308, "q3": 1}, "variance": 0.01},
            "weight of 'q1' in ranked of 'r' is 1e+308; nonzero weights must be between 1e-6 and 1e6",
        ),
        (
            {"function": "wmax", "weights": {"q1": 1, "q2": 2e6, "q3": 1}, "variance": 0.01},
            "weight of 'q2' in ranked of 'r' is 2000000.0; nonzero weights must be between 1e-6 and 1e6",
        ),
        (
            {"function": "mixminmax", "weights": [1e-9, 1], "variance": 0.01},
            "weight of w_min in ranked of 'r' is 1e-09; nonzero weights must be between 1e-6 and 1e6",
        ),
        (
            {"function": "wmean", "variance": 1e100},
            "variance of ranked of 'r' is 1e+100; it must be at most 1e6",
        ),
    ],
)
def test_ranked_numbers_beyond_what_the_formula_computes_are_refused(body, message):
    """Weights of 1e308 (their sum overflows: a table of NaN) and a variance of 1e100
    (every bin rounds to 0: all the mass at one end) are refused with a message."""
    nodes = {p: root(s) for p, s in RANKED_PARENTS.items()}
    nodes["r"] = {"states": ["s1", "s2", "s3"], "parents": list(RANKED_PARENTS), "ranked": body}
    with pytest.raises(SpecError) as exc:
        load_doc({"riskchain": 1, "nodes": nodes})
    assert [d.message for d in exc.value.diagnostics] == [message]


def test_ranked_at_the_limits_matches_fenton():
    """Weights of 1e6 and 1e-6 and a variance of 1e6 still give Fenton's table."""
    w = {"q1": 1e6, "q2": 1e-6, "q3": 1.0}
    cpt = ranked_model("wmean", w, 1e6, 4).cpt("r")
    np.testing.assert_allclose(cpt, ranked_by_hand("wmean", list(w.values()), 1e6, 4), atol=1e-9)


def test_every_parametric_form_over_many_parents_matches_the_formulas():
    """Eight parents of two to four states (the tables are built for all combinations
    at once): every row equals the published formula for its combination."""
    cards = [2, 3, 2, 4, 2, 3, 2, 2]
    names = [f"x{i}" for i in range(8)]
    states = {
        n: ["no", "yes"] if c == 2 else [f"s{j}" for j in range(c - 1)] + ["yes"]
        for n, c in zip(names, cards)
    }
    ps = [0.1 * (i + 1) for i in range(8)]
    w = [1.0 + i for i in range(8)]
    # noisy-MAX: each state but the first (absent) pushes the effect up, more for 'yes'
    pushes = {n: {s: [0.5, 0.3, 0.2] if s == "yes" else [0.7, 0.2, 0.1] for s in st_[1:]}
              for n, st_ in states.items()}
    nodes = {n: root(s) for n, s in states.items()}
    nodes["or"] = {"parents": names, "noisy_or": {"leak": 0.05, **dict(zip(names, ps))}}
    nodes["and"] = {
        "parents": names,
        "noisy_and": {"leak": 0.95, "form": "net", **dict(zip(names, ps))},
    }
    nodes["gate"] = {"parents": names, "logic": {"at_least": 3}}
    nodes["max"] = {
        "states": EFFECT,
        "parents": names,
        "noisy_max": {
            "form": "net",
            "leak": dict(zip(EFFECT, LEAK)),
            **{n: {s: dict(zip(EFFECT, d)) for s, d in ds.items()} for n, ds in pushes.items()},
        },
    }
    nodes["rank"] = {
        "states": ["s1", "s2", "s3", "s4"],
        "parents": names,
        "ranked": {"function": "wmax", "weights": dict(zip(names, w)), "variance": 0.02},
    }
    m = load_doc({"riskchain": 1, "nodes": nodes})
    tables = {k: m.cpt(k) for k in ("or", "and", "gate", "max", "rank")}
    sd = math.sqrt(0.02)
    for combo in combos(cards):
        picked = [states[n][j] for n, j in zip(names, combo)]
        on = [s == "yes" for s in picked]
        y = noisy_or_by_hand(0.05, ps, on, "compound")
        np.testing.assert_allclose(tables["or"][combo], [1 - y, y], atol=TOL)
        y = noisy_and_by_hand(0.95, ps, on, "net")
        np.testing.assert_allclose(tables["and"][combo], [1 - y, y], atol=TOL)
        assert tables["gate"][combo][1] == (sum(on) >= 3)
        expected = noisy_max_by_hand(np.array(LEAK), [pushes[n] for n in names], picked, "net")
        np.testing.assert_allclose(tables["max"][combo], expected, atol=TOL)
        mu = fenton_mean("wmax", [(j + 0.5) / c for j, c in zip(combo, cards)], w)
        dist = truncnorm((0.0 - mu) / sd, (1.0 - mu) / sd, loc=mu, scale=sd)
        np.testing.assert_allclose(
            tables["rank"][combo], np.diff(dist.cdf(np.linspace(0.0, 1.0, 5))), atol=1e-9
        )


# ----------------------------------------------------------------------------- properties


@st.composite
def noisy_or_params(draw, max_causes: int = 4):
    """(leak or None, compound numbers, net numbers, parent states) for a valid noisy-OR."""
    n = draw(st.integers(1, max_causes))
    leak = draw(st.none() | st.floats(0.0, 0.95))
    lk = leak or 0.0
    net = draw(st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n))
    compound = [max(lk, 1 - (1 - lk) * (1 - p)) for p in net]
    parent_states = draw(
        st.lists(
            st.sampled_from([("no", "yes"), ("off", "on"), ("no", "maybe", "yes")]),
            min_size=n,
            max_size=n,
        )
    )
    return leak, compound, net, parent_states


def noisy_doc(key: str, leak, numbers, parent_states, form: str) -> dict:
    nodes = {f"c{i}": root(list(s)) for i, s in enumerate(parent_states)}
    body: dict = {"form": form}
    if leak is not None:
        body["leak"] = leak
    body |= {f"c{i}": p for i, p in enumerate(numbers)}
    nodes["y"] = {"parents": list(body)[1 + (leak is not None) :], key: body}
    return {"riskchain": 1, "nodes": nodes}


def present_index(states) -> int:
    return states.index("yes") if "yes" in states else 1


def flips(shape, present):
    """(x without cause i, x with cause i) for every row and cause i."""
    for x in combos(shape):
        for i, pr in enumerate(present):
            if x[i] != pr:
                on = list(x)
                on[i] = pr
                yield x, tuple(on)


@SETTINGS
@given(noisy_or_params(), st.sampled_from(["compound", "net"]))
def test_noisy_or_properties(params, form):
    """Formula, monotone in each cause, no cause = the leak, rows sum to 1."""
    leak, compound, net, parent_states = params
    numbers = compound if form == "compound" else net
    cpt = load_doc(noisy_doc("noisy_or", leak, numbers, parent_states, form)).cpt("y")
    shape = [len(s) for s in parent_states]
    present = [present_index(s) for s in parent_states]
    np.testing.assert_allclose(cpt.sum(axis=-1), 1.0, atol=TOL)
    assert np.all(cpt >= -TOL)
    for x in combos(shape):
        on = [j == p for j, p in zip(x, present)]
        assert cpt[x][1] == pytest.approx(
            noisy_or_by_hand(leak or 0.0, numbers, on, form), abs=1e-9
        )
        if not any(on):
            assert cpt[x][1] == pytest.approx(leak or 0.0, abs=1e-12)
    for off, on in flips(shape, present):
        assert cpt[on][1] >= cpt[off][1] - 1e-12
    # the same causes in the other form, converted, give the same table
    other = "net" if form == "compound" else "compound"
    converted = net if other == "net" else compound
    again = load_doc(noisy_doc("noisy_or", leak, converted, parent_states, other)).cpt("y")
    np.testing.assert_allclose(again, cpt, atol=1e-9)


@SETTINGS
@given(noisy_or_params(), st.sampled_from(["compound", "net"]))
def test_noisy_and_properties(params, form):
    """Formula, all present = the leak, monotone in each cause, rows sum to 1."""
    _, _, net, parent_states = params
    leak = params[0]
    top = 1.0 if leak is None else max(leak, 0.05)
    numbers = [top * p for p in net] if form == "compound" else net
    doc = noisy_doc("noisy_and", None if leak is None else top, numbers, parent_states, form)
    cpt = load_doc(doc).cpt("y")
    shape = [len(s) for s in parent_states]
    present = [present_index(s) for s in parent_states]
    np.testing.assert_allclose(cpt.sum(axis=-1), 1.0, atol=TOL)
    for x in combos(shape):
        on = [j == p for j, p in zip(x, present)]
        assert cpt[x][1] == pytest.approx(noisy_and_by_hand(top, numbers, on, form), abs=1e-9)
        if all(on):
            assert cpt[x][1] == pytest.approx(top, abs=1e-12)
    for off, on in flips(shape, present):
        assert cpt[on][1] >= cpt[off][1] - 1e-12


def _pmf(draw, k: int, zeros: bool) -> list[float]:
    part = st.floats(0.05, 1.0)
    raw = draw(st.lists(st.just(0.0) | part if zeros else part, min_size=k, max_size=k))
    if sum(raw) == 0:
        raw[-1] = 1.0
    return [r / sum(raw) for r in raw]


@st.composite
def noisy_max_params(draw):
    """(effect states, leak, net cause distributions, parent states) of a noisy-MAX."""
    k = draw(st.integers(2, 4))
    effect = [f"e{j}" for j in range(k)]
    leak = _pmf(draw, k, zeros=False)
    n = draw(st.integers(1, 3))
    parents = [[f"p{i}s{j}" for j in range(draw(st.integers(2, 3)))] for i in range(n)]
    net = [{s: _pmf(draw, k, zeros=True) for s in states[1:]} for states in parents]
    return effect, leak, net, parents


def noisy_max_doc(effect, leak, dists, parents, form) -> dict:
    nodes = {f"c{i}": root(s) for i, s in enumerate(parents)}
    body: dict = {"form": form, "leak": dict(zip(effect, leak))}
    for i, ds in enumerate(dists):
        body[f"c{i}"] = {s: dict(zip(effect, d)) for s, d in ds.items()}
    nodes["y"] = {"states": effect, "parents": list(nodes), "noisy_max": body}
    return {"riskchain": 1, "nodes": nodes}


@SETTINGS
@given(noisy_max_params(), st.sampled_from(["compound", "net"]))
@example(
    params=(
        ["e0", "e1", "e2"],
        [0.6010647854464753, 0.2580606554645071, 0.14087455908901764],
        [{"p0s1": [0.0, 0.0, 1.0]}],
        [["p0s0", "p0s1"]],
    ),
    form="compound",
)
def test_noisy_max_properties(params, form):
    """Formula, monotone (a cause never lowers P(Y >= y)), compound = net, rows sum to 1."""
    effect, leak, net, parents = params
    big_l = np.cumsum(leak)
    compound = [
        # clipped: rounding can make a cumulative difference 1 + 2e-16, which a file can't hold
        {
            s: list(np.clip(np.diff(np.concatenate([[0.0], big_l * np.cumsum(d)])), 0.0, 1.0))
            for s, d in ds.items()
        }
        for ds in net
    ]
    dists = compound if form == "compound" else net
    cpt = load_doc(noisy_max_doc(effect, leak, dists, parents, form)).cpt("y")
    shape = [len(s) for s in parents]
    np.testing.assert_allclose(cpt.sum(axis=-1), 1.0, atol=TOL)
    assert np.all(cpt >= -TOL)
    for x in combos(shape):
        picked = [s[j] for s, j in zip(parents, x)]
        by_hand = noisy_max_by_hand(np.array(leak), dists, picked, form)
        np.testing.assert_allclose(cpt[x], by_hand, atol=1e-9)
    survival = np.cumsum(cpt[..., ::-1], axis=-1)  # P(Y >= y), highest level first
    for x in combos(shape):
        for i, j in enumerate(x):
            if j == 0:  # cause i absent: turn it on in each of its other states
                for s in range(1, shape[i]):
                    on = list(x)
                    on[i] = s
                    assert np.all(survival[tuple(on)] >= survival[x] - 1e-12)
    other = "net" if form == "compound" else "compound"
    again = load_doc(
        noisy_max_doc(effect, leak, net if other == "net" else compound, parents, other)
    )
    np.testing.assert_allclose(again.cpt("y"), cpt, atol=1e-9)


@SETTINGS
@given(
    st.sampled_from(["wmean", "wmin", "wmax", "mixminmax"]),
    st.lists(st.floats(1.0, 5.0), min_size=3, max_size=3),
    st.floats(0.001, 1.0),
    st.integers(3, 5),
)
def test_ranked_properties(function, w, variance, card):
    """Fenton's formulas with scipy's truncated normal; rows sum to 1."""
    weights = w[:2] if function == "mixminmax" else dict(zip(RANKED_PARENTS, w))
    cpt = ranked_model(function, weights, variance, card).cpt("r")
    np.testing.assert_allclose(cpt.sum(axis=-1), 1.0, atol=TOL)
    expected = ranked_by_hand(function, w[:2] if function == "mixminmax" else w, variance, card)
    np.testing.assert_allclose(cpt, expected, atol=1e-9)


@SETTINGS
@given(
    st.integers(2, 4),
    st.sampled_from(["and", "or", "at_least"]),
    st.integers(1, 4),
)
def test_logic_rows_are_deterministic(n, op, k):
    cpt = logic_model(n, {"at_least": min(k, n)} if op == "at_least" else op).cpt("g")
    np.testing.assert_array_equal(cpt.sum(axis=-1), 1.0)
    assert set(np.unique(cpt)) <= {0.0, 1.0}


@st.composite
def written_prob(draw, low: float = 0.0, high: float = 1.0):
    """(YAML text, point value) of a probability in [low, high] in one of the five forms."""
    kind = draw(st.sampled_from(["number", "percent", "term", "range", "beta"]))
    lo, hi = math.ceil(low * 100 - 1e-9), math.floor(high * 100 + 1e-9)
    if kind == "number":
        x = draw(st.floats(low, high).map(lambda v: round(v, 4)).filter(lambda v: low <= v <= high))
        return f"{x}", x
    if kind == "percent":
        pct = draw(st.integers(lo, hi))
        return draw(st.sampled_from([f"'{pct}%'", f"{pct}%"])), pct / 100
    if kind == "term":
        term = draw(st.sampled_from([t for t, v in TERMS.items() if low <= v <= high]))
        return draw(st.sampled_from([term, term.upper(), f"'{term}'"])), TERMS[term]
    if kind == "range":
        a = draw(st.integers(lo, hi))
        b = draw(st.integers(a, hi))
        if draw(st.booleans()):
            return f"['{a}%', '{b}%']", (a / 100 + b / 100) / 2
        return f"[{a / 100}, {b / 100}]", (a / 100 + b / 100) / 2
    # beta(a, b) with mean a / (a + b) in [low, high]
    b = draw(st.integers(1, 5))
    a_min = max(1, math.ceil(low * b / (1 - low))) if low < 1 else None
    a = draw(st.integers(a_min, a_min + 30)) if a_min is not None else None
    if a is None or not low <= a / (a + b) <= high:
        return f"{high}", high
    return f"'beta({a}, {b})'", a / (a + b)


@SETTINGS
@given(st.data())
def test_every_probability_form_is_accepted_for_every_noisy_or_parameter(data):
    """leak and causes in any form (number, '35%', term, range, beta): the point value is used."""
    leak_text, leak = data.draw(written_prob(high=0.97))
    n = data.draw(st.integers(1, 3))
    causes = [data.draw(written_prob(low=leak)) for _ in range(n)]
    wrap = [data.draw(st.booleans()) for _ in range(n)]
    lines = [
        "riskchain: 1",
        "nodes:",
        *[f"  c{i}: {{p: 0.5}}" for i in range(n)],
        "  y:",
        f"    parents: [{', '.join(f'c{i}' for i in range(n))}]",
        "    noisy_or:",
        f"      leak: {leak_text}",
    ]
    for i, ((text, _), w) in enumerate(zip(causes, wrap)):
        lines += (
            [f"      c{i}:", f"        p: {text}", "        note: x"]
            if w
            else [f"      c{i}: {text}"]
        )
    cpt = Model(parse_model_text("\n".join(lines) + "\n")).cpt("y")
    points = [p for _, p in causes]
    for x in combos((2,) * n):
        on = [j == 1 for j in x]
        assert cpt[x][1] == pytest.approx(noisy_or_by_hand(leak, points, on, "compound"), abs=1e-9)


# ----------------------------------------------------------------------------- end to end


PIPELINE = """
riskchain: 1
nodes:
  a: {p: 0.3}
  b: {p: 0.6}
  c: {states: [off, on], p: 0.45}
  y:
    parents: [a, b, c]
    noisy_or:
      leak: 0.05
      a: likely
      b: {p: 0.3, note: weak cause, confidence: low}
      c: {state: on, p: 0.5}
  z:
    parents: [y]
    cpt:
      y=yes: 0.8
      y=no: 0.1
"""


def test_noisy_or_node_end_to_end_matches_pgmpy_and_hand():
    """The expanded table is what inference uses: riskchain, pgmpy and a hand sum agree."""
    model = Model(parse_model_text(PIPELINE))
    prior = {"a": [0.7, 0.3], "b": [0.4, 0.6], "c": [0.55, 0.45]}
    p_z = [0.1, 0.8]  # P(z = yes | y)
    joint_y = np.zeros(2)  # P(y, z = yes), by enumerating a, b, c
    joint_a = np.zeros(2)  # P(a, z = yes)
    for ia, ib, ic, iy in combos((2, 2, 2, 2)):
        p_yes = noisy_or_by_hand(0.05, [0.675, 0.3, 0.5], [ia == 1, ib == 1, ic == 1], "compound")
        w = prior["a"][ia] * prior["b"][ib] * prior["c"][ic]
        w *= (p_yes if iy else 1 - p_yes) * p_z[iy]
        joint_y[iy] += w
        joint_a[ia] += w
    res = model.query(given={"z": "yes"}, targets=["y", "a"])
    m = model.compiled
    post, pe = query_pgmpy(m, [m.node("y"), m.node("a")], {m.node("z"): 1})
    np.testing.assert_allclose(
        list(res.posteriors["y"].values()), joint_y / joint_y.sum(), atol=1e-12
    )
    np.testing.assert_allclose(
        list(res.posteriors["a"].values()), joint_a / joint_a.sum(), atol=1e-12
    )
    np.testing.assert_allclose(post[m.node("y")], joint_y / joint_y.sum(), atol=1e-9)
    np.testing.assert_allclose(post[m.node("a")], joint_a / joint_a.sum(), atol=1e-9)
    assert pe == pytest.approx(joint_y.sum(), rel=1e-9)
    assert res.evidence_probability == pytest.approx(joint_y.sum(), rel=1e-12)


def test_show_prints_the_numbers_as_written_and_the_expanded_table(tmp_path, capsys):
    path = tmp_path / "par.yaml"
    path.write_text(
        PIPELINE
        + """
  g:
    parents: [a, b, c]
    logic: {at_least: 2}
"""
    )
    assert main(["show", str(path)]) == 0
    out = capsys.readouterr().out
    for text in (
        "form: compound",
        "leak (no cause present): 0.05",
        "a=yes: likely",
        "c=on: 0.5",
        "note: weak cause",
        "logic: yes when at least 2 of a=yes, b=yes, c=on hold",
    ):
        assert text in out
    # the row a=yes, b=no, c=off of y: only a present, so P(yes) = likely = 67.5%
    assert any(ln.split() == ["yes", "no", "off", "32.5%", "67.5%"] for ln in out.splitlines())


# ----------------------------------------------------------------------------- the reference


def doc_section() -> str:
    text = DOC.read_text()
    start = text.index("## Parametric tables")
    return text[start : text.index("\n## ", start + 1)]


def test_doc_examples_are_one_valid_model_and_show_output_is_current(tmp_path, capsys):
    """The YAML blocks of "Parametric tables" form one model; its pasted output is current."""
    section = doc_section()
    blocks = re.findall(r"```yaml\n(.*?)```", section, re.S)
    assert blocks[0].startswith("riskchain: 1\nnodes:\n")
    path = tmp_path / "doc.yaml"
    path.write_text("".join(blocks))
    model = Model(parse_model_text(path.read_text()))
    assert {"outage", "outage_net", "restoration", "emergency_declared"} <= set(model.nodes)
    assert {"economic_damage", "public_pressure"} <= set(model.nodes)
    assert main(["show", str(path)]) == 0
    pasted = re.findall(r"```text\n(.*?)```", section, re.S)
    assert pasted and pasted[0] in capsys.readouterr().out
    # numbers the text states
    assert model.cpt("outage")[1, 1, 0, 1] == pytest.approx(1 - 0.325 * 0.6 / 0.98, abs=TOL)
    np.testing.assert_allclose(model.cpt("outage_net"), model.cpt("outage")[:, :, 0], atol=1e-3)
    assert model.cpt("restoration")[0, 0, 1] == pytest.approx(0.2 * 0.5 / 0.9, abs=TOL)
    assert model.cpt("economic_damage")[1, 2, 0] == pytest.approx(0.3 * 0.4 / 0.9, abs=TOL)
    assert model.cpt("public_pressure")[0, 2, 1] == pytest.approx(0.904, abs=5e-4)
    with pytest.raises(ImpossibleEvidenceError):
        model.query(
            given={"emergency_declared": "yes", "outage": "no", "storm": "no", "cyber_attack": "no"}
        )


# ----------------------------------------------------------------------------- the ranked floor

RANKED_FLOOR = [(2, 3, 0.01), (2, 3, 0.001), (2, 5, 0.01), (3, 3, 0.01), (3, 5, 0.01)]


def _ranked_floor_model(m: int, k: int, var: float, function: str) -> str:
    """Two parents of ``m`` states and a ranked node of ``k`` states."""
    pstates, p = (("low", "high"), "{low: 0.5}") if m == 2 else (
        ("low", "medium", "high"), "{low: 0.3, medium: 0.3}"
    )
    roots = "".join(
        f"  {n}:\n    states: [{', '.join(pstates)}]\n    p: {p}\n" for n in ("a", "b")
    )
    nstates = ", ".join(f"s{j}" for j in range(1, k + 1))
    return (
        f"riskchain: 1\nnodes:\n{roots}  r:\n    states: [{nstates}]\n    parents: [a, b]\n"
        f"    ranked: {{function: {function}, variance: {var}}}\n"
    )


def _ranked_floor_rows() -> list[str]:
    """docs/model-format.md's table: P(each of the node's three lowest states | every
    parent at its lowest), from riskchain's expansion, checked against the closed form
    (a normal with mean 1/(2m), truncated to [0, 1]: every function gives that mean
    when all parents take the same value), and the same at the top."""
    from riskchain.compile import compile_spec

    rows = []
    for m, k, var in RANKED_FLOOR:
        mu, sd = 1 / (2 * m), math.sqrt(var)
        law = truncnorm(-mu / sd, (1 - mu) / sd, loc=mu, scale=sd)
        closed = [law.cdf((j + 1) / k) - law.cdf(j / k) for j in range(k)]
        for function in ("wmean", "wmin", "wmax"):
            model = compile_spec(parse_model_text(_ranked_floor_model(m, k, var, function)))
            table = model.cpts[model.index["r"]]
            assert np.allclose(table[0, 0], closed, atol=1e-9)
            assert np.allclose(table[-1, -1][::-1], closed, atol=1e-9)
        assert closed[0] < 1 - 1e-4  # never certain
        cells = " | ".join(f"{x * 100:.1f}%" for x in closed[:3])
        rows.append(f"| {m} | {k} | {var:g} | 1/{2 * m} = {mu:.3f} | {cells} |")
    return rows


def test_docs_show_the_ranked_floor_as_computed():
    """A ranked node is never certain to be at its lowest state when every parent is:
    docs/model-format.md says so with the numbers this test computes."""
    m = re.search(r"<!-- ranked-floor:begin -->\n(.*?)<!-- ranked-floor:end -->", DOC.read_text(), re.S)
    assert m, "the table of the ranked floor is missing from docs/model-format.md"
    body = m.group(1).strip().splitlines()[2:]  # after the header and its rule
    assert body == _ranked_floor_rows()
