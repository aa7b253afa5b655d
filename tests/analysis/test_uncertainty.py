"""Parameter uncertainty (:mod:`riskchain.analysis.uncertainty`) against independent answers.

- Closed forms: a root drawn from beta(a, b) or a range, and a child with exact rows.
  P(child) is linear in the root's parameter r, and P(root | child) monotone in it, so
  the interval's endpoints are the parameter's quantiles mapped through that function:
  each sampled endpoint, mapped back to r, must sit at the right quantile of r's
  distribution (scipy), within the sampling error of a quantile.
- Every draw solved by pgmpy: the tables of a few draws are rebuilt with
  :class:`riskchain.spec.draws.NodeDraws` (the stream keys of ``sample``: the seed and
  the node's index), handed to pgmpy's VariableElimination, and compared draw by draw.
- Reproducibility, chunking, memory-bounded chunks, scenarios on shared draws, the
  labelling of the spread, and draws in which the findings are impossible.
"""

from __future__ import annotations

import math
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy import integrate, stats

import riskchain.analysis.uncertainty as unc
from conftest import IMPORT_CACHE, network_path
from riskchain.analysis.scenarios import run_scenarios
from riskchain.analysis.uncertainty import DrawOptions, Question, sample
from riskchain.engine.exact import infer
from riskchain.errors import TooLargeError
from riskchain.io.bif import import_network
from riskchain.model import Model, load_model
from riskchain.spec.draws import FLAG_STRENGTH, NodeDraws
from riskchain.spec.model import parse_model_text

ROOT = Path(__file__).resolve().parents[2]
EDITORIAL = ROOT / "models" / "korea_russia_2024.yaml"
EDITORIAL_SCENARIOS = ROOT / "scenarios" / "korea_russia_2024.yaml"
TOL = 1e-9


def load(text: str) -> Model:
    return Model(parse_model_text(textwrap.dedent(text)))


@pytest.fixture(scope="module")
def editorial() -> Model:
    return load_model(EDITORIAL)


# ----------------------------------------------------------------------------- closed forms

C0, C1 = 0.1, 0.7  # P(C=yes | R=no), P(C=yes | R=yes)
CLOSED_N = 20000


def two_nodes(root_p: str) -> Model:
    return load(
        f"""
        riskchain: 1
        nodes:
          r:
            p: {root_p}
          c:
            parents: [r]
            cpt:
              r=no: {C0}
              r=yes: {C1}
        """
    )


CLOSED = [
    ("beta(2, 5)", stats.beta(2, 5), 0.9),
    ("[0.2, 0.6]", stats.uniform(0.2, 0.4), 0.8),
]


def check_endpoints(lo: float, hi: float, to_r, dist, level: float, n: int) -> None:
    """Each endpoint mapped back to r must be r's (1 -/+ level)/2 quantile: its CDF there
    within 4.5 standard errors of a sample quantile's coverage, sqrt(q (1 - q) / n)."""
    tail = (1 - level) / 2
    se = math.sqrt(tail * (1 - tail) / n)
    assert abs(dist.cdf(to_r(lo)) - tail) < 4.5 * se, (dist.cdf(to_r(lo)), tail)
    assert abs(dist.cdf(to_r(hi)) - (1 - tail)) < 4.5 * se, (dist.cdf(to_r(hi)), 1 - tail)


@pytest.mark.parametrize(("root_p", "dist", "level"), CLOSED, ids=["beta", "range"])
def test_interval_of_a_linear_answer_is_the_mapped_quantiles(root_p, dist, level):
    model = two_nodes(root_p)
    u = model.query(targets=["c", "r"], samples=CLOSED_N, seed=11, level=level).uncertainty
    lo, hi = u.interval("c", "yes")
    check_endpoints(lo, hi, lambda y: (y - C0) / (C1 - C0), dist, level, CLOSED_N)
    # and the closed form itself, with the same tolerance carried through the density
    tail = (1 - level) / 2
    for got, q in ((lo, tail), (hi, 1 - tail)):
        x = dist.ppf(q)
        slack = (C1 - C0) * 4.5 * math.sqrt(q * (1 - q) / CLOSED_N) / dist.pdf(x)
        assert abs(got - (C0 + (C1 - C0) * x)) < slack
    # the draws of r are the root's distribution; the mean of P(C=yes) is linear in E[r]
    assert stats.kstest(u.draws["r"][:, 1], dist.cdf).pvalue > 1e-3
    expected = C0 + (C1 - C0) * dist.mean()
    assert abs(u.mean("c", "yes") - expected) < 5 * (C1 - C0) * dist.std() / math.sqrt(CLOSED_N)


