"""The ``riskchain`` command line: parse, call one library function, render.

Errors a user can cause print as one clear message (``path:line:col: error:
...`` for files) and exit 1; bad flags exit 2; a traceback appears only with
``--debug``.
"""

from __future__ import annotations

import os
import re
import sys
from contextlib import contextmanager
from enum import Enum
from pathlib import Path

import typer

from riskchain._version import __version__
from riskchain.errors import FileKindError, RiskchainError, UsageError

app = typer.Typer(
    name="riskchain",
    help=(
        "Scenario and conditional-risk modelling: write 'if X then Y' reasoning as a Bayesian "
        "network in YAML, then ask what-if questions of it."
    ),
    add_completion=True,
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={
        "help_option_names": ["-h", "--help"],
        "max_content_width": 100,
        "terminal_width": 100,
    },
)

# typer may vendor its own copy of click: take the exception classes from typer itself.
_ClickException = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")

_DEBUG = {"on": False}


class QueryFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    md = "md"


class ShowFormat(str, Enum):
    table = "table"
    json = "json"


class ScaleName(str, Enum):
    icd203 = "icd203"
    phia = "phia"
    kent = "kent"


class Engine(str, Enum):
    fast = "fast"
    pgmpy = "pgmpy"


def _echo(text: str, nl: bool = True, err: bool = False) -> None:
    """``typer.echo`` with nothing a terminal would act on: every line the CLI prints
    (results, messages, paths) may hold a file's text (see docs/security.md)."""
    from riskchain.report.safe import terminal_text

    typer.echo(terminal_text(text), nl=nl, err=err)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"riskchain {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
    debug: bool = typer.Option(False, "--debug", help="Show a traceback when something fails."),
) -> None:
    _DEBUG["on"] = _DEBUG["on"] or debug


# ----------------------------------------------------------------------------- parsing helpers


def _pairs(values: list[str], flag: str) -> dict[str, str]:
    """``NODE=STATE`` items (split at the first '=': states such as '>=7.5' keep theirs)."""
    out: dict[str, str] = {}
    for item in values:
        node, sep, state = item.partition("=")
        node, state = node.strip(), state.strip()
        if not sep or not node or not state:
            raise typer.BadParameter(f"'{item}' is not NODE=STATE", param_hint=flag)
        if node in out and out[node] != state:
            raise typer.BadParameter(
                f"'{node}' is given twice ({out[node]}, {state})", param_hint=flag
            )
        out[node] = state
    return out


def _likelihoods(values: list[str]) -> dict[str, dict[str, float]]:
    """``NODE=s1:0.8,s2:0.2`` items."""
    out: dict[str, dict[str, float]] = {}
    for item in values:
        node, sep, rest = item.partition("=")
        node = node.strip()
        if not sep or not node or not rest.strip():
            raise typer.BadParameter(
                f"'{item}' is not NODE=STATE:VALUE,STATE:VALUE", param_hint="--likelihood"
            )
        weights: dict[str, float] = {}
        for part in rest.split(","):
            state, colon, num = part.rpartition(":")
            state = state.strip()
            if not colon or not state:
                raise typer.BadParameter(
                    f"'{part.strip()}' in '{item}' is not STATE:VALUE", param_hint="--likelihood"
                )
            try:
                weights[state] = float(num)
            except ValueError:
                raise typer.BadParameter(
                    f"'{num.strip()}' in '{item}' is not a number", param_hint="--likelihood"
                ) from None
        out[node] = weights
    return out


_SIZE = re.compile(
    r"^\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([KMGT]i?B?|B)?\s*$", re.IGNORECASE
)
_UNITS = {
    "": 1,
    "B": 1,
    "K": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "KI": 2**10,
    "MI": 2**20,
    "GI": 2**30,
    "TI": 2**40,
}


def parse_size(text: str) -> float:
    """``'1GiB'``, ``'512MiB'``, ``'2GB'``, ``'1e9'`` -> bytes."""
    m = _SIZE.match(text)
    if not m:
        raise typer.BadParameter(
            f"'{text}' is not a size such as 512MiB, 2GiB or 1e9", param_hint="--max-table"
        )
    unit = (m.group(2) or "").upper().removesuffix("B")
    return float(m.group(1)) * _UNITS[unit]


def _flag_message(exc: UsageError) -> str:
    """Library usage errors name the argument ('given: ...'); say which flag."""
    text = str(exc)
    for word in ("given", "do", "likelihood", "target", "threshold"):
        if text.startswith(word + ":"):
            return "--" + text
    return text


# ----------------------------------------------------------------------------- shared flags


def _question_argument():
    return typer.Argument(
        ..., metavar="MODEL|SCENARIOS", help="A model file, or a scenario file (with --scenario)."
    )


def _scenario_option():
    return typer.Option(
        None,
        "--scenario",
        "-s",
        metavar="ID",
        help="With a scenario file: build on this scenario (its findings and numbers).",
    )


def _model_option():
    return typer.Option(
        None,
        "--model",
        metavar="MODEL",
        help="With a scenario file: use this model file (relative to the current folder) in "
        "place of the one the scenario file names.",
    )


def _model_note(model: Path | None, scenarios: Path | str) -> None:
    """Say on stderr which model a scenario file was run on when --model replaced its own."""
    if model is not None:
        _echo(f"note: model {model} (from --model, in place of the one {scenarios} names)", err=True)


def _given_option():
    return typer.Option(
        [], "--given", "-g", metavar="NODE=STATE", help="Observe a node (conditioning). Repeatable."
    )


def _do_option():
    return typer.Option(
        [],
        "--do",
        metavar="NODE=STATE",
        help="Force a node (intervention: its incoming arrows are cut). Repeatable.",
    )


