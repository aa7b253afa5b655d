"""Rendering of sensitivity analyses: terminal table, Markdown, JSON."""

from __future__ import annotations

from riskchain.analysis.sensitivity import Parameter, SensitivityResult
from riskchain.report.safe import md_text, one_line
from riskchain.report.text import align, json_text, markdown_table, pct, pct_in_band


def _g(x: float) -> str:
    """A number of a table (probabilities as written: up to 3 decimals)."""
    return f"{x:.3f}".rstrip("0").rstrip(".") if x == x else "n/a"


def _binary_yes(par: Parameter) -> bool:
    """Whether a number is simply P(yes) (else the table names the state it is for)."""
    return par.state.lower() == "yes"


def _threshold(par: Parameter) -> str:
    if par.threshold is None:
        return "never in [0, 1]"
    word = f" ({par.threshold_term})" if par.threshold_term else ""
    approx = "≈" if not par.exact else ""
    return f"at {approx}{_g(par.threshold)}: crosses {pct(par.threshold_p)}{word}"


def _rows(params: list[Parameter], analyst: bool) -> list[list[str]]:
    rows = []
    for par in params:
        where = ", ".join(f"{k}={v}" for k, v in par.when.items())
        rows.append(
            [
                par.node,
                (par.name + ("" if _binary_yes(par) else f" → {par.state}"))
                if analyst
                else f"P({par.state}" + (f" | {where})" if where else ")"),
                *([par.written or ""] if analyst else []),
                _g(par.value),
                f"{_g(par.interval[0])}–{_g(par.interval[1])}",
                f"{pct(par.low)} – {pct(par.high)}",
                f"{par.derivative:+.3f}",
                _threshold(par),
            ]
        )
    return rows


def _headers(analyst: bool) -> list[str]:
    return [
        "node",
        "number" if analyst else "entry",
        *(["as written"] if analyst else []),
        "value",
        "plausible range",
        "P(target) at its ends",
        "dP/dθ",
        "threshold",
    ]


def _summary(res: SensitivityResult) -> list[str]:
    band = res.scale.classify(res.p)
    word = f"{band.label()}" if band else "(between terms)"
    shown = pct_in_band(res.p, band.output_range() if band else None)
    findings = [
        "observed (given): " + (", ".join(f"{k}={v}" for k, v in res.given.items()) or "none"),
        "forced (do): " + (", ".join(f"{k}={v}" for k, v in res.do.items()) or "none"),
    ]
    if res.likelihood:
        findings.append("likelihood: " + ", ".join(res.likelihood))
    return [f"P({res.target} = {res.state}) = {shown}  {word}", *findings]


def _notes(res: SensitivityResult) -> list[str]:
    crossing = (
        f"the value at which P(target) crosses {pct(res.threshold)} (--threshold)"
        if res.threshold is not None
        else "the nearest value at which P(target) leaves its estimative term"
    )
    notes = [
        "Each number is varied alone; the other entries of its distribution keep their "
        "ratios and fill the rest (proportional co-variation).",
        "Plausible range: a term's or range's own range, the central 90% of a beta, else "
        f"the band of the {res.scale.name} term that holds the value.",
        f"Threshold: {crossing}; 'never' if no value in [0, 1] gets there.",
        "dP/dθ: the change in P(target) per unit change of the number, at its value.",
    ]
    if any(not p.exact for p in res.analyst):
        notes.append(
            "≈: a number that is not linear in the table (a leak or a noisy-MAX distribution) "
            "was evaluated on a grid of 101 values; its threshold is interpolated."
        )
    if res.irrelevant:
        notes.append(
            f"{len(res.irrelevant)} node(s) cannot change P(target) under these findings "
            "(not ancestors of the target or of a finding, or forced): not listed."
        )
    return notes


def render_sensitivity(res: SensitivityResult, fmt: str = "table", top: int | None = 10) -> str:
    """Render a :class:`SensitivityResult` as ``table``, ``md`` or ``json`` (JSON lists all)."""
    if fmt == "json":
        return json_text(res.to_json())
    analyst = res.analyst[:top] if top else res.analyst
    entries = res.parameters[:top] if top else res.parameters
    a_title = f"The numbers as written, by swing (top {len(analyst)} of {len(res.analyst)})"
    e_title = f"Every table entry, by swing (top {len(entries)} of {len(res.parameters)})"
    if fmt == "md":
        out = [
            f"**{md_text(line)}**  " if i == 0 else f"{md_text(line)}  "
            for i, line in enumerate(_summary(res))
        ]
        out += ["", f"**{a_title}**", ""]
        out += markdown_table(_rows(analyst, True), _headers(True), right=[3])
        out += ["", f"**{e_title}**", ""]
        out += markdown_table(_rows(entries, False), _headers(False), right=[2])
        out += ["", *[f"- {md_text(n)}" for n in _notes(res)]]
        return "\n".join(out) + "\n"
    out = [*_summary(res), "", a_title + ":", ""]
    out += align(_rows(analyst, True), _headers(True), right=[3])
    out += ["", e_title + ":", ""]
    out += align(_rows(entries, False), _headers(False), right=[2])
    out += ["", *[f"* {n}" for n in _notes(res)]]
    return "\n".join(map(one_line, out)) + "\n"
