"""Risk tables against hand computation on a small model.

The model: a supply shock (P = 0.25, numeric impact 2.5 bn USD) raises the
chance of riots (binary without a ``yes`` state: 0.6 vs 0.1, ordinal impact 3)
and moves a graded price level (adverse high and extreme; an ordinal impact on
high, a numeric one on extreme); riots move a graded sector outlook (no
``adverse``, no impact). Every expected number below is worked out by hand.

Every number in the model is exact, so with parameter draws the only spread is
the one ``--strength`` assumes: a Beta(S p, S (1 - p)) around each probability,
whose quantiles scipy gives by hand.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from riskchain.analysis.risktable import nrr_band, risk_table
from riskchain.analysis.scenarios import run_scenarios
from riskchain.analysis.uncertainty import DrawOptions
from riskchain.cli import main
from riskchain.report.risktable import render_risk_table as _render
from riskchain.scales import get_scale


def render_risk_table(t, fmt: str = "table") -> str:
    """The rendered table; text and Markdown in the wide layout, which :func:`grid` reads
    (the long layout is tested in tests/report/test_risktable_golden.py)."""
    return _render(t, fmt, layout="wide")


@pytest.fixture(autouse=True)
def _unwrapped(monkeypatch):
    """These tests read what the table says, on whole lines: a terminal wide enough not to
    wrap them (fitting the width is tested in tests/report/test_risktable_golden.py)."""
    monkeypatch.setenv("COLUMNS", "1000")


MODEL = """\
riskchain: 1
id: rt
title: Risk table test model
horizon: 6 months
targets: [shock, unrest, price, sector]
nodes:
  shock:
    label: Supply shock
    p: 0.25
    impact: {value: 2.5, unit: bn USD}
  unrest:
    label: Unrest
    states: [calm, riots]
    parents: [shock]
    cpt:
      shock=yes: 0.6
      shock=no: 0.1
    impact: 3
  price:
    label: Price level
    states: [stable, high, extreme]
    adverse: [high, extreme]
    impact: {high: 2, extreme: {value: 40, unit: "%"}}
    parents: [shock]
    cpt:
      shock=yes: {stable: 0.2, high: 0.5, extreme: 0.3}
      shock=no: {stable: 0.8, high: 0.2, extreme: 0}
  sector:
    label: Sector outlook
    states: [up, flat, down]
    parents: [unrest]
    cpt:
      unrest=riots: {up: 0.1, flat: 0.3, down: 0.6}
      unrest=calm: {up: 0.5, flat: 0.4, down: 0.1}
"""

SCENARIOS = """\
riskchain: 1
model: rt.yaml
title: Risk table scenarios
baseline: {baseline}
scenarios:
  quiet:
    description: Nothing observed
  shocked:
    description: The shock is seen
    given: {{shock: "yes"}}
  riot_seen:
    description: Riots are seen
    given: {{unrest: riots}}
  riot_made:
    description: Riots are made to happen
    do: {{unrest: riots}}
  broken:
    description: An extreme price without a shock, which the model rules out
    given: {{price: extreme, shock: "no"}}
