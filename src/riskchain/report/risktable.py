"""Rendering of scenario runs and risk tables: terminal, Markdown, CSV, JSON, HTML."""

from __future__ import annotations

from riskchain.analysis.risktable import NRR_BAND_TEXT, Cell, DrawSummary, RiskTable, draw_summary
from riskchain.analysis.scenarios import ScenarioRun
from riskchain.report.safe import html_text, md_code, md_text, one_line
from riskchain.report.text import (
    align,
    csv_text,
    fit,
    fit_blocks,
    interval_like,
    json_text,
    markdown_table,
    pct,
    pct_in_band,
    prob,
    spans,
    wrap_text,
)
from riskchain.scales import Scale, format_range
from riskchain.spec.scenario import Scenario

RUN_FORMATS = ("table", "json", "csv", "md")
TABLE_FORMATS = ("table", "md", "csv", "json", "html")


# ----------------------------------------------------------------------------- shared text

LAYOUTS = ("auto", "wide", "long")
DEFAULT_WIDTH = 100  # characters, when the output is no terminal and $COLUMNS is unset


def _p(cell: Cell) -> str:
    """``58.0%``, or with draws ``58.0% [54.4–62.6%]``."""
    if cell.p is None:
        return "n/a"
    text = pct_in_band(cell.p, cell.range)
    if cell.interval is not None:
        text += " " + interval_like(*cell.interval, text)
    return text


def _estimate(cell: Cell, scale: Scale) -> str:
    if cell.p is None:
        return "n/a"
    if cell.finding is not None:
        return cell.finding  # set by the scenario, not estimated: no word
    text = _word(cell)
    # the word holds for p; say so when the draws allow another word too
    wide = _spans(cell, scale)
    return f"{text}; interval {wide}" if wide else text


def _word(cell: Cell) -> str:
    """The cell's term with its range, or that p falls between two terms."""
    if cell.term is None or cell.range is None:
        return "(between terms)"
    return f"{cell.term} {format_range(*cell.range)}"


def _spans(cell: Cell, scale: Scale) -> str | None:
    return spans(*cell.interval, scale) if cell.interval is not None else None


def _pp(x: float) -> str:
    """A change in percentage points, signed; ``±0.0`` for what rounds to no change."""
    pp = x * 100
    return f"{pp:+.1f}" if abs(pp) >= 0.05 else "±0.0"


def _no_change(cell: Cell) -> bool:
    """True when the change and both ends of its interval round to no change."""
    if cell.delta is None or _pp(cell.delta) != "±0.0":
        return False
    iv = cell.delta_interval
    return iv is None or (_pp(iv[0]) == "±0.0" and _pp(iv[1]) == "±0.0")


def _delta(cell: Cell, is_baseline: bool) -> str:
    if is_baseline:
        return "baseline"
    if cell.delta is None:
        return "n/a"
    text = f"{_pp(cell.delta)} pp"
    # an interval of [±0.0 to ±0.0] says nothing the ±0.0 does not
    if cell.delta_interval is not None and not _no_change(cell):
        lo, hi = cell.delta_interval
        text += f" [{_pp(lo)} to {_pp(hi)}]"
    return text


def _impact(table: RiskTable, row) -> str:
    return row.impact.label() if row.impact else "–"


def _kinds(s: Scenario) -> dict[str, tuple[str, str]]:
    """node -> (how the scenario uses it, ``node=state`` or its likelihood)."""
    out = {k: ("observed", f"{k}={v}") for k, v in s.given.items()}
    out.update({k: ("forced", f"{k}={v}") for k, v in s.do.items()})
    for k, v in s.likelihood.items():
        out[k] = ("likelihood", f"{k}~(" + ", ".join(f"{x}:{w:g}" for x, w in v.items()) + ")")
    return out


