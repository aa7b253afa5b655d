"""Small text helpers shared by the renderers: percentages, aligned tables."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence


def pct(p: float) -> str:
    """A probability as a percentage: one decimal, more for values under 0.1%.

    ``0.62 -> '62.0%'``, ``0.00042 -> '0.042%'``, exact 0 and 1 -> ``'0%'``/``'100%'``.
    """
    if p != p:
        return "n/a"
    if p == 0:
        return "0%"
    if p == 1:
        return "100%"
    x = p * 100
    if x < 0.1:
        return f"{x:.2g}%"
    text = f"{x:.1f}"
    if text == "100.0":  # never round a non-certainty up to 100%
        text = f"{x:.3f}"
        return ">99.999%" if text == "100.000" else text + "%"
    return text + "%"


def pct_in_band(p: float, band: tuple[float, float] | None) -> str:
    """:func:`pct`, with more decimals where one would show a number outside the
    term's band beside it (79.97% is "likely"; "80.0% likely [55–80%]" misleads)."""
    text = pct(p)
    if band is None or not 0.001 <= p <= 0.999:
        return text
    lo, hi = band[0] * 100, band[1] * 100
    x = p * 100
    for digits in (1, 2, 3, 4):
        shown = round(x, digits)
        if lo <= shown < hi or (hi == 100 and shown <= 100):
            return f"{shown:.{digits}f}%"
    return text


def interval(lo: float, hi: float) -> str:
    """An interval of probabilities: ``[55.1–67.4%]`` (the decimals of :func:`pct`)."""
    return f"[{pct(lo).rstrip('%')}–{pct(hi)}]"


def interval_like(lo: float, hi: float, shown: str) -> str:
    """:func:`interval`, with as many decimals as ``shown`` (a :func:`pct_in_band` text)
    when that has more than one, so ``79.97%`` is not followed by ``[80.0–80.0%]``."""
    whole, dot, frac = shown.rstrip("%").partition(".")
    digits = len(frac)
    if not dot or digits <= 1 or not whole.isdigit() or not frac.isdigit():
        return interval(lo, hi)

    def end(x: float) -> str:
        text = pct(x).rstrip("%")
        # only the ordinary one-decimal form gains digits (not 0, 100, tiny or near-1 values)
        if "." in text and len(text.partition(".")[2]) == 1:
            return f"{x * 100:.{digits}f}"
        return text

    return f"[{end(lo)}–{end(hi)}%]"


def spans(lo: float, hi: float, scale) -> str | None:
    """``"spans unlikely [20–45%] to likely [55–80%]"`` when an interval's ends fall
    under different terms of ``scale`` (an end in a gap between terms is "a gap"),
    else None. Every word comes with its range."""
    if lo != lo or hi != hi:
        return None
    a, b = scale.classify(lo), scale.classify(hi)
    if a is not None and b is not None and a.term == b.term:
        return None
    return f"spans {a.label() if a else 'a gap'} to {b.label() if b else 'a gap'}"


def prob(p: float) -> str:
    """P(evidence) and similar: 4 significant digits, scientific when tiny."""
    if p != p:
        return "n/a"
    if p == 0 or abs(p) >= 1e-4:
        return f"{p:.4g}"
    return f"{p:.3e}"


def align(
    rows: Sequence[Sequence[str]], header: Sequence[str], right: Sequence[int] = ()
) -> list[str]:
    """Plain-text table: columns padded to width, two spaces apart, a rule under the header."""
    table = [list(header), *[list(r) for r in rows]]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]

    def fmt(r: list[str]) -> str:
        cells = [
            c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))
        ]
        return "  ".join(cells).rstrip()

    return [fmt(table[0]), "  ".join("-" * w for w in widths), *(fmt(r) for r in table[1:])]


def markdown_table(
    rows: Sequence[Sequence[str]], header: Sequence[str], right: Sequence[int] = ()
) -> list[str]:
    """A GitHub-flavoured Markdown pipe table (``|`` in cells escaped)."""

    def cell(c: str) -> str:
        return c.replace("|", "\\|")

    rule = ["---:" if i in right else "---" for i in range(len(header))]
    out = ["| " + " | ".join(cell(h) for h in header) + " |", "| " + " | ".join(rule) + " |"]
    out += ["| " + " | ".join(cell(c) for c in r) + " |" for r in rows]
    return out


def csv_text(rows: Sequence[Sequence[object]], header: Sequence[str]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def json_text(data: object) -> str:
    """Deterministic JSON: insertion order kept, floats to 12 significant digits
    (so rounding noise such as 0.30000000000000004 does not show), NaN as null."""
    return json.dumps(_clean(data), indent=2, ensure_ascii=False) + "\n"


def _clean(x: object) -> object:
    if isinstance(x, float):
        return float(f"{x:.12g}") if math.isfinite(x) else None
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    return x
