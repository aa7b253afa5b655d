"""Scenarios computed by riskchain against an independent pgmpy computation.

The reference reads the scenario and model files itself (PyYAML, its own
reading of probabilities, rows, ``extends`` and ``set``), builds its own
``DiscreteBayesianNetwork``, applies ``do`` with pgmpy's ``do`` (whose CPD it
then replaces by a point mass: pgmpy marginalizes it, see
``test_pgmpy_do_marginalizes_the_cpd``), gives likelihoods as pgmpy
``virtual_evidence`` and computes P(evidence) from a pgmpy joint query.
Nothing of ``riskchain.spec`` or ``riskchain.analysis`` is used for it.
"""

from __future__ import annotations

import itertools
import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
import yaml

from riskchain.cli import main

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.inference import VariableElimination
    from pgmpy.models import DiscreteBayesianNetwork

ROOT = Path(__file__).resolve().parents[2]
EDITORIAL = ROOT / "scenarios" / "korea_russia_2024.yaml"
TOL = 1e-9

# ----------------------------------------------------------------------------- own file reading

# ICD 203 terms stand for the midpoint of their range (docs/estimative-language.md).
TERMS = {
    "almost no chance": (0.01 + 0.05) / 2,
    "remote": (0.01 + 0.05) / 2,
    "very unlikely": (0.05 + 0.20) / 2,
    "unlikely": (0.20 + 0.45) / 2,
    "roughly even chance": (0.45 + 0.55) / 2,
    "likely": (0.55 + 0.80) / 2,
    "very likely": (0.80 + 0.95) / 2,
    "almost certain": (0.95 + 0.99) / 2,
}


class _Loader(yaml.SafeLoader):
    """YAML without 1.1 booleans: ``yes``/``no`` stay strings, as riskchain reads them."""


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:bool"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def read_yaml(path: Path) -> dict:
    return read_yaml_text(path.read_text())


def read_yaml_text(text: str) -> dict:
    return yaml.load(text, Loader=_Loader)


def prob(value) -> float:
    """A number, ``'35%'``, an ICD 203 term or a range ``[lo, hi]`` (its midpoint)."""
    if isinstance(value, list):
        return (prob(value[0]) + prob(value[1])) / 2
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip()
    if text.endswith("%"):
        return float(text[:-1]) / 100
    return TERMS[text.lower()]


def dist(value, states: list[str]) -> np.ndarray:
    """A distribution as written: ``{p: ...}``, a scalar (P(second state)) or a mapping."""
    if isinstance(value, dict) and "p" in value:
        value = value["p"]
    if not isinstance(value, dict):
        p = prob(value)
        return np.array([1 - p, p])
    vec = np.array([prob(value[s]) if s in value else np.nan for s in states])
    missing = np.isnan(vec)
    assert missing.sum() <= 1
    vec[missing] = 1 - vec[~missing].sum()
    return vec / vec.sum()


def row_index(key: str, parents: list[str], states: dict[str, list[str]]) -> tuple:
    """``'a=x|y, b=*'`` -> an ``np.ix_`` index over the parents (any order in the key)."""
    chosen = {}
    for part in key.split(","):
        name, _, value = (x.strip() for x in part.partition("="))
        chosen[name] = states[name] if value == "*" else [v.strip() for v in value.split("|")]
    return np.ix_(*[[states[p].index(s) for s in chosen[p]] for p in parents])


def write_table(arr: np.ndarray, body: dict, node: str, net: Net) -> np.ndarray:
    """``arr`` with a node's ``p`` or ``cpt`` (rows, ``default``) written over it."""
    out = arr.copy()
    own = net.states[node]
    if "p" in body:
        out[...] = dist(body["p"], own)
    cpt = body.get("cpt", {})
    if "default" in cpt:
        out[...] = dist(cpt["default"], own)
    for key, value in cpt.items():
        if key != "default":
            out[(*row_index(key, net.parents[node], net.states), slice(None))] = dist(value, own)
    if "noisy_or" in body:
        out[...] = noisy_or_table(body["noisy_or"], node, net)
    if "noisy_max" in body:
        out[...] = noisy_max_table(body["noisy_max"], node, net)
    return out


