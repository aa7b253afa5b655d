"""The spread of each answer across parameter draws, as a picture (``--plot``).

One panel per target outcome (a node's ``yes``, or each reported state of a
graded node); in it one band per scenario showing how the probability is
distributed across the draws: a violin, the central interval as a thick bar
and the median as a dot. The estimative scale's bands are shaded behind, with
their words, so a reader sees which terms an interval straddles.

matplotlib is imported only inside :func:`plot_uncertainty`, and only through
its object API (no pyplot, no backend switch), so importing riskchain stays
cheap and a caller's matplotlib state is left alone.
"""

from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from riskchain.scales import Scale, format_pct

if TYPE_CHECKING:
    from riskchain.analysis.uncertainty import Uncertainty
    from riskchain.model import Model

FORMATS = ("png", "svg")

# Layout, in inches: a band per scenario, a panel per outcome, up to three columns.
_BAND_IN = 0.3
_PANEL_EXTRA_IN = 0.75  # panel title and tick labels
_PANEL_W_IN = {1: 7.5, 2: 5.0, 3: 4.6}
_DPI = 100
# A violin fills this much of its band's height (half above, half below the centre).
_HALF_HEIGHT = 0.42
# Below this spread (in probability) the draws are one value: drawn as a point.
_DEGENERATE = 1e-9
# Scenario colours: colour-blind-friendly (Okabe-Ito), then tab10 beyond eight.
_COLOURS = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#000000",
    "#8c564b",
    "#7f7f7f",
)
_SHADES = ("#ececec", "#f8f8f8")  # alternate band shades: light enough to sit behind
_RULER_SHADES = ("#c4c4c4", "#e4e4e4")
_RULER_IN = 0.12
_TICK_ROOM = 0.035  # closest two labelled ticks may be, in probability
_RC = {
    "svg.hashsalt": "riskchain",  # stable ids in the SVG: same input, same bytes
    "svg.fonttype": "none",  # text stays text: searchable, and smaller
    "font.family": "DejaVu Sans",  # shipped with matplotlib: same glyphs everywhere
    "font.size": 9,
    "axes.titlesize": 9,
}