def _likelihood_option():
    return typer.Option(
        [],
        "--likelihood",
        "-l",
        metavar="NODE=s1:0.8,s2:0.2",
        help="Soft evidence: a likelihood for every state of a node. Repeatable.",
    )


# ----------------------------------------------------------------------------- uncertainty flags

DEFAULT_SAMPLES = 1000


def _samples_option():
    return typer.Option(
        None,
        "--samples",
        "-n",
        metavar="N",
        help="Also draw N parameter sets from the spread of the model's numbers (terms and "
        "ranges: uniform over the range; beta(a, b); Dirichlet with a strength) and show each "
        "probability's interval across them, every draw solved exactly. Default 1000 when "
        "--seed, --level, --strength or --plot is given.",
    )


def _seed_option():
    return typer.Option(
        None, "--seed", metavar="S", help="Seed for the draws: the same seed, the same intervals."
    )


def _level_option():
    return typer.Option(
        0.9,
        "--level",
        metavar="L",
        help="Probability mass of each interval: 0.9 = 5th to 95th percentile.",
    )


def _strength_option():
    return typer.Option(
        None,
        "--strength",
        metavar="S",
        help="Spread exact numbers too: a Dirichlet with pseudo-count S around each distribution "
        "written with exact numbers only (a node's or model's 'strength:' wins). Intervals "
        "from this alone are labelled as such.",
    )


def _plot_option():
    return typer.Option(
        None,
        "--plot",
        metavar="FILE.png|svg",
        help="Draw each target's probability across the draws (one band per scenario) to FILE.",
    )


def _draw_settings(
    samples: int | None, seed: int | None, level: float, strength: float | None, plot: Path | None
):
    """Check the uncertainty flags; return the library's DrawOptions (None: no draws)."""
    if samples is not None and samples < 1:
        raise typer.BadParameter(f"need at least 1 draw, got {samples}", param_hint="--samples")
    if not 0 < level < 1:
        raise typer.BadParameter(
            f"an interval's probability is between 0 and 1 (e.g. 0.9), got {level:g}",
            param_hint="--level",
        )
    if strength is not None and not strength > 0:
        raise typer.BadParameter(
            f"a pseudo-count is a positive number (e.g. 20), got {strength:g}",
            param_hint="--strength",
        )
    if plot is not None:
        if plot.suffix.lower() not in (".png", ".svg"):
            raise typer.BadParameter(f"'{plot}' must end in .png or .svg", param_hint="--plot")
        if plot.parent and not plot.parent.exists():
            raise UsageError(f"--plot {plot}: no such folder '{plot.parent}'")
    wanted = samples is not None or seed is not None or strength is not None or plot is not None
    if not wanted and level == 0.9:
        return None
    from riskchain.analysis.uncertainty import DrawOptions

    n = samples if samples is not None else DEFAULT_SAMPLES
    return DrawOptions(n, seed, level, strength, _progress())


def _check_plot_path(plot: Path | None) -> None:
    if plot is None:
        return
    if plot.suffix.lower() not in (".png", ".svg"):
        raise typer.BadParameter(f"'{plot}' must end in .png or .svg", param_hint="--plot")
    if plot.parent and not plot.parent.exists():
        raise UsageError(f"--plot {plot}: no such folder '{plot.parent}'")