def noisy_or_table(spec: dict, node: str, net: Net) -> np.ndarray:
    """Compound (Henrion) noisy-OR over parents whose present state is 'yes':
    P(no | x) = (1 - leak) * prod over present causes of (1 - p_i) / (1 - leak)."""
    parents = net.parents[node]
    leak = prob(spec.get("leak", 0.0))
    ps = [prob(spec[q]["p"] if isinstance(spec[q], dict) else spec[q]) for q in parents]
    out = np.empty([len(net.states[q]) for q in parents] + [2])
    for combo in np.ndindex(*out.shape[:-1]):
        q_no = 1 - leak
        for q, j, p in zip(parents, combo, ps):
            if net.states[q][j] == "yes":
                q_no *= (1 - p) / (1 - leak)
        out[combo] = (q_no, 1 - q_no)
    return out


def noisy_max_table(spec: dict, node: str, net: Net) -> np.ndarray:
    """Compound noisy-MAX (causes absent in their first state):
    P(Y <= y | x) = L(y) * prod over active causes of C_i(y | x_i) / L(y)."""
    parents = net.parents[node]
    own = net.states[node]
    cum_leak = np.cumsum(dist(spec["leak"], own))
    out = np.empty([len(net.states[q]) for q in parents] + [len(own)])
    for combo in np.ndindex(*out.shape[:-1]):
        cum = cum_leak.copy()
        for q, j in zip(parents, combo):
            state = net.states[q][j]
            if state in spec[q]:
                cum = cum * np.cumsum(dist(spec[q][state], own)) / cum_leak
        out[combo] = np.diff(np.concatenate([[0.0], cum]))
    return out


class Net:
    """A model read from its YAML file by this test: states, parents, tables."""

    def __init__(self, doc: dict):
        self.names = list(doc["nodes"])
        self.states = {n: list(b.get("states", ["no", "yes"])) for n, b in doc["nodes"].items()}
        self.parents = {n: list(b.get("parents", [])) for n, b in doc["nodes"].items()}
        self.tables = {}
        for n, body in doc["nodes"].items():
            shape = [len(self.states[p]) for p in self.parents[n]] + [len(self.states[n])]
            table = write_table(np.full(shape, np.nan), body, n, self)
            assert not np.isnan(table).any(), n
            self.tables[n] = table

    def with_sets(self, sets: list[tuple[str, dict]]) -> dict[str, np.ndarray]:
        """The tables with the scenario's ``set`` entries applied in order."""
        tables = dict(self.tables)
        for node, body in sets:
            tables[node] = write_table(tables[node], body, node, self)
        return tables


def resolve(scenarios: dict, sid: str) -> dict:
    """A scenario after ``extends``: the farthest ancestor first; a node observed, forced
    or softened by a later scenario loses what earlier ones did to it; sets accumulate."""
    chain = [sid]
    while (scenarios[chain[-1]] or {}).get("extends"):
        chain.append(scenarios[chain[-1]]["extends"])
    out: dict = {"given": {}, "do": {}, "likelihood": {}, "sets": []}
    for step in reversed(chain):
        body = scenarios[step] or {}
        for kind in ("given", "do", "likelihood"):
            for node in body.get(kind, {}):
                for d in ("given", "do", "likelihood"):
                    out[d].pop(node, None)
        for kind in ("given", "do", "likelihood"):
            out[kind].update(body.get(kind, {}))
        out["sets"] += list(body.get("set", {}).items())
    return out


# ----------------------------------------------------------------------------- pgmpy reference


def build_pgmpy(net: Net, tables: dict[str, np.ndarray], do: dict[str, str]):
    """A pgmpy network of ``tables``; each forced node gets a point mass on its state."""
    bn = DiscreteBayesianNetwork()
    bn.add_nodes_from(net.names)
    bn.add_edges_from((p, n) for n in net.names for p in net.parents[n])
    for n in net.names:
        ps = net.parents[n]
        card = len(net.states[n])
        bn.add_cpds(
            TabularCPD(
                n,
                card,
                np.moveaxis(tables[n], -1, 0).reshape(card, -1),
                evidence=ps or None,
                evidence_card=[len(net.states[p]) for p in ps] or None,
                state_names={n: net.states[n], **{p: net.states[p] for p in ps}},
            )
        )
    bn.check_model()
    if not do:
        return bn
    bn = bn.do(list(do))
    for n, state in do.items():
        point = np.zeros((len(net.states[n]), 1))
        point[net.states[n].index(state)] = 1.0
        bn.remove_cpds(bn.get_cpds(n))
        bn.add_cpds(TabularCPD(n, len(point), point, state_names={n: net.states[n]}))
    return bn


def _vector(factor, var: str, states: list[str]) -> np.ndarray:
    other = [v for v in factor.variables if v != var]
    m = factor.marginalize(other, inplace=False) if other else factor
    return np.array([m.values[m.state_names[var].index(s)] for s in states], dtype=float)


