"""Evidence conflict (:mod:`riskchain.analysis.conflict`) against separate queries."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import pytest

from riskchain.analysis.conflict import TOLERANCE, conflict
from riskchain.model import Model, load_model
from riskchain.spec.model import parse_model_text

ROOT = Path(__file__).resolve().parents[2]

# Two reports of one event: each is likelier when the event happened.
TWO_REPORTS = """
riskchain: 1
id: two_reports
nodes:
  event:
    p: 0.3
  report_a:
    parents: [event]
    cpt:
      event=yes: 0.9
      event=no: 0.1
  report_b:
    parents: [event]
    cpt:
      event=yes: 0.8
      event=no: 0.05
  other:
    p: 0.5
"""


@pytest.fixture(scope="module")
def reports() -> Model:
    return Model(parse_model_text(textwrap.dedent(TWO_REPORTS)))


@pytest.fixture(scope="module")
def korea() -> Model:
    return load_model(ROOT / "models" / "korea_russia_2024.yaml")


def direct(model: Model, given=None, likelihood=None, do=None) -> float:
    """log2 of Π P(e_i) / P(e), each term from its own query."""
    given, likelihood = dict(given or {}), dict(likelihood or {})
    alone = [model.query(given={k: v}, do=do).evidence_probability for k, v in given.items()]
    alone += [
        model.query(likelihood={k: v}, do=do).evidence_probability for k, v in likelihood.items()
    ]
    together = model.query(given=given, likelihood=likelihood, do=do).evidence_probability
    return math.log2(math.prod(alone) / together)


def test_conflicting_pair_is_positive(reports):
    given = {"report_a": "yes", "report_b": "no"}
    conf = conflict(reports, given)
    assert conf == pytest.approx(direct(reports, given), abs=1e-12)
    assert conf > TOLERANCE


def test_reinforcing_pair_is_not_positive(reports):
    given = {"report_a": "yes", "report_b": "yes"}
    conf = conflict(reports, given)
    assert conf == pytest.approx(direct(reports, given), abs=1e-12)
    assert conf <= 0


def test_independent_findings_are_zero_within_tolerance(reports):
    conf = conflict(reports, {"report_a": "yes", "other": "no"})
    assert abs(conf) <= TOLERANCE


def test_fewer_than_two_findings_give_zero(reports):
    assert conflict(reports) == 0.0
    assert conflict(reports, {"report_a": "yes"}) == 0.0
    assert conflict(reports, {"report_a": "yes"}, do={"event": "no"}) == 0.0


def test_likelihoods_and_interventions(korea):
    given = {"nis_satellite_photos": "no", "nk_troops_in_combat": "yes"}
    lik = {"training_ground_video": {"no": 0.1, "yes": 0.9}}
    do = {"allied_pressure": "yes"}
    conf = conflict(korea, given, lik, do)
    assert conf == pytest.approx(direct(korea, given, lik, do), abs=1e-10)
    assert conf > TOLERANCE
    # the indicators the editorial reports support each other
    reported = {
        "nis_satellite_photos": "yes",
        "training_ground_video": "yes",
        "uniform_questionnaires": "yes",
        "roads_rail_demolished": "yes",
    }
    conf = conflict(korea, reported)
    assert conf == pytest.approx(direct(korea, reported), abs=1e-10)
    assert conf < 0


def test_impossible_together_is_infinite(reports):
    model = Model(
        parse_model_text(
            textwrap.dedent(TWO_REPORTS).replace("event=no: 0.05", "event=no: 0")
            + "  sure:\n    parents: [event]\n    cpt:\n      event=yes: 0\n      event=no: 1\n"
        )
    )
    assert conflict(model, {"report_b": "yes", "sure": "yes"}) == math.inf
