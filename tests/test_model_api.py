"""The public API: ``riskchain.load_model(path).query(...)`` on a small model file.

Every number is checked against a brute-force sum over the joint written out
in this file from the same probabilities as the YAML (not from the engine).
"""

from __future__ import annotations

import itertools
import math
import re
from pathlib import Path

import numpy as np
import pytest

import riskchain
from riskchain import ImpossibleEvidenceError, UsageError

MODEL_YAML = """\
riskchain: 1
id: api-test
title: API test model
targets: [war, alarm]
nodes:
  tension:
    states: [low, high]
    p: {low: 0.7, high: 0.3}
  incident:
    p: 0.2
  war:
    parents: [tension, incident]
    cpt:
      tension=high, incident=yes: 0.6
      tension=high, incident=no: 0.3
      tension=low, incident=yes: 0.1
      tension=low, incident=no: 0
  alarm:
    states: [quiet, raised, '0']
    parents: [war]
    cpt:
      war=yes: {quiet: 0, raised: 0.9, '0': 0.1}
      war=no: {quiet: 0.8, raised: 0.15, '0': 0.05}
  ceasefire:
    parents: [war]
    cpt:
      war=yes: 0.05
      war=no: 0.5
"""

# The same model, written out by hand: node -> (states, parents, {parent states: probs}).
STATES = {
    "tension": ("low", "high"),
    "incident": ("no", "yes"),
    "war": ("no", "yes"),
    "alarm": ("quiet", "raised", "0"),
    "ceasefire": ("no", "yes"),
}
PARENTS = {
    "tension": (),
    "incident": (),
    "war": ("tension", "incident"),
    "alarm": ("war",),
    "ceasefire": ("war",),
}
TABLES = {
    "tension": {(): (0.7, 0.3)},
    "incident": {(): (0.8, 0.2)},
    "war": {
        ("high", "yes"): (0.4, 0.6),
        ("high", "no"): (0.7, 0.3),
        ("low", "yes"): (0.9, 0.1),
        ("low", "no"): (1.0, 0.0),
    },
    "alarm": {("yes",): (0.0, 0.9, 0.1), ("no",): (0.8, 0.15, 0.05)},
    "ceasefire": {("yes",): (0.95, 0.05), ("no",): (0.5, 0.5)},
}


def brute_force(given=None, do=None, likelihood=None):
    """Posteriors of every node and P(evidence) by summing the hand-written joint."""
    given, do, likelihood = given or {}, do or {}, likelihood or {}
    names = list(STATES)
    marg = {n: dict.fromkeys(STATES[n], 0.0) for n in names}
    total = 0.0
    for combo in itertools.product(*(STATES[n] for n in names)):
        x = dict(zip(names, combo))
        w = 1.0
        for n in names:
            if n in do:
                w *= float(x[n] == do[n])
            else:
                w *= TABLES[n][tuple(x[p] for p in PARENTS[n])][STATES[n].index(x[n])]
        for n, s in given.items():
            w *= float(x[n] == s)
        for n, lik in likelihood.items():
            w *= lik[x[n]]
        total += w
        for n in names:
            marg[n][x[n]] += w
    if total == 0:
        return None, 0.0
    return {n: {s: v / total for s, v in m.items()} for n, m in marg.items()}, total


@pytest.fixture
def model_path(tmp_path: Path) -> Path:
    path = tmp_path / "api.yaml"
    path.write_text(MODEL_YAML)
    return path


@pytest.fixture
def model(model_path):
    return riskchain.load_model(model_path)


def assert_matches(result, given=None, do=None, likelihood=None, tol=1e-12):
    posts, pe = brute_force(given, do, likelihood)
    assert math.isclose(result.evidence_probability, pe, rel_tol=1e-12)
    for node, dist in result.posteriors.items():
        assert list(dist) == list(STATES[node])
        for s, p in dist.items():
            assert math.isclose(p, posts[node][s], rel_tol=0, abs_tol=tol), (node, s)


