"""The explanation of one judgment, written out for an editor (Markdown) or as JSON.

Every sentence is assembled from the numbers of an
:class:`~riskchain.analysis.explain.ExplainResult`; nothing is canned. Words for
probabilities always come with their ranges.
"""

from __future__ import annotations

from riskchain.analysis.explain import TOP, ExplainResult, edge_distance
from riskchain.report.query import reported_state
from riskchain.report.safe import md_code, md_text
from riskchain.report.text import json_text, markdown_table, pct, pct_in_band

MPE_SHOWN = 12  # nodes of the most probable explanation listed in the text


def _p(res: ExplainResult, p: float) -> str:
    band = res.scale.classify(p)
    return pct_in_band(p, band.output_range() if band else None)


def _word(res: ExplainResult, p: float) -> str:
    band = res.scale.classify(p)
    return band.label() if band else "between two terms of the scale"


def _g(x: float) -> str:
    """A number as written in a model: 3 significant digits, never ``-0``."""
    return f"{round(x, 12) + 0.0:.3g}"


def _pp(x: float) -> str:
    pp = x * 100
    return f"{pp:+.1f} points" if abs(pp) >= 0.05 else "no change"


def _node(res: ExplainResult, node: str) -> str:
    label = res.model.label(node)
    return f"{md_text(label)} ({md_code(node)})" if label != node else md_code(node)


def number_name(res: ExplainResult, name: str, node: str, state: str, comma: bool = False) -> str:
    """``cause a=yes of Label (`node`), its number for `elevated```: a number of a
    table, with the state it is the probability of unless it is a binary node's
    reported state (a graded node's numbers are per state: 0.417 for ``elevated``
    must not read as one for the target's ``severe``); ``comma`` closes the state's
    clause when the sentence goes on."""
    states = res.model.states(node)
    own = f", its number for {md_code(state)}" if state != reported_state(states) else ""
    return f"{md_text(name)} of {_node(res, node)}{own}{',' if own and comma else ''}"


def _question(res: ExplainResult) -> str:
    parts = []
    if res.scenario:
        mine = (
            f" (with its own numbers for {len(res.replaced)} "
            f"node{'s' if len(res.replaced) != 1 else ''})"
            if res.replaced
            else ""
        )
        parts.append(f"on top of scenario {md_code(res.scenario)}{mine}")
    if res.given:
        parts.append("observed: " + ", ".join(md_code(f"{k}={v}") for k, v in res.given.items()))
    if res.do:
        parts.append("forced: " + ", ".join(md_code(f"{k}={v}") for k, v in res.do.items()))
    if res.likelihood:
        parts.append("soft evidence on " + ", ".join(md_code(k) for k in res.likelihood))
    if not res.given and not res.do and not res.likelihood:
        parts.append("nothing observed or forced")
    return "; ".join(parts)


def _judgment(res: ExplainResult, seed: bool = True) -> list[str]:
    spec = res.model.spec
    # a sentence of its own: horizons carry parentheses of their own ("(to October 2026)")
    horizon = f" Horizon: {md_text(spec.horizon)}." if spec.horizon else ""
    outcome = f"{_node(res, res.target)} is {md_code(res.state)}"
    text = (
        f"**Key judgment.** It is {_word(res, res.p)} that {outcome}: "
        f"P = {_p(res, res.p)}.{horizon}"
    )
    u = res.uncertainty
    if u is not None:
        lo, hi = u.interval(res.target, res.state)
        seeded = f" (seed {u.seed})" if seed else ""
        text += (
            f" Across {u.samples} draws of the model's numbers{seeded} the central "
            f"{u.level * 100:g}% of answers lies between {pct(lo)} and {pct(hi)}; the spread is "
            f"{u.spread_note()}."
        )
        lo_band, hi_band = res.scale.classify(lo), res.scale.classify(hi)
        if lo_band != hi_band:
            text += (
                f" That interval runs from {_word(res, lo)} to {_word(res, hi)}: the word is a "
                "close call."
            )
    return [text]


