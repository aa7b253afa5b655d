"""The pictures of ``--plot``: the spread of each answer across parameter draws,
and the tornado chart of a sensitivity analysis.

:func:`plot_uncertainty` draws one panel per target outcome (a node's ``yes``,
or each reported state of a graded node); in it one band per scenario showing
how the probability is distributed across the draws: a violin, the central
interval as a thick bar and the median as a dot. :func:`plot_tornado` draws one
bar per number the analyst wrote, from P(target) at the low end of the number's
plausible range to P(target) at the high end. Both shade the estimative scale's
bands behind, so a reader sees which terms an answer straddles or crosses into.

The look (colours, fonts, percent axes, band shading) and the deterministic
output come from :mod:`riskchain.report.style`. matplotlib is imported only
inside the functions, and only through its object API (no pyplot, no backend
switch), so importing riskchain stays cheap and a caller's matplotlib state is
left alone.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from riskchain.report import style
from riskchain.scales import Scale, format_pct, format_range

if TYPE_CHECKING:
    from riskchain.analysis.sensitivity import Parameter, SensitivityResult
    from riskchain.analysis.uncertainty import Uncertainty
    from riskchain.model import Model

FORMATS = style.FORMATS

# Layout, in inches: a band per scenario, a panel per outcome, up to three columns.
_BAND_IN = 0.3
_PANEL_EXTRA_IN = 0.75  # panel title and tick labels
_PANEL_W_IN = {1: 7.5, 2: 5.0, 3: 4.6}
# A violin fills this much of its band's height (half above, half below the centre).
_HALF_HEIGHT = 0.42
# Below this spread (in probability) the draws are one value: drawn as a point.
_DEGENERATE = 1e-9
# Draws within this of each other (one percentage point) would draw a violin no wider
# than a hairline, which reads as a reference rule: drawn as a point with its interval.
_NARROW = 0.01
_RULER_IN = 0.12


def plot_uncertainty(
    items: Sequence[tuple[str, Uncertainty]],
    targets: Sequence[str],
    model: Model,
    scale: Scale,
    fmt: str = "png",
    *,
    findings: Sequence[Mapping[str, str]] | None = None,
    points: Sequence[Mapping[str, Mapping[str, float]] | None] | None = None,
    every_state: bool = False,
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
    every_state : bool
        Draw a panel for every state of each target (as ``query`` lists them), not
        only the outcomes a risk table reports; when False, the caption names the
        states left out.

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
    outcomes = _outcomes(targets, model, every_state)
    if not outcomes:
        raise ValueError("no target outcomes to plot")

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
    with style.context():
        fig = Figure(figsize=(width, height), dpi=style.DPI, layout="constrained")
        # row 0: a ruler per column with the scale's words; then the panels
        grid = fig.add_gridspec(nrows + 1, ncols, height_ratios=[_RULER_IN] + [panel_h] * nrows)
        for c in range(ncols):
            style.ruler(fig.add_subplot(grid[0, c]), scale, label=c == 0)
        first_ax: Any = None
        for k in range(n_out):
            ax = fig.add_subplot(grid[k // ncols + 1, k % ncols], sharey=first_ax)
            first_ax = first_ax or ax
            node, state, label = outcomes[k]
            style.shade_bands(ax, scale)
            marks: dict[str, list[tuple[float, ...]]] = {"bars": [], "medians": [], "points": []}
            for i, (_name, unc) in enumerate(items):
                finding = findings[i].get(node) if findings is not None else None
                point = None
                if points is not None and points[i] is not None:
                    point = points[i].get(node, {}).get(state)  # type: ignore[union-attr]
                colour = style.SERIES[i % len(style.SERIES)]
                _band(ax, i, unc, node, state, colour, finding, point, marks)
            _draw_marks(ax, marks)
            ax.set_title(textwrap.fill(label, title_chars), loc="left", fontweight="bold")
            ax.set_ylim(n_sc - 0.5, -0.5)  # first scenario on top
            if k % ncols == 0:
                ax.set_yticks(range(n_sc), [lab for lab, _ in items])
                for tick, colour in zip(ax.get_yticklabels(), style.SERIES * 2):
                    tick.set_color(colour)
            else:
                ax.tick_params(axis="y", labelleft=False)
            ax.tick_params(axis="y", length=0)
            # the axis label only under the bottom panel of each column
            style.percent_axis(ax, scale, label="probability (%)" if k >= n_out - ncols else None)
            for side in ("top", "right", "left"):
                ax.spines[side].set_visible(False)

        # where the spread comes from heads the picture: from --strength alone it is
        # an assumption, and a reader must not take it for the analyst's judgment
        # the seed is in the caption, where it is needed to repeat the run: a title
        # is read, and a 19-digit number there says nothing
        head = [
            f"How sure is each probability? {first.samples} parameter draws, "
            f"central {first.level * 100:g}% intervals",
            *(f"Spread: {note}" for note in _notes(items)),
        ]
        title = fig.suptitle(
            "\n".join(textwrap.fill(line, int(width * 8.5)) for line in head),
            x=0.01,
            ha="left",
            fontsize=style.TITLE_SIZE,
            fontweight="bold",
            color=style.ALERT_INK if any(unc.strength_only for _, unc in items) else "black",
        )
        caption = fig.supxlabel(
            _caption(items, model, scale, width, points is not None, _left_out(targets, model, outcomes)),
            x=0.01,
            ha="left",
            fontsize=style.NOTE_SIZE,
            color=style.SOFT_INK,
            linespacing=1.4,
        )
        return style.save(fig, fmt, [title, caption])


def _outcomes(
    targets: Sequence[str], model: Model, every_state: bool = False
) -> list[tuple[str, str, str]]:
    """``(node, state, label)`` of every reported outcome, labelled as the risk table does
    (``every_state``: of every state of each target)."""
    out = []
    for node in dict.fromkeys(targets):
        spec = model.spec.nodes[node]
        # a two-state node's other state is the complement: one panel says it all
        states = spec.states if every_state and len(spec.states) > 2 else spec.outcome_states()
        for state in states:
            plain = len(states) == 1 and len(spec.states) == 2
            out.append((node, state, spec.label if plain else f"{spec.label}: {state}"))
    return out


def _left_out(
    targets: Sequence[str], model: Model, outcomes: Sequence[tuple[str, str, str]]
) -> list[str]:
    """One line per target with more than two states some of which are not drawn."""
    drawn = {(node, state) for node, state, _ in outcomes}
    lines = []
    for node in dict.fromkeys(targets):
        spec = model.spec.nodes[node]
        gone = [s for s in spec.states if (node, s) not in drawn]
        if gone and len(spec.states) > 2:
            shown = [s for s in spec.states if (node, s) in drawn]
            lines.append(
                f"{spec.label}: drawn for {', '.join(shown)} (the outcomes the risk table "
                f"reports); not drawn: {', '.join(gone)}."
            )
    return lines


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
        ax.text(
            0.5,
            y,
            "not drawn",
            ha="center",
            va="center",
            fontsize=style.TICK_SIZE,
            color=style.QUIET_INK,
        )
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
            fontsize=style.TICK_SIZE,
            color=style.QUIET_INK,
        )
        return
    lo_v, hi_v = float(col.min()), float(col.max())
    if hi_v - lo_v < _NARROW:
        # one value in every draw (observed, forced, or nothing uncertain upstream), or
        # so nearly one that a violin would be a hairline: a point, its value written
        at = float(np.median(col))
        ax.plot(
            [at],
            [y],
            marker="D",
            ms=6,
            color=colour,
            mec="black",
            mew=0.8,
            zorder=4,
            clip_on=False,
        )
        value = format_pct(at, 1 if hi_v - lo_v > _DEGENERATE else 0)
        if hi_v - lo_v <= _DEGENERATE:
            text = f"{finding}: {value}%" if finding else f"{value}% in every draw"
        else:
            lo, hi = (format_pct(v, 1) for v in unc.interval(node, state))
            text = f"{value}%, interval {lo}–{hi}%" if lo != hi else f"{value}%, spread under 0.1 point"
        if point is not None:
            marks["points"].append((point, y))
        right = at < 0.7
        ax.annotate(
            text,
            (at, y),
            xytext=(7 if right else -7, 0),
            textcoords="offset points",
            ha="left" if right else "right",
            va="center",
            fontsize=style.TICK_SIZE,
            fontstyle="italic",
            color=style.SOFT_INK,
        )
        return
    grid, dens = _density(col, lo_v, hi_v)
    half = _HALF_HEIGHT * dens / dens.max()
    # an opaque tint rather than transparency: the shading does not show through,
    # and fewer distinct colours keep the PNG small
    ax.fill_between(
        grid,
        y - half,
        y + half,
        facecolor=style.tint(colour, 0.5),
        edgecolor=colour,
        lw=0.8,
        zorder=2,
    )
    lo, hi = unc.interval(node, state)
    marks["bars"].append((y, lo, hi))
    marks["medians"].append((float(np.median(col)), y))
    if point is not None:
        marks["points"].append((point, y))


def _draw_marks(ax: Any, marks: Mapping[str, list[tuple[float, ...]]]) -> None:
    if marks["bars"]:
        ys, los, his = zip(*marks["bars"])
        ax.hlines(ys, los, his, colors=style.INK, lw=3.5, capstyle="butt", zorder=3)
    if marks["medians"]:
        xs, ys = zip(*marks["medians"])
        ax.scatter(xs, ys, s=20, c="white", edgecolors=style.INK, linewidths=1, zorder=4)
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
    left_out: Sequence[str] = (),
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
        + " A diamond is an answer whose draws all lie within a point of each other "
        "(its value and interval are written beside it).",
        f"Background: the {scale.title} bands, with their words.",
        *left_out,
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


# ----------------------------------------------------------------------------- the tornado

_TORNADO_W_IN = 11.0
_ROW_IN = 0.5  # the least height of a row (a bar and its label), in inches
_BAR_IN = 0.3  # a bar's thickness
_ROW_PAD_PT = 7.0  # between one row's label block and the next
_LEADING = 1.35  # a label line's height, in units of its font size: descenders clear
_LABEL_CHARS = 50  # a bar's label wraps here
_DETAIL_SIZE = 7.0  # the id and the number under a bar's label (ids small)
_CHAR_IN = 0.062  # about one character of 7.5 pt text, in inches
_NOW_ROOM_IN = 0.25  # below the last bar, for the label of the line at P(target) now


def plot_tornado(
    res: SensitivityResult,
    top: int = 10,
    fmt: str = "png",
    labels: Mapping[str, str] | None = None,
) -> bytes:
    """Draw the tornado chart of the numbers P(target) rests on most.

    One horizontal bar per number the analyst wrote (the ``top`` of
    ``res.analyst``, largest swing on top): P(target) with the number at the low
    end of its plausible range, and at the high end, either side of a line at
    P(target) now. Each end is labelled with the number's value there (and with
    the word P(target) would take, where it leaves its term). The estimative
    bands are shaded behind, and the edges of the current term dashed, so the
    bars that change the word stand out.

    Parameters
    ----------
    res : SensitivityResult
        A one-way sensitivity analysis
        (:func:`~riskchain.analysis.sensitivity.sensitivity`).
    top : int
        How many numbers to draw, at most.
    fmt : {"png", "svg"}
        Output format.
    labels : mapping of str to str, optional
        Node labels (``Model.label``): the title and each bar name the node by its
        label, with the id in small print beside the number; without them, by id.

    Returns
    -------
    bytes
        The image. The same analysis gives the same bytes (no dates or random ids).

    Raises
    ------
    ValueError
        For an unknown format, ``top`` below 1, or no number to draw.
    """
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise ValueError(f"plot format must be png or svg, got {fmt!r}")
    if top < 1:
        raise ValueError(f"top must be at least 1, got {top}")
    pars = res.analyst[:top]
    if not pars:
        raise ValueError("no numbers to plot: none of the model's numbers can change P(target)")

    with style.context():
        fig, texts = _tornado_figure(res, pars, labels or {})
        return style.save(fig, fmt, texts)


def _tornado_figure(
    res: SensitivityResult, pars: Sequence[Parameter], names: Mapping[str, str]
) -> tuple[Any, list[Any]]:
    """The tornado chart's figure, laid out, and its figure-level texts (inside
    :func:`style.context`)."""
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.transforms import offset_copy

    band = res.scale.classify(res.p)
    edges = [e for e in _term_edges(res.scale, res.p) if 0.0 < e < 1.0]
    ends = [_end_labels(par, res, band) for par in pars]
    labels = [_tornado_label(par, names) for par in pars]
    longest = max(len(x) for head, details in labels for x in (*head, *details))
    axis_in = _TORNADO_W_IN - min(3.8, 0.3 + _CHAR_IN * longest) - 0.5
    lim, shown_edges = _tornado_limits(res, pars, ends, edges, axis_in)
    # each row as tall as its label block: the lines of one label never reach the next
    rows_in = [max(_ROW_IN, (_block_pt(head, details) + _ROW_PAD_PT) / 72) for head, details in labels]
    ys = np.cumsum(rows_in) - np.asarray(rows_in) / 2  # each bar's centre, inches from the top
    bars_in = float(sum(rows_in))
    height = 2.2 + bars_in + _NOW_ROOM_IN + 2.1
    what = f"P({res.target} = {res.state})"
    target = names.get(res.target, res.target)
    named = target if res.state.lower() == "yes" else f"{target}: {res.state}"

    fig = Figure(figsize=(_TORNADO_W_IN, height), dpi=style.DPI, layout="constrained")
    grid = fig.add_gridspec(2, 1, height_ratios=[0.22, bars_in + _NOW_ROOM_IN])
    ruler = fig.add_subplot(grid[0])
    ax = fig.add_subplot(grid[1], sharex=ruler)
    _term_ruler(ruler, res.scale, band, lim, axis_in)
    ruler.set_title(
        _tornado_subtitle(res, band, int(axis_in * 12.5)),
        loc="left",
        fontsize=style.BODY_SIZE,
        color=style.SOFT_INK,
        pad=8,
    )

    style.shade_bands(ax, res.scale)
    for axes in (ruler, ax):
        # the current term's edges: crossing one changes the word for P(target)
        axes.vlines(
            shown_edges, 0, 1, transform=axes.get_xaxis_transform(), colors=style.EDGE,
            linestyles=(0, (4, 2.5)), lw=1.3, zorder=1.5,
        )  # fmt: skip
    if res.threshold is not None:
        ax.axvline(res.threshold, color=style.INK, ls=(0, (1, 1.5)), lw=1.4, zorder=1.6)
    lows = np.array([par.low for par in pars])
    highs = np.array([par.high for par in pars])
    # each half bar from P(target) now to P(target) at one end of the range
    for values, colour in ((lows, style.LOW_END), (highs, style.HIGH_END)):
        left = np.minimum(values, res.p)
        ax.barh(
            ys, np.abs(values - res.p), left=left, height=_BAR_IN, color=colour,
            edgecolor=style.INK, lw=0.6, zorder=2,
        )  # fmt: skip
    ax.axvline(res.p, color="black", lw=1.6, zorder=3)
    for y, par, (low_text, high_text) in zip(ys, pars, ends):
        _end_note(ax, y, par.low, res.p, low_text, left_default=True)
        _end_note(ax, y, par.high, res.p, high_text, left_default=False)

    # largest swing on top; below the last bar, room for the label of the line at p
    ax.set_ylim(bars_in + _NOW_ROOM_IN, 0.0)
    ax.set_yticks([])
    _row_labels(ax, ys, labels)
    ax.text(
        res.p, bars_in + _NOW_ROOM_IN / 2, f" now {_now(res, band)} ", ha="center",
        va="center", fontsize=style.TICK_SIZE, fontweight="bold", zorder=4,
        bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.0},
    )  # fmt: skip
    style.percent_axis(ax, None, lim, label=f"{what}, %")
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    handles = [
        Patch(facecolor=style.LOW_END, edgecolor=style.INK, lw=0.6),
        Patch(facecolor=style.HIGH_END, edgecolor=style.INK, lw=0.6),
        Line2D([], [], color="black", lw=1.6),
        Line2D([], [], color=style.EDGE, ls=(0, (4, 2.5)), lw=1.3),
    ]
    names = [
        "number at the low end of its range",
        "at the high end",
        "P(target) now",
        f"edges of '{band.term}'" if band else "edges of the nearest terms",
    ]
    if res.threshold is not None:
        handles.append(Line2D([], [], color=style.INK, ls=(0, (1, 1.5)), lw=1.4))
        names.append(f"--threshold {style.pct_label(res.threshold)}%")
    ax.legend(
        handles,
        names,
        loc="upper center",
        # just under the axis label, whatever the axis' height
        bbox_to_anchor=(0.5, 0.0),
        bbox_transform=offset_copy(ax.transAxes, fig=fig, y=-0.42, units="inches"),
        ncol=len(handles),
        frameon=False,
        fontsize=style.NOTE_SIZE,
        handlelength=1.8,
        columnspacing=1.4,
    )

    title = fig.suptitle(
        textwrap.fill(f"What the probability of “{named}” rests on", int(_TORNADO_W_IN * 7.5)),
        x=0.01,
        ha="left",
        fontsize=style.TITLE_SIZE + 1,
        fontweight="bold",
    )
    caption = fig.supxlabel(
        _tornado_caption(res, pars, band, int(_TORNADO_W_IN * 16)),
        x=0.01,
        ha="left",
        fontsize=style.NOTE_SIZE,
        color=style.SOFT_INK,
        linespacing=1.4,
    )
    return fig, [title, caption]


def _num(x: float) -> str:
    """A number as the tables print it: up to three decimals."""
    return f"{x:.3f}".rstrip("0").rstrip(".") if x == x else "n/a"


def _tornado_label(par: Parameter, names: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """``(head, details)`` lines of a bar's label: the node's label in bold (wrapped), then
    in small print its id, what the number is, as written, and its plausible range (the
    number with its range kept whole on its own line).

    The state is named unless it is ``yes``: a graded node's numbers are written per
    state, and 0.417 for ``elevated`` must not be read as the target's ``severe``.
    """
    lo, hi = par.interval
    written = par.written if par.written is not None else _num(par.value)
    try:
        plain = abs(float(written) - par.value) < 1e-9
    except ValueError:
        plain = False
    shown = written if plain else f"{written} = {_num(par.value)}"
    name = ("≈ " if not par.exact else "") + par.name
    state = "" if par.state.lower() == "yes" else f"{par.state}: "
    tail = f"{state}{shown} ({_num(lo)}–{_num(hi)})"
    label = names.get(par.node, par.node)
    head = textwrap.wrap(label, _LABEL_CHARS) or [label]
    what = f"{par.node} · {name}" if label != par.node else name
    if len(what) + 3 + len(tail) <= _LABEL_CHARS + 6:
        return head, [f"{what} · {tail}"]
    return head, [*textwrap.wrap(what, _LABEL_CHARS + 6), f"· {tail}"]


def _block_pt(head: Sequence[str], details: Sequence[str]) -> float:
    """The height of a bar's label block, in points."""
    return _LEADING * (style.NOTE_SIZE * len(head) + _DETAIL_SIZE * len(details))


