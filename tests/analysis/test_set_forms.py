"""A scenario's ``set:`` in every form of the model file (issue 11, item 12).

Each form is checked two independent ways:

- against the model file edited with ``riskchain set`` (or, for the numbers ``set``
  cannot reach, with the number written into the model's text): the same number set
  in the model must give the same answer as set in a scenario;
- against pgmpy, on tables this file computes from the published formulas (Henrion's
  compound noisy-OR, Díez's noisy-MAX, Fenton-Neil ranked nodes with
  ``scipy.stats.truncnorm``), never with riskchain's expansion.

Parameter draws, sensitivity, explain, graph and the report are checked on the same
scenarios.
"""

from __future__ import annotations

import itertools
import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import truncnorm

from riskchain.cli import main
from riskchain.edit import edit_text

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.inference import VariableElimination
    from pgmpy.models import DiscreteBayesianNetwork

TOL = 1e-12

MODEL = """\
riskchain: 1
id: forms
targets: [shock, threat, pressure, alarm]
nodes:
  sat:
    p: 0.3
  icbm:
    p: 0.2
  sub:
    states: [none, partial, full]
    p: {none: 0.6, partial: 0.3}
  shock:
    parents: [sat, icbm]
    noisy_or: {leak: 0.05, sat: 0.3, icbm: 0.6}
  threat:
    states: [low, elevated, severe]
    parents: [sat, sub]
    noisy_max:
      leak: {low: 0.7, elevated: 0.2}
      sat: {yes: {low: 0.5, elevated: 0.3}}
      sub:
        partial: {low: 0.5, elevated: 0.3}
        full: {low: 0.2, elevated: 0.3}
  pressure:
    states: [low, mid, high]
    parents: [sub, threat]
    ranked: {function: wmean, weights: {sub: 0.5, threat: 1}, variance: 0.05}
  alarm:
    parents: [sat, icbm]
    logic: or
  report:
    parents: [shock, alarm]
    cpt:
      shock=yes, alarm=*: 0.8
      default: 0.1
  seen:
    parents: [pressure]
    cpt:
      pressure=high: 0.9
      pressure=mid: 0.5
      default: 0.2
"""

EVIDENCE = "given: {report: yes, seen: yes}"


def scenario_file(tmp_path: Path, sets: str, evidence: str = EVIDENCE) -> Path:
    """The model beside a scenario file with a baseline and one scenario 'mine' that
    has the evidence and sets ``sets`` (YAML indented for 'set:')."""
    (tmp_path / "forms.yaml").write_text(MODEL)
    path = tmp_path / "s.yaml"
    path.write_text(
        "riskchain: 1\nmodel: forms.yaml\nscenarios:\n"
        f"  base:\n    {evidence}\n"
        f"  mine:\n    {evidence}\n    set:\n{sets}"
    )
    return path


