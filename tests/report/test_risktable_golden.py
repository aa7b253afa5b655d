"""``riskchain table``, ``run`` and ``query --scenario`` on the editorial's scenarios.

Rendered output is compared with golden files in ``tests/golden/table``;
regenerate them with ``RISKCHAIN_UPDATE_GOLDEN=1 pytest tests/report`` and read
the diff. The numbers themselves are checked against pgmpy in
``tests/analysis/test_scenarios_vs_pgmpy.py``; here they are checked against a
direct ``Model.query`` or a hand computation. With parameter draws (``--samples``)
the intervals are checked against quantiles computed here from the raw draws.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from conftest import check_golden
from conftest import run_cli as run
from riskchain.analysis.risktable import RiskTable, risk_table
from riskchain.analysis.scenarios import run_scenarios
from riskchain.analysis.uncertainty import DrawOptions
from riskchain.cli import main
from riskchain.model import load_model
from riskchain.report.risktable import render_risk_table, scenario_adds

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "table"
SCEN = "scenarios/korea_russia_2024.yaml"
MODEL = "models/korea_russia_2024.yaml"
DATE = "2026-11-27"
REPORTED = {
    "nis_satellite_photos": "yes",
    "training_ground_video": "yes",
    "uniform_questionnaires": "yes",
    "roads_rail_demolished": "yes",
    "enemy_state_doctrine": "yes",
    "border_fortification": "yes",
}
IDS = [
    "reported",
    "combat_rumours",
    "troops_in_combat",
    "nato_enters",
    "tech_for_troops",
    "korean_emergency",
    "pressure_works",
    "worst_case",
]

# the file's targets; rok_security_threat is graded, with adverse elevated and severe
ROWS = [
    ("nk_troops_in_combat", "yes"),
    ("war_nature_changes", "yes"),
    ("nk_support_turns_tide", "yes"),
    ("realtime_surveillance_rok_us", "yes"),
    ("us_deterrent_neutralized", "yes"),
    ("peninsula_security_shaken", "yes"),
    ("russia_backs_nk_in_crisis", "yes"),
    ("rok_security_threat", "elevated"),
    ("rok_security_threat", "severe"),
]

# rows each scenario leaves where the baseline has them, read off the graph: forcing NATO's
# entry only moves its effect; the technology numbers only the technology chain; the
# emergency only Russia's backing and the threat
UNTOUCHED = {
    "nato_enters": {n for n, _ in ROWS} - {"war_nature_changes"},
    "tech_for_troops": {
        "nk_troops_in_combat",
        "war_nature_changes",
        "nk_support_turns_tide",
        "russia_backs_nk_in_crisis",
    },
    "korean_emergency": {
        "nk_troops_in_combat",
        "war_nature_changes",
        "nk_support_turns_tide",
        "realtime_surveillance_rok_us",
        "us_deterrent_neutralized",
        "peninsula_security_shaken",
    },
}


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch):
    """Run every command from the repository root so paths in output are stable, with
    no $COLUMNS: output that is not a terminal is fitted to 100 columns."""
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("COLUMNS", raising=False)


def golden(name: str, text: str) -> None:
    check_golden(GOLDEN / name, text)


# ----------------------------------------------------------------------------- goldens


@pytest.mark.parametrize("fmt", ["table", "md", "csv", "json", "html"])
def test_table_formats_match_golden(capsys, fmt):
    """Each format of the editorial's risk table is stable."""
    code, out, err = run(capsys, "table", SCEN, "--date", DATE, "--format", fmt)
    assert code == 0, err
    assert err == ""
    golden(f"korea.{fmt}", out)


@pytest.mark.parametrize("fmt", ["json", "table"])
def test_run_formats_match_golden(capsys, fmt):
    """``riskchain run`` in JSON and as a table is stable."""
    code, out, err = run(capsys, "run", SCEN, "--format", fmt)
    assert code == 0, err
    golden(f"run.{fmt}", out)


# the run of the draw goldens: 300 draws, seed 11
DRAWS = ["--samples", "300", "--seed", "11"]


@pytest.mark.parametrize("fmt", ["table", "md", "csv"])
def test_table_with_draws_matches_golden(capsys, fmt):
    """The risk table with intervals (``--samples 300 --seed 11``) is stable."""
    code, out, err = run(capsys, "table", SCEN, *DRAWS, "--date", "2026-01-01", "--format", fmt)
    assert code == 0, err
    assert err == ""
    golden(f"korea_draws.{fmt}", out)


def test_run_with_draws_matches_golden(capsys):
    """``riskchain run --samples 300 --seed 11`` as a table is stable."""
    code, out, err = run(capsys, "run", SCEN, *DRAWS)
    assert code == 0, err
    golden("run_draws.table", out)


# ----------------------------------------------------------------------------- draws


@pytest.fixture(scope="module")
def drawn() -> RiskTable:
    """The editorial's risk table with 300 parameter draws (seed 11)."""
    run_ = run_scenarios(ROOT / SCEN, include_baseline=True, draws=DrawOptions(300, seed=11))
    return risk_table(run_)


def _column(table: RiskTable, sid: str, node: str, state: str) -> np.ndarray:
    u = table.run.result(sid).uncertainty
    return u.draws[node][:, u.states[node].index(state)]