def _row_labels(ax: Any, ys: Sequence[float], labels: Sequence[tuple[list[str], list[str]]]) -> None:
    """Each bar's label left of the axis, a line at a time (each line placed, so no line
    can run into the next): the node's label in bold over the details, the block
    centred on the bar."""
    from matplotlib.transforms import blended_transform_factory

    where = blended_transform_factory(ax.transAxes, ax.transData)
    for y, (head, details) in zip(ys, labels):
        at = _block_pt(head, details) / 2  # the block's top, above the bar's centre
        lines = [(t, style.NOTE_SIZE, "bold", style.INK) for t in head]
        lines += [(t, _DETAIL_SIZE, "normal", style.SOFT_INK) for t in details]
        for text, size, weight, colour in lines:
            ax.annotate(
                text, (0, y), xycoords=where, xytext=(-6, at), textcoords="offset points",
                ha="right", va="top", fontsize=size, fontweight=weight, color=colour,
            )  # fmt: skip
            at -= _LEADING * size


def _now(res: SensitivityResult, band: Any) -> str:
    from riskchain.report.text import pct_in_band

    return pct_in_band(res.p, band.output_range() if band else None)


def _term_edges(scale: Scale, p: float) -> list[float]:
    """The edges of the term that holds ``p`` (of the terms either side, in a gap)."""
    band = scale.classify(p)
    if band is not None:
        return list(band.output_range())
    lows = [b.output_range()[1] for b in scale.bands if b.output_range()[1] <= p]
    highs = [b.output_range()[0] for b in scale.bands if b.output_range()[0] > p]
    return [x for x in (max(lows, default=None), min(highs, default=None)) if x is not None]


