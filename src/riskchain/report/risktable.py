"""Rendering of scenario runs and risk tables: terminal, Markdown, CSV, JSON, HTML."""

from __future__ import annotations

import html

from riskchain.analysis.risktable import NRR_BAND_TEXT, Cell, DrawSummary, RiskTable, draw_summary
from riskchain.analysis.scenarios import ScenarioRun
from riskchain.report.text import (
    align,
    csv_text,
    interval_like,
    json_text,
    markdown_table,
    pct,
    pct_in_band,
    prob,
    spans,
)
from riskchain.scales import Scale, format_range

RUN_FORMATS = ("table", "json", "csv", "md")
TABLE_FORMATS = ("table", "md", "csv", "json", "html")


# ----------------------------------------------------------------------------- shared text


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
    if cell.term is None or cell.range is None:
        text = "(between terms)"
    else:
        text = f"{cell.term} {format_range(*cell.range)}"
    # the word holds for p; say so when the draws allow another word too
    wide = spans(*cell.interval, scale) if cell.interval is not None else None
    return f"{text}; interval {wide}" if wide else text


def _pp(x: float) -> str:
    """A change in percentage points, signed; ``±0.0`` for what rounds to no change."""
    pp = x * 100
    return f"{pp:+.1f}" if abs(pp) >= 0.05 else "±0.0"


def _delta(cell: Cell, is_baseline: bool) -> str:
    if is_baseline:
        return "baseline"
    if cell.delta is None:
        return "n/a"
    text = f"{_pp(cell.delta)} pp"
    if cell.delta_interval is not None:
        lo, hi = cell.delta_interval
        text += f" [{_pp(lo)} to {_pp(hi)}]"
    return text


def _impact(table: RiskTable, row) -> str:
    return row.impact.label() if row.impact else "–"


def _scenario_lines(run: ScenarioRun) -> list[tuple[str, list[str]]]:
    """(scenario id, lines) describing each scenario: what it observed, forced, set."""
    out = []
    for res in run.results:
        s = res.scenario
        f = s.findings_text()
        head = s.description or "(no description)"
        if len(s.chain) > 1:
            head += f" (extends {s.chain[1]})"
        lines = [head.strip()]
        lines.append(
            f"observed: {f['observed']}; forced: {f['forced']}; likelihood: {f['likelihood']}; set: {f['set']}"
        )
        if res.posteriors is None:
            lines.append(f"IMPOSSIBLE EVIDENCE: {res.impossible}")
        else:
            lines.append(f"P(evidence) = {prob(res.evidence_probability)}")
        out.append((s.id, lines))
    return out