def run_json(capsys, *args: str) -> dict:
    code = main([*args, "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def query_json(capsys, model: Path) -> dict:
    return run_json(
        capsys, "query", str(model), "-g", "report=yes", "-g", "seen=yes", *TARGET_FLAGS
    )


NODES = ["sat", "icbm", "sub", "shock", "threat", "pressure", "alarm"]
TARGET_FLAGS = [x for n in NODES for x in ("-t", n)]


def scenario_answer(capsys, path: Path) -> dict:
    data = run_json(capsys, "run", str(path), "-s", "mine", *TARGET_FLAGS)
    (s,) = data["scenarios"]
    return s


def assert_same(got: dict, want: dict) -> None:
    assert math.isclose(
        got["evidence_probability"], want["evidence_probability"], rel_tol=TOL, abs_tol=0
    )
    for node in NODES:
        np.testing.assert_allclose(
            list(got["posteriors"][node].values()),
            list(want["posteriors"][node].values()),
            rtol=0,
            atol=TOL,
            err_msg=node,
        )


# ----------------------------------------------------------------------------- riskchain set


# (the scenario's set:, what 'riskchain set' changes: node, value and its flags)
WITH_SET = {
    "noisy_or leak": ("      shock: {noisy_or: {leak: 0.12}}\n", ("shock", "0.12"), {"leak": True}),
    "noisy_or cause, a term": (
        "      shock: {noisy_or: {icbm: very likely}}\n",
        ("shock", "very likely"),
        {"cause": "icbm"},
    ),
    "noisy_or cause, extended": (
        "      shock:\n        noisy_or:\n          sat: {p: 45%, note: More launches.}\n",
        ("shock", "45%"),
        {"cause": "sat"},
    ),
    "noisy_max leak": (
        "      threat: {noisy_max: {leak: {low: 0.6, elevated: 0.2}}}\n",
        ("threat", "0.6"),
        {"leak": True, "state": "low"},
    ),
}


@pytest.mark.parametrize("case", WITH_SET)
def test_set_in_a_scenario_is_riskchain_set_in_the_model(case, tmp_path, capsys):
    """The same number given in a scenario and written into the model with ``riskchain
    set``: the same posteriors and P(evidence), and the scenario's own table is the
    edited model's."""
    sets, (node, value), flags = WITH_SET[case]
    path = scenario_file(tmp_path, sets)
    got = scenario_answer(capsys, path)
    edited = edit_text(MODEL, "forms.yaml", node, value, **flags)
    assert edited.changed
    (tmp_path / "edited.yaml").write_text(edited.new_text)
    want = query_json(capsys, tmp_path / "edited.yaml")
    assert_same(got, want)
    shown = run_json(capsys, "show", str(tmp_path / "edited.yaml"))
    table = next(n["cpt"] for n in shown["nodes"] if n["id"] == node)
    np.testing.assert_allclose(got["set"][node]["cpt"], table, rtol=0, atol=TOL)
    # and the scenario changed something: the baseline answers otherwise
    base = run_json(capsys, "run", str(path), "-s", "base", *TARGET_FLAGS)["scenarios"][0]
    assert base["evidence_probability"] != pytest.approx(got["evidence_probability"], rel=1e-9)


# Numbers 'riskchain set' cannot reach: written into the model's text instead.
WITH_TEXT = {
    "noisy_max cause state": (
        "      threat:\n        noisy_max:\n          sub:\n            full: {low: 0.1, elevated: 0.2}\n",
        "        full: {low: 0.2, elevated: 0.3}",
        "        full: {low: 0.1, elevated: 0.2}",
    ),
    "noisy_max form": (
        "      threat: {noisy_max: {form: net}}\n",
        "    noisy_max:\n",
        "    noisy_max:\n      form: net\n",
    ),
    "ranked weight": (
        "      pressure: {ranked: {weights: {sub: 3}}}\n",
        "weights: {sub: 0.5, threat: 1}",
        "weights: {sub: 3, threat: 1}",
    ),
    "ranked function and variance": (
        "      pressure: {ranked: {function: wmax, weights: {sub: 2}, variance: 0.1}}\n",
        "{function: wmean, weights: {sub: 0.5, threat: 1}, variance: 0.05}",
        "{function: wmax, weights: {sub: 2, threat: 1}, variance: 0.1}",
    ),
    "ranked mixminmax": (
        "      pressure: {ranked: {function: mixminmax, weights: [1, 3]}}\n",
        "{function: wmean, weights: {sub: 0.5, threat: 1}, variance: 0.05}",
        "{function: mixminmax, weights: [1, 3], variance: 0.05}",
    ),
    "logic": ("      alarm: {logic: and}\n", "logic: or", "logic: and"),
    "noisy_or form": (
        "      shock: {noisy_or: {form: net}}\n",
        "{leak: 0.05, sat: 0.3",
        "{form: net, leak: 0.05, sat: 0.3",
    ),
}


@pytest.mark.parametrize("case", WITH_TEXT)
def test_set_in_a_scenario_is_the_number_written_in_the_model(case, tmp_path, capsys):
    sets, old, new = WITH_TEXT[case]
    path = scenario_file(tmp_path, sets)
    got = scenario_answer(capsys, path)
    assert MODEL.count(old) == 1
    (tmp_path / "edited.yaml").write_text(MODEL.replace(old, new))
    want = query_json(capsys, tmp_path / "edited.yaml")
    assert_same(got, want)
    base = run_json(capsys, "run", str(path), "-s", "base", *TARGET_FLAGS)["scenarios"][0]
    assert any(
        base["posteriors"][n] != pytest.approx(got["posteriors"][n], abs=1e-9) for n in NODES
    )


# ----------------------------------------------------------------------------- pgmpy

STATES = {
    "sat": ["no", "yes"],
    "icbm": ["no", "yes"],
    "sub": ["none", "partial", "full"],
    "shock": ["no", "yes"],
    "threat": ["low", "elevated", "severe"],
    "pressure": ["low", "mid", "high"],
    "alarm": ["no", "yes"],
    "report": ["no", "yes"],
    "seen": ["no", "yes"],
}
PARENTS = {
    "sat": [],
    "icbm": [],
    "sub": [],
    "shock": ["sat", "icbm"],
    "threat": ["sat", "sub"],
    "pressure": ["sub", "threat"],
    "alarm": ["sat", "icbm"],
    "report": ["shock", "alarm"],
    "seen": ["pressure"],
}


def noisy_or(leak: float, ps: dict[str, float], parents: list[str]) -> np.ndarray:
    """Henrion's compound noisy-OR: P(no | x) = (1 - leak) prod_present (1 - p_i)/(1 - leak)."""
    out = np.empty([2] * len(parents) + [2])
    for combo in itertools.product(range(2), repeat=len(parents)):
        no = 1 - leak
        for p, j in zip(parents, combo):
            if j == 1:
                no *= (1 - ps[p]) / (1 - leak)
        out[combo] = (no, 1 - no)
    return out


def noisy_max(leak, causes: dict[str, dict[str, list[float]]]) -> np.ndarray:
    """Díez's compound noisy-MAX over sat and sub (absent: no, none):
    F(y | x) = L(y) prod_active C_i(y | x_i) / L(y), F the cumulative distribution."""
    cum_leak = np.cumsum(leak)
    out = np.empty((2, 3, 3))
    for i, j in itertools.product(range(2), range(3)):
        cum = cum_leak.copy()
        for parent, k in (("sat", i), ("sub", j)):
            state = STATES[parent][k]
            if state in causes[parent]:
                cum = cum * np.cumsum(causes[parent][state]) / cum_leak
        out[i, j] = np.diff(np.concatenate([[0.0], cum]))
    return out


def ranked(function: str, w, variance: float) -> np.ndarray:
    """Fenton-Neil ranked node over sub and threat (3 states each), 3 states."""
    sd = math.sqrt(variance)
    out = np.empty((3, 3, 3))
    mids = [(k + 0.5) / 3 for k in range(3)]
    for i, j in itertools.product(range(3), range(3)):
        x = (mids[i], mids[j])
        if function == "wmean":
            mean = (w[0] * x[0] + w[1] * x[1]) / (w[0] + w[1])
        elif function == "wmax":
            mean = max((w[0] * x[0] + x[1]) / (w[0] + 1), (w[1] * x[1] + x[0]) / (w[1] + 1))
        else:  # mixminmax, w = (w_min, w_max)
            mean = (w[0] * min(x) + w[1] * max(x)) / (w[0] + w[1])
        dist = truncnorm(-mean / sd, (1 - mean) / sd, loc=mean, scale=sd)
        edges = np.linspace(0, 1, 4)
        out[i, j] = np.diff(dist.cdf(edges))
    return out


def model_tables() -> dict[str, np.ndarray]:
    """Every table of MODEL, from the formulas."""
    report = np.empty((2, 2, 2))
    report[0] = [0.9, 0.1]
    report[1] = [0.2, 0.8]
    return {
        "sat": np.array([0.7, 0.3]),
        "icbm": np.array([0.8, 0.2]),
        "sub": np.array([0.6, 0.3, 0.1]),
        "shock": noisy_or(0.05, {"sat": 0.3, "icbm": 0.6}, ["sat", "icbm"]),
        "threat": noisy_max(
            [0.7, 0.2, 0.1],
            {
                "sat": {"yes": [0.5, 0.3, 0.2]},
                "sub": {"partial": [0.5, 0.3, 0.2], "full": [0.2, 0.3, 0.5]},
            },
        ),
        "pressure": ranked("wmean", (0.5, 1), 0.05),
        "alarm": np.array([[[1.0, 0.0], [0.0, 1.0]], [[0.0, 1.0], [0.0, 1.0]]]),
        "report": report,
        "seen": np.array([[0.8, 0.2], [0.5, 0.5], [0.1, 0.9]]),
    }


def pgmpy_answer(tables: dict[str, np.ndarray], given: dict[str, str]):
    """(P(given), posteriors of NODES) by pgmpy's variable elimination."""
    bn = DiscreteBayesianNetwork()
    bn.add_nodes_from(STATES)
    bn.add_edges_from((p, n) for n in STATES for p in PARENTS[n])
    for n, ps in PARENTS.items():
        card = len(STATES[n])
        bn.add_cpds(
            TabularCPD(
                n,
                card,
                np.moveaxis(tables[n], -1, 0).reshape(card, -1),
                evidence=ps or None,
                evidence_card=[len(STATES[p]) for p in ps] or None,
                state_names={n: STATES[n], **{p: STATES[p] for p in ps}},
            )
        )
    bn.check_model()
    ve = VariableElimination(bn)
    joint = ve.query(list(given), joint=True, show_progress=False)
    pe = float(joint.get_value(**given))
    post = {}
    for n in NODES:
        f = ve.query([n], evidence=given, show_progress=False)
        post[n] = [float(f.get_value(**{n: s})) for s in STATES[n]]
    return pe, post


LIKELY = (0.55 + 0.80) / 2  # an ICD 203 term stands for its range's midpoint


def test_every_form_in_one_chain_matches_pgmpy(tmp_path, capsys):
    """A scenario that extends another and sets numbers of every parametric form, the
    inherited ones kept: each table and every posterior equal the formulas in pgmpy."""
    (tmp_path / "forms.yaml").write_text(MODEL)
    path = tmp_path / "s.yaml"
    path.write_text(
        f"""\
riskchain: 1
model: forms.yaml
scenarios:
  first:
    {EVIDENCE}
    set:
      shock: {{noisy_or: {{leak: 0.1}}}}
      threat:
        noisy_max:
          sat: {{yes: {{low: 0.4, elevated: 0.2}}}}
  second:
    extends: first
    set:
      shock: {{noisy_or: {{icbm: likely}}}}
      threat:
        noisy_max:
          leak: {{low: 0.75, elevated: 0.2}}
          sub: {{full: {{low: 0.1, elevated: 0.3}}}}
      pressure: {{ranked: {{function: mixminmax, weights: [1, 2], variance: 0.1}}}}
      alarm: {{logic: and}}
"""
    )
    data = run_json(capsys, "run", str(path), *TARGET_FLAGS)
    tables = model_tables()
    first = dict(tables)
    first["shock"] = noisy_or(0.1, {"sat": 0.3, "icbm": 0.6}, ["sat", "icbm"])
    first["threat"] = noisy_max(
        [0.7, 0.2, 0.1],
        {
            "sat": {"yes": [0.4, 0.2, 0.4]},
            "sub": {"partial": [0.5, 0.3, 0.2], "full": [0.2, 0.3, 0.5]},
        },
    )
    second = dict(first)
    second["shock"] = noisy_or(0.1, {"sat": 0.3, "icbm": LIKELY}, ["sat", "icbm"])
    second["threat"] = noisy_max(
        [0.75, 0.2, 0.05],
        {
            "sat": {"yes": [0.4, 0.2, 0.4]},
            "sub": {"partial": [0.5, 0.3, 0.2], "full": [0.1, 0.3, 0.6]},
        },
    )
    second["pressure"] = ranked("mixminmax", (1, 2), 0.1)
    second["alarm"] = np.array([[[1.0, 0.0], [1.0, 0.0]], [[1.0, 0.0], [0.0, 1.0]]])
    for got, want in zip(data["scenarios"], (first, second)):
        pe, post = pgmpy_answer(want, {"report": "yes", "seen": "yes"})
        assert math.isclose(got["evidence_probability"], pe, rel_tol=1e-9), got["id"]
        for n in NODES:
            np.testing.assert_allclose(
                list(got["posteriors"][n].values()), post[n], rtol=0, atol=1e-9, err_msg=n
            )
        for n, entry in got["set"].items():
            np.testing.assert_allclose(entry["cpt"], want[n], rtol=0, atol=1e-12, err_msg=n)
    # the inherited settings come first, each with the table in force after it
    written = data["scenarios"][1]["set"]["shock"]["written"]
    assert [w["scenario"] for w in written] == ["first", "second"]
    assert written[0]["noisy_or"] == {"leak": "0.1"}
    assert written[1]["noisy_or"] == {"icbm": "likely"}
    rows = {r["row"]: r["text"] for r in written[1]["table"]}
    assert rows["leak (no cause present)"] == "0.1" and rows["icbm=yes"] == "likely"
    assert rows["sat=yes"] == "0.3"


def test_a_later_parametric_setting_rebuilds_the_table(tmp_path, capsys):
    """Settings apply in order: p replaces every row, a noisy-OR number given after it
    rebuilds the table from the noisy-OR numbers (the model's, with this one)."""
    (tmp_path / "forms.yaml").write_text(MODEL)
    path = tmp_path / "s.yaml"
    path.write_text(
        """\
riskchain: 1
model: forms.yaml
scenarios:
  flat:
    set:
      shock: {p: 0.5}
  noisy:
    extends: flat
    set:
      shock: {noisy_or: {sat: 0.4}}
  flat_again:
    extends: noisy
    set:
      shock:
        cpt:
          sat=yes, icbm=yes: 0.99
"""
    )
    data = run_json(capsys, "run", str(path), "-t", "shock")
    cpts = {s["id"]: np.array(s["set"]["shock"]["cpt"]) for s in data["scenarios"]}
    np.testing.assert_allclose(cpts["flat"], np.full((2, 2, 2), 0.5))
    rebuilt = noisy_or(0.05, {"sat": 0.4, "icbm": 0.6}, ["sat", "icbm"])
    np.testing.assert_allclose(cpts["noisy"], rebuilt, rtol=0, atol=TOL)
    rebuilt[1, 1] = [0.01, 0.99]
    np.testing.assert_allclose(cpts["flat_again"], rebuilt, rtol=0, atol=TOL)


# ----------------------------------------------------------------------------- draws


DRAWS_MODEL = """\
riskchain: 1
id: draws
targets: [e]
nodes:
  a:
    p: 0.3
  b:
    p: 0.6
  e:
    parents: [a, b]
    noisy_or: {leak: 0.05, a: likely, b: [0.3, 0.5]}
"""


def draws_file(tmp_path: Path, scenarios: str) -> Path:
    """DRAWS_MODEL beside a scenario file with these scenarios."""
    (tmp_path / "draws.yaml").write_text(DRAWS_MODEL)
    path = tmp_path / "s.yaml"
    path.write_text("riskchain: 1\nmodel: draws.yaml\nscenarios:\n" + scenarios)
    return path


def test_draws_keep_the_models_numbers_and_spread_the_scenarios(tmp_path, capsys):
    """With a and b forced, P(e) is a's number (compound noisy-OR): a scenario that
    changes only b's number has, draw by draw, exactly the baseline's P(e) (the number
    it keeps is drawn as the model draws it: the paired change is 0); a scenario that
    sets a's number to a term draws it uniformly over the term's range, so its interval
    is that uniform's 5th to 95th percentile."""
    path = draws_file(
        tmp_path,
        """\
  base:
    do: {a: yes, b: no}
  other_cause:
    extends: base
    set:
      e: {noisy_or: {b: 0.9}}
  own_term:
    extends: base
    set:
      e: {noisy_or: {a: very likely}}
"""
    )
    data = run_json(capsys, "table", str(path), "-n", "4000", "--seed", "7")
    values = data["rows"][0]["values"]
    assert values["other_cause"]["delta_interval"] == [0.0, 0.0]
    assert values["other_cause"]["interval"] == values["base"]["interval"]
    lo, hi = values["own_term"]["interval"]
    # very likely: uniform on [0.80, 0.95]
    assert lo == pytest.approx(0.80 + 0.05 * 0.15, abs=0.004)
    assert hi == pytest.approx(0.95 - 0.05 * 0.15, abs=0.004)
    lo, hi = values["base"]["interval"]  # likely: uniform on [0.55, 0.80]
    assert lo == pytest.approx(0.55 + 0.05 * 0.25, abs=0.006)
    assert hi == pytest.approx(0.80 - 0.05 * 0.25, abs=0.006)


def test_draws_of_a_chain_are_the_same_in_both_scenarios(tmp_path, capsys):
    """A number an extended scenario sets is drawn once for it and every scenario
    extending it: the change of one that adds nothing it can show is 0 in every draw."""
    path = draws_file(
        tmp_path,
        """\
  base:
    do: {a: yes, b: no}
    set:
      e: {noisy_or: {a: [0.6, 0.9]}}
  child:
    extends: base
    set:
      e: {noisy_or: {b: "beta(2, 5)"}}
"""
    )
    data = run_json(capsys, "table", str(path), "-n", "300", "--seed", "3")
    values = data["rows"][0]["values"]
    assert values["child"]["delta_interval"] == [0.0, 0.0]
    lo, hi = values["base"]["interval"]
    assert 0.6 <= lo < 0.63 and 0.87 < hi <= 0.9


def test_draws_do_not_depend_on_the_chunks(tmp_path):
    """A scenario's parametric numbers are drawn from streams of their own: the draws
    are the same whether solved in one chunk or many."""
    from riskchain.analysis import uncertainty
    from riskchain.analysis.scenarios import run_scenarios
    from riskchain.analysis.uncertainty import DrawOptions

    path = draws_file(
        tmp_path, "  base: {}\n  mine:\n    set:\n      e: {noisy_or: {leak: very unlikely, b: likely}}\n"
    )
    one = run_scenarios(path, draws=DrawOptions(64, seed=5))
    old = uncertainty.CHUNK_BYTES
    try:
        uncertainty.CHUNK_BYTES = 1  # one draw per chunk
        many = run_scenarios(path, draws=DrawOptions(64, seed=5))
    finally:
        uncertainty.CHUNK_BYTES = old
    for a, b in zip(one.results, many.results):
        np.testing.assert_array_equal(a.uncertainty.draws["e"], b.uncertainty.draws["e"])
    assert np.ptp(one.results[1].uncertainty.draws["e"][:, 1]) > 0


# ----------------------------------------------------------------------------- every command


def test_sensitivity_varies_the_scenarios_numbers(tmp_path, capsys):
    """Sensitivity on a scenario lists the noisy-OR numbers in force: the scenario's leak
    (as written there), and the model's causes it kept."""
    path = scenario_file(tmp_path, "      shock: {noisy_or: {leak: 0.12}}\n")
    data = run_json(capsys, "sensitivity", str(path), "-s", "mine", "-t", "shock")
    found = {p["name"]: p for p in data["analyst"] if p["node"] == "shock"}
    assert found["leak"]["written"] == "0.12" and found["leak"]["value"] == 0.12
    assert found["cause icbm=yes"]["written"] == "0.6"
    got = scenario_answer(capsys, path)
    assert data["p"] == pytest.approx(got["posteriors"]["shock"]["yes"], abs=TOL)


def test_explain_graph_and_report_use_the_scenarios_numbers(tmp_path, capsys):
    path = scenario_file(tmp_path, "      pressure: {ranked: {weights: {sub: 4}}}\n")
    got = scenario_answer(capsys, path)
    p = got["posteriors"]["pressure"]["high"]
    data = run_json(capsys, "explain", str(path), "-s", "mine", "-t", "pressure=high")
    assert data["p"] == pytest.approx(p, abs=TOL)
    assert main(["graph", str(path), "-s", "mine", "-o", str(tmp_path / "g.dot")]) == 0
    dot = (tmp_path / "g.dot").read_text()
    assert "pressure" in dot
    out = tmp_path / "r.html"
    text = path.read_text().replace("scenarios:\n  base:", "baseline: mine\nscenarios:\n  base:")
    path.write_text(text)
    assert main(["report", str(path), "-o", str(out), "-t", "pressure=high"]) == 0
    capsys.readouterr()
    assert out.read_text().count(f"{p:.1%}") >= 1