def _end_labels(par: Parameter, res: SensitivityResult, band: Any) -> tuple[str, str]:
    """The number's value at each end of its range, with where P(target) lands there
    when that changes the call: across ``--threshold`` if one was given, else into
    another estimative term."""
    out = []
    for theta, p_end in zip(par.interval, (par.low, par.high)):
        text = _num(theta)
        if res.threshold is not None:
            level = res.threshold
            if (p_end - level) * (res.p - level) < 0:
                side = "over" if p_end > level else "under"
                text += f" → {side} {style.pct_label(level)}%"
        else:
            there = res.scale.classify(p_end)
            if there is not band and abs(p_end - res.p) > 1e-12:
                text += f" → {there.term if there else 'between terms'}"
        out.append(text)
    return out[0], out[1]


def _tornado_limits(
    res: SensitivityResult,
    pars: Sequence[Parameter],
    ends: Sequence[tuple[str, str]],
    edges: Sequence[float],
    axis_in: float,
) -> tuple[tuple[float, float], list[float]]:
    """The part of [0, 1] to show, with room for the end labels, and the term edges
    near enough to the bars to be shown (a far edge would squeeze every bar flat)."""
    xs = [res.p, *(p.low for p in pars), *(p.high for p in pars)]
    if res.threshold is not None:
        xs.append(res.threshold)
    lo, hi = min(xs), max(xs)
    span = max(hi - lo, 0.02)
    shown = [e for e in edges if lo - 0.6 * span <= e <= hi + 0.6 * span]
    lo, hi = min([lo, *shown]), max([hi, *shown])
    span = max(hi - lo, 0.02)
    # room either side for the longest end label that sits there, as a share of the axis
    left = right = 0
    for par, texts in zip(pars, ends):
        for x, text in zip((par.low, par.high), texts):
            if x <= res.p:
                left = max(left, len(text))
            if x >= res.p:
                right = max(right, len(text))
    share_l = min(0.3, (left * _CHAR_IN + 0.15) / axis_in)
    share_r = min(0.3, (right * _CHAR_IN + 0.15) / axis_in)
    total = span / (1.0 - share_l - share_r)
    lim = (max(0.0, lo - share_l * total), min(1.0, hi + share_r * total))
    # whole tenths of a percent: stable ticks and bytes
    lim = (math.floor(lim[0] * 1000) / 1000, math.ceil(lim[1] * 1000) / 1000)
    return lim, [e for e in shown if lim[0] < e < lim[1]]