def _notes(table: RiskTable) -> list[str]:
    scale = table.scale
    notes = [
        f"p: probability that the outcome happens within the horizon ({table.run.model.spec.horizon or 'not stated'}).",
        f"Estimate: the {scale.title} term whose band holds p, with its range"
        + ("; values in the scale's gaps get no term." if not scale.contiguous else "."),
        f"Δ: change against the baseline scenario '{table.run.baseline}', in percentage points; "
        "n/a where a scenario's findings are impossible under the model.",
        "Observed (given) findings are conditioned on; forced (do) nodes are set by intervention, "
        "which cuts their incoming arrows.",
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
        notes += _draw_notes(table.draws, table.run.baseline)
    return notes


def _draw_notes(d: DrawSummary, baseline: str) -> list[str]:
    """The risk table's notes on its intervals: what they are and what they rest on."""
    notes = [
        f"Intervals: p [lo–hi] holds the central {d.level * 100:g}% of p across {d.samples} "
        f"parameter draws (seed {d.seed}), each draw solved exactly; p itself uses the numbers "
        "as written, so it need not be at the interval's centre. Observed and forced cells "
        "have no interval.",
        f"Δ [lo to hi]: every scenario is solved on the same draws, so this is the interval of "
        f"the paired change (the scenario minus '{baseline}', draw by draw), which leaves out "
        "the spread both share.",
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
        f"model: {spec.id} ({table.run.file.model_path}) · horizon: {spec.horizon or 'not stated'}",
        f"produced: {table.produced.isoformat()} · scenarios: {table.run.file.path} · "
        f"baseline: {table.run.baseline} · scale: {table.scale.name}",
    ]


# ----------------------------------------------------------------------------- risk table


def render_risk_table(table: RiskTable, fmt: str = "table") -> str:
    """Render a :class:`RiskTable` as ``table``, ``md``, ``csv``, ``json`` or ``html``."""
    if fmt == "json":
        return json_text(table.to_json())
    if fmt == "csv":
        return _csv(table)
    if fmt == "html":
        return _html(table)
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
            cell = row.values[sid]
            line += [_p(cell), _estimate(cell, table.scale), _delta(cell, sid == base)]
            if table.bands:
                line.append(f"{cell.band} ({NRR_BAND_TEXT[cell.band]})" if cell.band else "n/a")
            if numeric:
                line.append(_expected(cell, row))
        body.append(line)
    right = [i for i, h in enumerate(header) if h.endswith(": p") or h == "Δ"]
    scen = _scenario_lines(table.run)
    if fmt == "md":
        head = _header(table)
        out = [f"## {head[0]}", "", *[f"{x}  " for x in head[1:]], "", "**Scenarios**", ""]
        for sid, lines in scen:
            out.append(f"- **{sid}** — {lines[0]}  ")
            out += [f"  {x}  " for x in lines[1:]]
        out += ["", *markdown_table(body, header, right=right), ""]
        out += [f"- {n}" for n in _notes(table)]
        return "\n".join(out) + "\n"
    out = [*_header(table), "", "scenarios:"]
    width = max(len(sid) for sid, _ in scen)
    for sid, lines in scen:
        out.append(f"  {sid.ljust(width)}  {lines[0]}")
        out += [f"  {' ' * width}  {x}" for x in lines[1:]]
    out += ["", *align(body, header, right=right), ""]
    out += [f"* {n}" for n in _notes(table)]
    return "\n".join(out) + "\n"


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
        header += [f"{sid}_p", f"{sid}_term", f"{sid}_range", f"{sid}_delta"]
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


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;color:#111;margin:1.5rem}
table{border-collapse:collapse;font-size:.9rem}
th,td{border:1px solid #999;padding:.25rem .5rem;vertical-align:top}
th{background:#eee}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td.na{color:#666;font-style:italic}
.meta{color:#333}
"""


def _html(table: RiskTable) -> str:
    e = html.escape
    head = _header(table)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(head[0])}</title>",
        f"<style>{_CSS}</style></head><body>",
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
    """The scenario definitions (what each observed, forced, set) as an HTML list."""
    e = html.escape
    parts = ["<dl>"]
    for sid, lines in _scenario_lines(run):
        parts.append(f"<dt><b>{e(sid)}</b></dt><dd>{'<br>'.join(e(x) for x in lines)}</dd>")
    parts.append("</dl>")
    return "\n".join(parts)


def notes_html(table: RiskTable) -> str:
    """The risk table's notes (how to read it) as an HTML list."""
    return "<ul>\n" + "\n".join(f"<li>{html.escape(n)}</li>" for n in _notes(table)) + "\n</ul>"


def risk_table_html(table: RiskTable) -> str:
    """The risk table itself as an HTML ``<table>`` (no document around it)."""
    e = html.escape
    ids = table.scenario_ids
    base = table.run.baseline
    parts = ["<table><thead><tr><th rowspan=2>Outcome</th><th rowspan=2>Impact</th>"]
    numeric = any(r.impact and r.impact.numeric for r in table.rows)
    sub = 3 + (1 if table.bands else 0) + (1 if numeric else 0)
    parts += [f"<th colspan={sub}>{e(sid)}</th>" for sid in ids]
    parts.append("</tr><tr>")
    for _ in ids:
        parts.append(
            "<th>p</th><th>estimate</th><th>Δ</th>"
            + ("<th>NRR band</th>" if table.bands else "")
            + ("<th>expected impact</th>" if numeric else "")
        )
    parts.append("</tr></thead><tbody>")
    for row in table.rows:
        parts.append(f"<tr><td>{e(row.label)}</td><td>{e(_impact(table, row))}</td>")
        for sid in ids:
            c = row.values[sid]
            na = ' class="na"' if c.p is None else ' class="num"'
            parts.append(
                f"<td{na}>{e(_p(c))}</td><td>{e(_estimate(c, table.scale))}</td>"
                f'<td class="num">{e(_delta(c, sid == base))}</td>'
            )
            if table.bands:
                parts.append(f'<td class="num">{c.band if c.band else "n/a"}</td>')
            if numeric:
                parts.append(f'<td class="num">{e(_expected(c, row))}</td>')
        parts.append("</tr>")
    parts.append("</tbody></table>")
    return "\n".join(parts)


# ----------------------------------------------------------------------------- run


def render_run(run: ScenarioRun, fmt: str = "table", scale: Scale | None = None) -> str:
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

    Returns
    -------
    str
        The rendered text, ending in a newline.
    """
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
            # as in query: a node the scenario observes or forces gets no interval in text
            finding = node in s.given or node in s.do
            for state in states:
                p = res.posteriors[node][state] if res.posteriors is not None else None
                est = ""
                if (
                    p is not None
                    and state in spec.nodes[node].outcome_states()
                    and len(states) == 2
                ):
                    band = scale.classify(p)
                    est = band.label() if band else ""
                shown = pct(p) if p is not None else "n/a"
                lo = hi = mean = None
                if u is not None:
                    lo, hi = u.interval(node, state)
                    mean = u.mean(node, state)
                    if not finding:
                        shown += " " + interval_like(lo, hi, shown)
                        wide = spans(lo, hi, scale) if est else None
                        if wide:
                            est += f"; interval {wide}"
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
                    }
                )
    if fmt == "csv":
        extra = ["lo", "hi", "mean"] if draws is not None else []
        return csv_text(
            [
                [r["sid"], r["node"], r["state"], *(_g(r[k]) for k in ["p", *extra]), r["est"]]
                for r in rows
            ],
            ["scenario", "node", "state", "p", *extra, "estimate"],
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
        out = [f"**{title}**", ""]
        for sid, lines in scen:
            out.append(f"- **{sid}** — {lines[0]}  ")
            out += [f"  {x}  " for x in lines[1:]]
        out += ["", *markdown_table(body, header, right=[3])]
        if notes:
            out += ["", *[f"- {x}" for x in notes]]
        return "\n".join(out) + "\n"
    out = [title, ""]
    width = max(len(sid) for sid, _ in scen)
    for sid, lines in scen:
        out.append(f"{sid.ljust(width)}  {lines[0]}")
        out += [f"{' ' * width}  {x}" for x in lines[1:]]
    out += ["", *align(body, header, right=[3])]
    if notes:
        out += ["", *notes]
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
