"""Rendering of indicator rankings (``riskchain watch``): terminal table, Markdown, JSON."""

from __future__ import annotations

import math

from riskchain.analysis.watch import BetweenResult, Indicator, Outcome, WatchResult
from riskchain.report.text import align, json_text, markdown_table, pct, pct_in_band
from riskchain.scales import Scale


def _bits(x: float) -> str:
    """Mutual information or divergence: 4 decimals, scientific when smaller."""
    if x == 0:
        return "0"
    return f"{x:.4f}" if x >= 5e-5 else f"{x:.1e}"


def _points(x: float) -> str:
    """A change of probability in percentage points."""
    if x == 0:
        return "0 pts"
    return "<0.1 pts" if x < 0.0005 else f"{x * 100:.1f} pts"


def _dist(d: dict[str, float]) -> str:
    return ", ".join(f"{s} {pct(p)}" for s, p in d.items())


def _worded(p: float, scale: Scale) -> str:
    """``61.2% likely [55–80%]`` (the number never shown outside its term's band)."""
    band = scale.classify(p)
    if band is None:
        return f"{pct(p)} (between terms)"
    return f"{pct_in_band(p, band.output_range())} {band.label()}"


def _now(res: WatchResult) -> str:
    if res.graded:
        parts = " · ".join(f"{s} {_worded(p, res.scale)}" for s, p in res.posterior.items())
        return f"now: {parts}; call: {res.call}"
    assert res.p is not None
    return f"now: P({res.target} = {res.state}) = {_worded(res.p, res.scale)}"


def _outcome_line(res: WatchResult, ind: Indicator, o: Outcome) -> str:
    head = f"if {ind.node} = {o.state} ({pct(o.probability)} now): "
    if not o.possible:
        return head + "impossible under the findings"
    if res.graded:
        text = " · ".join(f"{s} {_worded(p, res.scale)}" for s, p in o.posterior.items())
        return head + text + (f" (call changes to {o.call})" if o.changes_term else "")
    assert o.p is not None
    return (
        head
        + f"P(target) {_worded(o.p, res.scale)}"
        + (" (term changes)" if o.changes_term else "")
    )


def _findings(res: WatchResult) -> list[str]:
    lines = [
        "observed (given): " + (", ".join(f"{k}={v}" for k, v in res.given.items()) or "none"),
        "forced (do): " + (", ".join(f"{k}={v}" for k, v in res.do.items()) or "none"),
    ]
    if res.likelihood:
        lines.append(
            "likelihood: "
            + ", ".join(
                f"{k}~(" + ", ".join(f"{s}:{x:g}" for s, x in v.items()) + ")"
                for k, v in res.likelihood.items()
            )
        )
    return lines


def _summary(res: WatchResult) -> list[str]:
    what = res.target if res.graded else f"{res.target} = {res.state}"
    head = f"What to watch for {what} ({res.label}) in model {res.model}"
    if res.scenario:
        head += f", on top of scenario '{res.scenario}'"
    return [
        head,
        *_findings(res),
        _now(res),
        f"uncertainty about {res.target}: {res.entropy:.3f} bits (the most any observation "
        "could remove)",
    ]


def _headers(res: WatchResult) -> list[str]:
    flip = "P(call changes)" if res.graded else "P(term changes)"
    return ["#", "indicator", "MI (bits)", res.measure_name, flip, "now"]


def _rows(res: WatchResult, shown: list[Indicator]) -> list[list[str]]:
    return [
        [
            str(k),
            x.node,
            _bits(x.mutual_information),
            _points(x.expected_change),
            pct(x.term_change),
            _dist(x.now),
        ]
        for k, x in enumerate(shown, 1)
    ]


def _notes(res: WatchResult) -> list[str]:
    change = res.measure_note
    if res.graded:
        flip = (
            "P(call changes): the probability that seeing the indicator changes the call, "
            "the target's most likely state and that state's term."
        )
    else:
        flip = (
            "P(term changes): the probability that seeing the indicator moves P(target) into "
            f"another estimative term ({res.scale.name})."
        )
    notes = [
        "MI: mutual information with the target under the findings, in bits: how much "
        "uncertainty about the target seeing the indicator removes on average (0: nothing; "
        f"at most {res.entropy:.3f} bits, all of it).",
        change,
        flip,
    ]
    if res.uninformative:
        notes.append(
            f"{len(res.uninformative)} node(s) cannot tell anything about the target under "
            "these findings (d-separated from it): not listed."
        )
    return notes


