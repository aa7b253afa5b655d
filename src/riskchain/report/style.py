"""The shared look of riskchain's pictures: colours, fonts, percent axes, bands, bytes.

Every picture (:mod:`riskchain.report.plot`) is drawn inside :func:`context`, with
the colours and sizes named here, and saved with :func:`save`, so that

- the colours stay apart for colour-blind readers (Okabe–Ito) and, where colour
  carries meaning on its own, in grey-scale print too (:data:`LOW_END` and
  :data:`HIGH_END` differ in lightness; series colours are always named beside
  what they colour, so grey-scale loses nothing);
- the same input gives the same bytes: no dates or versions in a PNG, no dates or
  random ids in an SVG, positions fixed and rounded before saving;
- the caller's matplotlib state is left alone: rcParams are changed only inside a
  temporary style context, and only the object API is used (no pyplot, no backend
  switch).

matplotlib is imported only inside the functions, so importing this module (and
riskchain) stays cheap.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from riskchain.scales import Scale

FORMATS = ("png", "svg")
DPI = 200  # print quality: a picture pasted into a report is printed

# Font sizes, in points: headings, body text (labels, panel titles), notes, ticks.
TITLE_SIZE = 11
BODY_SIZE = 9
NOTE_SIZE = 8
TICK_SIZE = 7.5

# Ink: near-black for marks, dark grey for secondary text, mid grey for "nothing here",
# dark red for what a reader must not miss (a spread that is only an assumption).
INK = "#222222"
SOFT_INK = "#333333"
QUIET_INK = "#555555"
ALERT_INK = "#8b0000"

# Series colours (one per scenario), also the colour of each series' name: every one
# dark enough for text on white (WCAG contrast >= 4.5:1, :func:`contrast`). The
# Okabe–Ito hues, colour-blind safe, darkened where they were too light (orange 2.2:1,
# sky blue 2.3:1 as published); sky blue, too close to blue once darkened, is a violet.
# Every series is labelled where it is drawn, so colour is never the only key.
SERIES = (
    "#0072B2",  # blue
    "#A65F00",  # orange
    "#007A5A",  # bluish green
    "#A8447E",  # reddish purple
    "#5D3A9B",  # violet
    "#C04A00",  # vermilion
    "#6B6B00",  # olive (Okabe–Ito yellow)
    "#000000",
    "#8C564B",  # brown
    "#666666",  # grey
)
MIN_TEXT_CONTRAST = 4.5  # WCAG 2 AA for normal text
# The two ends of a tornado bar: colour carries meaning there, so the pair differs in
# lightness as well as hue (dark blue and light orange stay apart in grey-scale).
LOW_END = "#F5C66B"  # Okabe–Ito orange, lightened
HIGH_END = "#0072B2"  # Okabe–Ito blue
# A line the reader should find (an estimative edge that changes the word): vermilion,
# dashed, so it is found in grey-scale too; darker where text is written on it or in it.
EDGE = "#D55E00"
EDGE_INK = "#B34F00"

# Estimative bands behind the data: alternate greys, light enough to sit behind marks.
BAND_SHADES = ("#ececec", "#f8f8f8")
RULER_SHADES = ("#c4c4c4", "#e4e4e4")
BAND_EDGE = "#c8c8c8"
TICK_ROOM = 0.035  # closest two labelled ticks may be on a 0–100% axis, in probability

RC = {
    "svg.hashsalt": "riskchain",  # stable ids in the SVG: same input, same bytes
    "svg.fonttype": "none",  # text stays text: searchable, and smaller
    "font.family": "DejaVu Sans",  # shipped with matplotlib: same glyphs everywhere
    "font.size": BODY_SIZE,
    "axes.titlesize": BODY_SIZE,
}


@contextmanager
def context() -> Iterator[None]:
    """matplotlib's defaults plus :data:`RC`, for the duration of one picture only."""
    import matplotlib.style

    with matplotlib.style.context(["default", RC]):
        yield


# ----------------------------------------------------------------------------- output


def save(fig: Any, fmt: str, texts: Sequence[Any] = ()) -> bytes:
    """Lay ``fig`` out, fix the layout (:func:`freeze_layout`) and return it as bytes.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        A figure with a layout engine (``layout="constrained"``).
    fmt : {"png", "svg"}
        Output format.
    texts : sequence of matplotlib.text.Text
        Figure-level texts (suptitle, supxlabel) whose positions are fixed too.

    Returns
    -------
    bytes
        The image; the same figure gives the same bytes.
    """
    freeze_layout(fig, texts)
    if fmt == "svg":
        buf = io.BytesIO()
        fig.savefig(buf, format="svg", metadata={"Date": None})
        return buf.getvalue()
    return png_bytes(fig)


def freeze_layout(fig: Any, texts: Sequence[Any]) -> None:
    """Lay the figure out once, then fix every position, rounded.

    The constrained layout's solver can differ in the last bits from run to run;
    SVG clip-path ids hash the exact positions, so rounded, fixed positions are
    what make the same input give the same bytes.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)  # measure text as the PNG will draw it
    fig.get_layout_engine().execute(fig)
    for ax in fig.axes:
        ax.set_position([round(v, 6) for v in ax.get_position(original=False).bounds])
    for text in texts:
        text.set_position(tuple(round(v, 6) for v in text.get_position()))
    fig.set_layout_engine("none")


def png_bytes(fig: Any) -> bytes:
    """The figure as a PNG with a 256-colour palette: the pictures are flat colours and
    text, so nothing visible is lost and the file is a third of the size; no metadata
    (no dates, no versions), so the same figure gives the same bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()
    rgb = Image.fromarray(np.asarray(canvas.buffer_rgba())[..., :3])
    # method 0 is median cut, dither 0 is none (integers: older Pillows have no enums)
    image = rgb.quantize(256, method=0, dither=0)
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=True, dpi=(DPI, DPI))
    return buf.getvalue()