def scenario_adds(run: ScenarioRun, sid: str) -> str:
    """What scenario ``sid`` observes, forces, softens and sets.

    A scenario that extends another lists only what it adds to that one (``as
    reported, and observed: nk_troops_in_combat=yes``), and what it changes (``...
    (instead of x=no)``); a scenario that extends none lists everything, ``none``
    included, so a reader always sees whether anything was observed or forced.
    """
    s = run.file.scenarios[sid]
    f = s.findings_text()
    if len(s.chain) < 2:
        return (
            f"observed: {f['observed']}; forced: {f['forced']}; "
            f"likelihood: {f['likelihood']}; set: {f['set']}"
        )
    parent = run.file.scenarios[s.chain[1]]
    mine, theirs = _kinds(s), _kinds(parent)
    parts: dict[str, list[str]] = {"observed": [], "forced": [], "likelihood": []}
    for node, (kind, text) in mine.items():
        old = theirs.get(node)
        if old == (kind, text):
            continue
        if old is not None:
            text += f" (instead of {old[1]})" if old[0] == kind else f" (instead of {old[0]})"
        parts[kind].append(text)
    items = [f"{kind}: {', '.join(v)}" for kind, v in parts.items() if v]
    own = [n for n, x in s.sets.items() if len(x) > len(parent.sets.get(n, ()))]
    if own:
        items.append(f"set: {', '.join(own)}")
    if not items:
        return f"as {parent.id}, nothing added"
    return f"as {parent.id}, and " + "; ".join(items)


def _scenario_lines(run: ScenarioRun) -> list[tuple[str, list[str]]]:
    """(scenario id, lines) describing each scenario: its description, what it adds
    to the scenario it extends, and P(evidence); each one line of plain text."""
    out = []
    for res in run.results:
        s = res.scenario
        lines = [(s.description or "(no description)").strip(), scenario_adds(run, s.id)]
        if res.posteriors is None:
            lines.append(f"IMPOSSIBLE EVIDENCE: {res.impossible}")
        else:
            lines.append(f"P(evidence) = {prob(res.evidence_probability, res.log_evidence)}")
        out.append((one_line(s.id), [one_line(x) for x in lines]))
    return out


def _notes(table: RiskTable, seed: bool = True) -> list[str]:
    scale = table.scale
    notes = [
        "p: probability that the outcome happens within the horizon: "
        f"{table.run.model.spec.horizon or 'not stated'}.",
        f"Estimate: the {scale.title} term whose band holds p, with its range"
        + ("; values in the scale's gaps get no term." if not scale.contiguous else "."),
        f"Δ: change against the baseline scenario '{table.run.baseline}', in percentage points; "
        "n/a where a scenario's findings are impossible under the model.",
        "Observed (given) findings are conditioned on; forced (do) nodes are set by intervention, "
        "which cuts their incoming arrows. An outcome a scenario observes or forces is "
        "labelled so, and gets no estimative word.",
        "Impact: UK National Risk Register level (1 Minor ... 5 Catastrophic) or a value with its unit; "
        "shown beside probability, never multiplied by an ordinal level.",
    ]
    if table.bands:
        notes.append(
            "NRR band: the NRR's logarithmic likelihood band (1 <0.2%, 2 0.2–1%, 3 1–5%, 4 5–25%, 5 >25%), applied to this model's horizon."
        )
    if any(r.impact and r.impact.numeric for r in table.rows):
        notes.append("Expected impact: p × the impact value (only for numeric impacts).")
    if table.draws is not None:
        notes += _draw_notes(table.draws, table.run.baseline, seed)
    return notes


def _draw_notes(d: DrawSummary, baseline: str, seed: bool = True) -> list[str]:
    """The risk table's notes on its intervals: what they are and what they rest on."""
    notes = [
        f"Intervals: p [lo–hi] holds the central {d.level * 100:g}% of p across {d.samples} "
        f"parameter draws{f' (seed {d.seed})' if seed else ''}, each draw solved exactly; "
        "p itself uses the numbers as written, so it need not be at the interval's centre. "
        "Observed and forced cells have no interval.",
        f"Δ [lo to hi]: every scenario is solved on the same draws, so this is the interval of "
        f"the paired change (the scenario minus '{baseline}', draw by draw), which leaves out "
        "the spread both share. A change that rounds to ±0.0 in every draw shows no interval.",
        "'Interval spans A to B': the interval's ends fall under different terms; the term "
        "given is the one for p.",
        # the note says where the spread comes from, or that there is none
        f"Spread: {d.note}." if not d.note.startswith("no spread") else f"No{d.note[2:]}.",
    ]
    notes += [
        f"Scenario '{sid}': {n} of {d.samples} draws make its findings impossible and are left out."
        for sid, n in d.impossible.items()
    ]
    return notes


