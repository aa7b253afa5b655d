"""Small text helpers shared by the renderers: percentages, aligned tables."""

from __future__ import annotations

import csv
import io
import json
import math
import re
import textwrap
from collections.abc import Iterable, Sequence

from riskchain.report.safe import csv_cell, md_cell, one_line

# glues the words of a phrase that must not be split across lines ("likely [55–80%]")
_NBSP = "\u00a0"


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


def prob(p: float, log_p: float | None = None) -> str:
    """P(evidence) and similar: 4 significant digits, scientific when tiny. Given its
    log, a value beyond a float (likelihoods near 1e308 or 1e-300 scale P(evidence))
    is written from the log: ``8e+615``, not ``inf`` or ``0``."""
    if log_p is not None and math.isfinite(log_p) and (p == 0 or math.isinf(p)):
        exponent = math.floor(log_p / math.log(10))
        mantissa = math.exp(log_p - exponent * math.log(10))
        if mantissa >= 9.9995:  # rounds up to 10
            mantissa, exponent = mantissa / 10, exponent + 1
        return f"{mantissa:.3f}e{exponent:+d}"
    if p != p:
        return "n/a"
    if p == 0 or abs(p) >= 1e-4:
        return f"{p:.4g}"
    return f"{p:.3e}"


def align(
    rows: Sequence[Sequence[str]], header: Sequence[str], right: Sequence[int] = ()
) -> list[str]:
    """Plain-text table: columns padded to width, two spaces apart, a rule under the header."""
    return fit(rows, header, width=1 << 30, right=right)


def wrap_text(
    text: str,
    width: int,
    indent: str = "",
    hang: str | None = None,
    keep: Iterable[str] = (),
) -> list[str]:
    """``text`` as lines of at most ``width`` characters (a word longer than that keeps
    its line), the first prefixed by ``indent``, the others by ``hang`` (default: as
    many spaces). Phrases in ``keep`` are never split (a word with its range)."""
    hang = " " * len(indent) if hang is None else hang
    lines = textwrap.wrap(
        _glue(one_line(text), keep),
        max(width, len(indent) + 1),
        initial_indent=indent,
        subsequent_indent=hang,
        break_long_words=False,
        break_on_hyphens=False,
    )
    return [x.replace(_NBSP, " ") for x in lines] or [indent.rstrip()]


def _glue(text: str, keep: Iterable[str]) -> str:
    for phrase in sorted(set(keep), key=len, reverse=True):
        if " " in phrase:
            text = text.replace(phrase, phrase.replace(" ", _NBSP))
    # an interval stays whole, and a number keeps its unit
    text = re.sub(r"\[[^\]]*\]", lambda m: m.group(0).replace(" ", _NBSP), text)
    return re.sub(r"(?<=\d) pp\b", _NBSP + "pp", text)


def fit(
    rows: Sequence[Sequence[str]],
    header: Sequence[str],
    width: int,
    right: Sequence[int] = (),
    wrap: Sequence[int] = (),
    indent: str = "",
    keep: Iterable[str] = (),
) -> list[str]:
    """:func:`align` within ``width`` characters: when the table is wider, the cells of
    the columns in ``wrap`` (narrowed in that order) are wrapped onto continuation lines,
    phrases in ``keep`` and intervals ``[...]`` whole. A table that cannot be narrowed
    that far is as narrow as its longest words allow."""
    return fit_blocks([rows], header, width, right, wrap, indent, keep)[0]