def reference(net: Net, scenario: dict, targets: list[str]):
    """(P(evidence), posteriors or None) of a resolved scenario, computed with pgmpy."""
    given, do, lik = scenario["given"], scenario["do"], scenario["likelihood"]
    bn = build_pgmpy(net, net.with_sets(scenario["sets"]), do)
    # P(evidence) = sum over the joint of the observed and softened nodes of
    # [observed states] x likelihood values (the likelihoods as written, not scaled)
    pe = 1.0
    names = list(dict.fromkeys([*given, *lik]))
    if names:
        joint = VariableElimination(bn).query(names, joint=True, show_progress=False)
        pe = 0.0
        for combo in itertools.product(*(net.states[n] for n in names)):
            pick = dict(zip(names, combo))
            if any(pick[n] != s for n, s in given.items()):
                continue
            weight = math.prod(float(lik[n][pick[n]]) for n in lik)
            idx = tuple(joint.state_names[n].index(pick[n]) for n in joint.variables)
            pe += weight * float(joint.values[idx])
    if pe == 0:
        return 0.0, None
    hard = {**given, **do}
    virtual = []
    for n, w in lik.items():
        vec = np.array([float(w[s]) for s in net.states[n]])
        virtual.append(
            TabularCPD(
                n, len(vec), (vec / vec.max()).reshape(-1, 1), state_names={n: net.states[n]}
            )
        )
    free = [t for t in targets if t not in hard]
    post: dict[str, np.ndarray] = {}
    if free:
        factor = VariableElimination(bn).query(
            free,
            evidence=hard or None,
            virtual_evidence=virtual or None,
            joint=True,
            show_progress=False,
        )
        post = {t: _vector(factor, t, net.states[t]) for t in free}
    for t in targets:
        if t in hard:
            post[t] = np.array([1.0 if s == hard[t] else 0.0 for s in net.states[t]])
    return pe, post


# ----------------------------------------------------------------------------- the small model

SMALL_MODEL = """\
riskchain: 1
id: small
title: Small multi-state model
horizon: 12 months
targets: [weather, strike, traffic, late, mood]
nodes:
  weather:
    label: Weather
    states: [sun, rain, snow]
    p: {sun: 0.6, rain: 0.3, snow: 0.1}
  strike:
    label: Transit strike
    p: 0.2
  traffic:
    label: Traffic
    states: [light, heavy, jam]
    parents: [weather, strike]
    cpt:
      weather=sun, strike=no: {light: 0.7, heavy: 0.3, jam: 0}
      weather=sun, strike=yes: {light: 0.2, heavy: 0.5, jam: 0.3}
      weather=rain, strike=no: {light: 0.3, heavy: 0.5, jam: 0.2}
      weather=rain, strike=yes: {light: 0, heavy: 0.4, jam: 0.6}
      weather=snow, strike=*: {light: 0, heavy: 0.25, jam: 0.75}
  late:
    label: Late for work
    parents: [traffic]
    cpt:
      traffic=light: 0.05
      traffic=heavy: 0.4
      traffic=jam: 1
  mood:
    label: Mood
    states: [good, ok, bad]
    parents: [late, weather]
    cpt:
      late=no, weather=sun: {good: 0.7, ok: 0.3, bad: 0}
      late=no, weather=rain|snow: {good: 0.3, ok: 0.5, bad: 0.2}
      late=yes, weather=*: {good: 0.05, ok: 0.35, bad: 0.6}
  report:
    label: Traffic report heard
    parents: [traffic]
    cpt:
      traffic=light: 0.1
      traffic=heavy: 0.5
      traffic=jam: 0.9
"""

SMALL_SCENARIOS = """\
riskchain: 1
model: small.yaml
title: Small scenarios
baseline: base
scenarios:
  base:
    description: A traffic report was heard
    given: {report: yes}
  soft:
    extends: base
    description: A forecast rules sun out and favours snow; a strike is more likely
    likelihood: {weather: {sun: 0, rain: 1, snow: 3}}
    set:
      strike: {p: 45%}
  forced:
    extends: soft
    description: Traffic is made heavy; mood rows replaced (one row, default for the rest)
    do: {traffic: heavy}
    set:
      mood:
        cpt:
          weather=snow, late=yes: {good: 0, ok: 0.2, bad: 0.8}
          default: {good: 0.5, bad: 0.1}
  observed:
    extends: forced
    description: Snow is seen (replacing the forecast); strike and a mood row set again
    given: {weather: snow}
    likelihood: {late: {"no": 0.25, "yes": 2}}
    set:
      strike: {p: unlikely}
      mood:
        cpt:
          late=no, weather=sun|rain: {good: 0.9, ok: 0.1, bad: 0}
      traffic: {p: {light: 0.2, heavy: 0.3}}
  unforced:
    extends: forced
    description: Traffic is seen jammed instead of forced heavy
    given: {traffic: jam}
  late_rows:
    description: Lateness set whatever the traffic; a strike forced; mood softened
    do: {strike: yes}
    likelihood: {mood: {good: 0.2, ok: 1, bad: 4}}
    set:
      late: {p: 0.3}
      traffic:
        cpt:
          weather=rain|snow, strike=yes: {light: 0.1, heavy: 0.1}
  impossible:
    extends: base
    description: Light traffic in snow, which the model rules out
    given: {weather: snow, traffic: light}
"""