def _header(table: RiskTable) -> list[str]:
    spec = table.run.model.spec
    title = table.run.file.title or spec.title
    return [
        f"{title} — risk table",
        f"model: {spec.id} ({table.run.file.model_source()}) · horizon: "
        f"{spec.horizon or 'not stated'}",
        f"produced: {table.produced.isoformat()} · scenarios: {table.run.file.path} · "
        f"baseline: {table.run.baseline} · scale: {table.scale.name}",
    ]


def _keep(scale: Scale, ranges: bool = True) -> list[str]:
    """Phrases a line break must not split: each term (with its range, unless a narrow
    cell may put the range on the next line) and 'x: none'."""
    nothing = [f"{k}: none" for k in ("forced", "likelihood", "set")]
    labels = [b.label() for b in scale.bands] if ranges else []
    return labels + [b.term for b in scale.bands] + nothing


# ----------------------------------------------------------------------------- risk table


def render_risk_table(
    table: RiskTable, fmt: str = "table", layout: str = "auto", width: int = DEFAULT_WIDTH
) -> str:
    """Render a :class:`RiskTable` as ``table``, ``md``, ``csv``, ``json`` or ``html``.

    Parameters
    ----------
    table : RiskTable
        The risk table.
    fmt : str
        ``table`` (plain text), ``md``, ``csv``, ``json`` or ``html``.
    layout : {"auto", "wide", "long"}
        For ``table`` and ``md``: ``wide`` is one row per outcome and one column group
        per scenario; ``long`` one block per outcome with a row per scenario; ``auto``
        is ``wide`` when its plain-text table fits in ``width`` characters, else ``long``.
        CSV and JSON are always wide; HTML has its own layout.
    width : int
        The width to fit, in characters (the terminal's): prose is wrapped to it, and
        in the long layout a cell too wide for it is wrapped onto further lines.

    Returns
    -------
    str
        The rendered text, ending in a newline.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")
    if fmt == "json":
        return json_text(table.to_json())
    if fmt == "csv":
        return _csv(table)
    if fmt == "html":
        return _html(table)
    header, body, right = _wide(table)
    if layout == "auto":
        layout = (
            "wide" if max(len(x) for x in align(body, header, right=right)) <= width else "long"
        )
    if fmt == "md":
        return _markdown(table, header, body, right, layout)
    return _text(table, header, body, right, layout, width)


def _wide(table: RiskTable) -> tuple[list[str], list[list[str]], list[int]]:
    """Header, rows and right-aligned columns of the wide layout."""
    ids = table.scenario_ids
    base = table.run.baseline
    numeric = any(r.impact and r.impact.numeric for r in table.rows)
    header = ["outcome", "impact"]
    for sid in ids:
        header += [f"{sid}: p", "estimate", "Δ"]
        if table.bands:
            header.append("NRR band")
        if numeric:
            header.append("expected impact")
    body = []
    for row in table.rows:
        line = [row.label, _impact(table, row)]
        for sid in ids:
            line += _cells(table, row, sid, sid == base, numeric)
        body.append(line)
    right = [i for i, h in enumerate(header) if h.endswith(": p") or h == "Δ"]
    return header, body, right


def _cells(table: RiskTable, row, sid: str, is_base: bool, numeric: bool) -> list[str]:
    """One scenario's cells of one outcome: p, estimate, Δ (NRR band, expected impact)."""
    cell = row.values[sid]
    out = [_p(cell), _estimate(cell, table.scale), _delta(cell, is_base)]
    if table.bands:
        out.append(f"{cell.band} ({NRR_BAND_TEXT[cell.band]})" if cell.band else "n/a")
    if numeric:
        out.append(_expected(cell, row))
    return out