def _mpe(res: ExplainResult, most: int | None = MPE_SHOWN) -> list[str]:
    e = res.mpe
    items = list(e.assignment.items())
    if not items:
        return ["**Most probable explanation.** Every node is observed or forced."]
    shown = items[:most] if most is not None else items
    listing = "; ".join(f"{_node(res, n)} = {md_code(s)}" for n, s in shown)
    more = (
        f" (and {len(items) - len(shown)} more nodes, listed in the JSON)"
        if len(items) > len(shown)
        else ""
    )
    target_state = e.assignment.get(res.target)
    where = (
        f" In it, {_node(res, res.target)} is {md_code(target_state)}."
        if target_state is not None
        else ""
    )
    return [
        f"**Most probable explanation of the findings.** The single likeliest complete "
        f"picture of the {len(items)} nodes not observed or forced has probability "
        f"{pct(e.probability)} given the findings: {listing}{more}.{where} Other pictures "
        f"share the remaining {pct(1 - e.probability)}, so this is a reading of the evidence, "
        "not a forecast."
    ]


def _contributions(res: ExplainResult) -> list[str]:
    if not res.contributions:
        return ["**What the findings contribute.** Nothing is observed."]
    rows = []
    for c in res.contributions:
        rows.append(
            [
                f"{c.node}={c.value}"
                if c.kind == "observed"
                else f"{c.node} (likelihood {c.value})",
                c.kind,
                pct(c.p_without) if c.p_without is not None else "impossible without it",
                _pp(c.change) if c.change is not None else "n/a",
            ]
        )
    top = res.contributions[0]
    lead = "**What the findings contribute.** "
    if top.change is not None:
        lead += (
            f"The finding that matters most is {md_code(f'{top.node}={top.value}')} "
            f"({top.kind}): without "
            f"it P would be {_p(res, top.p_without)}, {_word(res, top.p_without)}; "
            f"with it, {_pp(top.change)}."
        )
    out = [lead, ""]
    out += markdown_table(
        rows, ["finding", "kind", "P(target) without it", "its effect"], right=[2, 3]
    )
    return out


def _conflict(res: ExplainResult) -> list[str]:
    n = len(res.given) + len(res.likelihood)
    if n < 2:
        return ["**Do the findings fit together?** There are fewer than two findings to compare."]
    if res.conflicting:
        ratio = 2**res.conflict if res.conflict != float("inf") else float("inf")
        return [
            f"**Warning: the findings conflict under the model** (conflict {res.conflict:.2f} "
            f"bits > 0): they are {ratio:.3g} times less likely together than each on its own "
            "would suggest. Check them: one may be wrong, or the model may miss a link."
        ]
    return [
        f"**Do the findings fit together?** Yes: the conflict measure is {res.conflict:.2f} bits "
        "(≤ 0: the findings are more likely together than apart, as findings that share a "
        "cause should be)."
    ]


def _replaced(res: ExplainResult) -> list[str]:
    """Which of the model file's numbers the scenario replaced, as the scenario wrote them."""
    if not res.replaced:
        return []
    n = len(res.replaced)
    out = [
        f"**The scenario's own numbers.** Scenario {md_code(res.scenario or '')} replaces the "
        f"model file's numbers for {n} node{'s' if n != 1 else ''} with its own (`set:`, "
        "written in it or in a scenario it extends), and every probability here uses them. They are the scenario's premise, so they are "
        "not among the assumptions below, which vary the model file's numbers of the other "
        "nodes:",
        "",
    ]
    for r in res.replaced:
        where = f" (set by scenario {md_code(r.scenario)})" if r.scenario != res.scenario else ""
        numbers = "; ".join(md_code(x) for x in r.numbers) or "its numbers"
        out.append(f"- {_node(res, r.node)}: {numbers}{where}.")
    return out


def _assumptions(res: ExplainResult) -> list[str]:
    pars = res.assumptions
    if not pars:
        return ["**The assumptions it rests on.** No number can change this probability."]
    out = [
        "**The assumptions it rests on.** The numbers that move P most, each over its plausible range:"
    ]
    out.append("")
    for par in pars:
        written = f" (written {md_code(par.written)})" if par.written else ""
        cross = ""
        if par.threshold is not None:
            approx = "about " if not par.exact else ""
            cross = (
                f" It would have to be {approx}{_g(par.threshold)} for P to cross "
                f"{pct(par.threshold_p)}."
            )
        out.append(
            f"- {number_name(res, par.name, par.node, par.state)}{written}: "
            f"from {_g(par.interval[0])} to {_g(par.interval[1])} "
            f"({md_text(par.interval_source)}) moves P from {pct(par.low)} to "
            f"{pct(par.high)}.{cross}"
        )
    return out


