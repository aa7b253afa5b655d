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


def plot_scenarios(table: RiskTable, fmt: str = "svg") -> bytes:
    """One panel per row of the risk table; one dot per scenario.

    Parameters
    ----------
    table : RiskTable
        The risk table (its rows are the outcomes, its scenarios the dots).
    fmt : {"svg", "png"}
        Output format.

    Returns
    -------
    bytes
        The picture.
    """
    from matplotlib.figure import Figure

    from riskchain.report.text import pct_in_band

    ids = table.scenario_ids
    rows = table.rows
    base = table.run.baseline
    scale = table.scale
    with style.context():
        cols = 2 if len(rows) > 3 else 1
        nrow = -(-len(rows) // cols)
        height = 1.0 + nrow * (0.28 * len(ids) + 0.65)
        fig = Figure(figsize=(6.0 * cols, height), dpi=style.DPI, layout="constrained")
        grid = fig.subplots(nrow, cols, squeeze=False)
        axes = [grid[k // cols, k % cols] for k in range(len(rows))]
        for extra in range(len(rows), nrow * cols):
            grid[extra // cols, extra % cols].set_visible(False)
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
                    ax.text(0.01, y, "impossible", va="center", fontsize=style.NOTE_SIZE)
                    continue
                marker = "D" if cell.finding else "o"
                ax.plot([cell.p], [y], marker=marker, color=colour, ms=6, zorder=3)
                if cell.interval is not None:
                    ax.hlines(y, *cell.interval, color=colour, lw=3, zorder=2)
                note = f"{cell.finding}" if cell.finding else ""
                left = cell.p > 0.8  # the label goes where there is room
                ax.text(
                    cell.p - 0.02 if left else cell.p + 0.015,
                    y,
                    f"{pct_in_band(cell.p, cell.range)} {note}".strip(),
                    va="center",
                    ha="right" if left else "left",
                    fontsize=style.TICK_SIZE,
                    color=style.SOFT_INK,
                )
            ax.set_ylim(-0.7, len(ids) - 0.3)
            ax.set_yticks(range(len(ids)), list(reversed(ids)), fontsize=style.TICK_SIZE)
            bottom = k + cols >= len(rows)
            style.percent_axis(ax, scale, label="probability (%)" if bottom else None)
            ax.set_title(row.label, loc="left", fontsize=style.BODY_SIZE)
        title = fig.suptitle(
            f"Each outcome under each scenario (dotted line: the baseline '{base}'; "
            "diamonds: observed or forced)",
            fontsize=style.NOTE_SIZE,
            x=0.01,
            ha="left",
        )
        return style.save(fig, fmt, [title])
