"""Probability values as analysts write them.

A probability may be a number (``0.35``), a percentage (``"35%"``), an
estimative term (``likely``), a range (``[0.2, 0.3]``) or a distribution
(``beta(3, 7)``). Each parses to a :class:`Prob` that keeps its point value
(used for exact answers) and its spread (kept for uncertainty analysis).
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection
from dataclasses import dataclass, field

from riskchain.errors import Diagnostic, power_text, shorten, suggest
from riskchain.scales import DEFAULT_SCALE, Scale, format_pct, format_range, scales_with
from riskchain.spec.yamlsrc import BLOCK_SCALAR_HINT, YNode

# Distributions must sum to 1 within this; they are then renormalized exactly. Other
# tools write six decimals (0.333333 three times sums to 0.999999), so a sum that far
# off is a rounding, not a mistake: accepted, with one warning per file (see below).
SUM_TOLERANCE = 1e-4
# Within this nothing is said: a sum off by a double's rounding or a last decimal.
QUIET_SUM_TOLERANCE = 1e-6

# beta(a, b) takes pseudo-counts up to this: beta(1e9, 1e9) has a spread of 1e-5,
# already a single number, and a + b of two numbers near 1e308 is not a number.
BETA_MAX = 1e9

_NUM = r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
_PERCENT = re.compile(rf"^\s*({_NUM})\s*%\s*$")
_BETA = re.compile(rf"^\s*beta\s*\(\s*({_NUM})\s*,\s*({_NUM})\s*\)\s*$", re.IGNORECASE)
_BETA_CUT = re.compile(r"^\s*beta\s*\(", re.IGNORECASE)
_NUMBER_TEXT = re.compile(rf"^\s*{_NUM}\s*$")
_DECIMAL = re.compile(rf"^{_NUM}$")

FLOW_HINT = (
    "inside YAML flow style ({...} or [...]) a comma ends a value; "
    "use block style (one entry per line) or quote the whole value"
)


# "did you mean" costs a comparison with every name it could mean: a file with
# thousands of misspelt names over thousands of states would take minutes. A file
# gets this many suggestions, from this many names compared in all.
SUGGESTIONS = 10
SUGGESTION_WORK = 50_000


@dataclass
class Context:
    """Collects diagnostics for one file while it is validated."""

    path: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    scale: Scale = DEFAULT_SCALE
    # distributions renormalized from a sum off by more than QUIET_SUM_TOLERANCE:
    # (line, col, sum), said once per file by :meth:`sum_warning`
    renormalized: list[tuple[int, int, float]] = field(default_factory=list)
    suggestions: int = 0  # "did you mean" hints computed so far
    compared: int = 0  # names compared for them
    _sets: dict[int, tuple[tuple[str, ...], frozenset[str]]] = field(
        default_factory=dict, repr=False
    )

    def suggest(self, word: str, choices: Collection[str]) -> str | None:
        """``did you mean 'x'?`` as :func:`riskchain.errors.suggest`, while the file's
        allowance lasts (:data:`SUGGESTIONS` hints, :data:`SUGGESTION_WORK` names compared)."""
        if self.suggestions >= SUGGESTIONS or self.compared + len(choices) > SUGGESTION_WORK:
            return None
        self.suggestions += 1
        self.compared += len(choices)
        return suggest(word, choices)

    def members(self, names: tuple[str, ...]) -> frozenset[str]:
        """``names`` as a set, made once per tuple: membership tests on a tuple of
        100,000 states would make reading the file quadratic."""
        hit = self._sets.get(id(names))
        if hit is None:
            # the tuple is kept with its set, so its id cannot be reused meanwhile
            hit = self._sets[id(names)] = (names, frozenset(names))
        return hit[1]

    def error(
        self, node: YNode | None, message: str, hint: str | None = None, offset: int = 0
    ) -> None:
        line, col = (node.line, node.col + offset) if node is not None else (0, 0)
        self.diagnostics.append(Diagnostic(self.path, line, col, message, hint))

    def error_at(self, line: int, col: int, message: str, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(self.path, line, col, message, hint))

    def renormalize(self, node: YNode, total: float) -> None:
        """Record a distribution that sums to ``total``, close enough to 1 to be renormalized."""
        if abs(total - 1) > QUIET_SUM_TOLERANCE:
            self.renormalized.append((node.line, node.col, total))

    def sum_warning(self) -> Diagnostic | None:
        """One warning for every renormalized distribution of the file, at the first one."""
        if not self.renormalized:
            return None
        line, col, _ = self.renormalized[0]
        worst = max(abs(t - 1) for _, _, t in self.renormalized)
        n = len(self.renormalized)
        what = "a distribution sums" if n == 1 else f"{n} distributions sum"
        return Diagnostic(
            self.path,
            line,
            col,
            f"{what} to 1 only within {worst:.2g} (the first is here): renormalized "
            f"(a sum within {SUM_TOLERANCE:g} of 1 is taken for a rounding)",
            "numbers rounded to a few decimals (0.333333 three times) do this; "
            "write one state's number as the remainder to silence it",
            severity="warning",
        )


@dataclass(slots=True)
class Prob:
    """A probability as written, with its point value and spread.

    Attributes
    ----------
    point : float
        The value used for exact answers: the number itself, the midpoint of
        a range or term, the mean of a beta distribution.
    kind : str
        ``number``, ``percent``, ``term``, ``range`` or ``beta``.
    low, high : float
        The range a term or range stands for; equal to ``point`` for exact
        numbers; the support [0, 1] for ``beta`` (see ``params``).
    text : str
        The value as the analyst wrote it.
    params : tuple of float
        ``(a, b)`` for ``beta``.
    line, col : int
        Where it was written.
    """

    point: float
    kind: str
    low: float
    high: float
    text: str
    params: tuple[float, ...] = ()
    line: int = 0
    col: int = 0

    @property
    def uncertain(self) -> bool:
        return self.kind in ("term", "range", "beta")

    def to_json(self) -> dict:
        out: dict = {"point": self.point, "kind": self.kind, "text": self.text}
        if self.kind in ("term", "range"):
            out["range"] = [self.low, self.high]
        if self.kind == "beta":
            out["beta"] = list(self.params)
        return out


def parse_prob(node: YNode, ctx: Context, what: str = "probability") -> Prob | None:
    """Parse one probability value; on error record a diagnostic and return None."""
    text = node.text
    if node.kind == "scalar" and not node.style and node.tag is None and _DECIMAL.match(text):
        # fast path: a plain decimal number (the bulk of imported networks)
        return _in_unit(float(text), node, ctx, "number", text)
    if node.is_seq:
        return _parse_range(node, ctx, what)
    if node.is_map:
        ctx.error(node, f"expected a {what}, found a mapping", _FORMS)
        return None
    if node.style in (">", "|"):
        ctx.error(
            node,
            f"expected a {what}, found a block of text started by '{node.style}'",
            BLOCK_SCALAR_HINT,
        )
        return None
    kind = node.scalar_type()
    if kind in ("int", "float"):
        value = node.number()
        assert value is not None
        return _in_unit(value, node, ctx, "number", node.text)
    if kind in ("null", "bool"):
        hint = _FORMS
        if kind == "null":
            hint = "write a value after the colon; " + FLOW_HINT if node.flow else _FORMS
        ctx.error(node, f"expected a {what}, found {node.describe()}", hint)
        return None
    m = _PERCENT.match(text)
    if m:
        return _in_unit(float(m.group(1)) / 100.0, node, ctx, "percent", text)
    if _NUMBER_TEXT.match(text):
        return _in_unit(float(text), node, ctx, "number", text)
    m = _BETA.match(text)
    if m:
        a, b = float(m.group(1)), float(m.group(2))
        written = f"beta({shorten(m.group(1), 24)}, {shorten(m.group(2), 24)})"
        if not (a > 0 and b > 0 and math.isfinite(a) and math.isfinite(b)):
            ctx.error(node, f"{written} needs two positive numbers")
            return None
        if a > BETA_MAX or b > BETA_MAX:
            ctx.error(
                node,
                f"{written}: a and b must be at most {power_text(BETA_MAX)}",
                "with pseudo-counts this large the distribution is a single number "
                f"(its mean a/(a+b) = {1 / (1 + b / a):.6g}): write that number instead",
            )
            return None
        return Prob(a / (a + b), "beta", 0.0, 1.0, text.strip(), (a, b), node.line, node.col)
    if _BETA_CUT.match(text):
        ctx.error(node, f"'{text}' is not a complete beta(a, b)", FLOW_HINT if node.flow else None)
        return None
    band = ctx.scale.lookup(text)
    if band is not None:
        return Prob(
            band.midpoint, "term", band.low, band.high, text.strip(), (), node.line, node.col
        )
    ctx.error(node, *_unknown_term(text, ctx))
    return None


def _unknown_term(text: str, ctx: Context) -> tuple[str, str]:
    """The message and hint for a word that is no term of the scale in force: the
    scale is named; a word of another scale gets the term of this one whose band
    holds its midpoint."""
    scale = ctx.scale
    why = "the default" if scale.name == DEFAULT_SCALE.name else "chosen by the model's 'scale:'"
    word = shorten(text)
    message = f"unknown probability '{word}': not a term of scale {scale.name} ({why})"
    terms = f"the terms of {scale.name}: " + ", ".join(b.term for b in scale.bands)
    for other in scales_with(text):
        band = other.lookup(text)
        if other.name == scale.name or band is None:
            continue
        hint = f"'{word}' is a term of scale {other.name} {format_range(band.low, band.high)}"
        here = scale.classify(band.midpoint)
        if here is not None:
            hint += (
                f"; on {scale.name} its midpoint, {format_pct(band.midpoint)}%, is "
                f"'{here.term}' {format_range(here.low, here.high)}"
            )
        else:
            hint += f"; {terms}"
        if scale.name == DEFAULT_SCALE.name:
            hint += f"; or write 'scale: {other.name}' at the top of the model file"
        return message, hint
    return message, ctx.suggest(text, scale.words()) or terms


_FORMS = "a probability is a number (0.35), a percentage ('35%'), a term (likely), [low, high] or beta(a, b)"


def _in_unit(value: float, node: YNode, ctx: Context, kind: str, text: str) -> Prob | None:
    if not math.isfinite(value):
        ctx.error(node, f"probability {shorten(text)} is not a finite number")
        return None
    if value < 0 or value > 1:
        hint = None
        if kind == "number" and 1 < value <= 100:
            hint = f"for a percentage write '{text}%'"
        ctx.error(node, f"probability {shorten(text)} is outside [0, 1]", hint)
        return None
    return Prob(value, kind, value, value, str(text).strip(), (), node.line, node.col)


def _parse_range(node: YNode, ctx: Context, what: str) -> Prob | None:
    if len(node.items) != 2:
        n = len(node.items)
        ctx.error(node, f"a range is [low, high]; found a list of {n} item{'s' if n != 1 else ''}")
        return None
    ends: list[float] = []
    for item in node.items:
        if not item.is_scalar:
            ctx.error(item, f"a range end must be a number or percentage, found {item.describe()}")
            return None
        p = parse_prob(item, ctx, what)
        if p is None:
            return None
        if p.kind not in ("number", "percent"):
            ctx.error(item, f"a range end must be a number or percentage, not '{item.text}'")
            return None
        ends.append(p.point)
    lo, hi = ends
    if lo > hi:
        ctx.error(
            node,
            f"range [{node.items[0].text}, {node.items[1].text}] has its low end above its high end",
        )
        return None
    text = f"[{node.items[0].text}, {node.items[1].text}]"
    return Prob((lo + hi) / 2, "range", lo, hi, text, (), node.line, node.col)