def plot_uncertainty(
    items: Sequence[tuple[str, Uncertainty]],
    targets: Sequence[str],
    model: Model,
    scale: Scale,
    fmt: str = "png",
    *,
    findings: Sequence[Mapping[str, str]] | None = None,
    points: Sequence[Mapping[str, Mapping[str, float]] | None] | None = None,
) -> bytes:
    """Draw the distribution of each target outcome's probability across the draws.

    Parameters
    ----------
    items : sequence of (str, Uncertainty)
        ``(scenario label, draws)`` pairs, one band each, in order; normally all
        from one :func:`~riskchain.analysis.uncertainty.sample` call (same draws).
    targets : sequence of str
        Nodes to draw; each gives one panel per state of
        :meth:`~riskchain.spec.model.NodeSpec.outcome_states`.
    model : Model
        The model (node labels and outcome states).
    scale : Scale
        Estimative scale whose bands are shaded behind the draws.
    fmt : {"png", "svg"}
        Output format.
    findings : sequence of mapping of str to str, optional
        Per item, ``node -> "observed" | "forced"``: such outcomes are labelled with
        that word ("observed: 100%"). Without it an outcome that is the same in every
        draw is labelled with its value ("100% in every draw").
    points : sequence of mapping, optional
        Per item, the point answers ``{node: {state: p}}`` (the table's numbers),
        marked with a black tick; None for an item leaves it out.

    Returns
    -------
    bytes
        The image. The same inputs give the same bytes (no dates or random ids).

    Raises
    ------
    ValueError
        For an unknown format, or nothing to draw.
    """
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise ValueError(f"plot format must be png or svg, got {fmt!r}")
    if not items:
        raise ValueError("no draws to plot")
    outcomes = _outcomes(targets, model)
    if not outcomes:
        raise ValueError("no target outcomes to plot")

    import matplotlib.style
    from matplotlib.figure import Figure

    n_out, n_sc = len(outcomes), len(items)
    ncols = 1 if n_out <= 3 else 2 if n_out <= 8 else 3
    nrows = math.ceil(n_out / ncols)
    panel_w = _PANEL_W_IN[ncols]
    label_w = min(2.6, 0.35 + 0.075 * max(len(lab) for lab, _ in items))
    width = label_w + ncols * panel_w + 0.6
    panel_h = max(n_sc * _BAND_IN, 0.6)
    height = 1.9 + nrows * (panel_h + _PANEL_EXTRA_IN) + 1.0
    title_chars = int(panel_w * 13.5)  # about 13.5 characters of 9 pt text per inch

    first = items[0][1]
    with matplotlib.style.context(["default", _RC]):
        fig = Figure(figsize=(width, height), dpi=_DPI, layout="constrained")
        # row 0: a ruler per column with the scale's words; then the panels
        grid = fig.add_gridspec(nrows + 1, ncols, height_ratios=[_RULER_IN] + [panel_h] * nrows)
        for c in range(ncols):
            _ruler(fig.add_subplot(grid[0, c]), scale, label=c == 0)
        first_ax: Any = None
        for k in range(n_out):
            ax = fig.add_subplot(grid[k // ncols + 1, k % ncols], sharey=first_ax)
            first_ax = first_ax or ax
            node, state, label = outcomes[k]
            _shade(ax, scale)
            marks: dict[str, list[tuple[float, ...]]] = {"bars": [], "medians": [], "points": []}
            for i, (_name, unc) in enumerate(items):
                finding = findings[i].get(node) if findings is not None else None
                point = None
                if points is not None and points[i] is not None:
                    point = points[i].get(node, {}).get(state)  # type: ignore[union-attr]
                colour = _COLOURS[i % len(_COLOURS)]
                _band(ax, i, unc, node, state, colour, finding, point, marks)
            _draw_marks(ax, marks)
            ax.set_title(textwrap.fill(label, title_chars), loc="left", fontweight="bold")
            ax.set_xlim(0.0, 1.0)
            ax.set_ylim(n_sc - 0.5, -0.5)  # first scenario on top
            if k % ncols == 0:
                ax.set_yticks(range(n_sc), [lab for lab, _ in items])
                for tick, colour in zip(ax.get_yticklabels(), _COLOURS * 2):
                    tick.set_color(_text_colour(colour))
            else:
                ax.tick_params(axis="y", labelleft=False)
            ax.tick_params(axis="y", length=0)
            ticks, labels = _ticks(scale)
            ax.set_xticks(ticks, labels, fontsize=7.5)
            ax.tick_params(axis="x", length=3, pad=2)
            if k >= n_out - ncols:
                ax.set_xlabel("probability (%)", fontsize=8)
            for side in ("top", "right", "left"):
                ax.spines[side].set_visible(False)

        # where the spread comes from heads the picture: from --strength alone it is
        # an assumption, and a reader must not take it for the analyst's judgment
        head = [
            f"How sure is each probability? {first.samples} parameter draws, seed {first.seed}, "
            f"central {first.level * 100:g}% intervals",
            *(f"Spread: {note}" for note in _notes(items)),
        ]
        title = fig.suptitle(
            "\n".join(textwrap.fill(line, int(width * 8.5)) for line in head),
            x=0.01,
            ha="left",
            fontsize=11,
            fontweight="bold",
            color="#8b0000" if any(unc.strength_only for _, unc in items) else "black",
        )
        caption = fig.supxlabel(
            _caption(items, model, scale, width, points is not None),
            x=0.01,
            ha="left",
            fontsize=8,
            color="#333333",
            linespacing=1.4,
        )
        _freeze_layout(fig, [title, caption])
        if fmt == "svg":
            buf = io.BytesIO()
            fig.savefig(buf, format="svg", metadata={"Date": None})
            return buf.getvalue()
        return _png(fig)


def _freeze_layout(fig: Any, texts: Sequence[Any]) -> None:
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


def _png(fig: Any) -> bytes:
    """The figure as a PNG with a 256-colour palette: the picture is flat colours and
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
    image.save(buf, format="PNG", optimize=True, dpi=(_DPI, _DPI))
    return buf.getvalue()


def _outcomes(targets: Sequence[str], model: Model) -> list[tuple[str, str, str]]:
    """``(node, state, label)`` of every reported outcome, labelled as the risk table does."""
    out = []
    for node in dict.fromkeys(targets):
        spec = model.spec.nodes[node]
        states = spec.outcome_states()
        for state in states:
            plain = len(states) == 1 and len(spec.states) == 2
            out.append((node, state, spec.label if plain else f"{spec.label}: {state}"))
    return out


def _pct(p: float) -> str:
    x = p * 100
    return f"{x:.0f}" if abs(x - round(x)) < 1e-9 else f"{x:g}"


def _ticks(scale: Scale) -> tuple[list[float], list[str]]:
    """Ticks at the scale's band edges; a label only where it has room (Kent's 99
    beside 100, 60 beside 63 would print on top of each other)."""
    edges = {0.0, 1.0}
    for band in scale.bands:
        edges.update(band.output_range())
    ticks = sorted(edges)
    labels, last = [], -1.0
    for t in ticks:
        room = t - last >= _TICK_ROOM and (t == 1.0 or 1.0 - t >= _TICK_ROOM)
        labels.append(_pct(t) if room or t in (0.0, 1.0) else "")
        last = t if labels[-1] else last
    return ticks, labels


def _shade(ax: Any, scale: Scale, strong: bool = False) -> None:
    """The scale's bands, shaded alternately behind the draws (gaps stay white)."""
    shades = _RULER_SHADES if strong else _SHADES
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
    ax.vlines(edges, 0, 1, transform=trans, colors="#c8c8c8", lw=0.6, zorder=0.5)


def _ruler(ax: Any, scale: Scale, label: bool) -> None:
    """A thin strip of the scale's bands with their words above, atop each column."""
    _shade(ax, scale, strong=True)
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, 1.0)
    ax.set_xticks([])
    ax.set_yticks([0.5], [f"{scale.name} terms"] if label else [""], fontsize=8)
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
            fontsize=7.5,
            color="#333333",
        )


