"""``query`` words every state of a graded node; ``show`` gives ``adverse`` and ``impact``.

The words are checked against the ICD 203 ranges written out here and a direct
``Model.query``; ``adverse`` and ``impact`` against the model file read with ruamel.yaml.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from conftest import run_cli as run
from riskchain.model import load_model

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "korea_russia_2024.yaml"
# ICD 203, lower edges (a band holds its lower edge): the word for a probability
ICD203 = [
    (0.95, "almost certain [95–100%]"),
    (0.80, "very likely [80–95%]"),
    (0.55, "likely [55–80%]"),
    (0.45, "roughly even chance [45–55%]"),
    (0.20, "unlikely [20–45%]"),
    (0.05, "very unlikely [5–20%]"),
    (0.0, "almost no chance [0–5%]"),
]


def word(p: float) -> str:
    return next(w for edge, w in ICD203 if p >= edge)


@pytest.mark.parametrize(
    "given", [{}, {"us_deterrent_neutralized": "yes"}, {"peninsula_security_shaken": "yes"}]
)
def test_query_words_each_state_of_a_graded_node(capsys, given):
    """Every state of the three-state threat gets its word and range, as table and watch
    give them; the binary node beside it only on its yes state."""
    flags = [x for k, v in given.items() for x in ("--given", f"{k}={v}")]
    targets = ["-t", "rok_security_threat", "-t", "nk_troop_dispatch"]
    code, out, err = run(capsys, "query", MODEL, *flags, *targets, "-f", "csv")
    assert code == 0, err
    rows = {(r["node"], r["state"]): r for r in csv.DictReader(io.StringIO(out))}
    post = load_model(MODEL).query(given=given, targets=["rok_security_threat"]).posteriors
    for state, p in post["rok_security_threat"].items():
        r = rows[("rok_security_threat", state)]
        assert r["term"] and word(p).startswith(f"{r['term']} ["), (state, p, r)
        lo, hi = (float(x) for x in r["range"].split("-"))
        assert lo <= p < hi
    assert rows[("nk_troop_dispatch", "no")]["term"] == ""
    assert rows[("nk_troop_dispatch", "yes")]["term"] != ""
    code, out, _ = run(capsys, "query", MODEL, *flags, *targets)
    for state, p in post["rok_security_threat"].items():
        line = next(x for x in out.splitlines() if f" {state} " in f" {x} ")
        assert line.rstrip().endswith(word(p)), line


def test_query_gives_no_word_to_an_observed_graded_node(capsys):
    """Observed, a graded node is labelled, not worded."""
    code, out, _ = run(
        capsys, "query", MODEL, "--given", "rok_security_threat=severe", "-t", "rok_security_threat"
    )
    assert code == 0
    lines = [x for x in out.splitlines() if "%" in x and "P(evidence)" not in x]
    assert len(lines) == 3
    assert lines[-1].rstrip().endswith("observed")
    assert not any("[" in x for x in lines)


def _model_file() -> dict:
    return YAML(typ="safe").load(MODEL.read_text())


def test_show_gives_adverse_and_impact(capsys):
    """show (JSON and text) gives each node's adverse states and its impact per state,
    as the model file writes them (a single impact applies to the reported state)."""
    levels = ["Minor", "Limited", "Moderate", "Significant", "Catastrophic"]
    code, out, _ = run(capsys, "show", MODEL, "-f", "json")
    assert code == 0
    nodes = {n["id"]: n for n in json.loads(out)["nodes"]}
    written = _model_file()["nodes"]
    with_impact = 0
    for nid, body in written.items():
        node = nodes[nid]
        assert node["adverse"] == list(body.get("adverse", [])), nid
        impact = body.get("impact")
        if impact is None:
            assert node["impact"] == {}, nid
            continue
        with_impact += 1
        per_state = impact if isinstance(impact, dict) else {"yes": impact}
        assert node["impact"] == {
            s: {"level": v, "label": levels[v - 1]} for s, v in per_state.items()
        }, nid
    assert with_impact >= 8
    code, text, _ = run(capsys, "show", MODEL)
    block = text.split("\nrok_security_threat:")[1].split("\n\n")[0]
    assert "  adverse: elevated, severe" in block
    assert "  impact: elevated: 3 Moderate; severe: 5 Catastrophic" in block