def render_watch(res: WatchResult, fmt: str = "table", top: int | None = 10) -> str:
    """Render a :class:`WatchResult` as ``table``, ``md`` or ``json`` (JSON lists all)."""
    if fmt == "json":
        return json_text(res.to_json())
    shown = res.indicators[:top] if top else res.indicators
    title = f"Indicators by mutual information (top {len(shown)} of {len(res.indicators)})"
    details: list[tuple[str, list[str]]] = []
    for x in shown:
        details.append(
            (f"{x.node} — {x.label}", [_outcome_line(res, x, o) for o in x.outcomes.values()])
        )
    if fmt == "md":
        out = [f"**{line}**  " if i == 0 else f"{line}  " for i, line in enumerate(_summary(res))]
        out += ["", f"**{title}**", ""]
        out += markdown_table(_rows(res, shown), _headers(res), right=[0, 2, 3, 4])
        if details:
            out += ["", "**If you observe**", ""]
            for head, lines in details:
                out += [f"- {head}", *[f"  - {line}" for line in lines]]
        out += ["", *[f"- {n}" for n in _notes(res)]]
        return "\n".join(out) + "\n"
    out = [*_summary(res), "", title + ":", ""]
    out += align(_rows(res, shown), _headers(res), right=[0, 2, 3, 4])
    if details:
        out += ["", "If you observe:"]
        for head, lines in details:
            out += ["", head, *[f"  {line}" for line in lines]]
    out += ["", *[f"* {n}" for n in _notes(res)]]
    return "\n".join(out) + "\n"


# ----------------------------------------------------------------------------- two scenarios


def _odds(res: BetweenResult, r: float) -> str:
    """What seeing a state does to the odds of the first scenario against the second."""
    if r != r:
        return "impossible under both"
    if math.isinf(r):
        return f"rules out {res.b}"
    if r == 0:
        return f"rules out {res.a}"
    return f"odds of {res.a} against {res.b} ×{r:.3g}"


def _between_notes(res: BetweenResult) -> list[str]:
    notes = [
        "JS: Jensen–Shannon divergence of the indicator's distributions under the two "
        "scenarios, in bits: what seeing it tells, on average, about which of the two holds "
        "when both are equally likely beforehand (0: it looks the same under both; 1: it "
        "settles the question).",
        f"odds ×r: seeing that state multiplies the odds of {res.a} against {res.b} by r "
        f"(its probability under {res.a} over its probability under {res.b}).",
    ]
    if res.excluded:
        notes.append(
            f"{len(res.excluded)} node(s) observed or forced in either scenario are part of "
            "what defines them: not listed."
        )
    return notes


def render_between(res: BetweenResult, fmt: str = "table", top: int | None = 10) -> str:
    """Render a :class:`BetweenResult` as ``table``, ``md`` or ``json`` (JSON lists all)."""
    if fmt == "json":
        return json_text(res.to_json())
    shown = res.indicators[:top] if top else res.indicators
    head = f"What tells '{res.a}' from '{res.b}' ({res.model})"
    title = f"Indicators by Jensen–Shannon divergence (top {len(shown)} of {len(res.indicators)})"
    header = ["#", "indicator", "JS (bits)", f"under {res.a}", f"under {res.b}"]
    rows = [
        [str(k), x.node, _bits(x.divergence), _dist(x.a), _dist(x.b)]
        for k, x in enumerate(shown, 1)
    ]
    details = []
    for x in shown:
        lines = [
            f"if {x.node} = {s}: {pct(x.a[s])} under {res.a}, {pct(x.b[s])} under {res.b}; "
            f"{_odds(res, r)}"
            for s, r in x.likelihood_ratio.items()
        ]
        details.append((f"{x.node} — {x.label}", lines))
    if fmt == "md":
        out = [f"**{head}**", "", f"**{title}**", ""]
        out += markdown_table(rows, header, right=[0, 2])
        if details:
            out += ["", "**If you observe**", ""]
            for h, lines in details:
                out += [f"- {h}", *[f"  - {line}" for line in lines]]
        out += ["", *[f"- {n}" for n in _between_notes(res)]]
        return "\n".join(out) + "\n"
    out = [head, "", title + ":", ""]
    out += align(rows, header, right=[0, 2])
    if details:
        out += ["", "If you observe:"]
        for h, lines in details:
            out += ["", h, *[f"  {line}" for line in lines]]
    out += ["", *[f"* {n}" for n in _between_notes(res)]]
    return "\n".join(out) + "\n"