"""

# Hand computation. P(riots) = 0.25*0.6 + 0.75*0.1 = 0.225; seeing riots,
# P(shock) = 0.15/0.225 = 2/3; price and sector follow from their rows.
P_RIOTS = 0.25 * 0.6 + 0.75 * 0.1
P_SHOCK_RIOTS = 0.25 * 0.6 / P_RIOTS


def sector(p_riots: float) -> list[float]:
    return [p_riots * r + (1 - p_riots) * c for r, c in ((0.1, 0.5), (0.3, 0.4), (0.6, 0.1))]


def price(p_shock: float) -> list[float]:
    return [p_shock * 0.5 + (1 - p_shock) * 0.2, p_shock * 0.3]


# row -> scenario -> p (rows: shock yes, unrest riots, price high/extreme, sector up/flat/down)
HAND = {
    "quiet": [0.25, P_RIOTS, *price(0.25), *sector(P_RIOTS)],
    "shocked": [1.0, 0.6, *price(1.0), *sector(0.6)],
    "riot_seen": [P_SHOCK_RIOTS, 1.0, *price(P_SHOCK_RIOTS), *sector(1.0)],
    "riot_made": [0.25, 1.0, *price(0.25), *sector(1.0)],
    "broken": [None] * 7,
}
ROWS = [
    ("shock", "yes", "Supply shock"),
    ("unrest", "riots", "Unrest"),
    ("price", "high", "Price level: high"),
    ("price", "extreme", "Price level: extreme"),
    ("sector", "up", "Sector outlook: up"),
    ("sector", "flat", "Sector outlook: flat"),
    ("sector", "down", "Sector outlook: down"),
]


def write(tmp_path: Path, baseline: str = "quiet") -> Path:
    (tmp_path / "rt.yaml").write_text(MODEL)
    path = tmp_path / f"scenarios_{baseline}.yaml"
    path.write_text(SCENARIOS.format(baseline=baseline))
    return path


def table(tmp_path: Path, baseline: str = "quiet", **kw):
    run = run_scenarios(write(tmp_path, baseline), include_baseline=True)
    return risk_table(run, produced=dt.date(2026, 1, 2), **kw)


def test_rows_are_the_target_outcomes(tmp_path):
    """A binary node's yes state, else its second state; adverse states; else every state."""
    t = table(tmp_path)
    assert [(r.node, r.state, r.label) for r in t.rows] == ROWS
    assert t.scenario_ids == ["quiet", "shocked", "riot_seen", "riot_made", "broken"]


def test_p_and_delta_against_hand_computation(tmp_path):
    """p equals the hand computation; delta = p - p(baseline); the impossible scenario has
    p None and delta None, and the run does not fail on it."""
    t = table(tmp_path)
    for i, row in enumerate(t.rows):
        for sid, values in HAND.items():
            cell = row.values[sid]
            if values[i] is None:
                assert (cell.p, cell.term, cell.range, cell.delta) == (None, None, None, None)
                continue
            assert cell.p == pytest.approx(values[i], abs=1e-12), (row.state, sid)
            assert cell.delta == pytest.approx(values[i] - HAND["quiet"][i], abs=1e-12)
    assert t.run.result("broken").posteriors is None
    assert t.run.result("broken").impossible is not None


def test_delta_has_no_rounding_noise(tmp_path):
    """A cell equal to the baseline's has delta exactly 0 (not 1e-17, not -0.0)."""
    t = table(tmp_path)
    shock = t.rows[0].values
    assert shock["riot_made"].p == pytest.approx(shock["quiet"].p, abs=1e-15)
    for sid in ("quiet", "riot_made"):
        assert shock[sid].delta == 0.0
        assert math.copysign(1.0, shock[sid].delta) == 1.0
    price = [r.values for r in t.rows if r.node == "price"]
    for values in price:  # forcing riots leaves the price where it was
        assert values["riot_made"].delta == 0.0
        assert math.copysign(1.0, values["riot_made"].delta) == 1.0


def test_impossible_baseline_gives_no_deltas(tmp_path):
    """With an impossible baseline every delta is None; the other cells keep their p."""
    t = table(tmp_path, baseline="broken")
    assert t.scenario_ids[0] == "quiet"  # file order; the baseline is not moved
    for i, row in enumerate(t.rows):
        assert row.values["broken"].p is None
        for sid in ("quiet", "shocked", "riot_seen", "riot_made"):
            assert row.values[sid].p == pytest.approx(HAND[sid][i], abs=1e-12)
            assert row.values[sid].delta is None
    text = render_risk_table(t, "table")
    assert "IMPOSSIBLE EVIDENCE" in text
    header, rows = grid(text, "table")
    deltas = [i for i, h in enumerate(header) if h == "Δ"]
    for label, cells in rows.items():
        assert [cells[i] for i in deltas] == ["n/a"] * 4 + ["baseline"], label