QUESTIONS = [
    {},
    {"given": {"alarm": "raised"}},
    {"given": {"alarm": "0", "ceasefire": "no"}},
    {"do": {"war": "yes"}},
    {"given": {"ceasefire": "yes"}, "do": {"incident": "yes"}},
    {"likelihood": {"alarm": {"quiet": 0.2, "raised": 1.0, "0": 0.5}}},
    {
        "given": {"tension": "high"},
        "do": {"incident": "no"},
        "likelihood": {"ceasefire": {"no": 3.0, "yes": 0.5}},
    },
]


@pytest.mark.parametrize("question", QUESTIONS)
def test_query_by_name_matches_brute_force(model, question):
    """given / do / likelihood by name, every node as target."""
    result = model.query(**question, targets=list(STATES))
    assert result.model == "api-test" and result.engine == "fast"
    assert result.given == question.get("given", {})
    assert result.do == question.get("do", {})
    assert result.likelihood == question.get("likelihood", {})
    assert result.targets == list(STATES)
    assert_matches(result, question.get("given"), question.get("do"), question.get("likelihood"))
    for n in question.get("given", {}):
        assert result.finding(n) == "observed"
    for n in question.get("do", {}):
        assert result.finding(n) == "forced"


def test_likelihood_as_sequence(model):
    """A likelihood may be a sequence in state order; only the vector matters."""
    a = model.query(likelihood={"alarm": [0.2, 1.0, 0.5]})
    b = model.query(likelihood={"alarm": {"0": 0.5, "quiet": 0.2, "raised": 1.0}})
    assert a.posteriors == b.posteriors
    assert a.evidence_probability == b.evidence_probability


def test_default_targets(model, tmp_path):
    """The declared targets by default; every node, in file order, without a declaration."""
    assert list(model.query().posteriors) == ["war", "alarm"]
    assert list(model.query(given={"war": "yes"}).posteriors) == ["war", "alarm"]
    plain = tmp_path / "plain.yaml"
    plain.write_text(MODEL_YAML.replace("targets: [war, alarm]\n", ""))
    other = riskchain.load_model(plain)
    result = other.query(given={"alarm": "raised"})
    assert list(result.posteriors) == list(STATES)
    assert_matches(result, {"alarm": "raised"})


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"given": {"wat": "yes"}}, "did you mean 'war'?"),
        ({"given": {"tension": "hgh"}}, "did you mean 'high'?"),
        ({"do": {"incidnt": "yes"}}, "did you mean 'incident'?"),
        ({"do": {"alarm": "raisd"}}, "did you mean 'raised'?"),
        ({"likelihood": {"alrm": {"quiet": 1.0}}}, "did you mean 'alarm'?"),
        ({"likelihood": {"alarm": {"quite": 1.0, "raised": 1, "0": 1}}}, "did you mean 'quiet'?"),
        ({"targets": ["ceasfire"]}, "did you mean 'ceasefire'?"),
    ],
)
def test_unknown_names_suggest(model, kwargs, expected):
    """Unknown nodes and states are UsageErrors with a "did you mean"."""
    with pytest.raises(UsageError) as info:
        model.query(**kwargs)
    assert expected in str(info.value)


def test_observed_and_forced(model):
    """A node both observed and forced is a UsageError naming it."""
    with pytest.raises(UsageError, match=r"'war'.*both observed"):
        model.query(given={"war": "yes"}, do={"war": "no"})
    with pytest.raises(UsageError, match="war"):
        model.query(likelihood={"war": {"no": 1.0, "yes": 0.5}}, do={"war": "no"})