def _long_blocks(table: RiskTable):
    """(row, header, rows, right) of each outcome's block in the long layout."""
    numeric = any(r.impact and r.impact.numeric for r in table.rows)
    header = ["scenario", "p [interval]" if table.draws is not None else "p", "estimate", "Δ"]
    if table.bands:
        header.append("NRR band")
    if numeric:
        header.append("expected impact")
    for row in table.rows:
        rows = []
        for sid in table.scenario_ids:
            cells = _cells(table, row, sid, sid == table.run.baseline, numeric)
            cell = row.values[sid]
            wide = _spans(cell, table.scale) if cell.p is not None and not cell.finding else None
            if wide:  # the interval's words go under the row, where there is room
                cells[1] = _word(cell)
            rows.append([sid, *cells, f"interval {wide}" if wide else ""])
        yield row, header, rows, [1, 3]


def _block_head(row) -> str:
    impact = f" · impact: {row.impact.label()}" if row.impact else ""
    return f"{row.node} = {row.state}{impact}"


def _text(table: RiskTable, header, body, right, layout: str, width: int) -> str:
    keep = _keep(table.scale)
    out = [x for line in _header(table) for x in wrap_text(line, width)]
    out += ["", "scenarios:"]
    scen = _scenario_lines(table.run)
    pad = max(len(sid) for sid, _ in scen)
    for sid, lines in scen:
        first = f"  {sid.ljust(pad)}  "
        for k, text in enumerate(lines):
            lead = first if k == 0 else " " * len(first)
            out += wrap_text(text, width, lead, " " * (len(first) + 2), keep=keep)
    out.append("")
    if layout == "wide":
        out += [*align(body, header, right=right), ""]
    else:
        blocks = list(_long_blocks(table))
        head, rcols = blocks[0][1], blocks[0][3]
        cells = _keep(table.scale, ranges=False)  # a word's range may go under it
        lines = fit_blocks([b[2] for b in blocks], head, width, rcols, (1, 3, 2), "  ", cells)
        for (row, *_), block in zip(blocks, lines):
            out += wrap_text(row.label, width)
            out += wrap_text(_block_head(row), width, "  ")
            out += [*block, ""]
    for note in _notes(table):
        out += wrap_text(note, width, "* ", "  ", keep=keep)
    return "\n".join(out) + "\n"


def _markdown(table: RiskTable, header, body, right, layout: str) -> str:
    head = [md_text(x) for x in _header(table)]
    out = [f"## {head[0]}", "", *[f"{x}  " for x in head[1:]], "", "**Scenarios**", ""]
    out += _scenarios_md(table.run)
    out.append("")
    if layout == "wide":
        out += [*markdown_table(body, header, right=right), ""]
    else:
        numeric = any(r.impact and r.impact.numeric for r in table.rows)
        for row, head_, rows, rcols in _long_blocks(table):
            impact = f" · impact: {md_text(row.impact.label())}" if row.impact else ""
            code = md_code(f"{row.node} = {row.state}")
            out += [f"**{md_text(row.label)}** — {code}{impact}", ""]
            # Markdown cells wrap where they are shown: the estimate keeps its interval note
            full = [
                [r[0], *_cells(table, row, r[0], r[0] == table.run.baseline, numeric)] for r in rows
            ]
            out += [*markdown_table(full, head_, right=rcols), ""]
    out += [f"- {md_text(n)}" for n in _notes(table)]
    return "\n".join(out) + "\n"


def _scenarios_md(run: ScenarioRun) -> list[str]:
    """The scenario lines as a Markdown list: each id in bold, then what it is."""
    out = []
    for sid, lines in _scenario_lines(run):
        out.append(f"- **{md_text(sid)}** — {md_text(lines[0])}  ")
        out += [f"  {md_text(x)}  " for x in lines[1:]]
    return out


def _expected(cell: Cell, row) -> str:
    if cell.expected_impact is None:
        return "–" if not (row.impact and row.impact.numeric) else "n/a"
    unit = f" {row.impact.unit}" if row.impact.unit else ""
    return f"{cell.expected_impact:.3g}{unit}"


