"""Rendering of ``riskchain watch`` results: plain-English outcome lines, words with
their ranges, impossible observations, the two-scenario ranking, ``--top``."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from riskchain.analysis.scenarios import pose
from riskchain.analysis.watch import between, watch
from riskchain.model import Model, load_model
from riskchain.report.watch import render_between, render_watch
from riskchain.scales import get_scale
from riskchain.spec.model import parse_model_text

ROOT = Path(__file__).resolve().parents[2]
KOREA = ROOT / "models" / "korea_russia_2024.yaml"
SCENARIOS = ROOT / "scenarios" / "korea_russia_2024.yaml"

NEVER = """
riskchain: 1
id: never
nodes:
  event:
    label: An event that cannot happen
    p: 0
  report:
    label: A report
    parents: [event, rumour]
    cpt:
      event=yes, rumour=yes: 0.9
      event=yes, rumour=no: 0.8
      event=no, rumour=yes: 0.4
      event=no, rumour=no: 0.1
  rumour:
    label: A rumour
    p: 0.5
"""


@pytest.fixture(scope="module")
def korea() -> Model:
    return load_model(KOREA)


def test_outcome_lines_are_plain_english(korea):
    res = watch(korea, "nk_troops_in_combat", given={"nis_satellite_photos": "yes"})
    text = render_watch(res, "table", top=3)
    lines = text.splitlines()
    assert lines[0].startswith("What to watch for nk_troops_in_combat = yes (")
    assert "now: P(nk_troops_in_combat = yes) = 78.0% likely [55–80%]" in lines
    ind = res.indicators[0]
    o = ind.outcomes["yes"]
    expected = (
        f"  if {ind.node} = yes ({o.probability * 100:.1f}% now): "
        f"P(target) {o.p * 100:.1f}% {o.term}"
    )
    assert any(line.startswith(expected) for line in lines), expected
    assert "(top 3 of " in text
    for line in lines:
        if line.startswith("  if "):
            assert "%]" in line  # every word with its range


def test_term_change_is_marked(korea):
    res = watch(korea, "nk_troops_in_combat", given={"nis_satellite_photos": "yes"})
    text = render_watch(res, "table", top=None)
    for ind in res.indicators:
        for o in ind.outcomes.values():
            line = next(
                x for x in text.splitlines() if x.startswith(f"  if {ind.node} = {o.state} (")
            )
            assert line.endswith("(term changes)") == o.changes_term


def test_graded_target_lines_give_every_state(korea):
    res = watch(korea, "rok_security_threat")
    text = render_watch(res, "md", top=1)
    assert "P(call changes)" in text
    line = next(x for x in text.splitlines() if x.startswith("  - if "))
    assert line.count("%]") == 4  # three states and the call they change to
    assert "(call changes to low: roughly even chance [45–55%])" in line
    assert "total-variation distance" in text


def test_impossible_observation_says_so():
    model = Model(parse_model_text(textwrap.dedent(NEVER)))
    res = watch(model, "report")
    ind = next(x for x in res.indicators if x.node == "event")
    assert not ind.outcomes["yes"].possible
    assert ind.mutual_information == 0.0
    text = render_watch(res)
    assert "  if event = yes (0% now): impossible under the findings" in text.splitlines()
    data = json.loads(render_watch(res, "json"))
    out = next(x for x in data["indicators"] if x["node"] == "event")["outcomes"]["yes"]
    assert out == {"probability": 0.0, "p": None, "term": None}


def test_gapped_scale_says_between_terms(korea):
    phia = get_scale("phia")
    res = watch(korea, "nk_troops_in_combat", scale=phia)
    text = render_watch(res, top=None)
    gaps = 0
    for ind in res.indicators:
        for o in ind.outcomes.values():
            line = next(
                x for x in text.splitlines() if x.startswith(f"  if {ind.node} = {o.state} (")
            )
            if phia.classify(o.p) is None:
                gaps += 1
                assert "(between terms)" in line
            else:
                assert phia.classify(o.p).label() in line
    assert gaps
    assert "(phia)" in text


def test_between_render(korea):
    res = between(pose(SCENARIOS, "reported"), pose(SCENARIOS, "tech_for_troops"))
    text = render_between(res, "table", top=2)
    lines = text.splitlines()
    assert lines[0] == "What tells 'reported' from 'tech_for_troops' (korea_russia_2024)"
    assert "(top 2 of " in text
    first = res.indicators[0]
    assert any(
        line.startswith(f"  if {first.node} = yes: {first.a['yes'] * 100:.1f}% under reported")
        for line in lines
    )
    assert "odds of reported against tech_for_troops ×" in text
    md = render_between(res, "md", top=2)
    assert "| # | indicator | JS (bits) | under reported | under tech_for_troops |" in md