def _tint(colour: str, amount: float) -> str:
    """``colour`` mixed with white: ``amount`` of the colour."""
    rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    mixed = [round(255 - amount * (255 - c)) for c in rgb]
    return "#" + "".join(f"{c:02x}" for c in mixed)


def _text_colour(colour: str) -> str:
    # pale yellow is unreadable as text on white: a darker olive of it
    return "#8a7d00" if colour == "#F0E442" else colour


def _band(
    ax: Any,
    y: int,
    unc: Uncertainty,
    node: str,
    state: str,
    colour: str,
    finding: str | None,
    point: float | None,
    marks: dict[str, list[tuple[float, ...]]],
) -> None:
    """One scenario's draws of P(node = state) at height ``y``; its interval, median
    and point go to ``marks``, drawn for the whole panel at once."""
    if node not in unc.draws:
        ax.text(0.5, y, "not drawn", ha="center", va="center", fontsize=7.5, color="#555555")
        return
    draws = unc.draws[node]
    col = draws[~np.isnan(draws).any(axis=1), unc.states[node].index(state)]
    if col.size == 0:
        ax.text(
            0.5,
            y,
            "findings impossible in every draw",
            ha="center",
            va="center",
            fontsize=7.5,
            color="#555555",
        )
        return
    lo_v, hi_v = float(col.min()), float(col.max())
    if hi_v - lo_v <= _DEGENERATE:
        # one value in every draw (observed, forced, or nothing uncertain upstream)
        ax.plot(
            [lo_v],
            [y],
            marker="D",
            ms=6,
            color=colour,
            mec="black",
            mew=0.8,
            zorder=4,
            clip_on=False,
        )
        value = format_pct(lo_v)
        text = f"{finding}: {value}%" if finding else f"{value}% in every draw"
        right = lo_v < 0.7
        ax.annotate(
            text,
            (lo_v, y),
            xytext=(7 if right else -7, 0),
            textcoords="offset points",
            ha="left" if right else "right",
            va="center",
            fontsize=7.5,
            fontstyle="italic",
            color="#333333",
        )
        return
    grid, dens = _density(col, lo_v, hi_v)
    half = _HALF_HEIGHT * dens / dens.max()
    # an opaque tint rather than transparency: the shading does not show through,
    # and fewer distinct colours keep the PNG small
    ax.fill_between(
        grid, y - half, y + half, facecolor=_tint(colour, 0.5), edgecolor=colour, lw=0.8, zorder=2
    )
    lo, hi = unc.interval(node, state)
    marks["bars"].append((y, lo, hi))
    marks["medians"].append((float(np.median(col)), y))
    if point is not None:
        marks["points"].append((point, y))