def _fixed(x: float) -> str:
    """A number in plain decimal notation (no exponent), up to 12 decimals."""
    text = f"{x:.12f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _csv(table: RiskTable) -> str:
    ids = table.scenario_ids
    numeric = any(r.impact and r.impact.numeric for r in table.rows)
    drawn = table.draws is not None
    header = ["node", "state", "label", "impact"]
    for sid in ids:
        header += [f"{sid}_p", f"{sid}_term", f"{sid}_range", f"{sid}_finding", f"{sid}_delta"]
        if drawn:
            header += [f"{sid}_lo", f"{sid}_hi", f"{sid}_delta_lo", f"{sid}_delta_hi"]
        if table.bands:
            header.append(f"{sid}_nrr_band")
        if numeric:
            header.append(f"{sid}_expected_impact")
    rows = []
    for row in table.rows:
        line: list[object] = [
            row.node,
            row.state,
            row.label,
            row.impact.label() if row.impact else "",
        ]
        for sid in ids:
            c = row.values[sid]
            line += [
                f"{c.p:.10g}" if c.p is not None else "n/a",
                c.term or "",
                f"{c.range[0]:g}-{c.range[1]:g}" if c.range else "",
                c.finding or "",  # observed or forced: set by the scenario, no term
                _fixed(c.delta) if c.delta is not None else "n/a",
            ]
            if drawn:
                line += [*_csv_pair(c, c.interval, c.p), *_csv_pair(c, c.delta_interval, c.delta)]
            if table.bands:
                line.append(c.band if c.band is not None else "n/a")
            if numeric:
                line.append(
                    f"{c.expected_impact:.10g}"
                    if c.expected_impact is not None
                    else ("n/a" if row.impact and row.impact.numeric else "")
                )
        rows.append(line)
    return csv_text(rows, header)


def _csv_pair(c: Cell, pair: tuple[float, float] | None, value: float | None) -> tuple[str, str]:
    """An interval's ends for CSV: blank for observed/forced cells (no interval), n/a
    where the value or the interval is undefined."""
    if c.finding is not None and value is not None:
        return ("", "")
    if pair is None:
        return ("n/a", "n/a")
    return (_fixed(pair[0]), _fixed(pair[1]))


# shading of the estimate cells, lighter to darker as the band's probability rises; black
# text keeps a contrast of at least 9:1 on the darkest (WCAG AA asks for 4.5:1)
SHADES = ("#f5f9fc", "#e6f0f8", "#d4e5f3", "#c2daee", "#aecde6", "#9ac0df", "#86b3d8")

RISK_CSS = (
    """
table.risk{border-collapse:collapse;margin:.4rem 0 .6rem;font-size:.9rem;max-width:100%}
table.risk caption{caption-side:top;text-align:left;font-weight:600;padding:.3rem 0}
table.risk th,table.risk td{border-bottom:1px solid #ccc;padding:.22rem .6rem;
  vertical-align:top;text-align:left}
table.risk thead th{background:#eee;border-bottom:2px solid #888;border-top:1px solid #ccc}
table.risk th[scope=rowgroup]{background:#f6f6f6;padding-top:.6rem}
table.risk th[scope=rowgroup] .id{font-weight:normal;color:#555;font-size:.85em}
table.risk th[scope=row]{font-weight:normal}
table.risk td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.risk .iv{color:#555}
table.risk td.quiet{color:#666}
table.risk td.finding{font-style:italic}
table.risk sup{line-height:0} table.risk sup a{text-decoration:none}
table.risk thead th.num{text-align:right}
table.risk td.band{print-color-adjust:exact;-webkit-print-color-adjust:exact}
p.footnote{font-size:.85rem;margin:.1rem 0}
"""
    + "".join(f"table.risk td.b{k}{{background:{c}}}\n" for k, c in enumerate(SHADES))
    + """
@media (max-width:640px){
  table.risk,table.risk caption,table.risk tbody,table.risk tr,table.risk th,table.risk td{
    display:block}
  table.risk thead{display:none}
  table.risk tr{display:flex;flex-wrap:wrap;border-bottom:1px solid #ccc}
  table.risk th,table.risk td{border:0;box-sizing:border-box}
  table.risk th[scope=row]{flex:1 0 100%;font-weight:600;overflow-wrap:anywhere}
  table.risk td{flex:1 1 auto}
  table.risk td.num{text-align:left;white-space:normal}
  table.risk td::before{content:attr(data-label) ": ";color:#555;font-size:.8em;font-style:normal}
}
@media print{table.risk{font-size:9pt} table.risk tbody{break-inside:avoid}}
"""
)

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;color:#111;margin:1.5rem auto;
  max-width:1100px;padding:0 1rem;line-height:1.4}
