"""The hand-over report: one self-contained HTML file.

Everything is inline (CSS, SVG pictures), nothing is fetched from the network, so
the file can be mailed to someone who will never run riskchain. The sections:
the model and its sources; the scenarios (what each observed and forced); the
risk table; a chart of each outcome across scenarios (with intervals when draws
were asked for); the network under the baseline; the tornado chart and the watch
list for the main target; the explanation; notes on method.
"""

from __future__ import annotations

import base64
import re
import string

from riskchain.analysis.report import Report
from riskchain.analysis.risktable import draw_summary
from riskchain.report.explain import render_explain
from riskchain.report.query import reported_state
from riskchain.report.risktable import RISK_CSS, notes_html, risk_table_html, scenarios_html
from riskchain.report.safe import html_text, safe_url, terminal_text
from riskchain.report.text import pct, pct_in_band, spans
from riskchain.scales import format_range

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a1a1a;
  margin:0 auto;max-width:1100px;padding:1.5rem 2rem;line-height:1.45;overflow-wrap:break-word}
h1{font-size:1.6rem;margin-bottom:.2rem} h2{margin-top:2.2rem;border-bottom:1px solid #bbb}
h3{margin-top:1.4rem}
.meta{color:#444;margin:.15rem 0}
table{border-collapse:collapse;font-size:.86rem;margin:.6rem 0;max-width:100%}
caption{caption-side:top;text-align:left;font-weight:600;padding:.3rem 0}
th,td{border:1px solid #999;padding:.22rem .45rem;vertical-align:top}
th{background:#eee}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.na{color:#666;font-style:italic}
figure{margin:1rem 0}
.fig{overflow-x:auto}
.fig svg{display:block;width:100%;height:auto}
figcaption{color:#444;font-size:.85rem}
code{background:#f2f2f2;padding:0 .2em;border-radius:3px;font-size:.9em;overflow-wrap:anywhere}
.box{border-left:4px solid #0072B2;padding:.2rem 1rem;background:#f7f9fb}
.bluf{border:2px solid #0072B2;border-radius:4px;padding:.4rem 1.2rem .6rem;margin:1rem 0;
  background:#f7f9fb}
.bluf h2{margin-top:.4rem;border:0;font-size:1.2rem}
.bluf dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:.4rem 0}
.bluf dt{font-weight:600;margin:0} .bluf dd{margin:0}
dt{margin-top:.5rem}
@media (max-width:640px){
  body{padding:1rem}
  .bluf dl{grid-template-columns:1fr} .bluf dd{margin-bottom:.3rem}
  table{font-size:.8rem} th,td{padding:.15rem .3rem;overflow-wrap:anywhere}
  td.num{white-space:normal}
}
@page{size:A4 landscape;margin:12mm}
@media print{
  body{max-width:none;padding:0;font-size:10pt}
  h2{break-after:avoid} figure,.bluf,tr{break-inside:avoid}
  .fig{overflow:visible}
  .fig svg{min-width:0 !important;max-height:150mm}
  dt{break-after:avoid} dd{break-inside:avoid} table:not(.risk){break-inside:avoid}
  a.full{display:none}
  .bluf{print-color-adjust:exact;-webkit-print-color-adjust:exact}
}
"""

# a chart is not shown narrower than this share of its drawn size (its text would be too
# small to read); below it, the chart scrolls sideways within its own box, not the page
MIN_SCALE = 0.6


def render_report(report: Report) -> str:
    """The report as one HTML document (a string), pictures inlined as SVG.

    It opens with the bottom line (the key judgment, its word and range, its interval,
    and the finding and number it rests on most), prints the draws' seed once, and
    gives every chart a text alternative and a link to its full-size SVG.
    """
    from riskchain.report.charts import plot_scenarios
    from riskchain.report.graph import graph_view
    from riskchain.report.graph import render_svg as graph_svg
    from riskchain.report.plot import plot_tornado

    e = html_text
    run, spec = report.run, report.run.model.spec
    title = run.file.title or spec.title
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(title)}</title>",
        f"<style>{_CSS}{RISK_CSS}</style></head><body>",
        f"<h1>{e(title)}</h1>",
        f'<p class="meta">Model: {e(spec.title)} (<code>{e(spec.id)}</code>) · horizon: '
        f"{e(spec.horizon or 'not stated')}"
        + (
            f" · model file <code>{e(run.file.model_source())}</code>"
            if run.file.model_flag
            else ""
        )
        + "</p>",
        f'<p class="meta">Produced {report.table.produced.isoformat()} with riskchain from '
        f"<code>{e(str(run.file.path))}</code> · baseline scenario: <code>{e(run.baseline)}</code>"
        f" · estimative scale: {e(report.scale.title)}</p>",
    ]
    d = draw_summary(run)
    if d is not None:
        parts.append(
            f'<p class="meta">Intervals: the central {d.level * 100:g}% of {d.samples} parameter '
            f"draws, the same in every section; <code>--seed {d.seed}</code> draws them again.</p>"
        )
    parts.append(_bluf(report))
    parts.append(
        "<p class=\"box\">The probabilities are the model's: they follow from the analyst's "
        "numbers, which are illustrative judgments, each documented in the model file. Words "
        "for probabilities are always given with their ranges.</p>"
    )
    parts += [f"<p>{e(x)}</p>" for x in _paragraphs(spec.description)]

    parts += ["<h2>1. Scenarios</h2>", scenarios_html(run)]
    parts += [
        "<h2>2. Risk table</h2>",
        risk_table_html(report.table),
        "<h3>How to read it</h3>",
        notes_html(report.table, seed=False),
    ]

    parts.append("<h2>3. Each outcome across the scenarios</h2>")
    drawn = report.table.draws is not None
    parts.append(
        _figure(
            plot_scenarios(report.table, "svg", title=False),
            "Figure 1. One panel per outcome, one dot per scenario at the numbers as written"
            + ("; the bar is its interval" if drawn else "")
            + f"; dotted line: the baseline '{run.baseline}'; a diamond: an outcome the scenario "
            "observed or forced. The background shades the estimative terms' bands."
            + ("" if drawn else " Run with --samples N to see how sure each is."),
            f"Chart of each of the {len(report.table.rows)} outcomes' probability under each of "
            f"the {len(run.results)} scenarios; the same numbers as the risk table.",
            f"{spec.id}-outcomes.svg",
        )
    )

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
            "Figure 2. Causes above effects; each node shows its states' probabilities under "
            "the baseline. Observed and forced nodes are marked; arrows into a forced node are "
            "drawn cut.",
            f"Network of the model's {len(report.baseline_model.compiled)} nodes under the "
            f"baseline '{run.baseline}', each with its states' probabilities.",
            f"{spec.id}-network.svg",
        )
    )

    target_text = f"P({report.target} = {report.state})"
    parts.append("<h2>5. The numbers the judgment rests on, and what to watch</h2>")
    if report.sensitivity.analyst:
        parts.append(
            _figure(
                plot_tornado(report.sensitivity, 10, "svg"),
                "Figure 3. The tornado chart of the key judgment (its notes are drawn with it).",
                f"Tornado chart: how far {target_text} moves when each of the analyst's numbers "
                "moves over its plausible range, the ten that move it most.",
                f"{spec.id}-tornado.svg",
            )
        )
    else:
        parts.append(f"<p>No number as written can change {e(target_text)}.</p>")
    parts.append("<h3>Indicators to watch</h3>")
    parts.append(_watch_table(report))

    parts.append("<h2>6. The judgment explained</h2>")
    md = render_explain(report.explanation, "md", mpe_shown=None, seed=False)
    parts.append(markdown_to_html(md, shift=1))

    parts.append("<h2>7. Method</h2>")
    parts.append(_method(report))
    parts += _sources(report)
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _paragraphs(text: str | None) -> list[str]:
    """A description's paragraphs (blank lines part them), each on one line."""
    if not text:
        return []
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip()]


def _bluf(report: Report) -> str:
    """The bottom line up front: judgment, word and range, interval, and the finding
    and the number it rests on most."""
    e = html_text
    res = report.explanation
    spec = report.run.model.spec
    band = res.scale.classify(res.p)
    word = band.label() if band else "between two terms of the scale"
    label = res.model.label(res.target)
    rows = [
        (
            "Judgment",
            f"{e(label)} is <code>{e(res.state)}</code>: <b>{e(word)}</b>, "
            f"P = <b>{e(pct_in_band(res.p, band.output_range() if band else None))}</b>, "
            f"under the baseline scenario <code>{e(report.run.baseline)}</code>",
        ),
        ("Horizon", e(spec.horizon or "not stated")),
    ]
    u = res.uncertainty
    if u is not None:
        lo, hi = u.interval(res.target, res.state)
        wide = spans(lo, hi, res.scale)
        rows.append(
            (
                "Interval",
                f"{e(pct(lo))} to {e(pct(hi))}, the central {u.level * 100:g}% of {u.samples} "
                f"draws of the model's numbers" + (f"; it {e(wide)}" if wide else ""),
            )
        )
    else:
        rows.append(("Interval", "none: made at the numbers as written (add --samples N)"))
    top = next((c for c in res.contributions if c.change is not None), None)
    if top is not None:
        what = f"{top.node}={top.value}" if top.kind == "observed" else f"{top.node} ({top.value})"
        rows.append(
            (
                "Finding it rests on most",
                f"<code>{e(what)}</code> ({e(top.kind)}): without it P would be "
                f"{e(pct(top.p_without))}",  # type: ignore[arg-type]
            )
        )
    elif not res.contributions:
        rows.append(("Finding it rests on most", "none: nothing is observed"))
    if res.sensitivity.analyst:
        par = res.sensitivity.analyst[0]
        written = f" (written <code>{e(par.written)}</code>)" if par.written else ""
        lo_v, hi_v = par.interval
        rows.append(
            (
                "Number it rests on most",
                f"{e(par.name)} of <code>{e(par.node)}</code>{_for_state(res, par)}{written}: over "
                f"{lo_v:.3g}–{hi_v:.3g} it moves P from {e(pct(par.low))} to {e(pct(par.high))}",
            )
        )
    if res.watch.indicators:
        ind = res.watch.indicators[0]
        rows.append(
            (
                "Watch first",
                f"{e(ind.label)} (<code>{e(ind.node)}</code>): "
                f"{ind.mutual_information:.3f} bits about the judgment",
            )
        )
    body = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows)
    return (
        '<section class="bluf" aria-labelledby="bluf"><h2 id="bluf">Bottom line up front</h2>'
        f"<dl>{body}</dl></section>"
    )


def _for_state(res, par) -> str:
    """``, its number for <code>elevated</code>``: the state a graded node's number is for."""
    if par.state == reported_state(res.model.states(par.node)):
        return ""
    return f", its number for <code>{html_text(par.state)}</code>"


def _figure(svg: bytes, caption: str, label: str, name: str) -> str:
    """An inline SVG chart sized for the page (never wider than drawn, never narrower
    than :data:`MIN_SCALE` of it), with a text alternative and a link to the full-size
    SVG file (inside the page: nothing is fetched)."""
    text = svg.decode("utf-8")
    text = re.sub(r"^<\?xml[^>]*\?>\s*", "", text)
    text = re.sub(r"^<!DOCTYPE[^>]*>\s*", "", text)
    width = _svg_width(text)
    style = (
        f"max-width:{width:.0f}px;min-width:{min(width, 1000) * MIN_SCALE:.0f}px" if width else ""
    )
    text = re.sub(
        r"<svg\b",
        f'<svg role="img" aria-label="{html_text(label)}" style="{style}"',
        text,
        count=1,
    )
    data = base64.b64encode(svg).decode("ascii")
    link = (
        f'<a class="full" download="{html_text(name)}" '
        f'href="data:image/svg+xml;base64,{data}">full-size SVG</a>'
    )
    return (
        f'<figure><div class="fig">{text}</div>'
        f"<figcaption>{html_text(caption)} {link}</figcaption></figure>"
    )


def _svg_width(svg: str) -> float | None:
    """The drawn width of an SVG in CSS pixels (``pt`` are 4/3 px), from its root."""
    m = re.search(r'<svg\b[^>]*?\swidth="([\d.]+)(pt|px)?"', svg)
    if not m:
        return None
    return float(m.group(1)) * (4 / 3 if m.group(2) == "pt" else 1)


def _watch_table(report: Report) -> str:
    e = html_text
    w = report.watch
    if not w.indicators:
        return "<p>No unobserved node carries information about the target.</p>"
    rows = [
        "<table><caption>What observing each indicator would tell about "
        f"{e(w.measure_subject)}</caption><thead><tr>"
        '<th scope="col">indicator</th><th scope="col">information (bits)</th>'
        f'<th scope="col">{e(w.measure_name)}</th><th scope="col">if observed</th>'
        "</tr></thead><tbody>"
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
            f'<tr><th scope="row" style="font-weight:normal;background:none;text-align:left">'
            f"{e(ind.label)} (<code>{e(ind.node)}</code>)</th>"
            f'<td class="num">{ind.mutual_information:.3f}</td>'
            f'<td class="num">{ind.expected_change * 100:.1f} points</td>'
            f"<td>{'<br>'.join(outs)}</td></tr>"
        )
    rows.append("</tbody></table>")
    rows.append(f'<p class="footnote">{e(w.measure_note)}</p>')
    return "\n".join(rows)


def _method(report: Report) -> str:
    e = html_text
    scale = report.scale
    terms = "".join(
        f'<tr><th scope="row" style="font-weight:normal;background:none;text-align:left">'
        f"{e(b.term)}</th><td class='num'>{e(format_range(*b.output_range()))}</td></tr>"
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
    d = draw_summary(report.run)
    if d is not None:
        items.append(
            e(
                f"Intervals: the central {d.level * 100:g}% of {d.samples} parameter draws (the "
                "seed is given at the top), each draw solved exactly; every scenario and the "
                f"key judgment are answered on the same draws. Spread: {d.note}."
            )
        )
    else:
        items.append(
            "No intervals: this report was made at the numbers as written. "
            "<code>riskchain report ... --samples 2000</code> adds them."
        )
    return (
        "<ul>"
        + "".join(f"<li>{x}</li>" for x in items)
        + "</ul>"
        + f"<table><caption>The {e(scale.title)} scale</caption><thead><tr>"
        + '<th scope="col">term</th><th scope="col">range</th>'
        + f"</tr></thead><tbody>{terms}</tbody></table>"
    )


def _sources(report: Report) -> list[str]:
    e = html_text
    spec = report.run.model.spec
    if not spec.sources:
        return []
    parts = ["<h2>8. Sources</h2><ul>"]
    for sid, src in spec.sources.items():
        extra = ", ".join(e(x) for x in (src.publisher, src.date) if x)
        # only http, https and mailto become links; any other URL is shown, unlinked
        url = safe_url(src.url)
        link = (
            f' <a href="{e(url)}">{e(url)}</a>'
            if url
            else f" {e(src.url)} (not linked: only http, https and mailto links are made)"
            if src.url
            else ""
        )
        parts.append(
            f"<li>[{e(sid)}] {e(src.title)}" + (f" ({extra})" if extra else "") + f"{link}</li>"
        )
    parts.append("</ul>")
    return parts


# ----------------------------------------------------------------------------- Markdown


_PUNCT = frozenset(string.punctuation)  # what a backslash escapes in Markdown


def _inline(text: str) -> str:
    """One line of riskchain's Markdown as HTML: code spans (fenced by any number of
    backticks), backslash escapes (``\\<`` is ``<``, as text), bold and italics;
    everything else is text, escaped."""
    parts: list[str] = []  # finished HTML
    plain: list[str] = []  # escaped text awaiting emphasis; escaped characters as \0N\0
    kept: list[str] = []  # the escaped characters (never emphasis markers)
    run = ""  # raw text not yet escaped
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] in _PUNCT:
            kept.append(text[i + 1])
            plain += [html_text(run, quote=False), f"\0{len(kept) - 1}\0"]
            run, i = "", i + 2
            continue
        if c == "`":
            j = i
            while j < n and text[j] == "`":
                j += 1
            end = _closing_fence(text, j, j - i)
            if end is not None:
                plain.append(html_text(run, quote=False))
                parts.append(_emphasis("".join(plain), kept))
                code = text[j:end]
                if code[:1] == code[-1:] == " " and code.strip():
                    code = code[1:-1]
                parts.append(f"<code>{html_text(code, quote=False)}</code>")
                plain, run, i = [], "", end + (j - i)
                continue
            run += text[i:j]  # no closing fence: the backticks are text
            i = j
            continue
        run += c
        i += 1
    plain.append(html_text(run, quote=False))
    parts.append(_emphasis("".join(plain), kept))
    return "".join(parts)


def _closing_fence(text: str, start: int, size: int) -> int | None:
    """Where a run of exactly ``size`` backticks starts at or after ``start``."""
    k = text.find("`" * size, start)
    while k != -1:
        end = k + size
        if end >= len(text) or text[end] != "`":
            return k
        while end < len(text) and text[end] == "`":
            end += 1
        k = text.find("`" * size, end)
    return None


def _emphasis(text: str, kept: list[str]) -> str:
    """Bold and italics in escaped text, then the escaped characters put back."""
    text = re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", text)
    text = re.sub(r"(?<![*\w])\*([^*]+)\*(?![*\w])", r"<i>\1</i>", text)
    return re.sub("\0(\\d+)\0", lambda m: html_text(kept[int(m.group(1))], quote=False), text)


def _table_cells(line: str) -> list[str]:
    """The cells of a pipe-table row, split at the pipes no backslash escapes."""
    cells, cell, i = [], "", 0
    line = line.strip()
    while i < len(line):
        if line[i] == "\\" and i + 1 < len(line):
            cell, i = cell + line[i : i + 2], i + 2
        elif line[i] == "|":
            cells.append(cell)
            cell, i = "", i + 1
        else:
            cell, i = cell + line[i], i + 1
    cells.append(cell)
    # the row's outer pipes leave an empty cell at each end
    if line.startswith("|"):
        cells = cells[1:]
    if cells and cells[-1] == "":
        cells = cells[:-1]
    return [c.strip() for c in cells]


def markdown_to_html(md: str, shift: int = 0) -> str:
    """The small Markdown subset riskchain writes (headings, paragraphs, bullet lists,
    pipe tables, bold, italics, code, backslash escapes) as HTML; ``shift`` demotes
    headings. Everything else is text: no HTML in ``md`` reaches the page."""
    out: list[str] = []
    lines = terminal_text(md).splitlines()
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
                block.append(_table_cells(lines[i]))
                i += 1
            head, body = block[0], block[2:]
            out.append(
                "<table><thead><tr>" + "".join(f'<th scope="col">{_inline(c)}</th>' for c in head)
            )
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
