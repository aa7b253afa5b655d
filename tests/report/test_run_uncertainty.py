"""``riskchain run`` with parameter draws: intervals beside each probability, the CSV's
lo/hi/mean columns and the footer, checked against the scenarios' raw draws."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest

from riskchain.analysis.scenarios import run_scenarios
from riskchain.analysis.uncertainty import DrawOptions
from riskchain.cli import main
from riskchain.report.risktable import render_run

ROOT = Path(__file__).resolve().parents[2]
SCEN = ROOT / "scenarios" / "korea_russia_2024.yaml"


@pytest.fixture(scope="module")
def drawn():
    """Two scenarios of the editorial, 200 draws (seed 4)."""
    return run_scenarios(SCEN, ["reported", "troops_in_combat"], draws=DrawOptions(200, seed=4))


def test_csv_has_lo_hi_mean_from_the_draws(drawn):
    """CSV gains lo, hi and mean: the draws' 5th and 95th percentiles and their average,
    computed here from the raw draws."""
    rows = list(csv.DictReader(io.StringIO(render_run(drawn, "csv"))))
    assert list(rows[0]) == [
        "scenario", "node", "state", "p", "lo", "hi", "mean", "estimate", "finding",
    ]  # fmt: skip
    per_scenario = sum(len(drawn.model.spec.nodes[n].states) for n in drawn.targets)
    assert len(rows) == per_scenario * len(drawn.results)
    for r in rows:
        u = drawn.result(r["scenario"]).uncertainty
        col = u.draws[r["node"]][:, u.states[r["node"]].index(r["state"])]
        lo, hi = np.quantile(col, [0.05, 0.95])
        assert float(r["lo"]) == pytest.approx(lo, rel=1e-9, abs=1e-12)
        assert float(r["hi"]) == pytest.approx(hi, rel=1e-9, abs=1e-12)
        assert float(r["mean"]) == pytest.approx(col.mean(), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("fmt", ["table", "md"])
def test_text_shows_intervals_and_footer(drawn, fmt):
    """Table and Markdown put ``p [lo–hi]`` in the p column (not for a node the scenario
    observes) and end with the draws' level, number, seed and spread."""
    text = render_run(drawn, fmt, width=1000)  # whole lines, unwrapped
    assert "p [interval]" in text
    assert "central 90% of 200 parameter draws (seed 4), each solved exactly" in text
    assert "every scenario is answered on the same draws" in text
    assert "spread: from the ranges of the model's terms" in text
    u = drawn.result("reported").uncertainty
    lo, hi = u.interval("nk_support_turns_tide", "yes")
    assert f"17.7% [{lo * 100:.1f}–{hi * 100:.1f}%]" in text


def test_observed_node_has_no_interval(drawn):
    """troops_in_combat observes nk_troops_in_combat: its states show p alone; the same node
    under reported, and every other node, shows an interval."""
    sid = node = ""
    seen = 0
    for line in render_run(drawn, "md").splitlines():
        cells = [c.strip() for c in line.strip("|").split(" | ")]
        if not line.startswith("| ") or len(cells) != 5 or cells[2] in ("state", "---"):
            continue
        sid, node = cells[0] or sid, cells[1] or node
        if (sid, node) == ("troops_in_combat", "nk_troops_in_combat"):
            assert "[" not in cells[3], cells
            seen += 1
        else:
            assert cells[3].count("[") == 1 and cells[3].endswith("%]"), cells
    assert seen == 2


def test_without_draws_nothing_changes(capsys, monkeypatch):
    """``run`` without --samples prints no interval, no lo/hi/mean column and no footer."""
    monkeypatch.chdir(ROOT)
    for fmt in ("table", "md", "csv"):
        assert main(["run", str(SCEN), "-f", fmt]) == 0
        out = capsys.readouterr().out
        assert "interval" not in out and "draws" not in out, fmt
        assert ",lo,hi,mean," not in out


def test_strength_only_is_labelled_in_run(capsys, tmp_path):
    """A model of exact numbers, spread only by --strength: the footer says so."""
    (tmp_path / "m.yaml").write_text(
        "riskchain: 1\nid: m\ntitle: Exact\nnodes:\n"
        "  a: {label: A, p: 0.3}\n"
        "  b: {label: B, parents: [a], cpt: {a=yes: 0.8, a=no: 0.1}}\n"
    )
    (tmp_path / "s.yaml").write_text(
        "riskchain: 1\nmodel: m.yaml\ntargets: [b]\nscenarios:\n  none: {}\n"
        "  seen: {given: {a: 'yes'}}\n"
    )
    args = ["run", str(tmp_path / "s.yaml"), "--samples", "50", "--seed", "1"]
    assert main([*args, "--strength", "10"]) == 0
    out = capsys.readouterr().out
    assert "spread: from --strength 10 only: an assumed pseudo-count" in " ".join(out.split())
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "spread: no spread: every number used is exact" in out