def _draw_marks(ax: Any, marks: Mapping[str, list[tuple[float, ...]]]) -> None:
    if marks["bars"]:
        ys, los, his = zip(*marks["bars"])
        ax.hlines(ys, los, his, colors="#222222", lw=3.5, capstyle="butt", zorder=3)
    if marks["medians"]:
        xs, ys = zip(*marks["medians"])
        ax.scatter(xs, ys, s=20, c="white", edgecolors="#222222", linewidths=1, zorder=4)
    if marks["points"]:
        xs, ys = zip(*marks["points"])
        ax.scatter(xs, ys, s=144, marker="|", c="black", linewidths=1.6, zorder=5)


def _density(col: np.ndarray, lo: float, hi: float, n_grid: int = 160) -> tuple[Any, Any]:
    """A Gaussian kernel density on ``[lo, hi]`` (the violin is cut at the extreme draws).

    The draws are binned first, so the cost does not grow with ``--samples``.
    """
    std = float(col.std())
    q75, q25 = np.percentile(col, [75, 25])
    spread = min(std, float(q75 - q25) / 1.34) or std
    bw = 1.06 * spread * col.size ** (-0.2)  # Silverman's rule of thumb
    bw = max(bw, (hi - lo) / 200)  # never a comb, even when most draws are one value
    counts, edges = np.histogram(col, bins=512, range=(lo, hi))
    centres = (edges[:-1] + edges[1:]) / 2
    grid = np.linspace(lo, hi, n_grid)
    z = (grid[:, None] - centres[None, :]) / bw
    dens = np.exp(-0.5 * z * z) @ counts
    return grid, dens


def _notes(items: Sequence[tuple[str, Uncertainty]]) -> list[str]:
    return list(dict.fromkeys(unc.spread_note() for _, unc in items))


def _caption(
    items: Sequence[tuple[str, Uncertainty]],
    model: Model,
    scale: Scale,
    width_in: float,
    points: bool,
) -> str:
    first = items[0][1]
    pct = f"{first.level * 100:g}%"
    lines = [
        f"Model: {model.title} ({model.id}). Each band shows one scenario's probability across "
        f"{first.samples} parameter draws, seed {first.seed} (the same seed gives the same draws), "
        f"each draw solved exactly: the shape is the distribution of the draws, the thick bar "
        f"the central {pct} interval, the dot the median"
        + (
            "; the black tick is the answer with every number at its point value."
            if points
            else "."
        )
        + " A diamond is an answer that is the same in every draw.",
        f"Background: the {scale.title} bands, with their words.",
    ]
    if any(unc.strength_only for _, unc in items):
        lines.append(
            "The spread shown is an assumption made on the command line, not a judgment "
            "in the model."
        )
    gone = [(lab, unc.impossible_draws) for lab, unc in items if unc.impossible_draws]
    if gone:
        lines.append(
            "Draws in which the findings are impossible are left out: "
            + ", ".join(f"{lab} {n} of {first.samples}" for lab, n in gone)
            + "."
        )
    chars = int(width_in * 15)  # about 15 characters of 8 pt text per inch
    return "\n".join(textwrap.fill(line, chars) for line in lines)