def test_impossible_baseline_cli(tmp_path, capsys):
    """`table` with an impossible baseline exits 0, shows n/a and warns on stderr."""
    code = main(["table", str(write(tmp_path, "broken")), "-f", "json"])
    out, err = capsys.readouterr()
    assert code == 0
    assert "warning: scenario 'broken'" in err
    data = json.loads(out)
    assert data["baseline"] == "broken"
    for row in data["rows"]:
        assert row["values"]["broken"] == {"p": None, "term": None, "range": None, "delta": None}
        assert all(v["delta"] is None for v in row["values"].values())


# (scenario, row index) -> expected (term, range) on each scale, worked out from the
# scales' published bands (PHIA and Kent have gaps: no term there)
TERMS = {
    ("quiet", 0): {  # 0.25
        "icd203": ("unlikely", (0.2, 0.45)),
        "phia": ("unlikely", (0.25, 0.35)),
        "kent": ("probably not", (0.2, 0.4)),
    },
    ("quiet", 1): {  # 0.225: in PHIA's 20-25% gap
        "icd203": ("unlikely", (0.2, 0.45)),
        "phia": (None, None),
        "kent": ("probably not", (0.2, 0.4)),
    },
    ("quiet", 3): {  # 0.075: in PHIA's 5-10% gap
        "icd203": ("very unlikely", (0.05, 0.2)),
        "phia": (None, None),
        "kent": ("almost certainly not", (0.02, 0.12)),
    },
    ("quiet", 4): {  # 0.41
        "icd203": ("unlikely", (0.2, 0.45)),
        "phia": ("realistic possibility", (0.4, 0.5)),
        "kent": ("chances about even", (0.4, 0.6)),
    },
    ("quiet", 5): {  # 0.3775: in PHIA's 35-40% gap
        "icd203": ("unlikely", (0.2, 0.45)),
        "phia": (None, None),
        "kent": ("probably not", (0.2, 0.4)),
    },
    ("shocked", 0): {  # 1 (observed): set by the scenario, so no estimative term on any scale
        "icd203": (None, None),
        "phia": (None, None),
        "kent": (None, None),
    },
    ("shocked", 2): {  # 0.5
        "icd203": ("roughly even chance", (0.45, 0.55)),
        "phia": ("realistic possibility", (0.4, 0.5)),
        "kent": ("chances about even", (0.4, 0.6)),
    },
    ("riot_seen", 0): {  # 2/3
        "icd203": ("likely", (0.55, 0.8)),
        "phia": ("likely", (0.55, 0.75)),
        "kent": ("probable", (0.63, 0.87)),
    },
    ("riot_seen", 3): {  # 0.2
        "icd203": ("unlikely", (0.2, 0.45)),
        "phia": ("highly unlikely", (0.1, 0.2)),
        "kent": ("probably not", (0.2, 0.4)),
    },
}


@pytest.mark.parametrize("scale", ["icd203", "phia", "kent"])
def test_terms_and_ranges_on_each_scale(tmp_path, scale):
    """Each cell's term and range on each scale; PHIA's gaps give no term and no range."""
    t = table(tmp_path, scale=get_scale(scale))
    for (sid, i), expected in TERMS.items():
        cell = t.rows[i].values[sid]
        term, rng = expected[scale]
        assert cell.term == term, (sid, i, cell.p)
        if rng is None:
            assert cell.range is None
        else:
            assert cell.range == pytest.approx(rng, abs=1e-12)
    if scale == "phia":
        assert "(between terms)" in render_risk_table(t, "table")


