"""Documents that paste riskchain output are checked against a fresh run."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from riskchain.analysis.risktable import risk_table
from riskchain.analysis.scenarios import run_scenarios
from riskchain.report.risktable import render_risk_table

ROOT = Path(__file__).resolve().parents[1]


def test_scenarios_doc_table_is_current(monkeypatch):
    """docs/scenarios.md holds the editorial's risk table exactly as `riskchain table -f md` prints it."""
    monkeypatch.chdir(ROOT)
    doc = (ROOT / "docs" / "scenarios.md").read_text()
    m = re.search(r"<!-- table:begin -->\n(.*)<!-- table:end -->", doc, re.S)
    assert m
    run = run_scenarios("scenarios/korea_russia_2024.yaml", include_baseline=True)
    fresh = render_risk_table(risk_table(run, produced=dt.date(2026, 11, 27)), "md").replace(
        "## ", "### ", 1
    )
    assert m.group(1) == fresh
