"""The hand-over report: one self-contained HTML file.

Everything is inline (CSS, SVG pictures), nothing is fetched from the network, so
the file can be mailed to someone who will never run riskchain. The sections:
the model and its sources; the scenarios (what each observed and forced); the
risk table; a chart of each outcome across scenarios (with intervals when draws
were asked for); the network under the baseline; the tornado chart and the watch
list for the main target; the explanation; notes on method.
"""

from __future__ import annotations

import html
import re

from riskchain.analysis.report import Report
from riskchain.report.explain import render_explain
from riskchain.report.risktable import notes_html, risk_table_html, scenarios_html
from riskchain.report.text import pct, pct_in_band
from riskchain.scales import format_range

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a1a1a;
  margin:0 auto;max-width:1180px;padding:1.5rem 2rem;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem} h2{margin-top:2.2rem;border-bottom:1px solid #bbb}
h3{margin-top:1.4rem}
.meta{color:#444;margin:.15rem 0}
.wide{overflow-x:auto} .wide table{font-size:.78rem} .wide td:first-child{min-width:11rem}
table{border-collapse:collapse;font-size:.86rem;margin:.6rem 0}
th,td{border:1px solid #999;padding:.22rem .45rem;vertical-align:top}
th{background:#eee}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.na{color:#666;font-style:italic}
figure{margin:1rem 0} figure svg{max-width:100%;height:auto}
figcaption{color:#444;font-size:.85rem}
code{background:#f2f2f2;padding:0 .2em;border-radius:3px;font-size:.9em}
.box{border-left:4px solid #0072B2;padding:.2rem 1rem;background:#f7f9fb}
.warn{border-left-color:#8b0000}
dt{margin-top:.5rem}
@media print{body{max-width:none} h2{page-break-after:avoid} figure{page-break-inside:avoid}}
"""


def render_report(report: Report, samples_note: str | None = None) -> str:
    """The report as one HTML document (a string), pictures inlined as SVG."""
    from riskchain.report.graph import graph_view
    from riskchain.report.graph import render_svg as graph_svg
    from riskchain.report.plot import plot_tornado, plot_uncertainty

    e = html.escape
    run, spec = report.run, report.run.model.spec
    title = run.file.title or spec.title
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(title)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{e(title)}</h1>",
        f'<p class="meta">Model: {e(spec.title)} (<code>{e(spec.id)}</code>) · horizon: '
        f"{e(spec.horizon or 'not stated')}</p>",
        f'<p class="meta">Produced {report.table.produced.isoformat()} with riskchain from '
        f"<code>{e(str(run.file.path))}</code> · baseline scenario: <code>{e(run.baseline)}</code>"
        f" · estimative scale: {e(report.scale.title)}</p>",
        "<p class=\"box\">The probabilities are the model's: they follow from the analyst's "
        "numbers, which are illustrative judgments, each documented in the model file. Words "
        "for probabilities are always given with their ranges.</p>",
    ]
    if spec.description:
        parts.append(f"<p>{e(' '.join(spec.description.split()))}</p>")
    if spec.sources:
        parts.append("<h3>Sources</h3><ul>")
        for sid, src in spec.sources.items():
            extra = ", ".join(e(x) for x in (src.publisher, src.date) if x)
            link = f' <a href="{e(src.url)}">{e(src.url)}</a>' if src.url else ""
            parts.append(
                f"<li>[{e(sid)}] {e(src.title)}" + (f" ({extra})" if extra else "") + f"{link}</li>"
            )
        parts.append("</ul>")

    parts += ["<h2>1. Scenarios</h2>", scenarios_html(run)]
    parts += [
        "<h2>2. Risk table</h2>",
        f'<div class="wide">{risk_table_html(report.table)}</div>',
        "<h3>How to read it</h3>",
        notes_html(report.table),
    ]

    parts.append("<h2>3. Each outcome across the scenarios</h2>")
    kept = [r for r in run.results if r.uncertainty is not None]
    if kept:
        svg = plot_uncertainty(
            [(r.id, r.uncertainty) for r in kept],
            run.targets,
            run.model,
            report.scale,
            "svg",
            findings=[
                {
                    **dict.fromkeys(r.scenario.given, "observed"),
                    **dict.fromkeys(r.scenario.do, "forced"),
                }
                for r in kept
            ],
            points=[r.posteriors for r in kept],
        )
        caption = (
            "Each band is one scenario's probability across the parameter draws; the thick "
            "bar is the central interval, the tick the answer at the numbers as written."
        )
    else:
        from riskchain.report.charts import plot_scenarios

        svg = plot_scenarios(report.table, "svg")
        caption = (
            "Each dot is one scenario's probability at the numbers as written (run with "
            "--samples N to see how sure each is)."
        )
    parts.append(_figure(svg, caption))

    parts.append(f"<h2>4. The network under the baseline scenario '{e(run.baseline)}'</h2>")
    q = report.baseline_question
    base = run.file.scenarios[run.baseline]
    graph = graph_svg(
        graph_view(
            report.baseline_model,
            q["given"],
            q["do"],
            q["likelihood"],
            scenario=run.baseline,
            description=base.description,
            own_numbers=list(base.sets),
            scale=report.scale,
        )
    )
    parts.append(
        _figure(
            graph.encode() if isinstance(graph, str) else graph,
            "Causes above effects; each node shows its states' probabilities under the baseline. "
            "Observed and forced nodes are marked; arrows into a forced node are drawn cut.",
        )
    )

    target_text = f"P({report.target} = {report.state})"
    parts.append(f"<h2>5. What {e(target_text)} rests on</h2>")
    parts.append(
        _figure(
            plot_tornado(report.sensitivity, 10, "svg"),
            "Each bar: how far the probability moves when one of the analyst's numbers moves "
            "over its plausible range, the others held.",
        )
    )
    parts.append("<h3>Indicators to watch</h3>")
    parts.append(_watch_table(report))

    parts.append("<h2>6. The judgment explained</h2>")
    parts.append(markdown_to_html(render_explain(report.explanation, "md"), shift=1))

    parts.append("<h2>7. Method</h2>")
    parts.append(_method(report, samples_note))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _figure(svg: bytes, caption: str) -> str:
    text = svg.decode("utf-8")
    text = re.sub(r"^<\?xml[^>]*\?>\s*", "", text)
    text = re.sub(r"^<!DOCTYPE[^>]*>\s*", "", text)
    return f"<figure>{text}<figcaption>{html.escape(caption)}</figcaption></figure>"


def _watch_table(report: Report) -> str:
    e = html.escape
    w = report.watch
    rows = [
        "<table><thead><tr><th>indicator</th><th>information (bits)</th>"
        "<th>expected change</th><th>if observed</th></tr></thead><tbody>"
    ]
    for ind in w.indicators[:6]:
        outs = []
        for s, o in ind.outcomes.items():
            if not o.possible or o.p is None:
                continue
            outs.append(
                f"<code>{e(s)}</code> ({pct(o.probability)} now): "
                f"{e(pct_in_band(o.p, None))}, {e(o.term or 'between terms')}"
            )
        rows.append(
            f"<tr><td>{e(ind.label)} (<code>{e(ind.node)}</code>)</td>"
            f'<td class="num">{ind.mutual_information:.3f}</td>'
            f'<td class="num">{ind.expected_change * 100:.1f} points</td>'
            f"<td>{'<br>'.join(outs)}</td></tr>"
        )
    rows.append("</tbody></table>")
    if not w.indicators:
        return "<p>No unobserved node carries information about the target.</p>"
    return "\n".join(rows)


def _method(report: Report, samples_note: str | None) -> str:
    e = html.escape
    scale = report.scale
    terms = "".join(
        f"<tr><td>{e(b.term)}</td><td class='num'>{e(format_range(*b.output_range()))}</td></tr>"
        for b in scale.bands
    )
    items = [
        "Every probability is computed exactly from the model (a Bayesian network: a node for "
        "each event, an arrow from each cause, a table of conditional probabilities).",
        '<b>Observed</b> findings are conditioned on ("we saw this"); <b>forced</b> nodes '
        'are interventions ("suppose we made this happen"): their incoming arrows are cut, '
        "so they say nothing about their causes.",
        "Sensitivity: each of the analyst's numbers is moved alone over its plausible range "
        "(a term's or range's own range, else the band of the word that holds it), the other "
        "numbers of its distribution keeping their ratios.",
        "Indicators are ranked by mutual information with the target, in bits: how much "
        "observing them would reduce the uncertainty about it, on average.",
        "The most probable explanation is the single likeliest state of every unobserved node "
        "given the findings.",
    ]
    if samples_note:
        items.append(e(samples_note))
    else:
        items.append(
            "No intervals: this report was made at the numbers as written. "
            "<code>riskchain report ... --samples 2000</code> adds them."
        )
    return (
        "<ul>"
        + "".join(f"<li>{x}</li>" for x in items)
        + "</ul>"
        + f"<h3>The {e(scale.title)} scale</h3><table><thead><tr><th>term</th><th>range</th>"
        + f"</tr></thead><tbody>{terms}</tbody></table>"
    )


# ----------------------------------------------------------------------------- Markdown


def _inline(text: str) -> str:
    text = html.escape(text, quote=False)
    text = re.sub(r"`([^`]+)`", r"<code>\1</code>", text)
    text = re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", text)
    text = re.sub(r"(?<![*\w])\*([^*]+)\*(?![*\w])", r"<i>\1</i>", text)
    return text


def markdown_to_html(md: str, shift: int = 0) -> str:
    """The small Markdown subset riskchain writes (headings, paragraphs, bullet lists,
    pipe tables, bold, italics, code) as HTML; ``shift`` demotes headings."""
    out: list[str] = []
    lines = md.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        m = re.match(r"(#{1,6}) (.*)", line)
        if m:
            level = min(len(m.group(1)) + shift, 6)
            out.append(f"<h{level}>{_inline(m.group(2))}</h{level}>")
            i += 1
        elif line.startswith("|"):
            block = []
            while i < len(lines) and lines[i].startswith("|"):
                block.append([c.strip() for c in lines[i].strip().strip("|").split("|")])
                i += 1
            head, body = block[0], block[2:]
            out.append("<table><thead><tr>" + "".join(f"<th>{_inline(c)}</th>" for c in head))
            out.append("</tr></thead><tbody>")
            for row in body:
                out.append("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in row) + "</tr>")
            out.append("</tbody></table>")
        elif line.startswith("- "):
            out.append("<ul>")
            while i < len(lines) and lines[i].startswith("- "):
                out.append(f"<li>{_inline(lines[i][2:])}</li>")
                i += 1
            out.append("</ul>")
        else:
            para = []
            while i < len(lines) and lines[i].strip() and not re.match(r"(#|\||- )", lines[i]):
                para.append(lines[i].strip())
                i += 1
            out.append(f"<p>{_inline(' '.join(para))}</p>")
    return "\n".join(out)