@pytest.mark.parametrize(("root_p", "dist", "level"), CLOSED, ids=["beta", "range"])
def test_interval_of_a_posterior_is_the_mapped_quantiles(root_p, dist, level):
    """P(R=yes | C=yes) = c1 r / (c0 + (c1 - c0) r), increasing in r."""
    model = two_nodes(root_p)
    u = model.query(
        given={"c": "yes"}, targets=["r"], samples=CLOSED_N, seed=12, level=level
    ).uncertainty
    lo, hi = u.interval("r", "yes")
    check_endpoints(lo, hi, lambda y: C0 * y / (C1 - (C1 - C0) * y), dist, level, CLOSED_N)

    def g(r):
        return C1 * r / (C0 + (C1 - C0) * r)

    a, b = dist.support()
    m1 = integrate.quad(lambda r: g(r) * dist.pdf(r), a, b)[0]
    m2 = integrate.quad(lambda r: g(r) ** 2 * dist.pdf(r), a, b)[0]
    assert abs(u.mean("r", "yes") - m1) < 5 * math.sqrt((m2 - m1**2) / CLOSED_N)
    # P(findings) in each draw is c0 + (c1 - c0) r
    pe = u.evidence_probability
    r = (pe - C0) / (C1 - C0)
    assert np.allclose(u.draws["r"][:, 1], g(r), rtol=0, atol=1e-12)


# ----------------------------------------------------------------------------- every draw = pgmpy


@pytest.fixture(scope="module")
def pgmpy_ve():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgmpy.inference import VariableElimination
    return VariableElimination


def drawn_tables(model: Model, n: int, seed: int, strength: float | None) -> dict[str, np.ndarray]:
    """The first ``n`` drawn tables of every node, on the streams ``sample`` uses: the
    seed and the node's index; the node's strength, else the model's, else the flag's."""
    spec, m = model.spec, model.compiled
    out = {}
    for i, name in enumerate(m.names):
        node = spec.nodes[name]
        own = node.strength if node.strength is not None else spec.strength
        d = NodeDraws(
            key=i,
            table=node.table,
            states=m.states[i],
            parent_states=[m.states[p] for p in m.parents[i]],
            seed=seed,
            strength=own if own is not None else strength,
        )
        out[name] = d.draw(n)
    return out


def pgmpy_answer(VE, model: Model, tables: dict[str, np.ndarray], given, do, targets):
    """Posteriors and P(given) by pgmpy with ``tables``; ``do`` by graph surgery (a point
    mass whatever the parents: observing it then tells the parents nothing)."""
    tables = dict(tables)
    for name, state in do.items():
        point = np.zeros_like(tables[name])
        point[..., model.states(name).index(state)] = 1.0
        tables[name] = point
    net = model.with_tables(tables).to_pgmpy()
    ve = VE(net)
    evidence = {**given, **do}
    post = {}
    for t in targets:
        f = ve.query([t], evidence=evidence, show_progress=False)
        post[t] = np.array([f.get_value(**{t: s}) for s in model.states(t)])
    joint = ve.query(list(given), joint=True, show_progress=False)
    pe = joint.get_value(**given)
    return post, pe


def check_draws_against_pgmpy(VE, model, given, do, targets, strength, n=5, seed=31):
    u = model.query(
        given=given, do=do, targets=targets, samples=n, seed=seed, strength=strength
    ).uncertainty
    tables = drawn_tables(model, n, seed, strength)
    # the draws really move the tables, so the comparison is not of the point model n times
    moved = [k for k, v in tables.items() if not np.allclose(v, model.cpt(k))]
    assert len(moved) > len(tables) // 2
    for k in range(n):
        post, pe = pgmpy_answer(
            VE, model, {k_: v[k] for k_, v in tables.items()}, given, do, targets
        )
        for t in targets:
            assert np.allclose(u.draws[t][k], post[t], rtol=0, atol=TOL), (t, k)
        assert math.isclose(u.evidence_probability[k], pe, rel_tol=1e-9)
    for t in targets:
        assert u.draws[t].std(axis=0).max() > 1e-4


