"""Estimative-language scales: words for probabilities, always with their ranges.

Three scales are known (see ``docs/estimative-language.md``):

* ``icd203`` — US Intelligence Community Directive 203, both wordings;
* ``phia`` — the UK Professional Head of Intelligence Assessment yardstick,
  whose deliberate gaps mean some values get no word;
* ``kent`` — Sherman Kent's 1964 "Words of Estimative Probability".

On input a term stands for its range (point value: the midpoint). On output a
probability is given the term whose band holds it. ICD 203's end bands are
1–5% and 95–99%; so that every probability has a word, riskchain widens them
to 0–5% and 95–100% on output only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Band:
    """One term of a scale and the probability range it stands for."""

    term: str
    low: float
    high: float
    aliases: tuple[str, ...] = ()
    # Output band, when it differs from the input range (ICD 203's end bands).
    out_low: float | None = None
    out_high: float | None = None

    @property
    def midpoint(self) -> float:
        return (self.low + self.high) / 2

    def output_range(self) -> tuple[float, float]:
        lo = self.low if self.out_low is None else self.out_low
        hi = self.high if self.out_high is None else self.out_high
        return lo, hi

    def label(self) -> str:
        """``likely [55–80%]``: the word with its output range."""
        return f"{self.term} {format_range(*self.output_range())}"


@dataclass(frozen=True)
class Scale:
    """An ordered set of bands; ``contiguous`` scales cover [0, 1] without gaps."""

    name: str
    title: str
    bands: tuple[Band, ...]
    contiguous: bool

    def lookup(self, word: str) -> Band | None:
        """The band named by ``word`` (any wording, case and spacing ignored)."""
        key = normalize_term(word)
        for band in self.bands:
            if key == normalize_term(band.term) or key in (normalize_term(a) for a in band.aliases):
                return band
        return None

    def words(self) -> list[str]:
        out: list[str] = []
        for band in self.bands:
            out.append(band.term)
            out.extend(band.aliases)
        return out

    def classify(self, p: float) -> Band | None:
        """The band holding probability ``p``; None in a gap (PHIA, Kent) or for NaN."""
        if p != p:  # NaN
            return None
        q = round(min(max(p, 0.0), 1.0), 12)
        if self.contiguous:
            for band in self.bands:
                lo, hi = band.output_range()
                if lo <= q < hi:
                    return band
            return self.bands[-1]
        for band in self.bands:
            lo, hi = band.output_range()
            if lo <= q <= hi:
                return band
        return None


def normalize_term(word: str) -> str:
    return re.sub(r"[\s_-]+", " ", word.strip().lower())


def format_pct(p: float, digits: int = 0) -> str:
    """``0.55 -> '55'`` with the fewest digits that show the value exactly enough."""
    x = p * 100
    text = f"{x:.{digits}f}"
    if digits == 0 and abs(x - round(x)) > 1e-9:
        text = f"{x:.1f}".rstrip("0").rstrip(".")
    return text


def format_range(lo: float, hi: float) -> str:
    """``[55–80%]``: a probability range in whole percent (decimals only when needed);
    a single point as ``[0%]``."""
    if lo == hi:
        return f"[{format_pct(lo)}%]"
    return f"[{format_pct(lo)}–{format_pct(hi)}%]"


ICD203 = Scale(
    "icd203",
    "ICD 203 (US Intelligence Community Directive 203)",
    (
        Band("almost no chance", 0.01, 0.05, ("remote",), out_low=0.0),
        Band("very unlikely", 0.05, 0.20, ("highly improbable",)),
        Band("unlikely", 0.20, 0.45, ("improbable",)),
        Band("roughly even chance", 0.45, 0.55, ("roughly even odds",)),
        Band("likely", 0.55, 0.80, ("probable",)),
        Band("very likely", 0.80, 0.95, ("highly probable",)),
        Band("almost certain", 0.95, 0.99, ("nearly certain",), out_high=1.0),
    ),
    contiguous=True,
)

PHIA = Scale(
    "phia",
    "UK PHIA Probability Yardstick",
    (
        Band("remote chance", 0.0, 0.05),
        Band("highly unlikely", 0.10, 0.20),
        Band("unlikely", 0.25, 0.35),
        Band("realistic possibility", 0.40, 0.50),
        Band("likely", 0.55, 0.75, ("probable",)),
        Band("highly likely", 0.80, 0.90),
        Band("almost certain", 0.95, 1.0),
    ),
    contiguous=False,
)

KENT = Scale(
    "kent",
    'Sherman Kent, "Words of Estimative Probability" (1964)',
    (
        Band("impossible", 0.0, 0.0),
        Band("almost certainly not", 0.02, 0.12),
        Band("probably not", 0.20, 0.40),
        Band("chances about even", 0.40, 0.60),
        Band("probable", 0.63, 0.87),
        Band("almost certain", 0.87, 0.99),
        Band("certain", 1.0, 1.0),
    ),
    contiguous=False,
)

SCALES: dict[str, Scale] = {s.name: s for s in (ICD203, PHIA, KENT)}
DEFAULT_SCALE = ICD203


def scales_with(word: str) -> list[Scale]:
    """The known scales that have ``word`` as a term (any wording, case ignored)."""
    return [s for s in SCALES.values() if s.lookup(word) is not None]


def get_scale(name: str) -> Scale:
    """Look a scale up by name (``icd203``, ``phia`` or ``kent``).

    Raises
    ------
    KeyError
        For an unknown name.
    """
    return SCALES[name.lower().replace(" ", "").replace("-", "")]


def estimate(p: float, scale: Scale = DEFAULT_SCALE) -> str:
    """``likely [55–80%]`` for ``p = 0.62``; on gapped scales a value in a gap gives ``""``."""
    band = scale.classify(p)
    return band.label() if band else ""
