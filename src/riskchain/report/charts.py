"""A chart comparing scenarios per target outcome, at the point values.

With parameter draws the report uses :func:`riskchain.report.plot.plot_uncertainty`
instead (the spread of each scenario); without them this chart shows each
scenario's probability as a labelled dot on the estimative scale's bands, with the
baseline's value as a reference line, so a reader sees which scenarios move which
outcome and across which words. matplotlib is imported only inside the function.
"""

from __future__ import annotations

from riskchain.analysis.risktable import RiskTable
from riskchain.report import style

PAGE_WIDTH_IN = 10.0  # the printable width of a landscape A4 page, about: drawn 1:1 there


def plot_scenarios(
    table: RiskTable, fmt: str = "svg", title: bool = True, width: float = PAGE_WIDTH_IN
) -> bytes:
    """One panel per row of the risk table; one dot per scenario (with its interval
    as a bar when the table has parameter draws).

    Parameters
    ----------
    table : RiskTable
        The risk table (its rows are the outcomes, its scenarios the dots).
    fmt : {"svg", "png"}
        Output format.
    title : bool
        Whether to draw the title (a document that gives the chart a caption of its
        own leaves it out rather than say it twice).
    width : float
        The picture's width in inches; its text is drawn at 7.5 to 9 pt for that size,
        so it is meant to be shown at about that size (the default fits a landscape
        page and a desktop browser's column).

    Returns
    -------
    bytes
        The picture.
    """
    import textwrap

    from matplotlib.figure import Figure

    from riskchain.report.text import pct_in_band

    ids = table.scenario_ids
    rows = table.rows
    base = table.run.baseline
    scale = table.scale
    with style.context():
        label_w = min(2.0, 0.3 + 0.075 * max(len(sid) for sid in ids))  # the scenario names
        cols = max(1, min(3, len(rows), int((width - label_w) // 2.6)))
        nrow = -(-len(rows) // cols)
        panel_h = 0.15 * len(ids) + 0.6  # 8 scenarios in 3 rows fit a landscape page
        height = (0.45 if title else 0.15) + nrow * panel_h + 0.35
        fig = Figure(figsize=(width, height), dpi=style.DPI, layout="constrained")
        grid = fig.subplots(nrow, cols, squeeze=False, sharey=True)
        axes = [grid[k // cols, k % cols] for k in range(len(rows))]
        for extra in range(len(rows), nrow * cols):
            grid[extra // cols, extra % cols].set_visible(False)
        chars = int((width - label_w) / cols * 14)  # about 14 characters of 9 pt per inch
        for k, (ax, row) in enumerate(zip(axes, rows)):
            style.shade_bands(ax, scale)
            b = row.values[base].p if base in row.values else None
            if b is not None:
                ax.axvline(b, color=style.QUIET_INK, lw=0.8, ls=":", zorder=1)
            for j, sid in enumerate(ids):
                cell = row.values[sid]
                y = len(ids) - 1 - j
                colour = style.SERIES[j % len(style.SERIES)]
                if cell.p is None:
                    ax.text(0.01, y, "impossible", va="center", fontsize=style.TICK_SIZE)
                    continue
                marker = "D" if cell.finding else "o"
                ax.plot(
                    [cell.p], [y], marker=marker, color=colour, ms=5, zorder=3, mec="white", mew=0.5
                )
                if cell.interval is not None:
                    ax.hlines(y, *cell.interval, color=colour, lw=2.5, zorder=2)
                note = f"{cell.finding}" if cell.finding else ""
                right_end = cell.interval[1] if cell.interval is not None else cell.p
                left_end = cell.interval[0] if cell.interval is not None else cell.p
                left = right_end > 0.78  # the label goes where there is room
                ax.text(
                    left_end - 0.02 if left else right_end + 0.02,
                    y,
                    f"{pct_in_band(cell.p, cell.range)} {note}".strip(),
                    va="center",
                    ha="right" if left else "left",
                    fontsize=style.TICK_SIZE,
                    color=style.SOFT_INK,
                )
            ax.set_ylim(-0.7, len(ids) - 0.3)
            ax.set_yticks(range(len(ids)), list(reversed(ids)), fontsize=style.TICK_SIZE)
            ax.tick_params(axis="y", length=0)
            bottom = k + cols >= len(rows)
            style.percent_axis(ax, scale, label="probability (%)" if bottom else None)
            _thin_labels(ax, room=0.25 / ((width - label_w) / cols))
            ax.set_xlim(-0.015, 1.015)  # a dot at 0 or 100% is drawn whole
            ax.set_title(textwrap.fill(row.label, chars), loc="left", fontsize=style.BODY_SIZE)
        texts = []
        if title:
            texts.append(
                fig.suptitle(
                    f"Each outcome under each scenario (dotted line: the baseline '{base}'; "
                    "diamonds: observed or forced"
                    + ("; bars: intervals" if table.draws is not None else "")
                    + ")",
                    fontsize=style.NOTE_SIZE,
                    x=0.01,
                    ha="left",
                )
            )
        return style.save(fig, fmt, texts)


def _thin_labels(ax, room: float) -> None:
    """Blank the tick labels closer than ``room`` (a fraction of the axis) to the last
    one kept, counting from 0% and keeping 100%: a narrow panel has no room for both
    95 and 100."""
    ticks = list(ax.get_xticks())
    labels = [t.get_text() for t in ax.get_xticklabels()]
    kept, last = [], None
    for k, (t, text) in enumerate(zip(ticks, labels)):
        near_end = k < len(ticks) - 1 and 1.0 - t < room
        if text and (last is None or t - last >= room) and not near_end:
            kept.append(text)
            last = t
        else:
            kept.append(text if k == len(ticks) - 1 else "")
    ax.set_xticks(ticks, kept)