@pytest.fixture
def small(tmp_path: Path) -> Path:
    """The small model and its scenario file in a temporary folder."""
    (tmp_path / "small.yaml").write_text(SMALL_MODEL)
    path = tmp_path / "scenarios.yaml"
    path.write_text(SMALL_SCENARIOS)
    return path


def run_json(capsys, path: Path) -> dict:
    code = main(["run", str(path), "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def check_against_pgmpy(data: dict, scen_path: Path) -> None:
    """Every scenario of a ``run --format json`` output equals the pgmpy reference."""
    sdoc = read_yaml(scen_path)
    net = Net(read_yaml((scen_path.parent / sdoc["model"]).resolve()))
    targets = data["targets"]
    assert [s["id"] for s in data["scenarios"]] == list(sdoc["scenarios"])
    for got in data["scenarios"]:
        sid = got["id"]
        resolved = resolve(sdoc["scenarios"], sid)
        pe, post = reference(net, resolved, targets)
        assert math.isclose(got["evidence_probability"], pe, rel_tol=TOL, abs_tol=1e-15), sid
        if post is None:
            assert got["posteriors"] is None, sid
            assert "impossible" in got, sid
            continue
        assert list(got["posteriors"]) == targets
        for t in targets:
            assert list(got["posteriors"][t]) == net.states[t], (sid, t)
            np.testing.assert_allclose(
                list(got["posteriors"][t].values()), post[t], rtol=0, atol=TOL, err_msg=f"{sid} {t}"
            )
        # the tables the scenario's numbers produce, as reported under "set"
        tables = net.with_sets(resolved["sets"])
        assert set(got["set"]) == {node for node, _ in resolved["sets"]}, sid
        for node, entry in got["set"].items():
            np.testing.assert_allclose(entry["cpt"], tables[node], rtol=0, atol=1e-12)


# ----------------------------------------------------------------------------- tests


def test_reference_reads_the_editorial_model_like_riskchain():
    """The test's own reading of the model file gives riskchain's compiled tables."""
    from riskchain.model import load_model

    net = Net(read_yaml(ROOT / "models" / "korea_russia_2024.yaml"))
    model = load_model(ROOT / "models" / "korea_russia_2024.yaml")
    assert net.names == model.nodes
    for n in net.names:
        np.testing.assert_allclose(model.cpt(n), net.tables[n], rtol=0, atol=1e-12, err_msg=n)


def test_pgmpy_do_marginalizes_the_cpd():
    """pgmpy's ``do`` cuts the arrows but keeps a (column-averaged) distribution, not the
    forced state: observing the forced state on top would scale P(evidence) by it.
    The reference therefore replaces the CPD by a point mass."""
    net = Net(read_yaml_text(SMALL_MODEL))
    bn = build_pgmpy(net, net.tables, {}).do(["traffic"])
    cpd = bn.get_cpds("traffic")
    assert cpd.variables == ["traffic"]
    assert not set(bn.predecessors("traffic"))
    values = np.asarray(cpd.values, dtype=float)
    np.testing.assert_allclose(values, net.tables["traffic"].reshape(-1, 3).mean(axis=0))
    assert values.max() < 1  # not a point mass on any state
    fixed = build_pgmpy(net, net.tables, {"traffic": "heavy"}).get_cpds("traffic")
    np.testing.assert_array_equal(np.asarray(fixed.values, dtype=float), [0.0, 1.0, 0.0])


def test_small_scenarios_match_pgmpy(capsys, small):
    """Multi-state nodes, zeros, set p/cpt/default, likelihoods, do, extends chains of
    three and an impossible scenario: every number equals the pgmpy reference."""
    data = run_json(capsys, small)
    check_against_pgmpy(data, small)
    by_id = {s["id"]: s for s in data["scenarios"]}
    # the chain observed -> forced -> soft -> base, as resolved by riskchain
    assert by_id["observed"]["extends"] == ["forced", "soft", "base"]
    assert by_id["observed"]["given"] == {"report": "yes", "weather": "snow"}
    assert by_id["observed"]["likelihood"] == {"late": {"no": 0.25, "yes": 2.0}}
    assert by_id["unforced"]["do"] == {}
    assert by_id["unforced"]["given"] == {"report": "yes", "traffic": "jam"}
    assert by_id["impossible"]["evidence_probability"] == 0.0


def test_small_reference_is_not_trivial(small):
    """The scenarios move the numbers: a reference that ignored set, do or likelihood would
    not pass the comparison above."""
    sdoc = read_yaml(small)
    net = Net(read_yaml(small.parent / "small.yaml"))
    targets = ["weather", "strike", "traffic", "late", "mood"]
    res = {
        sid: reference(net, resolve(sdoc["scenarios"], sid), targets) for sid in sdoc["scenarios"]
    }
    assert res["soft"][1]["weather"][0] == 0  # the zero likelihood on sun
    assert res["soft"][1]["strike"][1] != pytest.approx(res["base"][1]["strike"][1])
    np.testing.assert_array_equal(res["forced"][1]["traffic"], [0, 1, 0])
    assert res["forced"][0] != pytest.approx(res["soft"][0])  # the report is now at heavy
    late = net.with_sets(resolve(sdoc["scenarios"], "late_rows")["sets"])["late"]
    np.testing.assert_allclose(late, [[0.7, 0.3]] * 3)  # p on a node with parents: every row
    assert res["impossible"] == (0.0, None)


def test_editorial_scenarios_match_pgmpy(capsys, monkeypatch):
    """Every scenario of scenarios/korea_russia_2024.yaml equals the pgmpy reference."""
    monkeypatch.chdir(ROOT)
    data = run_json(capsys, Path("scenarios/korea_russia_2024.yaml"))
    check_against_pgmpy(data, EDITORIAL)


def test_run_json_contract(capsys, small):
    """``run --format json``: the model id and, per scenario, its findings, its own numbers,
    P(evidence) and the posteriors of the targets (None for an impossible scenario)."""
    data = run_json(capsys, small)
    assert set(data) >= {"model", "baseline", "targets", "scenarios"}
    assert data["model"] == "small"
    assert data["baseline"] == "base"
    assert data["targets"] == ["weather", "strike", "traffic", "late", "mood"]
    keys = {
        "id",
        "description",
        "extends",
        "given",
        "do",
        "likelihood",
        "set",
        "evidence_probability",
        "posteriors",
    }
    for s in data["scenarios"]:
        assert set(s) - {"impossible"} == keys, s["id"]
        assert isinstance(s["description"], str)
        assert isinstance(s["evidence_probability"], float)
        if s["posteriors"] is not None:
            assert list(s["posteriors"]) == data["targets"]
            for dist_ in s["posteriors"].values():
                assert sum(dist_.values()) == pytest.approx(1, abs=1e-9)
    forced = next(s for s in data["scenarios"] if s["id"] == "forced")
    assert forced["do"] == {"traffic": "heavy"}
    assert forced["likelihood"] == {"weather": {"sun": 0.0, "rain": 1.0, "snow": 3.0}}
    assert [w["scenario"] for w in forced["set"]["mood"]["written"]] == ["forced"]
    assert [w["scenario"] for w in forced["set"]["strike"]["written"]] == ["soft"]
    observed = next(s for s in data["scenarios"] if s["id"] == "observed")
    assert [w["scenario"] for w in observed["set"]["strike"]["written"]] == ["soft", "observed"]
    impossible = next(s for s in data["scenarios"] if s["id"] == "impossible")
    assert impossible["posteriors"] is None
    assert impossible["impossible"]["findings"] == ["weather=snow", "traffic=light"]


def test_run_scenario_filter_and_target(capsys, small):
    """``run -s ID -t NODE`` runs only that scenario and reports only that node."""
    code = main(["run", str(small), "-s", "soft", "-t", "mood", "-f", "json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    data = json.loads(out)
    assert [s["id"] for s in data["scenarios"]] == ["soft"]
    assert list(data["scenarios"][0]["posteriors"]) == ["mood"]
    sdoc = read_yaml(small)
    net = Net(read_yaml(small.parent / "small.yaml"))
    _, post = reference(net, resolve(sdoc["scenarios"], "soft"), ["mood"])
    got = list(data["scenarios"][0]["posteriors"]["mood"].values())
    np.testing.assert_allclose(got, post["mood"], rtol=0, atol=TOL)