.meta{color:#333;margin:.15rem 0}
dd{margin-left:1.5rem}
@page{size:A4 landscape;margin:12mm}
@media print{body{margin:0;max-width:none;padding:0}}
"""


def _html(table: RiskTable) -> str:
    e = html_text
    head = _header(table)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(head[0])}</title>",
        f"<style>{_CSS}{RISK_CSS}</style></head><body>",
        f"<h1>{e(head[0])}</h1>",
        *[f'<p class="meta">{e(x)}</p>' for x in head[1:]],
        "<h2>Scenarios</h2>",
        scenarios_html(table.run),
        "<h2>Risk table</h2>",
        risk_table_html(table),
        "<h2>Notes</h2>",
        notes_html(table),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def scenarios_html(run: ScenarioRun) -> str:
    """The scenario definitions (what each adds to the one it extends) as an HTML list."""
    e = html_text
    parts = ["<dl>"]
    for sid, lines in _scenario_lines(run):
        parts.append(f"<dt><b>{e(sid)}</b></dt><dd>{'<br>'.join(e(x) for x in lines)}</dd>")
    parts.append("</dl>")
    return "\n".join(parts)


def notes_html(table: RiskTable, seed: bool = True) -> str:
    """The risk table's notes (how to read it) as an HTML list; ``seed=False`` leaves the
    seed out (a report prints it once, at the top)."""
    notes = _notes(table, seed)
    return "<ul>\n" + "\n".join(f"<li>{html_text(n)}</li>" for n in notes) + "\n</ul>"


def _shade(table: RiskTable, cell: Cell) -> int | None:
    """The shade of a cell's band (None outside every band)."""
    bands = [b.term for b in table.scale.bands]
    if cell.term not in bands:
        return None
    k = bands.index(cell.term)
    return round(k * (len(SHADES) - 1) / max(len(bands) - 1, 1))


def risk_table_html(table: RiskTable) -> str:
    """The risk table as an HTML ``<table>`` (no document around it), and its footnotes.

    One group of rows per outcome, one row per scenario: p (with its interval), the
    estimate (the cell shaded by its term's band), and the change against the baseline
    (``no change`` in grey). Where an interval spans two terms, a numbered footnote says
    so. On narrow screens each row wraps into a block of labelled values.
    """
    e = html_text
    ids = table.scenario_ids
    base = table.run.baseline
    numeric = any(r.impact and r.impact.numeric for r in table.rows)
    heads = [("Scenario", None), ("p", "p"), (f"Estimate ({table.scale.name})", "estimate"),
             (f"Δ vs {base}", "Δ")]  # fmt: skip
    if table.bands:
        heads.append(("NRR band", "NRR band"))
    if numeric:
        heads.append(("Expected impact", "expected impact"))
    caption = (
        f"Each outcome under each scenario: its probability, the {table.scale.name} term "
        f"whose range holds it, and its change against '{base}' in percentage points"
        + (f"; intervals from {table.draws.samples} parameter draws" if table.draws else "")
        + "."
    )
    parts = [
        '<table class="risk">',
        f"<caption>{e(caption)}</caption>",
        "<thead><tr>"
        + "".join(
            f'<th scope="col"{"" if k == 2 else cls}>{e(h)}</th>'
            for k, (h, _) in enumerate(heads)
            for cls in [' class="num"' if k else ""]
        )
        + "</tr></thead>",
    ]
    notes: dict[str, int] = {}
    for row in table.rows:
        impact = f" · impact {e(row.impact.label())}" if row.impact else ""
        parts.append(
            f'<tbody><tr><th scope="rowgroup" colspan="{len(heads)}">{e(row.label)} '
            f'<span class="id">{e(row.node)} = {e(row.state)}{impact}</span></th></tr>'
        )
        for sid in ids:
            c = row.values[sid]
            cells = [_p_html(c), _estimate_html(table, c, notes), _delta_html(c, sid == base)]
            if table.bands:
                cells.append(('class="num"', str(c.band) if c.band else "n/a"))
            if numeric:
                cells.append(('class="num"', e(_expected(c, row))))
            tds = "".join(
                f'<td {attrs} data-label="{e(label)}">{text}</td>'
                for (attrs, text), (_, label) in zip(cells, heads[1:])
            )
            parts.append(f'<tr><th scope="row">{e(sid)}</th>{tds}</tr>')
        parts.append("</tbody>")
    parts.append("</table>")
    parts += [
        f'<p class="footnote" id="rt-note-{k}"><sup>{k}</sup> The interval {e(text)}; the '
        "term given is the one for p.</p>"
        for text, k in notes.items()
    ]
    return "\n".join(parts)


def _p_html(c: Cell) -> tuple[str, str]:
    if c.p is None:
        return 'class="num quiet"', "n/a"
    text = pct_in_band(c.p, c.range)
    if c.interval is None:
        return 'class="num"', html_text(text)
    iv = interval_like(*c.interval, text)
    return 'class="num"', f'{html_text(text)} <span class="iv">{html_text(iv)}</span>'


def _estimate_html(table: RiskTable, c: Cell, notes: dict[str, int]) -> tuple[str, str]:
    if c.p is None:
        return 'class="quiet"', "n/a"
    if c.finding is not None:
        return 'class="finding"', html_text(c.finding)
    shade = _shade(table, c)
    attrs = f'class="band b{shade}"' if shade is not None else 'class="quiet"'
    text = html_text(_word(c))
    wide = _spans(c, table.scale)
    if wide:
        k = notes.setdefault(wide, len(notes) + 1)
        text += f' <sup><a href="#rt-note-{k}" aria-label="note {k}">{k}</a></sup>'
    return attrs, text


def _delta_html(c: Cell, is_base: bool) -> tuple[str, str]:
    if is_base:
        return 'class="num quiet"', "baseline"
    if c.delta is None:
        return 'class="num quiet"', "n/a"
    if _no_change(c):
        return 'class="num quiet"', "no change"
    text = f"{_pp(c.delta)} pp"
    if c.delta_interval is None:
        return 'class="num"', html_text(text)
    lo, hi = c.delta_interval
    iv = f"[{_pp(lo)} to {_pp(hi)}]"
    return 'class="num"', f'{html_text(text)} <span class="iv">{html_text(iv)}</span>'


# ----------------------------------------------------------------------------- run


def render_run(
    run: ScenarioRun, fmt: str = "table", scale: Scale | None = None, width: int = DEFAULT_WIDTH
) -> str:
    """Render every scenario's posteriors (``riskchain run``).

    Parameters
    ----------
    run : ScenarioRun
        The scenarios' results; with parameter draws, each probability gets its
        interval (``p [lo–hi]``; CSV: ``lo``, ``hi`` and ``mean`` columns) and the
        output ends with what the intervals rest on.
    fmt : str
        ``table``, ``md``, ``csv`` or ``json``.
    scale : Scale, optional
        The scale of estimative terms (default ICD 203).
    width : int
        ``table``: the width to fit, in characters; prose is wrapped to it, and so are
        estimates too wide for it.

    Returns
    -------
    str
        The rendered text, ending in a newline.

    Notes
    -----
    An outcome a scenario observes or forces is labelled ``observed`` or ``forced``
    (CSV: the ``finding`` column), never given a word. Estimative words go to a binary
    node's ``yes`` (else second) state and to every state of a graded node.
    """
    from riskchain.report.query import reported_state
    from riskchain.scales import DEFAULT_SCALE

    scale = scale or DEFAULT_SCALE
    if fmt == "json":
        return json_text(run.to_json())
    spec = run.model.spec
    draws = draw_summary(run)
    rows = []
    for res in run.results:
        u = res.uncertainty
        s = res.scenario
        for node in run.targets:
            states = spec.nodes[node].states
            # as in query: a node the scenario observes or forces gets no word, no interval
            finding = "observed" if node in s.given else "forced" if node in s.do else ""
            worded = set(states) if len(states) > 2 else {reported_state(states)}
            for state in states:
                p = res.posteriors[node][state] if res.posteriors is not None else None
                est = ""
                shown = pct(p) if p is not None else "n/a"
                if p is not None and finding:
                    est = finding if p == 1 else ""
                elif p is not None and state in worded:
                    band = scale.classify(p)
                    est = band.label() if band else "(between terms)"
                    # never 80.0% beside likely [55–80%]: as many decimals as the band needs
                    shown = pct_in_band(p, band.output_range() if band else None)
                lo = hi = mean = None
                note = ""
                if u is not None:
                    lo, hi = u.interval(node, state)
                    mean = u.mean(node, state)
                    if not finding:
                        shown += " " + interval_like(lo, hi, shown)
                        wide = spans(lo, hi, scale) if est else None
                        note = f"interval {wide}" if wide else ""
                rows.append(
                    {
                        "sid": res.id,
                        "node": node,
                        "state": state,
                        "p": p,
                        "est": est,
                        "shown": shown,
                        "lo": lo,
                        "hi": hi,
                        "mean": mean,
                        "finding": finding,
                        "note": note,  # where the interval's ends fall under other words
                    }
                )
    if fmt == "csv":
        extra = ["lo", "hi", "mean"] if draws is not None else []
        return csv_text(
            [
                [
                    r["sid"],
                    r["node"],
                    r["state"],
                    *(_g(r[k]) for k in ["p", *extra]),
                    "; ".join(x for x in (r["est"], r["note"]) if x),
                    r["finding"],
                ]
                for r in rows
            ],
            ["scenario", "node", "state", "p", *extra, "estimate", "finding"],
        )
    body = []
    last = (None, None)
    for r in rows:
        sid, node = r["sid"], r["node"]
        body.append([
            sid if sid != last[0] else "",
            node if (sid, node) != last else "",
            r["state"],
            r["shown"],
            r["est"],
            r["note"],
        ])  # fmt: skip
        last = (sid, node)
    header = [
        "scenario",
        "node",
        "state",
        "p [interval]" if draws is not None else "p",
        f"estimate ({scale.name})",
    ]
    scen = _scenario_lines(run)
    title = f"{spec.title} ({spec.id}) · horizon: {spec.horizon or 'not stated'}"
    notes = _run_draw_lines(draws) if draws is not None else []
    if fmt == "md":
        out = [f"**{md_text(title)}**", "", *_scenarios_md(run)]
        md = [[*r[:4], "; ".join(x for x in r[4:] if x)] for r in body]
        out += ["", *markdown_table(md, header, right=[3])]
        if notes:
            out += ["", *[f"- {md_text(x)}" for x in notes]]
        return "\n".join(out) + "\n"
    keep = _keep(scale)
    out = [*wrap_text(title, width), ""]
    pad = max(len(sid) for sid, _ in scen)
    for sid, lines in scen:
        first = f"{sid.ljust(pad)}  "
        for k, text in enumerate(lines):
            lead = first if k == 0 else " " * len(first)
            out += wrap_text(text, width, lead, " " * (len(first) + 2), keep=keep)
    cells = _keep(scale, ranges=False)  # a word's range may go under it, in its cell
    out += ["", *fit(body, header, width, right=[3], wrap=(4, 3, 1), keep=cells)]
    if notes:
        out += ["", *[x for n in notes for x in wrap_text(n, width, keep=keep)]]
    return "\n".join(out) + "\n"


def _g(x: float | None) -> str:
    """A probability for CSV (10 significant digits); n/a where undefined."""
    return "n/a" if x is None or x != x else f"{x:.10g}"


def _run_draw_lines(d: DrawSummary) -> list[str]:
    """Footer of ``run`` with draws, in the words of ``query``'s."""
    out = [
        f"intervals: central {d.level * 100:g}% of {d.samples} parameter draws (seed {d.seed}), "
        "each solved exactly; every scenario is answered on the same draws",
        f"spread: {d.note}",
    ]
    out += [
        f"scenario '{sid}': {n} of {d.samples} draws make its findings impossible and are left out"
        for sid, n in d.impossible.items()
    ]
    return out