def test_every_draw_of_the_editorial_model_equals_pgmpy(pgmpy_ve, editorial):
    check_draws_against_pgmpy(
        pgmpy_ve,
        editorial,
        given={"nis_satellite_photos": "yes", "korean_emergency": "yes"},
        do={"allied_pressure": "yes"},
        targets=[*editorial.default_targets, "inter_korean_hostility"],
        strength=20.0,
    )


def imported_text(name: str) -> str:
    """The model file ``riskchain import`` writes for a shared network: the session's, if
    made already, else made here (not through conftest.network_import, which would wait
    for the readers' queue, big networks first: minutes)."""
    if name in IMPORT_CACHE:
        return IMPORT_CACHE[name][0]
    return import_network(network_path(name))[0]


def test_every_draw_of_an_imported_network_with_strength_equals_pgmpy(pgmpy_ve):
    text = imported_text("alarm")
    model = Model(parse_model_text(text, "alarm.yaml", "alarm"))
    check_draws_against_pgmpy(
        pgmpy_ve,
        model,
        given={"HRBP": "HIGH", "PCWP": "LOW", "SAO2": "LOW"},
        do={"VENTMACH": "NORMAL"},
        targets=["LVFAILURE", "HYPOVOLEMIA", "INTUBATION", "CATECHOL", "KINKEDTUBE"],
        strength=20.0,
    )


# ----------------------------------------------------------------------------- reproducibility, chunks


def test_same_seed_same_draws_other_seed_other_draws(editorial):
    def draws(seed):
        r = editorial.query(given={"nis_satellite_photos": "yes"}, samples=40, seed=seed)
        return r.uncertainty

    a, b, c = draws(5), draws(5), draws(6)
    assert a.seed == 5 and c.seed == 6
    for t in a.draws:
        assert np.array_equal(a.draws[t], b.draws[t])
        assert not np.allclose(a.draws[t], c.draws[t])
    assert np.array_equal(a.evidence_probability, b.evidence_probability)


def test_without_a_seed_a_fresh_one_is_reported_and_reproduces(editorial):
    u = editorial.query(samples=10).uncertainty
    again = editorial.query(samples=10, seed=u.seed).uncertainty
    for t in u.draws:
        assert np.array_equal(u.draws[t], again.draws[t])


def chunks_seen(run) -> list[int]:
    """Sizes of the chunks a run solved, from its progress reports."""
    done: list[int] = []
    run(lambda d, total: done.append(d))
    return list(np.diff([0, *done]))


def run_editorial(draws: DrawOptions):
    return run_scenarios(EDITORIAL_SCENARIOS, draws=draws)


@pytest.mark.parametrize("first", [1, 3])
def test_tiny_chunks_equal_one_batch(monkeypatch, first):
    """Scenarios (findings, do, likelihoods, their own numbers) with a strength, solved in
    chunks of 1 to 3 draws, equal the same draws solved in big chunks (to rounding)."""
    n = 12
    big = run_editorial(DrawOptions(n, seed=3, strength=30.0))
    monkeypatch.setattr(unc, "CHUNK_BYTES", 1)
    monkeypatch.setattr(unc, "_FIRST_CHUNK", first)
    sizes = chunks_seen(
        lambda cb: run_editorial(DrawOptions(n, seed=3, strength=30.0, progress=cb))
    )
    assert sum(sizes) == n and max(sizes) <= 3 and len(sizes) >= n - 2
    small = run_editorial(DrawOptions(n, seed=3, strength=30.0))
    assert any(r.scenario.sets for r in small.results)  # the scenarios' own numbers are drawn
    for a, b in zip(big.results, small.results):
        for t in a.uncertainty.draws:
            assert np.allclose(a.uncertainty.draws[t], b.uncertainty.draws[t], rtol=0, atol=1e-12)
        assert np.allclose(
            a.uncertainty.evidence_probability, b.uncertainty.evidence_probability, rtol=1e-12
        )