def _indicators(res: ExplainResult) -> list[str]:
    inds = res.indicators
    if not inds:
        return ["**Indicators to watch.** No unobserved node carries information about the target."]
    out = ["**Indicators to watch**, by how much they would tell (mutual information):", ""]
    for ind in inds:
        parts = []
        for s, o in ind.outcomes.items():
            if not o.possible or o.p is None:
                continue
            parts.append(
                f"if {md_code(s)} ({pct(o.probability)} now): P {_p(res, o.p)}, "
                f"{o.term or 'between terms'}"
            )
        out.append(
            f"- {_node(res, ind.node)}, {ind.mutual_information:.3f} bits, "
            f"{md_text(res.watch.measure_name)} {ind.expected_change * 100:.1f} points: "
            + "; ".join(parts)
            + "."
        )
    return out


def _crossing(res: ExplainResult, p: float) -> str:
    """``fall below 20.0%`` / ``rise to 45.0% or above`` (a band holds its lower edge)."""
    return f"fall below {pct(p)}" if p < res.p else f"rise to {pct(p)} or above"


def _shifts(res: ExplainResult) -> list[str]:
    near = edge_distance(res.scale, res.p)
    lead = "**What would change this assessment.**"
    if near is not None:
        dist, edge = near
        lead += f" P is {dist * 100:.1f} points from {pct(edge)}, the edge of {_word(res, res.p)}."
    if res.reachable:
        lead += (
            f" {res.reachable} of the {len(res.sensitivity.analyst)} numbers as written could "
            "change the word by moving within their own plausible ranges"
            + (
                f"; the {min(res.reachable, TOP)} that need the smallest move:"
                if res.shifts
                else "."
            )
        )
    if not res.shifts:
        return [
            lead + " Nothing within reach changes it: no number moved within its own plausible "
            "range, no observation of the top indicators and no finding withdrawn takes P out "
            f"of {_word(res, res.p)}."
        ]
    out = [lead, ""]
    for s in res.shifts:
        then = f"P would {_crossing(res, s.p)}: {s.term or 'between terms'}"
        if s.kind == "number":
            d = s.detail
            approx = "about " if not d["exact"] else ""
            written = f", written {md_code(d['written'])}" if d.get("written") else ""
            out.append(
                f"- {number_name(res, s.what, s.node, d['state'], comma=True)} "
                f"at {approx}{_g(d['threshold'])} instead of "
                f"{_g(d['value'])}{written} (its plausible range: "
                f"{_g(d['interval'][0])}–{_g(d['interval'][1])}): {then}."
            )
        elif s.kind == "indicator":
            out.append(
                f"- Observing {md_code(f'{s.node}={s.what}')} "
                f"({pct(s.detail['probability_now'])} likely now): "
                f"P would be {_p(res, s.p)}, {s.term or 'between terms'}."
            )
        else:
            out.append(
                f"- Withdrawing the finding {md_code(f'{s.node}={s.what}')}: "
                f"P would be {_p(res, s.p)}, "
                f"{s.term or 'between terms'}."
            )
    return out


def render_explain(
    res: ExplainResult, fmt: str = "md", *, mpe_shown: int | None = MPE_SHOWN, seed: bool = True
) -> str:
    """Render an :class:`ExplainResult` as Markdown prose (``md``) or ``json``.

    ``mpe_shown`` caps the nodes of the most probable explanation listed (None: all;
    the rest are in the JSON); ``seed=False`` leaves the draws' seed out of the text
    (a document that prints it once elsewhere).
    """
    if fmt == "json":
        return json_text(res.to_json())
    spec = res.model.spec
    outcome = f"P({res.target} = {md_text(res.state)})"
    title = f"## Why {outcome} is {_p(res, res.p)}: {_word(res, res.p)}"
    out = [
        title,
        "",
        f"Model: {md_text(spec.title)} ({md_code(spec.id)}); "
        f"horizon: {md_text(spec.horizon or 'not stated')}. "
        f"Question: {_question(res)}.",
        "",
    ]
    for section in (
        lambda r: _judgment(r, seed),
        lambda r: _mpe(r, mpe_shown),
        _contributions,
        _conflict,
        _replaced,
        _assumptions,
        _indicators,
        _shifts,
    ):
        lines = section(res)
        out += [*lines, ""] if lines else []
    out.append(
        f"*Probabilities are the model's, from the analyst's numbers (illustrative judgments); "
        f"words follow the {res.scale.title} scale, each with its range.*"
    )
    return "\n".join(out) + "\n"
