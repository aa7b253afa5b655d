"""Parameter draws (:mod:`riskchain.spec.draws`) against the distributions they promise.

Each kind of number is drawn from its documented distribution (docs/uncertainty.md):
terms and ranges uniform over their range, ``beta(a, b)`` that Beta, exact numbers
exact unless a strength applies (then a Dirichlet with concentration strength x
point). Distributions are checked with Kolmogorov-Smirnov tests against
``scipy.stats`` (fixed seeds, so each test is deterministic; the threshold
p < 1e-3 rejects a wrong distribution with these sample sizes) and moments against
closed forms with tolerances from their sampling error. Term ranges are ICD 203's,
written here, not read from riskchain.
"""

from __future__ import annotations

import itertools
import math
import textwrap
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from riskchain.analysis.uncertainty import DrawOptions, Question, sample
from riskchain.cli import main
from riskchain.errors import SpecError
from riskchain.model import Model
from riskchain.spec.draws import FILE_STRENGTH, FLAG_STRENGTH, OWN, NodeDraws
from riskchain.spec.model import ModelSpec, parse_model_text

SEED = 20240521
N = 4000  # draws for distribution checks
KS_ALPHA = 1e-3
LIKELY = (0.55, 0.80)  # ICD 203
VERY_UNLIKELY = (0.05, 0.20)
ROOT = Path(__file__).resolve().parents[2]


# ----------------------------------------------------------------------------- helpers


def spec_of(text: str) -> ModelSpec:
    return parse_model_text(textwrap.dedent(text))


def drawer(
    spec: ModelSpec, name: str, strength: float | None = None, seed: int = SEED, key: int = 0
) -> NodeDraws:
    """A fresh NodeDraws for ``name`` as written in ``spec``."""
    node = spec.nodes[name]
    return NodeDraws(
        key=key,
        table=node.table,
        states=node.states,
        parent_states=[spec.nodes[p].states for p in node.parents],
        seed=seed,
        strength=strength,
    )


def expansion(spec: ModelSpec, name: str) -> np.ndarray:
    node = spec.nodes[name]
    return node.table.expand(len(node.states), [spec.nodes[p].states for p in node.parents])


def assert_uniform(x: np.ndarray, lo: float, hi: float) -> None:
    assert x.min() >= lo and x.max() <= hi, (x.min(), x.max(), lo, hi)
    assert stats.kstest(x, "uniform", args=(lo, hi - lo)).pvalue > KS_ALPHA


def assert_moments(x: np.ndarray, mean: float, var: float) -> None:
    """Sample mean within 5 standard errors; sample variance within 12% (about 5 standard
    errors of a variance estimate from 4000 draws of a distribution on [0, 1])."""
    assert abs(x.mean() - mean) <= 5 * math.sqrt(var / x.size), (x.mean(), mean)
    assert abs(x.var(ddof=1) / var - 1) <= 0.12, (x.var(ddof=1), var)


# ----------------------------------------------------------------------------- single numbers

ROOTS = spec_of(
    """
    riskchain: 1
    nodes:
      ranged:
        p: [0.2, 0.35]
      termed:
        p: likely
      percent_range:
        p: ['5%', '12%']
      betad:
        p: beta(2, 5)
      exact:
        p: 0.3
      graded_exact:
        states: [low, mid, high, extreme]
        p: {low: 0.5, mid: 0.3, high: 0.2, extreme: 0}
      remainder:
        states: [a, b, c]
        p: {a: [0.1, 0.3], b: [0.2, 0.4]}
      overflow:
        states: [a, b, c]
        p: {a: [0.3, 0.6], b: [0.3, 0.6]}
    """
)


@pytest.mark.parametrize(
    ("name", "lo", "hi"),
    [("ranged", 0.2, 0.35), ("termed", *LIKELY), ("percent_range", 0.05, 0.12)],
)
def test_terms_and_ranges_are_uniform_over_their_range(name, lo, hi):
    d = drawer(ROOTS, name)
    x = d.draw(N)[:, 1]
    assert_uniform(x, lo, hi)
    assert d.sources == {OWN}


