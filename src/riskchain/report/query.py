"""Rendering of query results and model descriptions (table, Markdown, CSV, JSON)."""

from __future__ import annotations

from riskchain.model import Model, QueryResult
from riskchain.report.safe import md_text, one_line, terminal_text
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
from riskchain.scales import DEFAULT_SCALE, Scale

# Two-state nodes whose states are one of these pairs (any case, either order) report
# the first word: "present" of present/absent, "TRUE" of TRUE/FALSE, as "yes" of yes/no.
POSITIVE_PAIRS = (
    ("yes", "no"),
    ("true", "false"),
    ("present", "absent"),
    ("positive", "negative"),
    ("1", "0"),
)


def reported_state(states: tuple[str, ...] | list[str]) -> str | None:
    """The state a binary node's estimative term describes, the one every command
    reports for it: the positive word of a pair in :data:`POSITIVE_PAIRS` (``yes`` of
    yes/no, ``TRUE`` of TRUE/FALSE, ``present`` of present/absent, ``positive`` of
    positive/negative, ``1`` of 1/0; any case, either order); else ``yes`` if the
    node has one; else the second state (the one a scalar ``p`` gives). None for a
    node with more than two states."""
    if len(states) != 2:
        return None
    low = [s.lower() for s in states]
    for pos, neg in POSITIVE_PAIRS:
        if sorted(low) == sorted((pos, neg)):
            return states[low.index(pos)]
    for s in states:
        if s.lower() == "yes":
            return s
    return states[1]


def _findings_lines(result: QueryResult, pad: bool = True) -> list[str]:
    """What the question observed, forced and softened (and the scenario it built on)."""

    def join(d: dict[str, str]) -> str:
        return ", ".join(f"{k}={v}" for k, v in d.items()) or "none"

    lik = ", ".join(
        f"{k}~(" + ", ".join(f"{s}:{x:g}" for s, x in v.items()) + ")"
        for k, v in result.likelihood.items()
    )
    items = []
    if result.scenario:
        own = f" (its own numbers for: {', '.join(result.set_nodes)})" if result.set_nodes else ""
        items.append(("scenario:", result.scenario + own))
    items += [
        ("observed (given):", join(result.given)),
        ("forced (do):", join(result.do)),
        ("likelihood:", lik or "none"),
    ]
    width = max(len(k) for k, _ in items) if pad else 0
    return [f"{k.ljust(width)} {v}" for k, v in items]


def uncertainty_lines(u) -> list[str]:
    """What the intervals are and where their spread comes from (for footers)."""
    out = [
        f"intervals: central {u.level * 100:g}% of {u.samples} parameter draws (seed {u.seed}), "
        "each solved exactly"
    ]
    out.append(f"spread: {u.spread_note()}")
    if u.impossible_draws:
        out.append(f"{u.impossible_draws} draw(s) make the findings impossible and are left out")
    return out


def _rows(model: Model, result: QueryResult, scale: Scale) -> list[dict]:
    """One record per (target, state) with everything any format shows."""
    out = []
    u = result.uncertainty
    for node, dist in result.posteriors.items():
        finding = result.finding(node)
        rep = reported_state(list(dist))
        # a binary node's word goes to its yes (else second) state; a graded node's
        # states each get one, as in the risk table and watch
        worded = set(dist) if len(dist) > 2 else {rep}
        for state, p in dist.items():
            term = rng = ""
            shown = pct(p)
            if finding in ("observed", "forced"):
                pass  # set by the question, not estimated: no word
            elif state in worded:
                band = scale.classify(p)
                if band is not None:
                    term = band.term
                    lo, hi = band.output_range()
                    rng = f"{lo:g}-{hi:g}"
                    shown = pct_in_band(p, (lo, hi))
            estimate = _estimate(p, finding, state in worded, scale)
            lo = hi = mean = None
            if u is not None:
                lo, hi = u.interval(node, state)
                mean = u.mean(node, state)
                if finding not in ("observed", "forced"):
                    shown += " " + interval_like(lo, hi, shown)
                    wide = spans(lo, hi, scale) if state in worded else None
                    if wide:
                        estimate += f"; interval {wide}"
            out.append(
                {
                    "node": node,
                    "label": model.label(node),
                    "state": state,
                    "p": p,
                    "shown": shown,
                    "term": term,
                    "range": rng,
                    "finding": finding or "",
                    "estimate": estimate,
                    "lo": lo,
                    "hi": hi,
                    "mean": mean,
                }
            )
    return out


def _estimate(p: float, finding: str | None, reported: bool, scale: Scale) -> str:
    if finding in ("observed", "forced"):
        return finding if p == 1 else ""
    if not reported:
        return ""
    band = scale.classify(p)
    return band.label() if band else "(between terms: see number)"