# ----------------------------------------------------------------------------- colours


def tint(colour: str, amount: float) -> str:
    """``colour`` mixed with white: ``amount`` of the colour."""
    rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    mixed = [round(255 - amount * (255 - c)) for c in rgb]
    return "#" + "".join(f"{c:02x}" for c in mixed)


def contrast(colour: str, background: str = "#ffffff") -> float:
    """The WCAG 2 contrast ratio of two colours, 1 to 21 (text needs 4.5)."""

    def luminance(c: str) -> float:
        rgb = [int(c[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        lin = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in rgb]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    hi, lo = sorted((luminance(colour), luminance(background)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def grey(colour: str) -> float:
    """The lightness of ``colour`` printed in grey-scale, 0 (black) to 1 (white)
    (ITU-R BT.601 luma, what most printers and converters use)."""
    r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.299 * r + 0.587 * g + 0.114 * b


# ----------------------------------------------------------------------------- axes


def pct_label(p: float) -> str:
    """A tick label: ``0.55 -> '55'``, ``0.025 -> '2.5'``."""
    x = p * 100
    return f"{x:.0f}" if abs(x - round(x)) < 1e-9 else f"{x:g}"


def band_ticks(scale: Scale) -> tuple[list[float], list[str]]:
    """Ticks at the scale's band edges on a 0–100% axis; a label only where it has room
    (Kent's 99 beside 100, 60 beside 63 would print on top of each other)."""
    edges = {0.0, 1.0}
    for band in scale.bands:
        edges.update(band.output_range())
    ticks = sorted(edges)
    labels, last = [], -1.0
    for t in ticks:
        room = t - last >= TICK_ROOM and (t == 1.0 or 1.0 - t >= TICK_ROOM)
        labels.append(pct_label(t) if room or t in (0.0, 1.0) else "")
        last = t if labels[-1] else last
    return ticks, labels


def nice_ticks(lo: float, hi: float, most: int = 9) -> list[float]:
    """Round percentages in [lo, hi] (probabilities), at most ``most`` of them, for an
    axis that shows only part of 0–100%."""
    span = (hi - lo) * 100
    for step in (0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5, 10, 20, 25, 50):
        if span / step <= most - 1:
            break
    first = np.ceil(lo * 100 / step - 1e-9) * step
    ticks = np.arange(first, hi * 100 + 1e-9, step) / 100
    return [round(float(t), 6) for t in ticks]


def percent_axis(
    ax: Any,
    scale: Scale | None = None,
    lim: tuple[float, float] = (0.0, 1.0),
    label: str | None = "probability (%)",
) -> None:
    """Make the x axis of ``ax`` a probability axis labelled in percent.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The axes.
    scale : Scale, optional
        On the whole 0–100% range, ticks go at this scale's band edges (the places a
        word changes); otherwise, and on a part of the range, at round percentages.
    lim : tuple of float
        The part of [0, 1] shown.
    label : str or None
        The axis label; None for none (a panel that is not on the bottom row).
    """
    ax.set_xlim(*lim)
    if scale is not None and lim == (0.0, 1.0):
        ticks, labels = band_ticks(scale)
    else:
        ticks = nice_ticks(*lim)
        labels = [pct_label(t) for t in ticks]
    ax.set_xticks(ticks, labels, fontsize=TICK_SIZE)
    ax.tick_params(axis="x", length=3, pad=2)
    if label is not None:
        ax.set_xlabel(label, fontsize=NOTE_SIZE)


def shade_bands(ax: Any, scale: Scale, strong: bool = False) -> None:
    """The scale's bands, shaded alternately behind the data (gaps stay white), with a
    thin line at each edge. ``strong``: darker greys, for a ruler strip."""
    shades = RULER_SHADES if strong else BAND_SHADES
    spans = [band.output_range() for band in scale.bands]
    # one collection each (not an artist per band): drawing and layout stay fast
    trans = ax.get_xaxis_transform()  # x in data, y in axes fraction
    ax.broken_barh(
        [(lo, hi - lo) for lo, hi in spans],
        (0, 1),
        facecolors=[shades[j % 2] for j in range(len(spans))],
        transform=trans,
        zorder=0,
        lw=0,
    )
    edges = sorted({e for span in spans for e in span})
    ax.vlines(edges, 0, 1, transform=trans, colors=BAND_EDGE, lw=0.6, zorder=0.5)


def ruler(ax: Any, scale: Scale, label: bool) -> None:
    """A thin strip of the scale's bands (0–100%) with their words above, slanted."""
    shade_bands(ax, scale, strong=True)
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, 1.0)
    ax.set_xticks([])
    ax.set_yticks([0.5], [f"{scale.name} terms"] if label else [""], fontsize=NOTE_SIZE)
    ax.tick_params(axis="y", length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    for band in scale.bands:
        lo, hi = band.output_range()
        ax.text(
            (lo + hi) / 2,
            1.15,
            band.term,
            rotation=30,
            rotation_mode="anchor",
            ha="left",
            va="bottom",
            fontsize=TICK_SIZE,
            color=SOFT_INK,
        )