def test_beta_is_that_beta():
    x = drawer(ROOTS, "betad").draw(N)[:, 1]
    assert stats.kstest(x, stats.beta(2, 5).cdf).pvalue > KS_ALPHA
    # the uniform on [0, 1] (a plausible mistake) is rejected by the same test
    assert stats.kstest(x, "uniform").pvalue < KS_ALPHA


@pytest.mark.parametrize("name", ["exact", "graded_exact"])
def test_exact_numbers_without_strength_are_constant(name):
    d = drawer(ROOTS, name)
    arr = d.draw(50)
    assert np.array_equal(arr, np.broadcast_to(expansion(ROOTS, name), arr.shape))
    assert d.sources == set()


def test_binary_exact_with_strength_is_beta():
    s = 20.0
    d = drawer(ROOTS, "exact", strength=s)
    x = d.draw(N)[:, 1]
    assert stats.kstest(x, stats.beta(s * 0.3, s * 0.7).cdf).pvalue > KS_ALPHA
    assert d.sources == {FLAG_STRENGTH}


def test_multistate_exact_with_strength_is_dirichlet_and_zeros_stay_zero():
    s = 15.0
    point = np.array([0.5, 0.3, 0.2, 0.0])
    arr = drawer(ROOTS, "graded_exact", strength=s).draw(N)
    assert np.allclose(arr.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    assert np.all(arr[:, 3] == 0.0)
    for j in range(3):
        p = point[j]
        assert_moments(arr[:, j], p, p * (1 - p) / (s + 1))
    # Dirichlet covariance: -p_i p_j / (s + 1)
    cov = np.cov(arr[:, 0], arr[:, 1])[0, 1]
    assert abs(cov / (-0.5 * 0.3 / (s + 1)) - 1) < 0.15


def test_strength_leaves_terms_ranges_and_beta_alone():
    """A strength spreads exact numbers only: a range keeps exactly its own draws."""
    a = drawer(ROOTS, "ranged").draw(200)
    b = drawer(ROOTS, "ranged", strength=5.0).draw(200)
    assert np.array_equal(a, b)


def test_remainder_state_takes_what_is_left():
    arr = drawer(ROOTS, "remainder").draw(N)
    a, b, c = arr.T
    # the given numbers never add up to more than 1 here: nothing is rescaled
    assert_uniform(a, 0.1, 0.3)
    assert_uniform(b, 0.2, 0.4)
    assert np.allclose(c, 1.0 - a - b, rtol=0, atol=1e-15)
    # each uncertain number is drawn on its own
    assert abs(np.corrcoef(a, b)[0, 1]) < 4 / math.sqrt(N)


def test_remainder_is_zero_and_rows_rescaled_when_draws_exceed_one():
    arr = drawer(ROOTS, "overflow").draw(N)
    assert np.all(arr >= 0)
    assert np.allclose(arr.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    # a, b ~ U[0.3, 0.6] independently: P(a + b > 1) = 0.2^2 / (2 * 0.3^2) = 2/9
    over = np.mean(arr[:, 2] == 0.0)
    assert abs(over - 2 / 9) < 4 * math.sqrt(2 / 9 * 7 / 9 / N)
    # where nothing was left, a and b were rescaled to fill the row
    full = arr[:, 2] == 0.0
    assert np.allclose(arr[full, 0] + arr[full, 1], 1.0, rtol=0, atol=1e-12)


# ----------------------------------------------------------------------------- rows


ROWS = spec_of(
    """
    riskchain: 1
    nodes:
      a: {p: 0.5}
      b:
        states: [x, y, z]
        p: {x: 0.2, y: 0.3}
      star:
        parents: [a, b]
        cpt:
          a=yes, b=*: [0.2, 0.4]
          a=no, b=x|y: likely
          a=no, b=z: beta(2, 3)
      defaulted:
        parents: [a, b]
        cpt:
          a=yes, b=x: very unlikely
          default: [0.5, 0.9]
      exact_default:
        states: [lo, mid, hi]
        parents: [a, b]
        cpt:
          a=yes, b=x: {lo: 0.1, mid: 0.1}
          default: {lo: 0.6, mid: 0.3}
    """
)


def test_star_row_is_one_draw_for_every_combination_it_covers():
    arr = drawer(ROWS, "star").draw(300)  # (draws, a, b, card); a: [no, yes], b: [x, y, z]
    yes = arr[:, 1, :, 1]
    assert np.all(yes == yes[:, :1])
    assert_uniform(yes[:, 0], 0.2, 0.4)
    assert np.array_equal(arr[:, 0, 0], arr[:, 0, 1])  # a=no, b=x|y
    assert_uniform(arr[:, 0, 0, 1], *LIKELY)
    # different rows are different judgments: their draws differ
    assert not np.allclose(arr[:, 0, 2, 1], arr[:, 0, 0, 1])


@pytest.mark.parametrize(("name", "strength"), [("defaulted", None), ("exact_default", 20.0)])
def test_default_row_is_one_draw_for_every_combination_it_covers(name, strength):
    arr = drawer(ROWS, name, strength=strength).draw(300)
    covered = [(i, j) for i, j in itertools.product(range(2), range(3)) if (i, j) != (1, 0)]
    first = arr[:, covered[0][0], covered[0][1]]
    for i, j in covered[1:]:
        assert np.array_equal(arr[:, i, j], first)
    assert first.std(axis=0).max() > 0.01  # drawn, not constant
    assert not np.allclose(arr[:, 1, 0], first)


# ----------------------------------------------------------------------------- every table kind

ALL_KINDS = """
riskchain: 1
nodes:
  storm: {p: STORM}
  cyber_attack: {p: 0.05}
  grid_alert: {states: [off, on], p: 0.3}
  threat_level:
    states: [low, elevated, severe]
    p: {low: 0.6, elevated: 0.3}
  outage:
    parents: [storm, cyber_attack, grid_alert]
    noisy_or:
      leak: 0.02
      storm: 0.7
      cyber_attack: 0.4
      grid_alert: {state: on, p: 0.1}
  outage_net:
    parents: [storm, cyber_attack]
    noisy_or: {form: net, leak: 0.02, storm: 0.668, cyber_attack: 0.388}
  restoration:
    parents: [storm, cyber_attack]
    noisy_and: {leak: 0.9, storm: 0.2, cyber_attack: 0.5}
  emergency:
    parents: [outage, storm, cyber_attack]
    logic: {at_least: 2}
  damage:
    states: [none, moderate, severe]
    parents: [outage, threat_level]
    noisy_max:
      leak: {none: 0.9, moderate: 0.08}
      outage:
        yes: {none: 0.3, moderate: 0.5}
      threat_level:
        elevated: {none: 0.7, moderate: 0.25}
        severe: {none: 0.4, moderate: 0.4}
  pressure:
    states: [low, medium, high]
    parents: [damage, threat_level]
    ranked: {function: wmax, weights: {damage: 2, threat_level: 1}, variance: 0.01}
  crisis:
    states: [low, elevated, severe]
    parents: [storm, threat_level]
    cpt:
      storm=yes, threat_level=*: {low: 0.1, elevated: 0.5}
      default: {low: 0.8, elevated: 0.15}
"""
EXACT = spec_of(ALL_KINDS.replace("STORM", "0.2"))
KINDS = {"p", "cpt", "noisy_or", "noisy_and", "logic", "noisy_max", "ranked"}


def test_all_kinds_model_covers_every_table_kind():
    assert {n.table.kind for n in EXACT.nodes.values()} == KINDS


@pytest.mark.parametrize("name", list(EXACT.nodes))
def test_draws_without_spread_equal_the_point_expansion(name):
    d = drawer(EXACT, name)
    arr = d.draw(4)
    assert np.array_equal(arr, np.broadcast_to(expansion(EXACT, name), arr.shape))
    assert d.sources == set()


@pytest.mark.parametrize("name", list(EXACT.nodes))
def test_draws_with_strength_are_distributions_around_the_point(name):
    """Every kind keeps its form under a strength: rows sum to 1, zeros stay zero (logic
    gates stay deterministic), and every row's draws average the written table."""
    point = expansion(EXACT, name)
    arr = drawer(EXACT, name, strength=200.0).draw(400)
    assert np.allclose(arr.sum(axis=-1), 1.0, rtol=0, atol=1e-12)
    assert np.all(arr[:, point == 0] == 0)
    if EXACT.nodes[name].table.kind == "logic":
        assert np.array_equal(arr, np.broadcast_to(point, arr.shape))
    else:
        assert arr.std(axis=0).max() > 0.005
    # Dirichlet columns (p, cpt, ranked) average the point; parametric tables are built from
    # Beta-drawn parameters, nonlinearly, so their mean is only close (strength 200: < 0.02)
    tol = 0.01 if EXACT.nodes[name].table.kind in ("p", "cpt", "ranked") else 0.02
    assert np.abs(arr.mean(axis=0) - point).max() < tol


SPREAD = spec_of(
    ALL_KINDS.replace("STORM", "likely")
    .replace("cyber_attack: 0.4", "cyber_attack: [0.3, 0.5]")
    .replace("yes: {none: 0.3, moderate: 0.5}", "yes: {none: [0.2, 0.4], moderate: 0.5}")
    .replace("default: {low: 0.8, elevated: 0.15}", "default: {low: [0.7, 0.85], elevated: 0.1}")
)


@pytest.mark.parametrize("name", ["storm", "outage", "damage", "crisis"])
def test_spread_model_has_spread_where_written(name):
    d = drawer(SPREAD, name)
    d.draw(2)
    assert d.sources == {OWN}


@pytest.mark.parametrize(("spec", "strength"), [(SPREAD, None), (SPREAD, 30.0), (EXACT, 30.0)])
@pytest.mark.parametrize("name", list(EXACT.nodes))
def test_draws_do_not_depend_on_chunking(spec, strength, name):
    """Every parameter has its own stream: 3 draws then 5 are the first 8 of one run."""
    d = drawer(spec, name, strength=strength)
    chunked = np.concatenate([d.draw(3), d.draw(5)])
    whole = drawer(spec, name, strength=strength).draw(8)
    assert np.array_equal(chunked, whole)


def test_seed_and_key_choose_the_streams():
    a = drawer(SPREAD, "outage").draw(20)
    assert np.array_equal(a, drawer(SPREAD, "outage").draw(20))
    assert not np.allclose(a, drawer(SPREAD, "outage", seed=SEED + 1).draw(20))
    assert not np.allclose(a, drawer(SPREAD, "outage", key=1).draw(20))


# ----------------------------------------------------------------------------- noisy-OR / AND by hand

NOISY = spec_of(
    """
    riskchain: 1
    nodes:
      a: {p: 0.5}
      b: {p: 0.5}
      c: {p: 0.5}
      compound:
        parents: [a, b, c]
        noisy_or:
          leak: [0.01, 0.05]
          a: likely
          b: [0.2, 0.4]
          c:
            p: beta(2, 8)
      net:
        parents: [a, b, c]
        noisy_or:
          form: net
          leak: [0.01, 0.05]
          a: likely
          b: [0.2, 0.4]
          c: 0.3
      noisy_and:
        parents: [a, b, c]
        noisy_and:
          leak: [0.85, 0.95]
          a: [0.2, 0.4]
          b: unlikely
          c: 0.6
    """
)
COMBOS = list(itertools.product(range(2), repeat=3))  # states [no, yes]: 1 = present


def test_noisy_or_compound_draw_is_the_hand_formula_of_its_own_parameters():
    """Read leak and P(yes | only cause i) off each drawn table; every other row must be
    Henrion's 1 - (1 - L) prod (1 - p_i) / (1 - L) of them (a cause drawn below the leak
    counts as the leak), and expand_with of those parameters must give the draw."""
    t = NOISY.nodes["compound"].table
    arr = drawer(NOISY, "compound", strength=25.0).draw(N)
    leak = arr[:, 0, 0, 0, 1]
    p = [arr[(slice(None), *(int(j == i) for j in range(3)), 1)] for i in range(3)]
    assert_uniform(leak, 0.01, 0.05)
    assert_uniform(p[0], *LIKELY)
    assert_uniform(p[1], 0.2, 0.4)
    assert np.all(p[2] >= leak)  # beta(2, 8) draws below the leak count as the leak
    for combo in COMBOS:
        q = 1 - leak
        for i, on in enumerate(combo):
            if on:
                q = q * (1 - p[i]) / (1 - leak)
        assert np.allclose(arr[(slice(None), *combo, 1)], 1 - q, rtol=0, atol=1e-12), combo
    # parameters drawn below the leak are the leak in the expanded table, so expand_with of
    # the read-off parameters gives the draw back
    built = t.expand_with(p, leak, [("no", "yes")] * 3)
    assert np.allclose(built, arr, rtol=0, atol=1e-12)


def test_noisy_or_compound_cause_below_leak_counts_as_the_leak():
    """beta(2, 8) for cause c: where the raw draw is above the leak the row is that draw,
    so the row's distribution above the leak is the Beta's, conditioned to lie above it."""
    arr = drawer(NOISY, "compound").draw(N)
    leak = arr[:, 0, 0, 0, 1]
    pc = arr[:, 0, 0, 1, 1]
    above = pc > leak
    # P(beta(2, 8) < U[0.01, 0.05]) is small but positive
    expected_below = np.mean(stats.beta(2, 8).cdf(np.linspace(0.01, 0.05, 1001)))
    frac = 1 - above.mean()
    assert abs(frac - expected_below) < 5 * math.sqrt(expected_below / N)


def test_noisy_or_net_draw_is_the_hand_formula_of_its_own_parameters():
    t = NOISY.nodes["net"].table
    arr = drawer(NOISY, "net").draw(N)
    leak = arr[:, 0, 0, 0, 1]
    # net form: P(yes | only i) = 1 - (1 - L)(1 - p_i)
    p = [
        1 - (1 - arr[(slice(None), *(int(j == i) for j in range(3)), 1)]) / (1 - leak)
        for i in range(3)
    ]
    assert_uniform(leak, 0.01, 0.05)
    assert_uniform(p[0], *LIKELY)
    assert_uniform(p[1], 0.2, 0.4)
    assert np.allclose(p[2], 0.3, rtol=0, atol=1e-12)  # exact, no strength
    for combo in COMBOS:
        q = 1 - leak
        for i, on in enumerate(combo):
            if on:
                q = q * (1 - p[i])
        assert np.allclose(arr[(slice(None), *combo, 1)], 1 - q, rtol=0, atol=1e-12), combo
    assert np.allclose(t.expand_with(p, leak, [("no", "yes")] * 3), arr, rtol=0, atol=1e-12)


def test_noisy_and_draw_is_the_hand_formula_of_its_own_parameters():
    """Compound noisy-AND: P(yes | x) = L prod_{i absent} p'_i / L, with L = P(yes | all
    present) and p'_i = P(yes | all present but i)."""
    arr = drawer(NOISY, "noisy_and").draw(N)
    leak = arr[:, 1, 1, 1, 1]
    p = [arr[(slice(None), *(int(j != i) for j in range(3)), 1)] for i in range(3)]
    assert_uniform(leak, 0.85, 0.95)
    assert_uniform(p[0], 0.2, 0.4)
    assert_uniform(p[1], 0.20, 0.45)  # unlikely: 20-45%
    for combo in COMBOS:
        y = leak.copy()
        for i, on in enumerate(combo):
            if not on:
                y = y * p[i] / leak
        assert np.allclose(arr[(slice(None), *combo, 1)], y, rtol=0, atol=1e-12), combo


def test_noisy_max_leak_row_and_single_cause_rows_are_the_drawn_distributions():
    arr = drawer(SPREAD, "damage").draw(N)  # parents: outage [no, yes], threat [low, elev, sev]
    assert np.allclose(arr.sum(axis=-1), 1.0, rtol=0, atol=1e-12)
    assert np.allclose(arr[:, 0, 0], [0.9, 0.08, 0.02], rtol=0, atol=1e-12)  # exact leak
    # outage=yes alone: none ~ U[0.2, 0.4], moderate 0.5, severe the remainder
    assert_uniform(arr[:, 1, 0, 0], 0.2, 0.4)
    assert np.allclose(arr[:, 1, 0, 1], 0.5, rtol=0, atol=1e-12)


# ----------------------------------------------------------------------------- where the strength comes from


def strength_model(model_level: str) -> Model:
    return Model(
        spec_of(
            f"""
            riskchain: 1
            {model_level}
            nodes:
              own:
                p: 0.3
                strength: 1000
              inherits:
                p: 0.3
            """
        )
    )


@pytest.mark.parametrize(
    ("model_level", "inherited", "sources"),
    [
        ("strength: 5", 5.0, {FILE_STRENGTH}),  # the model's strength beats the flag
        ("", 2.0, {FILE_STRENGTH, FLAG_STRENGTH}),  # no model strength: the flag's
    ],
)
def test_node_strength_beats_model_strength_beats_the_flag(model_level, inherited, sources):
    model = strength_model(model_level)
    (u,) = sample(model, [Question()], ["own", "inherits"], DrawOptions(N, seed=SEED, strength=2.0))
    v = 0.3 * 0.7
    assert_moments(u.draws["own"][:, 1], 0.3, v / 1001)
    assert_moments(u.draws["inherits"][:, 1], 0.3, v / (inherited + 1))
    assert set(u.sources) == sources
    assert not u.strength_only


# ----------------------------------------------------------------------------- strength: validation

BAD_STRENGTH = ["0", "-1", "strong", "[20]", "0.0"]


def bad_strength_file(tmp_path: Path, where: str, value: str) -> tuple[Path, int, int]:
    """A model whose ``strength:`` (model or node level) is ``value``; the value's line:col."""
    if where == "model":
        text = f"riskchain: 1\nstrength: {value}\nnodes:\n  a:\n    p: 0.3\n"
        line, col = 2, len("strength: ") + 1
    else:
        text = f"riskchain: 1\nnodes:\n  a:\n    p: 0.3\n    strength: {value}\n"
        line, col = 5, len("    strength: ") + 1
    path = tmp_path / "bad_strength.yaml"
    path.write_text(text)
    return path, line, col


@pytest.mark.parametrize("where", ["model", "node"])
@pytest.mark.parametrize("value", BAD_STRENGTH)
def test_bad_strength_is_one_located_error(tmp_path, capsys, where, value):
    path, line, col = bad_strength_file(tmp_path, where, value)
    code = main(["validate", str(path)])
    _, err = capsys.readouterr()
    located = [ln for ln in err.splitlines() if ": error: " in ln]
    assert code == 1
    assert located == [located[0]] and located[0].startswith(f"{path}:{line}:{col}: error: ")
    assert "strength" in located[0] and "positive number" in located[0]
    assert "Traceback" not in err


def test_bad_strength_is_a_spec_error():
    with pytest.raises(SpecError) as exc:
        spec_of("riskchain: 1\nnodes:\n  a:\n    p: 0.3\n    strength: -3\n")
    assert len(exc.value.diagnostics) == 1


@pytest.mark.parametrize("value", ["0", "-1", "strong"])
def test_bad_strength_message_names_the_value_written(tmp_path, capsys, value):
    path, _, _ = bad_strength_file(tmp_path, "node", value)
    main(["validate", str(path)])
    _, err = capsys.readouterr()
    assert f"found {value}" in err or f"found '{value}'" in err, err


@pytest.mark.parametrize("value", ["20", "0.5", "1e3"])
def test_good_strength_is_read(value):
    spec = spec_of(f"riskchain: 1\nstrength: {value}\nnodes:\n  a:\n    p: 0.3\n    strength: 7\n")
    assert spec.strength == float(value)
    assert spec.nodes["a"].strength == 7.0