@pytest.mark.parametrize("engine", ["fast", "pgmpy"])
def test_impossible_evidence_names_minimal_findings(model, engine):
    """war=yes rules out alarm=quiet; the other findings are innocent and left out."""
    given = {"tension": "high", "war": "yes", "incident": "no", "alarm": "quiet"}
    assert brute_force(given)[1] == 0.0
    with pytest.raises(ImpossibleEvidenceError) as info:
        model.query(given=given, engine=engine)
    exc = info.value
    assert exc.findings == ["war=yes", "alarm=quiet"]
    assert exc.all_findings == [f"{k}={v}" for k, v in given.items()]
    assert exc.forced == []
    for finding in ("war=yes", "alarm=quiet"):
        assert finding in str(exc)
    # each finding alone, and every proper subset of the core, is possible
    for k, v in given.items():
        assert brute_force({k: v})[1] > 0
    # three findings that only conflict together (P(war=yes | low, no) = 0)
    with pytest.raises(ImpossibleEvidenceError) as info:
        model.query(
            given={"ceasefire": "yes", "tension": "low", "incident": "no", "war": "yes"},
            engine=engine,
        )
    assert info.value.findings == ["tension=low", "incident=no", "war=yes"]
    for pair in itertools.combinations(
        {"tension": "low", "incident": "no", "war": "yes"}.items(), 2
    ):
        assert brute_force(dict(pair))[1] > 0


def test_impossible_under_intervention_and_likelihood(model):
    """Impossibility judged after surgery, and with likelihoods among the findings."""
    with pytest.raises(ImpossibleEvidenceError) as info:
        model.query(given={"alarm": "quiet", "ceasefire": "yes"}, do={"war": "yes"})
    assert info.value.findings == ["alarm=quiet"]
    assert info.value.forced == ["war=yes"]
    assert "once war=yes is forced" in str(info.value)
    with pytest.raises(ImpossibleEvidenceError) as info:
        model.query(
            given={"war": "yes", "tension": "low"},
            likelihood={"alarm": {"quiet": 1, "raised": 0, "0": 0}},
        )
    assert len(info.value.findings) == 2
    assert info.value.findings[0] == "war=yes"
    assert info.value.findings[1].startswith("alarm~(")


QUESTIONS_PGMPY = [
    *QUESTIONS,
    {"given": {"alarm": "raised", "ceasefire": "yes"}, "do": {"tension": "high"}},
    {"likelihood": {"war": {"no": 0.1, "yes": 4.0}, "alarm": {"quiet": 1, "raised": 1, "0": 0}}},
]


@pytest.mark.parametrize("question", QUESTIONS_PGMPY)
def test_pgmpy_engine_agrees(model, question):
    """engine="pgmpy" gives the same posteriors and P(evidence) as engine="fast" (1e-9)."""
    fast = model.query(**question, targets=list(STATES))
    slow = model.query(**question, targets=list(STATES), engine="pgmpy")
    assert slow.engine == "pgmpy"
    assert math.isclose(fast.evidence_probability, slow.evidence_probability, rel_tol=1e-9)
    for node in STATES:
        for s in STATES[node]:
            assert math.isclose(fast.posteriors[node][s], slow.posteriors[node][s], abs_tol=1e-9)
    assert_matches(
        slow, question.get("given"), question.get("do"), question.get("likelihood"), 1e-9
    )


def test_to_pgmpy_has_the_same_cpds(model):
    """to_pgmpy(): a valid pgmpy network whose CPDs are the tables written in the file."""
    net = model.to_pgmpy()
    assert net.check_model()
    assert set(net.nodes()) == set(STATES)
    assert {(u, v) for v, ps in PARENTS.items() for u in ps} == set(net.edges())
    for node, states in STATES.items():
        cpd = net.get_cpds(node)
        assert list(cpd.variables) == [node, *PARENTS[node]]
        assert list(cpd.state_names[node]) == list(states)
        for p in PARENTS[node]:
            assert list(cpd.state_names[p]) == list(STATES[p])
        values = cpd.get_values()  # rows: node states; columns: parent combinations
        combos = list(itertools.product(*(STATES[p] for p in PARENTS[node])))
        want = np.array([TABLES[node][c] for c in combos]).T
        np.testing.assert_allclose(values, want, rtol=0, atol=1e-15)