def one_draw_bytes(model: Model, given: dict[str, str], targets: list[str]) -> int:
    """What the exact engine needs for one draw of this question (its plan's working set)."""
    m = model.compiled
    ev = {m.index[k]: m.state(k, v) for k, v in given.items()}
    res = infer(m, [m.index[t] for t in targets], ev, {}, {})
    return res.plan.working * 8


def test_memory_bounded_chunks_give_the_same_answer(editorial):
    """A budget of a few draws' working set: many chunks, each within it, same draws.

    Fails before the fix of the first chunk (it was 16 draws, whatever the budget)."""
    given = {"nis_satellite_photos": "yes"}
    targets = editorial.default_targets
    n = 30
    (ref,) = sample(editorial, [Question(given)], targets, DrawOptions(n, seed=9, strength=10.0))
    budget = 4 * one_draw_bytes(editorial, given, targets)
    sizes = chunks_seen(
        lambda cb: sample(
            editorial,
            [Question(given)],
            targets,
            DrawOptions(n, seed=9, strength=10.0, progress=cb),
            max_table=budget,
        )
    )
    assert sum(sizes) == n and len(sizes) >= n // 4 and max(sizes) <= 4
    (small,) = sample(
        editorial, [Question(given)], targets, DrawOptions(n, seed=9, strength=10.0), budget
    )
    for t in targets:
        assert np.allclose(small.draws[t], ref.draws[t], rtol=0, atol=1e-12)


def test_a_budget_below_one_draw_is_refused(editorial):
    budget = one_draw_bytes(editorial, {}, editorial.default_targets) / 2
    with pytest.raises(TooLargeError):
        sample(editorial, [Question()], editorial.default_targets, DrawOptions(5, seed=1), budget)


# ----------------------------------------------------------------------------- scenarios

SCENARIO_MODEL = """\
riskchain: 1
id: shared
nodes:
  r:
    p: beta(2, 5)
  c:
    parents: [r]
    cpt:
      r=no: 0.1
      r=yes: 0.7
  z:
    p: likely
  x:
    parents: [z]
    cpt:
      z=yes: [0.6, 0.9]
      z=no: 0.2
"""

SCENARIOS = """\
riskchain: 1
model: shared.yaml
targets: [c, r]
scenarios:
  base: {}
  seen_x:
    description: a finding d-separated from c and r
    given: {x: yes}
  seen_c:
    given: {c: yes}
  set_term:
    set:
      r: {p: likely}
  set_term_seen_x:
    extends: set_term
    given: {x: yes}
  set_exact:
    set:
      r: {p: 0.3}
"""


@pytest.fixture(scope="module")
def shared_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("shared")
    (folder / "shared.yaml").write_text(SCENARIO_MODEL)
    (folder / "scenarios.yaml").write_text(SCENARIOS)
    run = run_scenarios(folder / "scenarios.yaml", draws=DrawOptions(3000, seed=8))
    return {r.id: r.uncertainty for r in run.results}


def test_scenarios_are_answered_on_the_same_draws(shared_run):
    base, seen_x, seen_c = shared_run["base"], shared_run["seen_x"], shared_run["seen_c"]
    for t in ("c", "r"):
        # x is d-separated from c and r: the same draws give the same answers
        assert np.allclose(base.draws[t], seen_x.draws[t], rtol=0, atol=1e-12)
        assert base.draws[t].std(axis=0).max() > 0.01
    # a finding that matters changes each draw by Bayes' rule on that draw's numbers
    r, pc = base.draws["r"][:, 1], base.draws["c"][:, 1]
    assert np.allclose(seen_c.draws["r"][:, 1], 0.7 * r / pc, rtol=0, atol=1e-12)


def test_a_scenario_term_gets_its_own_spread(shared_run):
    u = shared_run["set_term"]
    lo, hi = u.interval("r", "yes")
    assert hi - lo > 0.1
    # uniform over 'likely', 55-80%: the interval is its 5th and 95th percentiles
    se = math.sqrt(0.05 * 0.95 / u.samples)
    assert abs((lo - 0.55) / 0.25 - 0.05) < 4.5 * se
    assert abs((hi - 0.55) / 0.25 - 0.95) < 4.5 * se
    # a scenario that extends it draws the same judgment the same way
    assert np.array_equal(u.draws["r"], shared_run["set_term_seen_x"].draws["r"])