def test_phia_gap_in_json(tmp_path, capsys):
    """`--scale phia -f json`: a value in a gap has term and range null, p still given."""
    code = main(["table", str(write(tmp_path)), "--scale", "phia", "-f", "json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    data = json.loads(out)
    assert data["scale"] == "phia"
    riots = data["rows"][1]["values"]["quiet"]
    assert riots["term"] is None and riots["range"] is None
    assert riots["p"] == pytest.approx(P_RIOTS, abs=1e-12)


EDGE_MODEL = """\
riskchain: 1
id: edges
title: NRR band edges
nodes:
{nodes}
"""
EDGES = [
    (0.0019, 1),
    (0.002, 2),
    (0.0099, 2),
    (0.01, 3),
    (0.0499, 3),
    (0.05, 4),
    (0.2499, 4),
    (0.25, 4),  # "5–25%": 25% is in band 4; band 5 is ">25%"
    (0.2501, 5),
]


def test_nrr_band_edges_in_a_table(tmp_path):
    """NRR bands of root nodes at and around each band edge (0.2%, 1%, 5%, 25%)."""
    nodes = "\n".join(f"  e{i}:\n    label: Edge {i}\n    p: {p}" for i, (p, _) in enumerate(EDGES))
    (tmp_path / "edges.yaml").write_text(EDGE_MODEL.format(nodes=nodes))
    path = tmp_path / "s.yaml"
    path.write_text("riskchain: 1\nmodel: edges.yaml\nscenarios:\n  only: {}\n")
    t = risk_table(run_scenarios(path), bands=True)
    got = [(row.values["only"].p, row.values["only"].band) for row in t.rows]
    assert [b for _, b in got] == [b for _, b in EDGES]
    assert [p for p, _ in got] == pytest.approx([p for p, _ in EDGES], abs=1e-15)
    assert all(row.values["only"].to_json()["nrr_band"] for row in t.rows)
    # without --nrr-bands the cells carry no band
    plain = risk_table(run_scenarios(path))
    assert all("nrr_band" not in row.values["only"].to_json() for row in plain.rows)


@pytest.mark.parametrize(
    ("p", "band"),
    [
        (0.0, 1),
        (0.002 - 1e-9, 1),
        (0.002, 2),
        (0.01 - 1e-9, 2),
        (0.01, 3),
        (0.05 - 1e-9, 3),
        (0.05, 4),
        (0.25 - 1e-15, 4),
        (0.25, 4),
        (0.25 + 1e-15, 4),  # rounding noise of a computed 25% stays in band 4
        (0.25 + 1e-9, 5),
        (1.0, 5),
    ],
)
def test_nrr_band_function(p, band):
    """Band 1 < 0.2% <= band 2 < 1% <= band 3 < 5% <= band 4 <= 25% < band 5."""
    assert nrr_band(p) == band


def test_expected_impact_only_for_numeric_impacts(tmp_path, capsys):
    """p x value for numeric impacts; ordinal impacts (and no impact) get no expected impact."""
    t = table(tmp_path)
    by_row = {(r.node, r.state): r for r in t.rows}
    for sid in ("quiet", "shocked", "riot_seen", "riot_made"):
        shock = by_row["shock", "yes"].values[sid]
        assert shock.expected_impact == pytest.approx(shock.p * 2.5, abs=1e-12)
        extreme = by_row["price", "extreme"].values[sid]
        assert extreme.expected_impact == pytest.approx(extreme.p * 40, abs=1e-12)
        for key in [("unrest", "riots"), ("price", "high"), ("sector", "up")]:
            assert by_row[key].values[sid].expected_impact is None
    assert by_row["shock", "yes"].values["broken"].expected_impact is None
    code = main(["table", str(write(tmp_path)), "-f", "json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    rows = {(r["node"], r["state"]): r for r in json.loads(out)["rows"]}
    assert rows["shock", "yes"]["impact"] == {"value": 2.5, "unit": "bn USD"}
    assert rows["unrest", "riots"]["impact"] == {"level": 3, "label": "Moderate"}
    assert rows["price", "high"]["impact"] == {"level": 2, "label": "Limited"}
    assert rows["price", "extreme"]["impact"] == {"value": 40.0, "unit": "%"}
    assert rows["sector", "up"]["impact"] is None
    for key in [("unrest", "riots"), ("price", "high"), ("sector", "up"), ("sector", "down")]:
        for sid, cell in rows[key]["values"].items():
            assert "expected_impact" not in cell, (key, sid)
    assert rows["shock", "yes"]["values"]["quiet"]["expected_impact"] == pytest.approx(0.625)
    assert "expected_impact" not in rows["shock", "yes"]["values"]["broken"]


def grid(text: str, fmt: str) -> tuple[list[str], dict[str, list[str]]]:
    """(header, {outcome label: cells}) of a rendered risk table."""
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(text)))
        return rows[0], {r[2]: r for r in rows[1:]}
    if fmt == "html":
        return _html_grid(text)
    lines = text.splitlines()
    if fmt == "md":
        table = [
            [c.strip() for c in line.strip("|").split(" | ")]
            for line in lines
            if line.startswith("| ")
        ]
        return table[0], {r[0]: r for r in table[1:]}
    at = next(i for i, line in enumerate(lines) if line.startswith("outcome"))
    end = lines.index("", at)  # the notes follow the table after a blank line
    table = [re.split(r"\s{2,}", line.strip()) for line in lines[at:end]]
    rows = [r for r in table[2:] if not r[0].startswith("*")]
    return table[0], {r[0]: r for r in rows}


def _html_grid(text: str) -> tuple[list[str], dict[str, list[str]]]:
    """The HTML table (a group of rows per outcome, a row per scenario) read back in the
    wide order: outcome, impact, then each scenario's cells."""
    body = text.replace("\n", "")
    header: list[str] = ["outcome", "impact"]
    rows: dict[str, list[str]] = {}
    for group in re.findall(r"<tbody>(.*?)</tbody>", body):
        head = re.search(r'<th scope="rowgroup"[^>]*>(.*?) <span class="id">(.*?)</span>', group)
        label, ident = html.unescape(head.group(1)), html.unescape(head.group(2))
        impact = ident.split(" · impact ")[1] if " · impact " in ident else "–"
        cells = [label, impact]
        names = []
        for sid, tds in re.findall(r'<tr><th scope="row">(.*?)</th>(.*?)</tr>', group):
            for name, value in re.findall(r'<td[^>]*data-label="([^"]*)">(.*?)</td>', tds):
                names.append(f"{sid}: {name}" if name == "p" else name)
                cells.append(html.unescape(re.sub(r"<[^>]+>", "", value)))
        if len(header) == 2:
            header += names
        rows[label] = cells
    return header, rows


@pytest.mark.parametrize("fmt", ["table", "md", "csv", "html"])
def test_expected_impact_rendered_only_for_numeric_rows(tmp_path, fmt):
    """Every format has an expected-impact column per scenario: p x value for numeric
    impacts, nothing for ordinal impacts or none, n/a where p is undefined."""
    header, rows = grid(render_risk_table(table(tmp_path), fmt), fmt)
    cols = [i for i, h in enumerate(header) if h.replace("_", " ").endswith("expected impact")]
    assert len(cols) == 5
    empty = "" if fmt == "csv" else "–"
    numbers = {
        "Supply shock": [0.25 * 2.5, 1.0 * 2.5, P_SHOCK_RIOTS * 2.5, 0.25 * 2.5, None],
        "Price level: extreme": [0.075 * 40, 0.3 * 40, 0.2 * 40, 0.075 * 40, None],
    }
    for label, expected in numbers.items():
        got = [rows[label][i] for i in cols]
        assert got[-1] == "n/a"
        for text, value in zip(got[:-1], expected[:-1]):
            assert float(text.split()[0]) == pytest.approx(value, rel=5e-3), (label, text)
    for label in ("Unrest", "Price level: high", "Sector outlook: up", "Sector outlook: down"):
        assert [rows[label][i] for i in cols] == [empty] * 5, label


def test_scenario_file_without_impacts_has_no_expected_impact_column(tmp_path):
    """No numeric impact in the table: no expected-impact column or note."""
    model = MODEL.replace("    impact: {value: 2.5, unit: bn USD}\n", "").replace(
        '    impact: {high: 2, extreme: {value: 40, unit: "%"}}\n', ""
    )
    (tmp_path / "rt.yaml").write_text(model)
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIOS.format(baseline="quiet"))
    t = risk_table(run_scenarios(path, include_baseline=True))
    for fmt in ("table", "md", "csv", "html"):
        assert "expected" not in render_risk_table(t, fmt).lower(), fmt


# ----------------------------------------------------------------------------- parameter draws


def drawn(tmp_path: Path, samples: int = 400, strength: float = 20.0, baseline: str = "quiet"):
    """The table of the test scenarios with ``samples`` draws at ``--strength``."""
    opts = DrawOptions(samples, seed=5, strength=strength)
    run = run_scenarios(write(tmp_path, baseline), include_baseline=True, draws=opts)
    return risk_table(run, produced=dt.date(2026, 1, 2))


def test_intervals_against_the_beta_by_hand(tmp_path):
    """With exact numbers and strength 20, P(shock) is drawn from Beta(5, 15) and, given
    the shock, P(riots) from Beta(12, 8): the cells' intervals are those Betas' 5th and
    95th percentiles (up to sampling error of 4000 draws)."""
    t = drawn(tmp_path, samples=4000)
    shock = t.rows[0].values["quiet"]
    assert shock.interval == pytest.approx(stats.beta(5, 15).ppf([0.05, 0.95]), abs=0.01)
    riots = t.rows[1].values["shocked"]
    assert riots.interval == pytest.approx(stats.beta(12, 8).ppf([0.05, 0.95]), abs=0.01)
    # seeing the shock moves P(riots) from the mixture to the shock row: a paired change
    # whose interval is computed here from the draws
    u, b = t.run.result("shocked").uncertainty, t.run.result("quiet").uncertainty
    diff = u.draws["unrest"][:, 1] - b.draws["unrest"][:, 1]
    assert riots.delta_interval == pytest.approx(np.quantile(diff, [0.05, 0.95]), abs=1e-12)


def test_cells_set_by_the_scenario_have_no_interval(tmp_path):
    """Observed and forced cells, and the cells of an impossible scenario, have neither
    interval; every other cell has both, the baseline's change being exactly [0, 0]."""
    t = drawn(tmp_path, samples=50)
    set_by_scenario = {("shocked", "shock"), ("riot_seen", "unrest"), ("riot_made", "unrest")}
    for row in t.rows:
        for sid, cell in row.values.items():
            if (sid, row.node) in set_by_scenario or sid == "broken":
                assert (cell.interval, cell.delta_interval) == (None, None), (sid, row.node)
                assert "interval" not in cell.to_json() and "delta_interval" not in cell.to_json()
            else:
                assert cell.interval is not None and cell.delta_interval is not None
                assert cell.to_json()["interval"] == list(cell.interval)
                assert cell.to_json()["delta_interval"] == list(cell.delta_interval)
        assert row.values["quiet"].delta_interval == (0.0, 0.0)
    # forcing riots cannot move the shock or the price: no change in any draw
    for row in t.rows:
        if row.node in ("shock", "price"):
            assert row.values["riot_made"].delta_interval == (0.0, 0.0)


def test_impossible_draws_are_left_out(tmp_path):
    """Draws in which a scenario's findings are impossible (NaN) count for neither its
    intervals nor the paired changes (nor the baseline's NaN draws), and the notes count
    them."""
    t = drawn(tmp_path, samples=200)
    u = t.run.result("riot_seen").uncertainty
    b = t.run.result("quiet").uncertainty
    for d in u.draws.values():
        d[:30] = np.nan
    u.evidence_probability[:30] = 0.0
    u.log_evidence[:30] = -np.inf  # what marks a draw impossible
    for d in b.draws.values():
        d[190:] = np.nan
    b.evidence_probability[190:] = 0.0
    b.log_evidence[190:] = -np.inf
    t = risk_table(t.run, produced=dt.date(2026, 1, 2))
    keep = slice(30, 190)
    for row in t.rows:
        cell = row.values["riot_seen"]
        if cell.interval is None:
            continue  # observed
        k = u.states[row.node].index(row.state)
        s_col, b_col = u.draws[row.node][:, k], b.draws[row.node][:, k]
        assert cell.interval == pytest.approx(np.quantile(s_col[30:], [0.05, 0.95]), abs=1e-15)
        paired = s_col[keep] - b_col[keep]
        assert cell.delta_interval == pytest.approx(np.quantile(paired, [0.05, 0.95]), abs=1e-12)
    assert t.draws.impossible == {"quiet": 10, "riot_seen": 30}
    text = render_risk_table(t, "table")
    assert "Scenario 'riot_seen': 30 of 200 draws make its findings impossible" in text
    assert "Scenario 'quiet': 10 of 200 draws" in text


def test_impossible_baseline_with_draws_gives_no_change_intervals(tmp_path):
    """With an impossible baseline no cell has a change, so none has a change interval;
    the probabilities keep theirs."""
    t = drawn(tmp_path, samples=50, baseline="broken")
    for row in t.rows:
        for sid, cell in row.values.items():
            assert cell.delta is None and cell.delta_interval is None
            if sid == "riot_made" and row.node != "unrest":
                assert cell.interval is not None
    header, rows = grid(render_risk_table(t, "csv"), "csv")
    col = header.index("quiet_delta_lo")
    assert {r[col] for r in rows.values()} == {"n/a"}


@pytest.mark.parametrize("fmt", ["table", "md", "html"])
def test_strength_only_spread_is_labelled(tmp_path, capsys, fmt):
    """A model of exact numbers spread only by ``--strength``: the notes say that the
    spread is the assumed pseudo-count, not the analyst's."""
    args = ["table", str(write(tmp_path)), "-f", fmt, "--samples", "40", "--seed", "2"]
    code = main([*args, "--strength", "20"])
    out, err = capsys.readouterr()
    assert code == 0, err
    out = out.replace("&#x27;", "'")
    assert "from --strength 20 only: an assumed pseudo-count around exact numbers" in out
    assert "not a spread the analyst gave" in out
    assert "40 parameter draws (seed 2)" in out
    # without --strength the same model has no spread at all, and says so
    code = main(args)
    out, _ = capsys.readouterr()
    assert "No spread: every number used is exact" in out
    assert "only:" not in out


def test_own_spread_with_strength_is_not_labelled_strength_only(tmp_path, capsys):
    """When the model has terms of its own, --strength only adds to them: no 'only' label."""
    (tmp_path / "rt.yaml").write_text(MODEL.replace("    p: 0.25\n", "    p: unlikely\n"))
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIOS.format(baseline="quiet"))
    code = main(["table", str(path), "--samples", "40", "--seed", "2", "--strength", "20"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "--strength 20 only" not in out
    assert "Spread: from the ranges of the model's terms" in out
    assert "and --strength 20 for the exact numbers" in out


def test_csv_interval_columns_only_with_draws(tmp_path):
    """With draws, each scenario gains lo, hi, delta_lo and delta_hi (plain decimals; blank
    where the scenario sets the node; n/a where undefined); without draws, none."""
    plain = render_risk_table(table(tmp_path), "csv")
    assert "_lo" not in plain and "_hi" not in plain
    t = drawn(tmp_path, samples=60)
    header, rows = grid(render_risk_table(t, "csv"), "csv")
    at = header.index("quiet_delta")
    assert header[at + 1 : at + 5] == ["quiet_lo", "quiet_hi", "quiet_delta_lo", "quiet_delta_hi"]
    assert header[at + 5 : at + 7] == ["quiet_expected_impact", "shocked_p"]
    by_label = {r.label: r for r in t.rows}
    for label, cells in rows.items():
        for sid in t.scenario_ids:
            got = [cells[header.index(f"{sid}_{k}")] for k in ("lo", "hi", "delta_lo", "delta_hi")]
            cell = by_label[label].values[sid]
            if sid == "broken":
                assert got == ["n/a"] * 4
            elif cell.finding is not None:
                assert got == [""] * 4
            else:
                assert all("e" not in x for x in got), got  # no exponents
                want = [*cell.interval, *cell.delta_interval]
                assert [float(x) for x in got] == pytest.approx(want, abs=1e-12)


def test_same_seed_same_table(tmp_path):
    """Two runs with the same seed render the same table in every format."""
    a, b = drawn(tmp_path, samples=30), drawn(tmp_path, samples=30)
    for fmt in ("table", "md", "csv", "json", "html"):
        assert render_risk_table(a, fmt) == render_risk_table(b, fmt), fmt