def _central(x: np.ndarray, level: float = 0.9) -> tuple[float, float]:
    """The central interval computed here, independently of the library."""
    x = x[~np.isnan(x)]
    lo, hi = np.quantile(x, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def test_intervals_are_the_central_quantiles_of_the_draws(drawn):
    """Each estimated cell's interval is the 5th-95th percentile of its 300 draws and
    brackets about 90% of them; p itself need not lie inside (it is not asserted)."""
    checked = 0
    for row in drawn.rows:
        for sid, cell in row.values.items():
            if cell.finding is not None:
                continue
            col = _column(drawn, sid, row.node, row.state)
            assert col.shape == (300,)
            lo, hi = cell.interval
            assert (lo, hi) == pytest.approx(_central(col), abs=1e-15)
            assert 0.0 <= lo <= hi <= 1.0
            if np.unique(col).size == col.size:  # no ties: the share inside is the level
                inside = np.mean((col >= lo) & (col <= hi))
                assert abs(inside - 0.9) <= 0.02, (row.node, sid, inside)
                checked += 1
    assert checked > 20


def test_delta_interval_is_the_paired_difference(drawn):
    """Δ's interval is that of (scenario draw k - baseline draw k), computed here from the
    raw draws; it is not the spread of two independent probabilities."""
    base = drawn.run.baseline
    moved = 0
    for row in drawn.rows:
        b = _column(drawn, base, row.node, row.state)
        for sid, cell in row.values.items():
            if cell.finding is not None:
                assert cell.interval is None and cell.delta_interval is None
                continue
            s = _column(drawn, sid, row.node, row.state)
            assert cell.delta_interval == pytest.approx(_central(s - b), abs=2e-12)
            lo, hi = cell.delta_interval
            if hi - lo > 0.01:
                moved += 1
                # pairing removes the spread both share: narrower than the two intervals
                # would suggest if the draws were independent
                naive = (cell.interval[1] - cell.interval[0]) + (
                    row.values[base].interval[1] - row.values[base].interval[0]
                )
                assert hi - lo < naive, (row.node, sid)
    assert moved >= 5
    # rows a scenario cannot move change by exactly 0 in every draw: an interval of [0, 0],
    # although both probabilities have a spread of their own
    for sid, nodes in UNTOUCHED.items():
        for row in drawn.rows:
            if row.node in nodes:
                cell = row.values[sid]
                assert cell.delta_interval == (0.0, 0.0), (sid, row.node)
                assert str(cell.delta_interval[0]) == "0.0"  # no -0.0
                assert cell.interval[1] > cell.interval[0]


def test_observed_and_forced_cells_have_no_interval(drawn, capsys):
    """Cells the scenario sets (observed troops in combat; forced NATO entry is not a row)
    carry no interval in the table, the JSON or the CSV."""
    combat = next(r for r in drawn.rows if r.node == "nk_troops_in_combat")
    cell = combat.values["troops_in_combat"]
    assert cell.finding == "observed"
    assert (cell.interval, cell.delta_interval) == (None, None)
    assert set(cell.to_json()) == {"p", "term", "range", "delta", "finding"}
    assert set(combat.values["reported"].to_json()) == {
        "p",
        "term",
        "range",
        "delta",
        "interval",
        "delta_interval",
    }
    code, out, _ = run(capsys, "table", SCEN, *DRAWS, "-f", "csv")
    assert code == 0
    lines = out.splitlines()
    header = lines[0].split(",")
    values = dict(zip(header, next(x for x in lines[1:] if x.startswith("nk_troops_in_combat,"))
                      .split(",")))  # fmt: skip
    for key in ("lo", "hi", "delta_lo", "delta_hi"):
        assert values[f"troops_in_combat_{key}"] == ""
        assert float(values[f"reported_{key}"]) >= 0.0
    assert float(values["reported_lo"]) == pytest.approx(combat.values["reported"].interval[0])


def test_table_json_with_draws(capsys):
    """JSON cells gain ``interval`` and ``delta_interval`` (in [0, 1] and [-1, 1]), equal to
    the scenarios' own ``uncertainty`` intervals."""
    code, out, err = run(capsys, "table", SCEN, *DRAWS, "-f", "json")
    assert code == 0, err
    data = json.loads(out)
    spread = {s["id"]: s["uncertainty"] for s in data["scenarios"]}
    assert {u["seed"] for u in spread.values()} == {11}
    for row in data["rows"]:
        for sid, cell in row["values"].items():
            if "finding" in cell:
                assert "interval" not in cell and "delta_interval" not in cell
                continue
            assert cell["interval"] == spread[sid]["intervals"][row["node"]][row["state"]]
            lo, hi = cell["delta_interval"]
            assert -1.0 <= lo <= hi <= 1.0


def test_same_seed_same_table_other_seed_other_table(capsys):
    """The seed fixes the draws: the same seed prints the same table, another seed another."""
    outs = []
    for seed in ("11", "11", "12"):
        code, out, err = run(capsys, "table", SCEN, "--samples", "60", "--seed", seed)
        assert code == 0, err
        outs.append(out)
    assert outs[0] == outs[1]
    assert outs[0] != outs[2]
    assert "(seed 11)" in outs[0] and "(seed 12)" in outs[2]


def test_draws_leave_the_point_values_alone(drawn):
    """p, its term, Δ and everything else but the intervals are those of a run without
    draws; a table without draws has no interval anywhere."""
    plain = risk_table(run_scenarios(ROOT / SCEN, include_baseline=True))
    assert plain.draws is None
    for a, b in zip(plain.rows, drawn.rows):
        for sid in IDS:
            x, y = a.values[sid], b.values[sid]
            assert (x.p, x.term, x.range, x.delta, x.finding) == (
                y.p,
                y.term,
                y.range,
                y.delta,
                y.finding,
            )
            assert (x.interval, x.delta_interval) == (None, None)
            assert "interval" not in json.dumps(x.to_json())
    for fmt in ("table", "md", "csv", "html"):
        text = render_risk_table(plain, fmt)
        assert "draws" not in text and "interval" not in text.lower(), fmt


def test_table_with_draws_says_what_the_intervals_are(drawn):
    """Every text format gives the level, the number of draws and the seed, says that each
    draw is solved exactly and that Δ intervals are paired, and where the spread comes from
    (here the model's own terms and ranges: not the strength-only label)."""
    for fmt in ("table", "md", "html"):
        text = render_risk_table(drawn, fmt, "wide", 10_000).replace("&#x27;", "'")
        assert "central 90% of p across 300 parameter draws (seed 11)" in text, fmt
        assert "each draw solved exactly" in text
        assert "paired change" in text and "same draws" in text
        assert "Spread: from the ranges of the model's terms" in text
        assert "--strength" not in text
    for fmt in ("table", "md"):
        text = render_risk_table(drawn, fmt, "wide", 10_000)
        assert "58.3% [48.2–69.8%]" in text  # realtime surveillance under tech_for_troops
        assert "+27.3 pp [+20.8 to +34.7]" in text
        assert (
            "likely [55–80%]; interval spans roughly even chance [45–55%] to likely [55–80%]"
            in text
        )
    html_text = render_risk_table(drawn, "html")
    assert '58.3% <span class="iv">[48.2–69.8%]</span>' in html_text
    assert '+27.3 pp <span class="iv">[+20.8 to +34.7]</span>' in html_text
    assert "The interval spans roughly even chance [45–55%] to likely [55–80%]" in html_text
    body = html_text.split("</thead>")[1]
    assert body.count("<td") == 9 * len(IDS) * 3  # no extra cells, only richer ones


# ----------------------------------------------------------------------------- contracts


def test_table_json_contract(capsys):
    """The JSON of ``table``: the model, the baseline, the scenarios as in ``run``, and one
    row per target outcome with a cell per scenario."""
    _, out, _ = run(capsys, "table", SCEN, "--date", DATE, "-f", "json")
    data = json.loads(out)
    assert set(data) >= {"model", "baseline", "scenarios", "rows", "produced", "title"}
    assert data["model"] == {
        "id": "korea_russia_2024",
        "title": "North Korea–Russia military cooperation and South Korean security",
        "horizon": "24 months from October 2024 (to October 2026)",
        "path": MODEL,
    }
    assert data["baseline"] == "reported"
    assert data["produced"] == DATE
    _, run_out, _ = run(capsys, "run", SCEN, "-f", "json")
    assert data["scenarios"] == json.loads(run_out)["scenarios"]
    assert [s["id"] for s in data["scenarios"]] == IDS
    rows = [(r["node"], r["state"]) for r in data["rows"]]
    assert rows == ROWS
    posts = {s["id"]: s["posteriors"] for s in data["scenarios"]}
    scen = {s["id"]: s for s in data["scenarios"]}
    for row in data["rows"]:
        assert set(row) == {"node", "state", "label", "impact", "values"}
        assert list(row["values"]) == IDS
        assert "level" in row["impact"]  # the editorial's impacts are all NRR levels
        base = posts["reported"][row["node"]][row["state"]]
        for sid, cell in row["values"].items():
            # no expected impact (ordinal levels); 'finding' only where the scenario set the node
            observed = row["node"] in scen[sid]["given"] or row["node"] in scen[sid]["do"]
            assert set(cell) == {"p", "term", "range", "delta"} | (
                {"finding"} if observed else set()
            )
            p = posts[sid][row["node"]][row["state"]]
            assert cell["p"] == p
            assert cell["delta"] == pytest.approx(p - base, abs=1e-11)
            if observed:
                assert cell["term"] is None and cell["range"] is None
                continue
            lo, hi = cell["range"]
            assert lo <= round(p, 12) <= hi
    # rows a scenario cannot move (d-separated from what it changes) have delta exactly 0:
    # no rounding noise such as 2.8e-17, no -0.0
    for sid, nodes in UNTOUCHED.items():
        for row in data["rows"]:
            if row["node"] in nodes:
                delta = row["values"][sid]["delta"]
                assert delta == 0.0 and str(delta) == "0.0", (sid, row["node"], delta)


def test_table_says_what_each_scenario_observed_and_forced(capsys, monkeypatch):
    """Table, Markdown and HTML give the title, horizon, produced date and, per scenario,
    what it observed and what it forced: the baseline everything, a scenario that extends
    another only what it adds to that one, never the inherited findings again."""
    monkeypatch.setenv("COLUMNS", "1000")  # whole lines: this test reads what they say
    observed = ", ".join(f"{k}={v}" for k, v in REPORTED.items())
    expect = {
        "reported": f"observed: {observed}; forced: none; likelihood: none; set: none",
        "combat_rumours": "as reported, and likelihood: nk_troops_in_combat~(no:0.2, yes:0.8)",
        "troops_in_combat": "as reported, and observed: nk_troops_in_combat=yes",
        "nato_enters": "as reported, and forced: nato_member_enters_war=yes",
        "tech_for_troops": "as reported, and set: russia_tech_transfer, nk_recon_satellite, "
        "nk_icbm_us_mainland, nk_nuclear_submarine",
        "korean_emergency": "as reported, and observed: korean_emergency=yes",
        "pressure_works": "as reported, and forced: allied_pressure=yes",
        "worst_case": "as tech_for_troops, and observed: korean_emergency=yes",
    }
    for fmt in ("table", "md", "html"):
        _, out, _ = run(capsys, "table", SCEN, "--date", DATE, "-f", fmt)
        assert "North Korea–Russia cooperation — what it means for South Korea" in out
        assert "horizon: 24 months from October 2024 (to October 2026)" in out
        assert f"produced: {DATE}" in out
        blocks = _scenario_blocks(out, fmt)
        assert list(blocks) == IDS, fmt
        for sid, adds in expect.items():
            assert adds in blocks[sid], (fmt, sid)
            if sid != "reported":  # the inherited findings are not repeated
                assert "nis_satellite_photos" not in blocks[sid], (fmt, sid)


def test_scenario_adds_names_what_it_overrides(tmp_path):
    """A scenario that changes an inherited finding says what it was instead; one that
    adds nothing says so."""
    text = (ROOT / SCEN).read_text().replace("model: ../models/", f"model: {ROOT / 'models'}/")
    text += (
        "  denied:\n    extends: troops_in_combat\n    given:\n      nk_troops_in_combat: no\n"
        "  made:\n    extends: troops_in_combat\n    do:\n      nk_troops_in_combat: yes\n"
        "  same:\n    extends: reported\n"
    )
    path = tmp_path / "s.yaml"
    path.write_text(text)
    run_ = run_scenarios(path)
    assert scenario_adds(run_, "denied") == (
        "as troops_in_combat, and observed: nk_troops_in_combat=no "
        "(instead of nk_troops_in_combat=yes)"
    )
    assert scenario_adds(run_, "made") == (
        "as troops_in_combat, and forced: nk_troops_in_combat=yes (instead of observed)"
    )
    assert scenario_adds(run_, "same") == "as reported, nothing added"


def _scenario_blocks(text: str, fmt: str) -> dict[str, str]:
    """The text describing each scenario, by id, in the order shown."""
    out: dict[str, str] = {}
    if fmt == "html":
        for part in text.split("<dt><b>")[1:]:
            sid, _, rest = part.partition("</b>")
            out[sid] = rest.split("</dd>")[0]
        return out
    lines = text.splitlines()
    start = lines.index("scenarios:" if fmt == "table" else "**Scenarios**")
    current = None
    for line in lines[start + 1 :]:
        if not line.strip():
            if current:
                break
            continue
        head = line[2:].split()[0] if fmt == "table" else line
        if fmt == "table" and not line.startswith("   "):
            current = head
        elif fmt == "md" and line.startswith("- **"):
            current = line[4:].split("**")[0]
        out[current] = out.get(current, "") + line + "\n"
    return out


def test_run_json_lists_scenarios_in_file_order(capsys):
    """``run -s B -s A`` reports A and B in file order."""
    _, out, _ = run(capsys, "run", SCEN, "-s", "worst_case", "-s", "nato_enters", "-f", "json")
    assert [s["id"] for s in json.loads(out)["scenarios"]] == ["nato_enters", "worst_case"]


# ----------------------------------------------------------------------------- -o FILE


def test_output_file_equals_stdout(capsys, tmp_path):
    """``-o FILE`` writes exactly what would be printed, replacing an existing file."""
    _, printed, _ = run(capsys, "table", SCEN, "--date", DATE, "-f", "md")
    target = tmp_path / "risk.md"
    target.write_text("old table\n")
    code, out, err = run(capsys, "table", SCEN, "--date", DATE, "-f", "md", "-o", target)
    assert code == 0, err
    assert out == ""
    assert f"wrote {target}" in err
    assert target.read_text() == printed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["risk.md"]


def test_output_file_kept_when_the_write_fails(capsys, tmp_path, monkeypatch):
    """A write that fails before the rename leaves the old file intact and no temporary file."""
    target = tmp_path / "risk.html"
    target.write_text("old table\n")

    def boom(src, dst):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(os, "replace", boom)
    try:
        code = main(["table", SCEN, "-f", "html", "-o", str(target)])
    except OSError:
        code = None
    capsys.readouterr()
    assert code != 0
    assert target.read_text() == "old table\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["risk.html"]


def test_output_into_missing_folder_is_usage_error(capsys, tmp_path):
    """``-o`` into a folder that does not exist: exit 2, nothing written."""
    target = tmp_path / "missing" / "risk.md"
    code, out, err = run(capsys, "table", SCEN, "-o", target)
    assert code == 2
    assert "no such folder" in err
    assert out == ""
    assert not target.parent.exists()


# ----------------------------------------------------------------------------- --scenario


def test_scenario_filter_keeps_the_baseline(capsys):
    """``table -s ID`` shows the baseline (first) and the chosen scenario, with deltas."""
    code, out, err = run(capsys, "table", SCEN, "-s", "nato_enters", "-f", "json")
    assert code == 0, err
    data = json.loads(out)
    assert [s["id"] for s in data["scenarios"]] == ["reported", "nato_enters"]
    war = next(r for r in data["rows"] if r["node"] == "war_nature_changes")
    assert list(war["values"]) == ["reported", "nato_enters"]
    # forced entry: P(nature changes) = P(yes | NATO enters) = almost certain = 0.97
    assert war["values"]["nato_enters"]["p"] == pytest.approx(0.97, abs=1e-12)
    delta = war["values"]["nato_enters"]["delta"]
    assert delta == pytest.approx(0.97 - war["values"]["reported"]["p"], abs=1e-12)
    code, out, _ = run(capsys, "table", SCEN, "-s", "reported", "-f", "csv")
    assert code == 0
    assert out.splitlines()[0].count("_p,") == 1


def test_unknown_scenario_is_usage_error_with_suggestion(capsys):
    """An unknown ``--scenario``: exit 2, the choices and a did-you-mean."""
    for cmd in ("table", "run"):
        code, out, err = run(capsys, cmd, SCEN, "-s", "nato_enter")
        assert code == 2, cmd
        assert out == ""
        assert "no scenario 'nato_enter'" in err
        assert "did you mean 'nato_enters'" in err


# ----------------------------------------------------------------------------- query --scenario


@pytest.mark.parametrize(
    ("sid", "extra", "given", "do", "likelihood"),
    [
        # add a finding to the scenario's
        (
            "reported",
            ["--given", "nk_support_turns_tide=yes"],
            {**REPORTED, "nk_support_turns_tide": "yes"},
            {},
            {},
        ),
        # observe what the scenario forced: the intervention is replaced
        (
            "nato_enters",
            ["--given", "nato_member_enters_war=no"],
            {**REPORTED, "nato_member_enters_war": "no"},
            {},
            {},
        ),
        # force what the scenario observed
        (
            "troops_in_combat",
            ["--do", "nk_troops_in_combat=no"],
            REPORTED,
            {"nk_troops_in_combat": "no"},
            {},
        ),
        # replace the scenario's likelihood, and override one of its findings
        (
            "combat_rumours",
            ["-l", "nk_troops_in_combat=no:1,yes:3", "--given", "border_fortification=no"],
            {**REPORTED, "border_fortification": "no"},
            {},
            {"nk_troops_in_combat": {"no": 1.0, "yes": 3.0}},
        ),
    ],
)
def test_query_on_top_of_a_scenario(capsys, sid, extra, given, do, likelihood):
    """``query SCENARIOS -s ID`` plus flags equals a direct query with the merged findings."""
    code, out, err = run(capsys, "query", SCEN, "-s", sid, *extra, "-f", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["scenario"] == sid
    assert data["given"] == given
    assert data["do"] == do
    assert data["likelihood"] == likelihood
    targets = list(data["posteriors"])  # the scenario file's targets
    assert targets == [node for node, state in ROWS if state != "severe"]
    direct = load_model(MODEL).query(given=given, do=do, likelihood=likelihood, targets=targets)
    assert data["evidence_probability"] == pytest.approx(direct.evidence_probability, rel=1e-9)
    for node, dist in direct.posteriors.items():
        assert data["posteriors"][node] == pytest.approx(dist, abs=1e-9), node


def test_query_on_top_of_a_scenario_with_its_own_numbers(capsys):
    """On ``tech_for_troops`` the scenario's ``set`` applies: observing the emergency on
    top of it gives ``worst_case``."""
    code, out, err = run(
        capsys, "query", SCEN, "-s", "tech_for_troops", "-g", "korean_emergency=yes", "-f", "json"
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["set"] == [
        "russia_tech_transfer",
        "nk_recon_satellite",
        "nk_icbm_us_mainland",
        "nk_nuclear_submarine",
    ]
    _, run_out, _ = run(capsys, "run", SCEN, "-s", "worst_case", "-f", "json")
    worst = json.loads(run_out)["scenarios"][0]
    assert data["given"] == worst["given"]
    assert data["evidence_probability"] == pytest.approx(worst["evidence_probability"], rel=1e-9)
    for node in worst["posteriors"]:
        assert data["posteriors"][node] == pytest.approx(worst["posteriors"][node], abs=1e-9)
    # P(transfer) is the scenario's 'almost certain' (0.97), whatever was observed
    code, out, _ = run(
        capsys, "query", SCEN, "-s", "tech_for_troops", "-t", "russia_tech_transfer", "-f", "json"
    )
    post = json.loads(out)["posteriors"]["russia_tech_transfer"]
    assert post["yes"] == pytest.approx(0.97, abs=1e-12)


def test_query_scenario_file_needs_scenario(capsys):
    """``query SCENARIOS`` without ``--scenario``: exit 2, naming the scenarios."""
    code, out, err = run(capsys, "query", SCEN)
    assert code == 2
    assert out == ""
    assert "--scenario" in err and "nato_enters" in err


def test_query_model_file_with_scenario(capsys):
    """``query MODEL --scenario ID``: exit 2."""
    code, out, err = run(capsys, "query", MODEL, "--scenario", "reported")
    assert code == 2
    assert out == ""
    assert "model file" in err


def test_query_unknown_scenario(capsys):
    """``query SCENARIOS -s typo``: exit 2 with a did-you-mean."""
    code, _, err = run(capsys, "query", SCEN, "-s", "worst_cas")
    assert code == 2
    assert "did you mean 'worst_case'" in err


# ----------------------------------------------------------------------------- HTML


class _TagChecker(HTMLParser):
    """Checks that block tags nest and close, and collects src/href values."""

    TAGS = frozenset(
        {"table", "thead", "tbody", "tr", "th", "td", "dl", "dt", "dd", "ul", "li", "h1", "h2", "p"}
    )

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.opened: dict[str, int] = {}
        self.closed: dict[str, int] = {}
        self.links: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.links += [v or "" for k, v in attrs if k in ("src", "href")]
        if tag in self.TAGS:
            self.stack.append(tag)
            self.opened[tag] = self.opened.get(tag, 0) + 1

    def handle_endtag(self, tag):
        if tag in self.TAGS:
            self.closed[tag] = self.closed.get(tag, 0) + 1
            if not self.stack or self.stack[-1] != tag:
                self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            else:
                self.stack.pop()


@pytest.mark.parametrize("extra", [[], ["--nrr-bands"], ["-s", "worst_case", "--scale", "phia"]])
def test_html_is_well_formed_and_self_contained(capsys, extra):
    """Every opened table/list/heading/paragraph tag is closed in order; no external URL."""
    code, out, err = run(capsys, "table", SCEN, "-f", "html", *extra)
    assert code == 0, err
    checker = _TagChecker()
    checker.feed(out)
    checker.close()
    assert checker.errors == []
    assert checker.stack == []
    assert checker.opened == checker.closed
    assert {"table", "tr", "td", "dl", "li", "h1", "p"} <= set(checker.opened)
    assert not [link for link in checker.links if "http" in link]
    assert out.startswith("<!DOCTYPE html>")
    assert out.rstrip().endswith("</html>")
    # a group of rows per outcome: its heading row, then a row per scenario with 3 (or 4)
    # cells; header cells say what they head
    ids = 2 if "-s" in extra else len(IDS)
    per = 4 if "--nrr-bands" in extra else 3
    body = out.split("</thead>")[1]
    assert body.count("<tbody>") == 9
    assert body.count("<tr>") == 9 * (1 + ids)
    assert body.count("<td") == 9 * ids * per
    assert body.count('<th scope="row">') == 9 * ids
    assert body.count('<th scope="rowgroup"') == 9
    assert (
        "<caption>" in out
        and out.count('<th scope="col">') + out.count('<th scope="col" class="num">') == 1 + per
    )  # scenario, then p, estimate, Δ (and the NRR band)


# ----------------------------------------------------------------------------- change one line

# edit, rows (node, state) whose cells change, hand value of one changed cell in tech_for_troops
EDITS = [
    (
        # the ICBM row of tech_for_troops: 'likely' -> 0.9
        (
            "          russia_tech_transfer=yes: likely\n",
            "          russia_tech_transfer=yes: 0.9\n",
        ),
        {
            ("us_deterrent_neutralized", "yes"),
            ("rok_security_threat", "elevated"),
            ("rok_security_threat", "severe"),
        },
        # P(icbm) = 0.97*0.9 + 0.03*0.1; P(neutralized) = P(icbm)*0.4 + (1-P(icbm))*0.05
        ("us_deterrent_neutralized", (0.97 * 0.9 + 0.03 * 0.1) * 0.35 + 0.05),
    ),
    (
        # the transfer itself: 'almost certain' -> 0.5
        ("        p: almost certain\n", "        p: 0.5\n"),
        {
            ("realtime_surveillance_rok_us", "yes"),
            ("us_deterrent_neutralized", "yes"),
            ("peninsula_security_shaken", "yes"),
            ("rok_security_threat", "elevated"),
            ("rok_security_threat", "severe"),
        },
        # P(satellite) = 0.5*0.875 + 0.5*0.15; P(surveillance) = P(sat)*0.675 + (1-P(sat))*0.05
        ("realtime_surveillance_rok_us", (0.5 * 0.875 + 0.5 * 0.15) * 0.625 + 0.05),
    ),
]


@pytest.mark.parametrize(("edit", "rows", "hand"), EDITS, ids=["icbm_row", "transfer_p"])
def test_copy_change_one_number_see_the_change(capsys, tmp_path, edit, rows, hand):
    """Copy the editorial's scenario file, change one number of a ``set``: exactly the cells of
    the rows downstream of it, in the scenarios that carry that set, change."""
    text = (ROOT / SCEN).read_text()
    text = text.replace("model: ../models/", f"model: {ROOT / 'models'}/")
    assert text.count(edit[0]) == 1
    before_path = tmp_path / "before.yaml"
    after_path = tmp_path / "after.yaml"
    before_path.write_text(text)
    after_path.write_text(text.replace(*edit))
    tables = []
    for path in (before_path, after_path):
        code, out, err = run(capsys, "table", path, "-f", "json", "--date", DATE)
        assert code == 0, err
        tables.append(json.loads(out))
    before, after = tables
    changed = set()
    for rb, ra in zip(before["rows"], after["rows"]):
        assert (rb["node"], rb["state"]) == (ra["node"], ra["state"])
        for sid in IDS:
            if rb["values"][sid] != ra["values"][sid]:
                changed.add((rb["node"], rb["state"], sid))
                assert ra["values"][sid]["delta"] != rb["values"][sid]["delta"]
    assert changed == {(n, s, sid) for n, s in rows for sid in ("tech_for_troops", "worst_case")}
    node, value = hand
    for sid in ("tech_for_troops", "worst_case"):
        cell = next(r for r in after["rows"] if r["node"] == node)["values"][sid]
        assert cell["p"] == pytest.approx(value, abs=1e-12)
    # the scenarios' own entries (numbers as written, tables, posteriors) change likewise
    for sb, sa in zip(before["scenarios"], after["scenarios"]):
        assert (sb == sa) == (sb["id"] not in ("tech_for_troops", "worst_case")), sb["id"]


# ----------------------------------------------------------------------------- fitting the width


@pytest.fixture(scope="module")
def plain() -> RiskTable:
    return risk_table(run_scenarios(ROOT / SCEN, include_baseline=True))


@pytest.mark.parametrize("width", [80, 100, 140])
@pytest.mark.parametrize("which", ["plain", "drawn"])
def test_text_table_fits_the_width(width, which, plain, drawn):
    """At the default layout (auto) no line of the table is wider than the width, with
    intervals too; the 8 scenarios side by side (501 characters before) take the long
    layout in every width here."""
    table = plain if which == "plain" else drawn
    text = render_risk_table(table, "table", width=width)
    assert max(len(line) for line in text.splitlines()) <= width
    assert "\n  scenario " in text  # the long layout's block header
    assert len(render_risk_table(table, "table", "wide", width).splitlines()[-30]) > 0


def test_auto_is_wide_when_it_fits(plain):
    """auto gives the wide layout where the wide table fits the width, else the long one;
    the long layout has a block per outcome, a row per scenario."""
    wide = render_risk_table(plain, "table", "wide", 1000)
    widest = max(len(x) for x in wide.splitlines() if x.startswith(("outcome", "North Korean")))
    assert render_risk_table(plain, "table", "auto", widest) == render_risk_table(
        plain, "table", "wide", widest
    )
    long_ = render_risk_table(plain, "table", "auto", widest - 1)
    assert long_ == render_risk_table(plain, "table", "long", widest - 1)
    assert long_.count("\n  scenario ") == len(ROWS)
    for row in plain.rows:
        assert f"  {row.node} = {row.state} · impact: {row.impact.label()}" in long_


@pytest.mark.parametrize("fmt", ["table", "md"])
def test_long_layout_has_every_cell_of_the_wide(fmt, drawn):
    """The long layout shows what the wide one does, cell for cell: for each outcome and
    scenario the same p, estimate (the interval's other words on a line of their own in
    text) and Δ."""
    from riskchain.report.risktable import _cells

    text = render_risk_table(drawn, fmt, "long", 100)
    blocks = text.split("\n\n")
    for row in drawn.rows:
        at = next(k for k, b in enumerate(blocks) if f"{row.node} = {row.state}" in b)
        block = blocks[at] + ("\n" + blocks[at + 1] if fmt == "md" else "")  # md: head, table
        lines = block.splitlines()
        for sid in IDS:
            p, estimate, delta = _cells(drawn, row, sid, sid == "reported", False)
            at = next(k for k, x in enumerate(lines) if x.lstrip("| ").startswith(sid + " "))
            line = lines[at]
            assert p in line and delta in line, (row.node, sid)
            word, _, spans_ = estimate.partition("; ")
            assert word in line, (row.node, sid)
            if spans_:
                assert spans_ in (line if fmt == "md" else lines[at + 1]), (row.node, sid)


def test_cli_fits_columns_and_layout_flag(capsys, monkeypatch):
    """``table`` fits $COLUMNS when set (100 columns when the output is no terminal and it
    is not); ``--layout wide`` keeps the wide table whatever the width."""
    code, out, _ = run(capsys, "table", SCEN)
    assert code == 0 and max(len(x) for x in out.splitlines()) <= 100
    monkeypatch.setenv("COLUMNS", "80")
    code, out, _ = run(capsys, "table", SCEN)
    assert code == 0 and max(len(x) for x in out.splitlines()) <= 80
    code, out, _ = run(capsys, "table", SCEN, "--layout", "wide")
    assert code == 0 and max(len(x) for x in out.splitlines()) > 400
    code, _, err = run(capsys, "table", SCEN, "--layout", "tall")
    assert code == 2 and "--layout" in err and "Traceback" not in err


@pytest.mark.parametrize("suffix", ["html", "json", "csv", "md"])
def test_output_format_from_the_file_ending(capsys, tmp_path, suffix):
    """``-o t.EXT`` without --format writes that format (as ``-f EXT`` prints it), not the
    plain-text table."""
    _, printed, _ = run(capsys, "table", SCEN, "--date", DATE, "-f", suffix)
    target = tmp_path / f"t.{suffix}"
    code, _, err = run(capsys, "table", SCEN, "--date", DATE, "-o", target)
    assert code == 0, err
    assert target.read_text() == printed
    if suffix == "json":
        json.loads(target.read_text())


def test_output_format_contradiction_is_a_usage_error(capsys, tmp_path):
    """``-f md -o t.html``: exit 2 naming --format, nothing written; a matching or an
    unknown ending is fine."""
    target = tmp_path / "t.html"
    code, _, err = run(capsys, "table", SCEN, "-f", "md", "-o", target)
    assert code == 2
    assert "--format" in err and "t.html" in err and "Traceback" not in err
    assert not target.exists()
    code, _, err = run(capsys, "table", SCEN, "-f", "html", "-o", target)
    assert code == 0, err
    code, _, err = run(capsys, "table", SCEN, "-f", "md", "-o", tmp_path / "t.report")
    assert code == 0, err
    assert (tmp_path / "t.report").read_text().startswith("## ")


# ----------------------------------------------------------------------------- observed and forced


def test_table_csv_keeps_the_observed_marker(capsys):
    """The CSV's {scenario}_finding column says observed or forced where the table does
    (the JSON's 'finding'), and is empty elsewhere."""
    _, out, _ = run(capsys, "table", SCEN, "-f", "json")
    data = json.loads(out)
    _, out, _ = run(capsys, "table", SCEN, "-f", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    marked = 0
    for row, cells in zip(data["rows"], rows):
        for sid, cell in row["values"].items():
            assert cells[f"{sid}_finding"] == cell.get("finding", ""), (row["node"], sid)
            marked += bool(cell.get("finding"))
    assert marked == 1  # troops_in_combat observes a target (nk_troops_in_combat)


@pytest.mark.parametrize("fmt", ["table", "md", "csv"])
def test_run_labels_observed_and_forced_outcomes(capsys, monkeypatch, fmt):
    """``run -s troops_in_combat`` (which observes nk_troops_in_combat=yes) and
    ``run -s nato_enters -t nato_member_enters_war`` (which forces it) label the outcome
    observed / forced, and give it no estimative word."""
    monkeypatch.setenv("COLUMNS", "1000")
    for sid, node, kind in (
        ("troops_in_combat", "nk_troops_in_combat", "observed"),
        ("nato_enters", "nato_member_enters_war", "forced"),
    ):
        code, out, err = run(capsys, "run", SCEN, "-s", sid, "-t", node, "-f", fmt)
        assert code == 0, err
        words = ("almost certain", "very likely", "likely [")
        if fmt == "csv":
            rows = {r["state"]: r for r in csv.DictReader(io.StringIO(out))}
            assert (rows["yes"]["p"], rows["yes"]["estimate"]) == ("1", kind)
            assert {r["finding"] for r in rows.values()} == {kind}
        else:
            yes = next(x for x in out.splitlines() if re.search(r"\byes\b.*100%", x))
            assert kind in yes, yes
        assert not any(w in out for w in words), out


def test_run_words_every_state_of_a_graded_node(capsys, monkeypatch):
    """As table and watch do, run gives each state of a graded target its word, the one
    whose range holds the state's probability."""
    monkeypatch.setenv("COLUMNS", "1000")
    code, out, _ = run(capsys, "run", SCEN, "-s", "reported", "-t", "rok_security_threat")
    assert code == 0
    post = load_model(MODEL).query(given=REPORTED, targets=["rok_security_threat"])
    for state, p in post.posteriors["rok_security_threat"].items():
        line = next(x for x in out.splitlines() if re.search(rf"\b{state}\b\s+\d", x))
        word = {0.05: "very unlikely", 0.2: "unlikely", 0.45: "roughly even chance"}
        expect = next(w for edge, w in sorted(word.items(), reverse=True) if p >= edge)
        assert f"{expect} [" in line, line
    # a number is never shown outside the range of the word beside it (79.97%, not 80.0%)
    code, out, _ = run(capsys, "run", SCEN, "-s", "reported", "-t", "nk_troops_in_combat")
    yes = next(x for x in out.splitlines() if re.search(r"\byes\s+\d", x))
    assert "79.97%" in yes and "likely [55–80%]" in yes, yes


@pytest.mark.parametrize("layout", ["wide", "long"])
def test_scenario_format_doc_layout_excerpts_are_current(capsys, layout):
    """docs/scenario-format.md shows the first lines of a table in each layout: they are
    consecutive lines of what the command prints today."""
    doc = (ROOT / "docs" / "scenario-format.md").read_text()
    block = re.search(rf"<!-- layout:{layout} -->\n  ```text\n(.*?)\n  ```", doc, re.S).group(1)
    lines = [x[2:] for x in block.splitlines()]
    command, excerpt = lines[0], "\n".join(lines[1:])
    assert command.startswith("$ riskchain table ")
    code, out, _ = run(capsys, *command.split()[2:])
    assert code == 0
    assert excerpt in out