# ----------------------------------------------------------------------------- documented API

ROOT = Path(__file__).resolve().parents[1]
API_DOC = (ROOT / "docs" / "api.md").read_text()


def _block(name: str) -> str:
    m = re.search(rf"<!-- {name}:begin -->\n(.*?)<!-- {name}:end -->", API_DOC, re.S)
    assert m, name
    return m.group(1)


def test_load_model_raises_what_api_md_documents(tmp_path, monkeypatch):
    """Each error docs/api.md lists for load_model is raised, exactly, by a file that
    should raise it, and nothing load_model raises is left out of the list."""
    import os

    from riskchain.io.files import FileError

    documented = re.findall(r"^\| `([\w.]+)` \|", _block("load-model-errors"), re.M)
    classes = {
        "riskchain.UsageError": UsageError,
        "riskchain.FileKindError": riskchain.FileKindError,
        "riskchain.SpecError": riskchain.SpecError,
        "riskchain.io.files.FileError": FileError,
    }
    assert sorted(documented) == sorted(classes)
    (tmp_path / "invalid.yaml").write_text("riskchain: 1\nnodes:\n  a:\n    p: 1.5\n")
    (tmp_path / "binary.yaml").write_bytes(b"riskchain: 1\x00\n")
    (tmp_path / "big.yaml").write_text("riskchain: 1\n" + "# padding\n" * 200_000)
    os.mkfifo(tmp_path / "fifo.yaml")
    (tmp_path / "folder.yaml").mkdir()
    monkeypatch.setenv("RISKCHAIN_MAX_INPUT_MIB", "1")
    cases = {
        tmp_path / "missing.yaml": UsageError,
        tmp_path / "folder.yaml": UsageError,
        ROOT / "scenarios" / "korea_russia_2024.yaml": riskchain.FileKindError,
        tmp_path / "invalid.yaml": riskchain.SpecError,
        tmp_path / "binary.yaml": riskchain.SpecError,
        tmp_path / "fifo.yaml": FileError,
        tmp_path / "big.yaml": FileError,
    }
    for path, expected in cases.items():
        with pytest.raises(riskchain.RiskchainError) as info:
            riskchain.load_model(path)
        assert type(info.value) is expected, path
        if path.name == "missing.yaml":
            assert str(info.value) == f"{path}: no such file"
    assert set(cases.values()) == set(classes.values())


def test_the_run_scenarios_example_of_api_md(monkeypatch):
    """docs/api.md's example runs as written, and each scenario's posteriors equal a
    query of the model with that scenario's findings, read from the file here."""
    from ruamel.yaml import YAML

    monkeypatch.chdir(ROOT)
    code = re.sub(r"^```python\n|```\n?$", "", _block("run-scenarios").strip() + "\n", flags=re.M)
    scope: dict = {}
    exec(code, scope)
    run = scope["run"]
    assert scope["reported"] is run.result("reported")
    data = YAML(typ="safe").load((ROOT / "scenarios" / "korea_russia_2024.yaml").read_text())
    model = riskchain.load_model(ROOT / "models" / "korea_russia_2024.yaml")
    for sid in ("reported", "nato_enters"):
        body = data["scenarios"][sid]
        given = dict(data["scenarios"].get(body.get("extends"), {}).get("given", {}))
        given.update(body.get("given", {}))
        expected = model.query(given=given, do=body.get("do", {}), targets=run.targets)
        for node in run.targets:
            got = run.result(sid).posteriors[node]
            assert got == pytest.approx(expected.posteriors[node], abs=1e-12)


def test_importing_riskchain_leaves_the_scenario_functions_for_later():
    import subprocess
    import sys

    code = (
        "import sys, riskchain; a = 'riskchain.analysis.scenarios' in sys.modules; "
        "f = riskchain.run_scenarios; print(a, 'riskchain.analysis.scenarios' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]
