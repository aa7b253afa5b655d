"""Rendering of scenario runs and risk tables: terminal, Markdown, CSV, JSON, HTML."""

from __future__ import annotations

import html

from riskchain.analysis.risktable import NRR_BAND_TEXT, Cell, RiskTable
from riskchain.analysis.scenarios import ScenarioRun
from riskchain.report.text import align, csv_text, json_text, markdown_table, pct, pct_in_band, prob
from riskchain.scales import Scale, format_range

RUN_FORMATS = ("table", "json", "csv", "md")
TABLE_FORMATS = ("table", "md", "csv", "json", "html")


# ----------------------------------------------------------------------------- shared text


def _estimate(cell: Cell) -> str:
    if cell.p is None:
        return "n/a"
    if cell.finding is not None:
        return cell.finding  # set by the scenario, not estimated: no word
    if cell.term is None or cell.range is None:
        return "(between terms)"
    return f"{cell.term} {format_range(*cell.range)}"


def _delta(cell: Cell, is_baseline: bool) -> str:
    if is_baseline:
        return "baseline"
    if cell.delta is None:
        return "n/a"
    pp = cell.delta * 100
    return f"{pp:+.1f} pp" if abs(pp) >= 0.05 else "±0.0 pp"


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
            line += [
                pct_in_band(cell.p, cell.range) if cell.p is not None else "n/a",
                _estimate(cell),
                _delta(cell, sid == base),
            ]
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
    header = ["node", "state", "label", "impact"]
    for sid in ids:
        header += [f"{sid}_p", f"{sid}_term", f"{sid}_range", f"{sid}_delta"]
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
    ids = table.scenario_ids
    base = table.run.baseline
    head = _header(table)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(head[0])}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{e(head[0])}</h1>",
        *[f'<p class="meta">{e(x)}</p>' for x in head[1:]],
        "<h2>Scenarios</h2><dl>",
    ]
    for sid, lines in _scenario_lines(table.run):
        parts.append(f"<dt><b>{e(sid)}</b></dt><dd>{'<br>'.join(e(x) for x in lines)}</dd>")
    parts.append(
        "</dl><h2>Risk table</h2><table><thead><tr><th rowspan=2>Outcome</th><th rowspan=2>Impact</th>"
    )
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
                f"<td{na}>{e(pct_in_band(c.p, c.range) if c.p is not None else 'n/a')}</td><td>{e(_estimate(c))}</td>"
                f'<td class="num">{e(_delta(c, sid == base))}</td>'
            )
            if table.bands:
                parts.append(f'<td class="num">{c.band if c.band else "n/a"}</td>')
            if numeric:
                parts.append(f'<td class="num">{e(_expected(c, row))}</td>')
        parts.append("</tr>")
    parts.append("</tbody></table><h2>Notes</h2><ul>")
    parts += [f"<li>{e(n)}</li>" for n in _notes(table)]
    parts.append("</ul></body></html>")
    return "\n".join(parts) + "\n"


# ----------------------------------------------------------------------------- run


def render_run(run: ScenarioRun, fmt: str = "table", scale: Scale | None = None) -> str:
    """Render every scenario's posteriors (``riskchain run``)."""
    from riskchain.scales import DEFAULT_SCALE

    scale = scale or DEFAULT_SCALE
    if fmt == "json":
        return json_text(run.to_json())
    spec = run.model.spec
    rows = []
    for res in run.results:
        for node in run.targets:
            states = spec.nodes[node].states
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
                rows.append([res.id, node, state, p, est])
    if fmt == "csv":
        return csv_text(
            [
                [sid, n, s, f"{p:.10g}" if p is not None else "n/a", est]
                for sid, n, s, p, est in rows
            ],
            ["scenario", "node", "state", "p", "estimate"],
        )
    body = []
    last = (None, None)
    for sid, node, state, p, est in rows:
        body.append([
            sid if sid != last[0] else "",
            node if (sid, node) != last else "",
            state,
            pct(p) if p is not None else "n/a",
            est,
        ])  # fmt: skip
        last = (sid, node)
    header = ["scenario", "node", "state", "p", f"estimate ({scale.name})"]
    scen = _scenario_lines(run)
    title = f"{spec.title} ({spec.id}) · horizon: {spec.horizon or 'not stated'}"
    if fmt == "md":
        out = [f"**{title}**", ""]
        for sid, lines in scen:
            out.append(f"- **{sid}** — {lines[0]}  ")
            out += [f"  {x}  " for x in lines[1:]]
        out += ["", *markdown_table(body, header, right=[3])]
        return "\n".join(out) + "\n"
    out = [title, ""]
    width = max(len(sid) for sid, _ in scen)
    for sid, lines in scen:
        out.append(f"{sid.ljust(width)}  {lines[0]}")
        out += [f"{' ' * width}  {x}" for x in lines[1:]]
    out += ["", *align(body, header, right=[3])]
    return "\n".join(out) + "\n"