def fit_blocks(
    blocks: Sequence[Sequence[Sequence[str]]],
    header: Sequence[str],
    width: int,
    right: Sequence[int] = (),
    wrap: Sequence[int] = (),
    indent: str = "",
    keep: Iterable[str] = (),
) -> list[list[str]]:
    """:func:`fit` for several tables with the same columns, aligned alike (one list of
    lines, header and rule included, per block). A row one cell longer than the header
    has a note: its last cell, printed on a line of its own under the row, from the
    second column on (it takes no column's width)."""
    keep = list(keep)
    # a cell is one line of plain text: no escape sequence, no line break inside it
    header = [one_line(h) for h in header]
    blocks = [[[one_line(c) for c in r] for r in b] for b in blocks]
    n = len(header)
    everything = [list(header), *[list(r)[:n] for b in blocks for r in b]]
    widths = [max(len(r[i]) for r in everything) for i in range(n)]
    excess = len(indent) + sum(widths) + 2 * (n - 1) - width
    narrowed: set[int] = set()
    for col in wrap:
        if excess <= 0:
            break
        words = [w for r in everything[1:] for w in _glue(r[col], keep).split(" ")]
        least = max(len(header[col]), *(len(w) for w in words or [""]))
        cut = min(excess, max(widths[col] - least, 0))
        if cut:
            widths[col] -= cut
            excess -= cut
            narrowed.add(col)

    def fmt(r: Sequence[str]) -> str:
        out = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))]
        return (indent + "  ".join(out)).rstrip()

    out = []
    for block in blocks:
        lines = [fmt(header), indent + "  ".join("-" * w for w in widths)]
        for r in block:
            cells = [
                _wrap_cell(c, widths[i], keep) if i in narrowed else [c]
                for i, c in enumerate(r[:n])
            ]
            for k in range(max(len(c) for c in cells)):
                lines.append(fmt([c[k] if k < len(c) else "" for c in cells]))
            if len(r) > n and r[n]:
                lead = indent + " " * (widths[0] + 2)
                lines += wrap_text(r[n], width, lead, keep=keep)
        out.append(lines)
    return out


def _wrap_cell(text: str, width: int, keep: list[str]) -> list[str]:
    return wrap_text(text, width, keep=keep) if len(text) > width else [text]


def markdown_table(
    rows: Sequence[Sequence[str]], header: Sequence[str], right: Sequence[int] = ()
) -> list[str]:
    """A GitHub-flavoured Markdown pipe table of plain-text cells, each escaped by
    :func:`~riskchain.report.safe.md_cell` (so ``|`` in a cell stays in it, and no
    cell holds HTML or a link)."""

    def cell(c: str) -> str:
        return md_cell(c)

    rule = ["---:" if i in right else "---" for i in range(len(header))]
    out = ["| " + " | ".join(cell(h) for h in header) + " |", "| " + " | ".join(rule) + " |"]
    out += ["| " + " | ".join(cell(c) for c in r) + " |" for r in rows]
    return out


def csv_text(rows: Sequence[Sequence[object]], header: Sequence[str]) -> str:
    """CSV, one line per row (``\\n``), every cell (header too) made safe for a
    spreadsheet by :func:`~riskchain.report.safe.csv_cell`: no cell starts a formula,
    and a cell with a line break is quoted, so it never splits its row."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([csv_cell(c) for c in header])
    writer.writerows([csv_cell(c) for c in r] for r in rows)
    return buf.getvalue()


# characters JSON leaves raw with ensure_ascii=False that a terminal may act on (DEL, C1
# controls: 0x9b starts a control sequence) or that cannot be encoded (lone surrogates)
_JSON_RAW = re.compile("[\x7f-\x9f\ud800-\udfff\u2028\u2029]")


def json_text(data: object) -> str:
    """Deterministic JSON: insertion order kept, floats to 12 significant digits
    (so rounding noise such as 0.30000000000000004 does not show), NaN as null.

    Strings keep their exact value: control characters are written as JSON's
    ``\\u`` escapes (json escapes C0 itself; DEL, C1, lone surrogates and the line
    separators too), so the text printed holds none of them."""
    text = json.dumps(_clean(data), indent=2, ensure_ascii=False)
    # these characters occur only inside strings, where \uXXXX means the same
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text) + "\n"


def _clean(x: object) -> object:
    if isinstance(x, float):
        return float(f"{x:.12g}") if math.isfinite(x) else None
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    return x