def _end_note(ax: Any, y: float, x: float, p: float, text: str, left_default: bool) -> None:
    """A bar end's label, just outside the end (away from the line at ``p``)."""
    left = x < p or (x == p and left_default)
    ax.annotate(
        text,
        (x, y),
        xytext=(-4 if left else 4, 0),
        textcoords="offset points",
        ha="right" if left else "left",
        va="center",
        fontsize=style.TICK_SIZE,
        color=style.SOFT_INK,
        annotation_clip=False,
    )


def _term_ruler(
    ax: Any, scale: Scale, current: Any, lim: tuple[float, float], axis_in: float
) -> None:
    """A strip of the scale's bands over the zoomed axis (``axis_in`` inches wide, about),
    each word written in the visible part of its band when it fits; the current term
    in bold."""
    style.shade_bands(ax, scale, strong=True)
    ax.set_ylim(0.0, 1.0)
    ax.set_yticks([])
    ax.tick_params(axis="x", bottom=False, labelbottom=False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    width = lim[1] - lim[0]
    for band in scale.bands:
        lo, hi = band.output_range()
        lo, hi = max(lo, lim[0]), min(hi, lim[1])
        text = band.label()
        if (hi - lo) / width * axis_in < len(text) * _CHAR_IN + 0.1:
            text = band.term
            if (hi - lo) / width * axis_in < len(text) * _CHAR_IN + 0.1:
                continue  # no room: the shading and the legend say enough
        ax.text(
            (lo + hi) / 2,
            0.5,
            text,
            ha="center",
            va="center",
            fontsize=style.TICK_SIZE,
            fontweight="bold" if band is current else "normal",
            color="black" if band is current else style.SOFT_INK,
        )


def _findings(res: SensitivityResult) -> str:
    """Every finding, saying whether it was observed or forced (and "none" for either)."""
    parts = [
        "observed (given): " + (", ".join(f"{k}={v}" for k, v in res.given.items()) or "none"),
        "forced (do): " + (", ".join(f"{k}={v}" for k, v in res.do.items()) or "none"),
    ]
    if res.likelihood:
        parts.append(
            "likelihood (soft evidence): "
            + "; ".join(
                f"{k}=" + ",".join(f"{s}:{v:g}" for s, v in lk.items())
                for k, lk in res.likelihood.items()
            )
        )
    return "; ".join(parts)


def _tornado_subtitle(res: SensitivityResult, band: Any, chars: int) -> str:
    word = band.label() if band else "between terms"
    head = f"P({res.target} = {res.state}) now {_now(res, band)}: {word} on the {res.scale.name} scale."
    return "\n".join(textwrap.fill(line, chars) for line in (head, _findings(res) + "."))


def _tornado_caption(
    res: SensitivityResult, pars: Sequence[Parameter], band: Any, chars: int
) -> str:
    term = f"'{band.term}' {format_range(*band.output_range())}" if band else "the nearest terms"
    lines = [
        f"The top {len(pars)} of the model's {len(res.analyst)} numbers as written, those that move "
        f"P(target) most over their plausible ranges, largest swing on top. Each bar is "
        f"P({res.target} = {res.state}) as one number moves across its plausible range, "
        "every other number as written (one number at a time); the other entries of its "
        "distribution keep their ratios and fill the rest (proportional co-variation). "
        "Each end is labelled with the number's value there, and with "
        + (
            f"the side of --threshold {style.pct_label(res.threshold)}% P(target) lands on "
            "there when it crosses it."
            if res.threshold is not None
            else "the word P(target) takes there when it leaves the current one."
        ),
        "Plausible range: a term's or range's own range (the band of a word, or [low, high] as "
        f"written), the central 90% of a beta, else the band of the {res.scale.title} term that holds the value.",
        f"Background: the same scale's bands; dashed: the edges of {term}, where the "
        "word for P(target) changes."
        + (
            f" Dotted: --threshold {style.pct_label(res.threshold)}%."
            if res.threshold is not None
            else ""
        ),
    ]
    if any(not par.exact for par in pars):
        lines.append(
            "≈: a number not linear in its table (a leak or a noisy-MAX distribution), "
            "evaluated on a grid of 101 values."
        )
    if res.irrelevant:
        lines.append(
            f"Not shown: {len(res.irrelevant)} node(s) that cannot change P(target) under these "
            "findings (not ancestors of the target or of a finding, or forced)."
        )
    return "\n".join(textwrap.fill(line, chars) for line in lines)