def _progress():
    """A progress callback that shows a bar on stderr once a run takes more than a
    moment, and only when stderr is a terminal (never in pipes, files or CI logs)."""
    if not sys.stderr.isatty():
        return None
    import time

    start = time.monotonic()
    state: dict = {}

    def update(done: int, total: int) -> None:
        bar = state.get("bar")
        if bar is None:
            if time.monotonic() - start < 0.5 or done >= total:
                return
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TaskProgressColumn, TimeRemainingColumn

            bar = Progress(
                "drawing",
                BarColumn(),
                TaskProgressColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            bar.start()
            state["bar"] = bar
            state["task"] = bar.add_task("draws", total=total)
        bar.update(state["task"], completed=done)
        if done >= total:
            bar.stop()

    return update


def _plot(
    path: Path | None, items, targets, model, scale, findings, points, every_state=False
) -> None:
    """Write the plot of the draws (matplotlib is imported only here). ``findings``
    and ``points`` give, per item, the observed/forced nodes and the point answers;
    ``every_state`` draws every state of a target, as ``query`` lists them."""
    if path is None:
        return
    from riskchain.report.plot import plot_uncertainty

    fmt = path.suffix.lower().lstrip(".")
    data = plot_uncertainty(
        items, targets, model, scale, fmt, findings=findings, points=points,
        every_state=every_state,
    )  # fmt: skip
    _write(path, data)
    _echo(f"wrote {path}", err=True)


# ----------------------------------------------------------------------------- commands


@app.command()
def validate(
    paths: list[str] = typer.Argument(
        ..., metavar="PATH...", help="Model files, or folders of them."
    ),
    max_table: str = typer.Option(
        "1GiB",
        "--max-table",
        metavar="SIZE",
        help="Memory budget for a model's tables; a model whose tables need more is refused.",
    ),
    model: Path | None = _model_option(),
) -> int:
    """Check model files; report every problem as path:line:col (exit 0 valid, 1 invalid)."""
    from riskchain.validate import validate_paths

    reports = validate_paths(paths, parse_size(max_table), model)
    bad = 0
    for rep in reports:
        if rep.ok:
            _echo(f"{rep.path}: ok ({rep.summary})")
        else:
            bad += 1
            for d in rep.diagnostics:
                _echo(d.format(), err=True)
    if bad:
        n = sum(len(r.diagnostics) for r in reports)
        _echo(
            f"{n} error{'s' if n != 1 else ''} in {bad} file{'s' if bad != 1 else ''}", err=True
        )
        return 1
    return 0


@app.command()
def query(
    model: Path = _question_argument(),
    scenario: str | None = _scenario_option(),
    given: list[str] = _given_option(),
    do: list[str] = _do_option(),
    likelihood: list[str] = _likelihood_option(),
    target: list[str] = typer.Option(
        [],
        "--target",
        "-t",
        metavar="NODE",
        help="Node to report (default: the model's targets, else every node). Repeatable.",
    ),
    fmt: QueryFormat = typer.Option(QueryFormat.table, "--format", "-f", help="Output format."),
    engine: Engine = typer.Option(
        Engine.fast,
        "--engine",
        help="fast (own exact engine) or pgmpy (the same question through pgmpy).",
    ),
    scale: ScaleName = typer.Option(ScaleName.icd203, "--scale", help="Scale of estimative words."),
    max_table: str = typer.Option(
        "1GiB",
        "--max-table",
        metavar="SIZE",
        help="Memory budget for the computation's tables; larger questions are refused.",
    ),
    samples: int | None = _samples_option(),
    seed: int | None = _seed_option(),
    level: float = _level_option(),
    strength: float | None = _strength_option(),
    plot: Path | None = _plot_option(),
    model_file: Path | None = _model_option(),
) -> int:
    """Ask a what-if question: posteriors of the targets given findings and interventions."""
    budget = parse_size(max_table)
    ev, dv, lk = _pairs(given, "--given"), _pairs(do, "--do"), _likelihoods(likelihood)
    draws = _draw_settings(samples, seed, level, strength, plot)
    from riskchain.analysis.scenarios import ask
    from riskchain.report.query import render_query
    from riskchain.scales import get_scale

    try:
        m, result = ask(
            model,
            scenario,
            given=ev,
            do=dv,
            likelihood=lk,
            targets=target or None,
            engine=engine.value,
            max_table=budget,
            draws=draws,
            model=model_file,
        )
    except UsageError as exc:
        raise UsageError(_flag_message(exc)) from None
    sc = get_scale(scale.value)
    _echo(render_query(m, result, fmt.value, sc), nl=False)
    _model_note(model_file, model)
    _warn_conflict(m, result.given, result.do, result.likelihood, budget)
    if result.uncertainty is not None:
        _plot(
            plot,
            [(result.scenario or "this question", result.uncertainty)],
            result.targets,
            m,
            sc,
            [_findings(result.given, result.do)],
            [result.posteriors],
            every_state=True,
        )
    return 0


class ReportFormat(str, Enum):
    table = "table"
    json = "json"
    md = "md"


def _target_state(text: str, flag: str = "--target") -> tuple[str, str | None]:
    """``NODE=STATE`` or ``NODE`` (a binary node's yes state is then meant)."""
    node, sep, state = text.partition("=")
    node, state = node.strip(), state.strip()
    if not node or (sep and not state):
        raise typer.BadParameter(f"'{text}' is not NODE=STATE or NODE", param_hint=flag)
    return node, state or None


def _outcome(model, node: str, state: str | None) -> str:
    """The state a --target names; for a bare binary node, its yes (else second) state."""
    from riskchain.report.query import reported_state

    try:
        states = model.states(node)
    except UsageError as exc:
        raise UsageError(f"--target: {exc}") from None
    if state is not None:
        if state not in states:
            raise UsageError(
                f"--target: '{node}' has no state '{state}' (states: {', '.join(states)})"
            )
        return state
    rep = reported_state(states)
    if rep is None:
        raise UsageError(
            f"--target: '{node}' has {len(states)} states; name one: {node}=STATE "
            f"({', '.join(states)})"
        )
    return rep


@app.command()
def sensitivity(
    model: Path = _question_argument(),
    target: str = typer.Option(
        ...,
        "--target",
        "-t",
        metavar="NODE=STATE",
        help="The outcome whose probability is studied (NODE alone: a binary node's yes).",
    ),
    scenario: str | None = _scenario_option(),
    given: list[str] = _given_option(),
    do: list[str] = _do_option(),
    likelihood: list[str] = _likelihood_option(),
    top: int = typer.Option(
        10, "--top", "-k", metavar="K", help="Show the K numbers that move the target most."
    ),
    threshold: float | None = typer.Option(
        None,
        "--threshold",
        metavar="P",
        help="Report where the target crosses P instead of where its estimative term changes.",
    ),
    fmt: ReportFormat = typer.Option(ReportFormat.table, "--format", "-f", help="Output format."),
    scale: ScaleName = typer.Option(ScaleName.icd203, "--scale", help="Scale of estimative words."),
    plot: Path | None = typer.Option(
        None, "--plot", metavar="FILE.png|svg", help="Draw the tornado chart of the top K numbers."
    ),
    max_table: str = typer.Option(
        "1GiB", "--max-table", metavar="SIZE", help="Memory budget for each batch of solves."
    ),
    model_file: Path | None = _model_option(),
) -> int:
    """Which numbers the target's probability rests on, and how far each must move to change the call."""
    budget = parse_size(max_table)
    node, state = _target_state(target)
    ev, dv, lk = _pairs(given, "--given"), _pairs(do, "--do"), _likelihoods(likelihood)
    if top < 1:
        raise typer.BadParameter(f"need at least 1, got {top}", param_hint="--top")
    if threshold is not None and not 0 < threshold < 1:
        raise typer.BadParameter(
            f"a probability between 0 and 1, got {threshold:g}", param_hint="--threshold"
        )
    _check_plot_path(plot)
    from riskchain.analysis.scenarios import pose
    from riskchain.analysis.sensitivity import sensitivity as analyse
    from riskchain.report.sensitivity import render_sensitivity
    from riskchain.scales import get_scale

    sc = get_scale(scale.value)
    try:
        q = pose(model, scenario, ev, dv, lk, budget, model_file)
        res = analyse(
            q.model,
            node,
            _outcome(q.model, node, state),
            q.given,
            q.do,
            q.likelihood,
            scale=sc,
            threshold=threshold,
            max_table=budget,
        )
    except UsageError as exc:
        raise UsageError(_flag_message(exc)) from None
    _echo(render_sensitivity(res, fmt.value, top), nl=False)
    _model_note(model_file, model)
    if plot is not None:
        from riskchain.report.plot import plot_tornado

        if not res.analyst:
            raise UsageError(
                f"--plot {plot}: no number as written can change P({node}) here, so there is "
                "no tornado to draw"
            )

        names = {n: q.model.label(n) for n in q.model.nodes}
        _write(plot, plot_tornado(res, top, fmt=plot.suffix.lower().lstrip("."), labels=names))
        _echo(f"wrote {plot}", err=True)
    return 0


@app.command()
def watch(
    model: Path = _question_argument(),
    target: str | None = typer.Option(
        None,
        "--target",
        "-t",
        metavar="NODE[=STATE]",
        help="The node to learn about (=STATE: follow that state; a binary node: its yes; a "
        "graded node alone: all its states).",
    ),
    scenario: str | None = _scenario_option(),
    given: list[str] = _given_option(),
    do: list[str] = _do_option(),
    likelihood: list[str] = _likelihood_option(),
    between: tuple[str, str] | None = typer.Option(
        None,
        "--between",
        metavar="A B",
        help="With a scenario file: rank indicators by how well they tell scenario A from "
        "scenario B (Jensen-Shannon divergence, bits) instead of by what they tell about a target.",
    ),
    top: int = typer.Option(
        10, "--top", "-k", metavar="K", help="Show the K most informative indicators."
    ),
    fmt: ReportFormat = typer.Option(ReportFormat.table, "--format", "-f", help="Output format."),
    scale: ScaleName = typer.Option(ScaleName.icd203, "--scale", help="Scale of estimative words."),
    max_table: str = typer.Option(
        "1GiB", "--max-table", metavar="SIZE", help="Memory budget for each batch of solves."
    ),
    model_file: Path | None = _model_option(),
) -> int:
    """Which unobserved node to watch: ranked by what seeing it tells about a target."""
    budget = parse_size(max_table)
    ev, dv, lk = _pairs(given, "--given"), _pairs(do, "--do"), _likelihoods(likelihood)
    if top < 1:
        raise typer.BadParameter(f"need at least 1, got {top}", param_hint="--top")
    if between is not None and target is not None:
        raise typer.BadParameter(
            "not used with --between, which ranks by two scenarios; drop one", param_hint="--target"
        )
    if between is not None and scenario is not None:
        raise typer.BadParameter(
            "not used with --between, which names both scenarios; drop one", param_hint="--scenario"
        )
    if between is None and target is None:
        raise typer.BadParameter(
            "name the node to learn about (or use --between A B)", param_hint="--target"
        )
    from riskchain.analysis.scenarios import pose
    from riskchain.scales import get_scale

    if between is not None:
        from riskchain.analysis.watch import between as compare
        from riskchain.report.watch import render_between

        try:
            a, b = (pose(model, sid, ev, dv, lk, budget, model_file) for sid in between)
        except UsageError as exc:
            raise UsageError(str(exc).replace("--scenario", "--between")) from None
        try:
            res = compare(a, b, max_table=budget)
        except UsageError as exc:
            raise UsageError(_flag_message(exc)) from None
        _echo(render_between(res, fmt.value, top), nl=False)
        _model_note(model_file, model)
        return 0
    from riskchain.analysis.watch import watch as rank
    from riskchain.report.watch import render_watch

    assert target is not None
    node, state = _target_state(target)
    try:
        q = pose(model, scenario, ev, dv, lk, budget, model_file)
        res = rank(
            q.model, node, state, q.given, q.do, q.likelihood, get_scale(scale.value), budget
        )
    except UsageError as exc:
        raise UsageError(_flag_message(exc)) from None
    res.scenario = q.scenario.id if q.scenario is not None else None
    _echo(render_watch(res, fmt.value, top), nl=False)
    _model_note(model_file, model)
    return 0


def _warn_run_conflicts(result) -> None:
    """The conflict warning for every scenario of a run whose findings are possible."""
    for res in result.results:
        if res.posteriors is not None:
            s = res.scenario
            _warn_conflict(
                result.model_for(s.id), s.given, s.do, s.likelihood, where=f"scenario '{s.id}': "
            )


def _warn_conflict(model, given, do, likelihood, budget: float = 1 << 30, where: str = "") -> None:
    """Warn on stderr (never fail) when two or more findings conflict under the model."""
    from riskchain.analysis.conflict import TOLERANCE, conflict
    from riskchain.errors import TooLargeError

    if len(given) + len(likelihood) < 2:
        return
    try:
        conf = conflict(model, given, likelihood, do, max_table=budget)
    except TooLargeError:
        return  # the check is a courtesy: never refuse an answer already given
    if conf > TOLERANCE:
        factor = f"{2**conf:.3g} times" if conf < 1000 else "far"
        _echo(
            f"warning: {where}the findings conflict under the model (conf = {conf:.2f} bits > 0): "
            f"they are {factor} less likely together than apart; check them",
            err=True,
        )


class ExplainFormat(str, Enum):
    md = "md"
    json = "json"


@app.command()
def explain(
    model: Path = _question_argument(),
    target: str = typer.Option(
        ...,
        "--target",
        "-t",
        metavar="NODE=STATE",
        help="The outcome to explain (NODE alone: a binary node's yes).",
    ),
    scenario: str | None = _scenario_option(),
    given: list[str] = _given_option(),
    do: list[str] = _do_option(),
    likelihood: list[str] = _likelihood_option(),
    fmt: ExplainFormat = typer.Option(ExplainFormat.md, "--format", "-f", help="Output format."),
    scale: ScaleName = typer.Option(ScaleName.icd203, "--scale", help="Scale of estimative words."),
    samples: int | None = _samples_option(),
    seed: int | None = _seed_option(),
    level: float = _level_option(),
    strength: float | None = _strength_option(),
    max_table: str = typer.Option(
        "1GiB", "--max-table", metavar="SIZE", help="Memory budget for each computation."
    ),
    model_file: Path | None = _model_option(),
) -> int:
    """Explain a judgment in words: its probability, the likeliest reading of the findings,
    what each finding adds, the numbers it rests on, what to watch and what would change it."""
    budget = parse_size(max_table)
    node, state = _target_state(target)
    ev, dv, lk = _pairs(given, "--given"), _pairs(do, "--do"), _likelihoods(likelihood)
    draws = _draw_settings(samples, seed, level, strength, None)
    from riskchain.analysis.explain import explain as gather
    from riskchain.analysis.scenarios import pose
    from riskchain.report.explain import render_explain
    from riskchain.scales import get_scale

    try:
        q = pose(model, scenario, ev, dv, lk, budget, model_file)
        res = gather(
            q.model,
            node,
            _outcome(q.model, node, state),
            q.given,
            q.do,
            q.likelihood,
            scale=get_scale(scale.value),
            scenario=q.scenario.id if q.scenario is not None else None,
            draws=draws,
            draw_question=(q.base, q.question()),
            max_table=budget,
            sets=q.scenario.sets if q.scenario is not None else None,
        )
    except UsageError as exc:
        raise UsageError(_flag_message(exc)) from None
    _echo(render_explain(res, fmt.value), nl=False)
    _model_note(model_file, model)
    return 0


class TableFormat(str, Enum):
    table = "table"
    md = "md"
    csv = "csv"
    json = "json"
    html = "html"


@app.command()
def run(
    scenarios: Path = typer.Argument(..., metavar="SCENARIOS", help="A scenario file."),
    scenario: list[str] = typer.Option(
        [],
        "--scenario",
        "-s",
        metavar="ID",
        help="Run only this scenario (repeatable; default: all).",
    ),
    target: list[str] = typer.Option(
        [],
        "--target",
        "-t",
        metavar="NODE",
        help="Node to report (default: the file's targets). Repeatable.",
    ),
    fmt: QueryFormat = typer.Option(QueryFormat.table, "--format", "-f", help="Output format."),
    scale: ScaleName = typer.Option(ScaleName.icd203, "--scale", help="Scale of estimative words."),
    samples: int | None = _samples_option(),
    seed: int | None = _seed_option(),
    level: float = _level_option(),
    strength: float | None = _strength_option(),
    plot: Path | None = _plot_option(),
    model: Path | None = _model_option(),
) -> int:
    """Run the scenarios of a scenario file: each scenario's findings and posteriors."""
    draws = _draw_settings(samples, seed, level, strength, plot)
    from riskchain.analysis.scenarios import run_scenarios
    from riskchain.report.risktable import render_run
    from riskchain.scales import get_scale

    result = run_scenarios(scenarios, scenario or None, target or None, draws=draws, model=model)
    sc = get_scale(scale.value)
    _echo(render_run(result, fmt.value, sc, _width(True)), nl=False)
    _model_note(model, scenarios)
    _warn_impossible(result)
    _warn_run_conflicts(result)
    _plot_run(plot, result, sc)
    return 0


def _plot_run(plot: Path | None, result, scale) -> None:
    kept = [r for r in result.results if r.uncertainty is not None]
    if kept:
        _plot(
            plot,
            [(r.id, r.uncertainty) for r in kept],
            result.targets,
            result.model,
            scale,
            [_findings(r.scenario.given, r.scenario.do) for r in kept],
            [r.posteriors for r in kept],
        )


def _findings(given, do) -> dict[str, str]:
    """Which nodes a question observed and which it forced (for labels)."""
    return {**dict.fromkeys(given, "observed"), **dict.fromkeys(do, "forced")}


class Layout(str, Enum):
    auto = "auto"
    wide = "wide"
    long = "long"


# the format a file's ending asks for (``table -o FILE`` without --format)
_SUFFIX_FORMATS = {
    ".html": "html", ".htm": "html", ".json": "json", ".csv": "csv", ".md": "md",
    ".markdown": "md", ".txt": "table",
}  # fmt: skip


def _table_format(fmt: TableFormat | None, output: Path | None) -> str:
    """--format, else the format of -o's ending, else plain text; a contradiction between
    the two is a usage error."""
    wanted = _SUFFIX_FORMATS.get(output.suffix.lower()) if output is not None else None
    if fmt is None:
        return wanted or "table"
    if wanted is not None and wanted != fmt.value:
        raise typer.BadParameter(
            f"'{fmt.value}' contradicts -o {output}, whose ending asks for {wanted}; "
            "drop --format or change the file's ending",
            param_hint="--format",
        )
    return fmt.value


def _width(to_terminal: bool) -> int:
    """The width to fit: $COLUMNS, else the terminal's, else (a pipe or a file) 100."""
    import shutil

    from riskchain.report.risktable import DEFAULT_WIDTH

    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    if to_terminal and sys.stdout.isatty():
        return shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns
    return DEFAULT_WIDTH


@app.command()
def table(
    scenarios: Path = typer.Argument(..., metavar="SCENARIOS", help="A scenario file."),
    fmt: TableFormat | None = typer.Option(
        None,
        "--format",
        "-f",
        help="Output format (default: from -o's ending, .html .json .csv .md; else table).",
    ),
    output: Path | None = typer.Option(
        None,
        "--output",
        "-o",
        metavar="FILE",
        help="Write to FILE (atomically) instead of the terminal.",
    ),
    layout: Layout = typer.Option(
        Layout.auto,
        "--layout",
        help="table and md: wide (a column group per scenario), long (a block per outcome, "
        "a row per scenario) or auto (wide when it fits $COLUMNS or the terminal, else long; "
        "100 columns when neither is known).",
    ),
    scale: ScaleName = typer.Option(ScaleName.icd203, "--scale", help="Scale of estimative words."),
    scenario: list[str] = typer.Option(
        [],
        "--scenario",
        "-s",
        metavar="ID",
        help="Only these scenarios (repeatable; the baseline is always shown).",
    ),
    bands: bool = typer.Option(
        False, "--nrr-bands", help="Add the UK NRR logarithmic likelihood band of each probability."
    ),
    date: str | None = typer.Option(
        None, "--date", metavar="YYYY-MM-DD", help="Date printed as 'produced' (default: today)."
    ),
    samples: int | None = _samples_option(),
    seed: int | None = _seed_option(),
    level: float = _level_option(),
    strength: float | None = _strength_option(),
    plot: Path | None = _plot_option(),
    model: Path | None = _model_option(),
) -> int:
    """The risk table of a scenario file, laid out to fit the terminal.

    For each target outcome under each scenario: the probability, its estimative word with its
    range, and the change against the baseline scenario; observed and forced outcomes are
    labelled so.
    """
    import datetime as dt

    draws = _draw_settings(samples, seed, level, strength, plot)
    produced = None
    if date is not None:
        try:
            produced = dt.date.fromisoformat(date)
        except ValueError:
            raise typer.BadParameter(
                f"'{date}' is not a date YYYY-MM-DD", param_hint="--date"
            ) from None
    if output is not None and output.parent and not output.parent.exists():
        raise UsageError(f"-o {output}: no such folder '{output.parent}'")
    _table_format(fmt, output)  # a contradiction is refused before any work
    from riskchain.analysis.risktable import risk_table
    from riskchain.analysis.scenarios import run_scenarios
    from riskchain.report.risktable import render_risk_table
    from riskchain.scales import get_scale

    kind = _table_format(fmt, output)
    result = run_scenarios(
        scenarios, scenario or None, include_baseline=True, draws=draws, model=model
    )
    sc = get_scale(scale.value)
    table_ = risk_table(result, sc, produced, bands)
    text = render_risk_table(table_, kind, layout.value, _width(output is None))
    if output is None:
        _echo(text, nl=False)
    else:
        _write(output, text)
        _echo(f"wrote {output}", err=True)
    _model_note(model, scenarios)
    _warn_impossible(result)
    _warn_run_conflicts(result)
    _plot_run(plot, result, sc)
    return 0


@app.command()
def report(
    scenarios: Path = typer.Argument(..., metavar="SCENARIOS", help="A scenario file."),
    output: Path | None = typer.Option(
        None,
        "--output",
        "-o",
        metavar="FILE.html",
        help="Where to write the report (default: report.html, never overwritten silently).",
    ),
    force: bool = typer.Option(False, "--force", help="Replace report.html if it exists."),
    target: str | None = typer.Option(
        None,
        "--target",
        "-t",
        metavar="NODE=STATE",
        help="The outcome analysed in depth (default: the file's first target; its worst "
        "reported state).",
    ),
    scale: ScaleName = typer.Option(ScaleName.icd203, "--scale", help="Scale of estimative words."),
    date: str | None = typer.Option(
        None, "--date", metavar="YYYY-MM-DD", help="Date printed as 'produced' (default: today)."
    ),
    samples: int | None = _samples_option(),
    seed: int | None = _seed_option(),
    level: float = _level_option(),
    strength: float | None = _strength_option(),
    max_table: str = typer.Option(
        "1GiB", "--max-table", metavar="SIZE", help="Memory budget for each computation."
    ),
    model: Path | None = _model_option(),
) -> int:
    """One self-contained HTML file to hand over: scenarios, risk table, charts, the network,
    what the main judgment rests on, what to watch, the explanation and the method."""
    import datetime as dt

    budget = parse_size(max_table)
    produced = None
    if date is not None:
        try:
            produced = dt.date.fromisoformat(date)
        except ValueError:
            raise typer.BadParameter(
                f"'{date}' is not a date YYYY-MM-DD", param_hint="--date"
            ) from None
    node, state = _target_state(target) if target is not None else (None, None)
    draws = _draw_settings(samples, seed, level, strength, None)
    path = output if output is not None else Path("report.html")
    if output is None and path.exists() and not force:
        raise UsageError(f"{path} exists; choose another file with -o FILE.html, or add --force")
    if path.parent and not path.parent.exists():
        raise UsageError(f"-o {path}: no such folder '{path.parent}'")
    from riskchain.analysis.report import build_report
    from riskchain.report.html import render_report
    from riskchain.scales import get_scale

    try:
        rep = build_report(
            scenarios, node, state, get_scale(scale.value), produced, draws, budget, model
        )
    except UsageError as exc:
        raise UsageError(_flag_message(exc)) from None
    _write(path, render_report(rep))
    _echo(f"wrote {path}", err=True)
    _model_note(model, scenarios)
    return 0


def _write(path: Path, text: str) -> None:
    """Write atomically; a failure (disk full, no permission) is a one-line error."""
    from riskchain.io.files import atomic_write

    try:
        atomic_write(path, text)
    except OSError as exc:
        raise RiskchainError(f"cannot write {path}: {exc.strerror or exc}") from None


def _warn_impossible(result) -> None:
    for res in result.results:
        if res.impossible is not None:
            _echo(f"warning: scenario '{res.id}': {res.impossible}", err=True)


@app.command()
def graph(
    model: Path = _question_argument(),
    output: Path = typer.Option(
        ...,
        "--output",
        "-o",
        metavar="FILE.svg|png|dot",
        help="The picture to write: SVG, PNG, or Graphviz DOT text (format from the suffix).",
    ),
    scenario: str | None = _scenario_option(),
    given: list[str] = _given_option(),
    do: list[str] = _do_option(),
    likelihood: list[str] = _likelihood_option(),
    scale: ScaleName = typer.Option(ScaleName.icd203, "--scale", help="Scale of estimative words."),
    max_table: str = typer.Option(
        "1GiB", "--max-table", metavar="SIZE", help="Memory budget for the computation's tables."
    ),
    focus: str | None = typer.Option(
        None,
        "--focus",
        metavar="NODE",
        help="Draw only NODE's neighbourhood: its causes and effects up to --depth steps "
        "(probabilities still from the whole network; what is left out is listed).",
    ),
    depth: int | None = typer.Option(
        None, "--depth", metavar="K", help="Steps from --focus NODE (default 1: parents and children)."
    ),
    model_file: Path | None = _model_option(),
) -> int:
    """Draw the network, causes above effects: each node with a bar per state showing its
    probability under the question; observed and forced nodes marked, cut arrows drawn cut,
    targets marked; a scenario other than the baseline shows each state's change from it."""
    budget = parse_size(max_table)
    ev, dv, lk = _pairs(given, "--given"), _pairs(do, "--do"), _likelihoods(likelihood)
    if depth is not None and focus is None:
        raise typer.BadParameter("needs --focus NODE, the node to draw around", param_hint="--depth")
    if depth is not None and depth < 0:
        raise typer.BadParameter(f"a number of steps, 0 or more, got {depth}", param_hint="--depth")
    fmt = output.suffix.lower().lstrip(".")
    if fmt not in ("svg", "png", "dot"):
        raise typer.BadParameter(f"'{output}' must end in .svg, .png or .dot", param_hint="-o")
    if output.parent and not output.parent.exists():
        raise UsageError(f"-o {output}: no such folder '{output.parent}'")
    from riskchain.report.graph import DEFAULT_DEPTH, graph_question, render
    from riskchain.scales import get_scale

    try:
        view = graph_question(
            model, scenario, ev, dv, lk, scale=get_scale(scale.value), max_table=budget,
            focus=focus, depth=DEFAULT_DEPTH if depth is None else depth, model=model_file,
        )  # fmt: skip
    except UsageError as exc:
        raise UsageError(_flag_message(exc)) from None
    _write(output, render(view, fmt))  # type: ignore[arg-type]  # _write takes bytes too
    _echo(f"wrote {output}", err=True)
    _model_note(model_file, model)
    return 0


@app.command()
def show(
    model: Path = typer.Argument(..., metavar="MODEL", help="A model file."),
    fmt: ShowFormat = typer.Option(ShowFormat.table, "--format", "-f", help="Output format."),
) -> int:
    """Show a model: nodes, states, parents, full CPTs and provenance."""
    from riskchain.model import load_model
    from riskchain.report.query import render_show

    _echo(render_show(load_model(model), fmt.value), nl=False)
    return 0


@app.command("set")
def set_(
    model: Path = typer.Argument(..., metavar="MODEL", help="A model file (edited in place)."),
    node: str = typer.Argument(..., metavar="NODE", help="The node whose number changes."),
    value: str = typer.Argument(
        ...,
        metavar="VALUE",
        help="The new probability: 0.35, 35%, likely, '[0.2, 0.3]' or 'beta(3, 7)'.",
    ),
    when: str | None = typer.Option(
        None,
        "--when",
        "-w",
        metavar="'PARENT=STATE, ...'",
        help="The CPT row that covers these parents' states (any order), or 'default'.",
    ),
    state: str | None = typer.Option(
        None,
        "--state",
        metavar="STATE",
        help="The entry of a {state: p} mapping (binary nodes: the second state by default).",
    ),
    cause: str | None = typer.Option(
        None,
        "--cause",
        metavar="PARENT",
        help="The number of this cause in the node's noisy_or / noisy_and table.",
    ),
    leak: bool = typer.Option(
        False, "--leak", help="The leak of the node's noisy_or / noisy_and / noisy_max table."
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Print the change as a unified diff; write nothing."
    ),
) -> int:
    """Change one number of a model file in place; every other byte stays as written.

    The edited file is validated before it is written (atomically, under a lock
    file .MODEL.lock beside it, so edits made at the same time are all kept). An
    invalid value, an unknown node, state, row or cause, an edit that would make
    the model invalid, or a file that is read-only, hard-linked or another
    user's changes nothing and exits 1.
    """
    from riskchain.edit import set_value, write_value

    if dry_run:
        result = set_value(model, node, value, when=when, state=state, cause=cause, leak=leak)
        _echo(result.diff(), nl=False)
        return 0
    # read, edit, validate and replace under the file's lock (concurrent edits all kept)
    result = write_value(model, node, value, when=when, state=state, cause=cause, leak=leak)
    if not result.changed:
        _echo(f"{result.summary()}: unchanged, nothing written", err=True)
    else:
        _echo(result.summary(), err=True)
    return 0


class SchemaKind(str, Enum):
    model = "model"
    scenario = "scenario"


@app.command()
def schema(
    kind: SchemaKind = typer.Argument(..., metavar="model|scenario", help="Which file format."),
) -> int:
    """Print the JSON Schema of model or scenario files (for editors: validation and completion)."""
    from riskchain.schema import render_schema

    _echo(render_schema(kind.value), nl=False)
    return 0


@app.command("import")
def import_(
    source: Path = typer.Argument(
        ...,
        metavar="FILE",
        help="A network file, by its ending: .bif, .bif.gz, .xmlbif, .bifxml, .xml, .net, .uai or .xdsl.",
    ),
    output: Path = typer.Option(
        ..., "--output", "-o", metavar="MODEL.yaml", help="The model file to write."
    ),
    force: bool = typer.Option(False, "--force", help="Replace MODEL.yaml if it exists."),
) -> int:
    """Import another tool's network (BIF, XMLBIF, Hugin, UAI, GeNIe) as a model file.

    Read through pgmpy's readers; the model file is validated and its tables
    checked against the file's. Names a model file cannot hold are changed, and
    names riskchain's export had to change are restored; what changed is
    printed after the summary (see docs/formats.md).
    """
    from riskchain.io.formats import import_file

    if output.exists() and not force:
        raise UsageError(f"-o {output}: the file exists; add --force to replace it")
    if output.parent and not output.parent.exists():
        raise UsageError(f"-o {output}: no such folder '{output.parent}'")
    result = import_file(source)
    _write(output, result.text)
    compiled = result.model
    edges = sum(len(p) for p in compiled.parents)
    _echo(
        f"wrote {output}: model '{compiled.id}', {len(compiled)} nodes, {edges} edges (validated)"
        + "".join(f"; {note}" for note in result.notes),
        err=True,
    )
    return 0


@app.command()
def export(
    model: Path = typer.Argument(..., metavar="MODEL", help="A model file."),
    output: Path = typer.Option(
        ...,
        "--output",
        "-o",
        metavar="FILE.ext",
        help="The file to write; its ending picks the format: .bif, .bif.gz, .xmlbif, .bifxml or .xml, "
        ".net (Hugin), .uai, .xdsl (GeNIe).",
    ),
    force: bool = typer.Option(False, "--force", help="Replace FILE if it exists."),
) -> int:
    """Export a model for another tool: BIF, XMLBIF, Hugin NET, UAI or GeNIe XDSL.

    Written through pgmpy's writers, atomically. Parametric tables (noisy-OR,
    noisy-MAX, ...) are written as their full CPTs; names a format cannot hold
    are made identifiers, with the originals kept where the format has room.
    What had to change is printed after the file name (see docs/formats.md).
    """
    from riskchain.io.files import atomic_write
    from riskchain.io.formats import export_model, format_of, suffix_list
    from riskchain.model import load_model

    fmt = format_of(output.name)
    if fmt is None:
        raise UsageError(f"-o {output}: unknown file type; riskchain writes {suffix_list()}")
    if output.exists() and not force:
        raise UsageError(f"-o {output}: the file exists; add --force to replace it")
    if output.parent and not output.parent.exists():
        raise UsageError(f"-o {output}: no such folder '{output.parent}'")
    loaded = load_model(model)
    data, notes = export_model(loaded, fmt.name)
    try:
        atomic_write(output, data)
    except OSError as exc:
        raise RiskchainError(f"cannot write {output}: {exc.strerror or exc}") from None
    summary = f"wrote {output} ({fmt.name}, {len(loaded.compiled)} nodes)"
    _echo(summary + (": " + "; ".join(notes) if notes else ""), err=True)
    return 0


# ----------------------------------------------------------------------------- entry point


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code (0 ok, 1 a problem in the input, 2 bad usage)."""
    args = list(sys.argv[1:] if argv is None else argv)
    _DEBUG["on"] = "--debug" in args or os.environ.get("RISKCHAIN_DEBUG") == "1"
    with _warnings_printed():
        return _run(args)


@contextmanager
def _warnings_printed():
    """Print each of the library's warnings (RiskchainWarning) once, on stderr: a
    positioned one as ``path:line:col: warning: ...``, others as ``warning: ...``
    (e.g. a cache folder refused); other warnings are left to Python."""
    import warnings

    from riskchain.errors import RiskchainWarning

    seen: set[str] = set()
    with warnings.catch_warnings():
        shown = warnings.showwarning

        def show(message, category, filename, lineno, file=None, line=None):
            text = str(message)
            if not issubclass(category, RiskchainWarning):
                shown(message, category, filename, lineno, file, line)
            elif text not in seen:  # once per file, however often it is read
                seen.add(text)
                if ": warning: " not in text.splitlines()[0]:
                    text = "warning: " + text
                for part in text.splitlines():
                    _echo(part, err=True)

        warnings.showwarning = show
        warnings.simplefilter("always", RiskchainWarning)
        yield


def _run(args: list[str]) -> int:
    try:
        code = app(args=args, prog_name="riskchain", standalone_mode=False)
        return int(code or 0)
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except SystemExit as exc:  # shell completion (--show-completion ...) exits when done
        return exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    except _ClickException as exc:
        if _DEBUG["on"]:
            raise
        from riskchain.report.safe import terminal_text

        exc.message = terminal_text(exc.message)  # it may quote the flag's value
        exc.show()
        return exc.exit_code
    except typer.Abort:
        _echo("aborted", err=True)
        return 130
    except RiskchainError as exc:
        if _DEBUG["on"]:
            raise
        if isinstance(exc, FileKindError):
            # the first word that is not a flag is the command (root flags take no value)
            exc.name_command(next((a for a in args if not a.startswith("-")), "") or "this")
        for line in exc.lines():
            _echo(line, err=True)
        return 2 if isinstance(exc, UsageError) else 1
    except KeyboardInterrupt:
        _echo("interrupted", err=True)
        return 130
    except BrokenPipeError:
        return 0
    except MemoryError:
        if _DEBUG["on"]:
            raise
        _echo("error: not enough memory for this input or question", err=True)
        return 1
    except OSError as exc:
        # a path the library did not check itself (a name too long, a folder that may
        # not be entered): one line with the path, not a traceback
        if _DEBUG["on"]:
            raise
        where = f"{exc.filename}: " if exc.filename is not None else ""
        _echo(f"{where}error: {exc.strerror or exc}", err=True)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