def test_a_scenario_exact_number_without_strength_is_constant(shared_run):
    u = shared_run["set_exact"]
    assert np.allclose(u.draws["r"][:, 1], 0.3, rtol=0, atol=1e-15)
    assert np.allclose(u.draws["c"][:, 1], 0.1 + 0.6 * 0.3, rtol=0, atol=1e-15)
    assert u.interval("c", "yes")[1] - u.interval("c", "yes")[0] < 1e-12


# ----------------------------------------------------------------------------- labelling the spread

EXACT_ONLY = """
riskchain: 1
{top}
nodes:
  a: {{p: 0.3}}
  b:
    states: [lo, mid, hi]
    parents: [a]
    cpt:
      a=yes: {{lo: 0.2, mid: 0.5}}
      a=no: {{lo: 0.6, mid: 0.3}}
"""


def test_spread_from_the_flag_alone_is_labelled_as_such():
    model = load(EXACT_ONLY.format(top=""))
    u = model.query(samples=50, seed=1, strength=20).uncertainty
    assert u.strength_only
    assert u.sources == frozenset({FLAG_STRENGTH})
    assert "--strength 20" in u.spread_note() and "only" in u.spread_note()
    assert u.to_json()["strength_only"] is True
    assert u.draws["b"].std(axis=0).max() > 0.01


def test_no_spread_says_so_and_every_draw_is_the_point_answer():
    model = load(EXACT_ONLY.format(top=""))
    r = model.query(given={"b": "hi"}, samples=20, seed=1)
    u = r.uncertainty
    assert u.sources == frozenset() and not u.strength_only
    assert u.spread_note().startswith("no spread")
    for t, post in r.posteriors.items():
        assert np.allclose(u.draws[t], list(post.values()), rtol=0, atol=1e-12)


def test_a_strength_in_the_file_is_not_labelled_as_the_flags():
    model = load(EXACT_ONLY.format(top="strength: 20"))
    u = model.query(samples=50, seed=1, strength=5).uncertainty
    assert not u.strength_only
    assert "strength written in the model" in u.spread_note()
    assert "--strength" not in u.spread_note()


# ----------------------------------------------------------------------------- impossible draws

# r's third state takes the remainder of two ranges; a + b > 1 in 2/9 of the draws
# (a, b ~ U[0.3, 0.6]: P(a + b > 1) = 0.2^2 / (2 * 0.3^2)), leaving P(r = c) = 0 exactly.
IMPOSSIBLE_SOMETIMES = """
riskchain: 1
nodes:
  r:
    states: [a, b, c]
    p: {a: [0.3, 0.6], b: [0.3, 0.6]}
  k:
    parents: [r]
    cpt:
      r=c: [0.6, 0.9]
      default: 0.2
"""


def test_draws_that_make_the_findings_impossible_are_counted_and_left_out():
    model = load(IMPOSSIBLE_SOMETIMES)
    n = 900
    u = model.query(given={"r": "c"}, targets=["k"], samples=n, seed=4).uncertainty
    r_table = drawn_tables(model, n, 4, None)["r"]
    zero = r_table[:, 2] == 0
    # the engine's P(findings) is the drawn P(r = c); impossible exactly where it is 0
    assert np.allclose(u.evidence_probability, r_table[:, 2], rtol=0, atol=1e-15)
    assert u.impossible_draws == int(zero.sum())
    assert abs(zero.mean() - 2 / 9) < 4 * math.sqrt(2 / 9 * 7 / 9 / n)
    assert np.all(np.isnan(u.draws["k"][zero])) and not np.isnan(u.draws["k"][~zero]).any()
    # the figures use the possible draws only
    k_yes = drawn_tables(model, n, 4, None)["k"][~zero, 2, 1]
    assert np.allclose(u.draws["k"][~zero, 1], k_yes, rtol=0, atol=1e-12)
    lo, hi = u.interval("k", "yes")
    assert np.allclose([lo, hi], np.quantile(k_yes, [0.05, 0.95]), rtol=0, atol=1e-12)
    assert math.isclose(u.mean("k", "yes"), k_yes.mean(), rel_tol=1e-12)
    assert u.to_json()["impossible_draws"] == u.impossible_draws