def render_query(
    model: Model, result: QueryResult, fmt: str = "table", scale: Scale = DEFAULT_SCALE
) -> str:
    """Render a :class:`QueryResult` as ``table``, ``md``, ``csv`` or ``json``."""
    if fmt == "json":
        return json_text(result.to_json())
    rows = _rows(model, result, scale)
    u = result.uncertainty
    if fmt == "csv":
        extra = ["lo", "hi", "mean"] if u is not None else []
        return csv_text(
            [
                [
                    r["node"],
                    r["label"],
                    r["state"],
                    f"{r['p']:.10g}",
                    *(f"{r[k]:.10g}" for k in extra),
                    r["term"],
                    r["range"],
                    r["finding"],
                ]
                for r in rows
            ],
            ["node", "label", "state", "p", *extra, "term", "range", "finding"],
        )
    p_head = "p [interval]" if u is not None else "p"
    header = ["node", "label", "state", p_head, f"estimate ({scale.name})"]
    body = []
    last = None
    for r in rows:
        first = r["node"] != last
        last = r["node"]
        body.append(
            [
                r["node"] if first else "",
                r["label"] if first else "",
                r["state"],
                r["shown"],
                r["estimate"],
            ]
        )
    title = one_line(f"{model.title} ({model.id})")
    meta = one_line(f"horizon: {model.horizon}" if model.horizon else "horizon: not stated")
    pe_text = prob(result.evidence_probability, result.log_evidence)
    if u is not None and (result.given or result.likelihood):
        lo, hi = u.evidence_interval()
        llo, lhi = u.evidence_log_interval() or (None, None)
        pe_text += f" [{prob(lo, llo)}–{prob(hi, lhi)}]"
    pe = f"P(evidence) = {pe_text}  (probability of the findings, after interventions)"
    engine = "" if result.engine == "fast" else f"engine: {result.engine}"
    notes = uncertainty_lines(u) if u is not None else []
    if fmt == "md":
        lines = [f"**{md_text(title)}** — {md_text(meta)}", ""]
        lines += [f"- {md_text(x)}" for x in _findings_lines(result, pad=False)]
        lines += [f"- {pe}", ""]
        if engine:
            lines += [f"- {engine}", ""]
        lines += markdown_table(body, header, right=[3])
        if notes:
            lines += ["", *[f"- {x}" for x in notes]]
        return "\n".join(lines) + "\n"
    lines = [title, meta, *map(one_line, _findings_lines(result)), pe]
    if engine:
        lines.append(engine)
    lines.append("")
    lines += align(body, header, right=[3])
    if notes:
        lines += ["", *notes]
    return "\n".join(lines) + "\n"


def render_show(model: Model, fmt: str = "table") -> str:
    """Render a model description: JSON (the contract shape) or readable text (each
    label, state and note on its line: no line break or escape sequence of the file's
    text reaches the terminal; a description keeps its line breaks)."""
    data = model.describe()
    for node in data["nodes"]:
        node.update(_risk_fields(model.spec.nodes[node["id"]]))
    if fmt == "json":
        return json_text(data)
    lines = [f"{data['title']} ({data['id']})"]
    lines.append(f"horizon: {data['horizon'] or 'not stated'}")
    lines = [one_line(x) for x in lines]
    if data["description"]:
        lines.append(terminal_text(data["description"]).strip())
    if data["targets"]:
        lines.append("targets: " + ", ".join(data["targets"]))
    if data["sources"]:
        lines.append("sources:")
        for sid, src in data["sources"].items():
            extra = ", ".join(src[k] for k in ("publisher", "date", "url") if src.get(k))
            lines.append(one_line(f"  [{sid}] {src['title']}" + (f" ({extra})" if extra else "")))
    spec = model.spec
    for node in data["nodes"]:
        lines.append("")
        lines.append(one_line(f"{node['id']}: {node['label']}"))
        lines.append(one_line(f"  states: {', '.join(node['states'])}"))
        if node["parents"]:
            lines.append(f"  parents: {', '.join(node['parents'])}")
        if node["adverse"]:
            lines.append(one_line(f"  adverse: {', '.join(node['adverse'])}"))
        if node["impact"]:
            lines.append(
                one_line(
                    "  impact: "
                    + "; ".join(f"{s}: {_impact_text(v)}" for s, v in node["impact"].items())
                )
            )
        lines += map(one_line, _provenance_lines(spec.nodes[node["id"]].provenance, "  "))
        lines.append("  as written:")
        for entry in node["written"]:
            lines.append(one_line(f"    {entry['row']}: {entry['text']}"))
            extra = {k: entry[k] for k in ("sources", "confidence", "note") if k in entry}
            lines += [
                one_line(f"      {k}: {', '.join(v) if isinstance(v, list) else v}")
                for k, v in extra.items()
            ]
        lines.append("  table:")
        lines += ["    " + x for x in _cpt_lines(model, node)]
    return "\n".join(lines) + "\n"


def _risk_fields(node) -> dict:
    """``adverse`` (the states a risk table reports, when the model names them) and
    ``impact`` (state -> impact, for every state that has one) of a node spec."""
    impact = {s: i.to_json() for s in node.states if (i := node.impact_of(s)) is not None}
    return {"adverse": list(node.adverse), "impact": impact}


def _impact_text(impact: dict) -> str:
    """``4 Significant`` or ``2.5 bn USD`` from an impact's JSON."""
    if "level" in impact:
        return f"{impact['level']} {impact['label']}"
    return f"{impact['value']:g}" + (f" {impact['unit']}" if impact.get("unit") else "")


def _provenance_lines(prov, pad: str) -> list[str]:
    out = []
    if prov.sources:
        out.append(f"{pad}sources: {', '.join(prov.sources)}")
    if prov.confidence:
        out.append(f"{pad}confidence: {prov.confidence}")
    if prov.note:
        out.append(f"{pad}note: {' '.join(prov.note.split())}")
    return out


def _cpt_lines(model: Model, node: dict) -> list[str]:
    import itertools

    states = node["states"]
    parents = node["parents"]
    arr = model.cpt(node["id"])
    header = [*parents, *states] if parents else states
    rows = []
    if not parents:
        rows.append([pct(p) for p in arr])
    else:
        pstates = [model.states(p) for p in parents]
        for combo in itertools.product(*[range(len(s)) for s in pstates]):
            names = [pstates[k][j] for k, j in enumerate(combo)]
            rows.append([*names, *(pct(p) for p in arr[combo])])
    right = range(len(parents), len(header))
    return align(rows, header, right=list(right))
