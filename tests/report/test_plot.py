"""``--plot``: the pictures (riskchain.report.plot) and their command-line wiring.

The picture of the draws and the tornado chart of a sensitivity analysis are
checked for what a reader relies on (the words, labels, seed, findings and notes
are in the SVG as text; a PNG decodes to the expected rough size), for
determinism (same inputs, same bytes) and for cheap imports; the shared style
for colours that survive grey-scale printing.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from riskchain.analysis.scenarios import run_scenarios
from riskchain.analysis.sensitivity import sensitivity
from riskchain.analysis.uncertainty import DrawOptions, Uncertainty
from riskchain.cli import _progress, main
from riskchain.model import load_model
from riskchain.report import style
from riskchain.report.plot import plot_tornado, plot_uncertainty
from riskchain.scales import ICD203, KENT, PHIA

ROOT = Path(__file__).resolve().parents[2]
SCEN = "scenarios/korea_russia_2024.yaml"
MODEL = "models/korea_russia_2024.yaml"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

EXACT_MODEL = """\
riskchain: 1
id: exact
title: Every number exact
nodes:
  talks_fail:
    label: Talks fail
    p: 0.3
  escalation:
    label: Military escalation
    parents: [talks_fail]
    cpt:
      talks_fail=yes: 0.8
      talks_fail=no: 0.1
"""


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch):
    """Run from the repository root, as the paths in the commands are relative."""
    monkeypatch.chdir(ROOT)


@pytest.fixture(scope="module")
def scenario_run():
    """The editorial's scenarios, baseline included, on 100 shared draws."""
    return run_scenarios(SCEN, include_baseline=True, draws=DrawOptions(100, seed=2))


def _items(run) -> list[tuple[str, Uncertainty]]:
    return [(r.id, r.uncertainty) for r in run.results]


def _svg_text(data: bytes) -> str:
    """All the text of an SVG, whitespace collapsed (wrapped lines joined again)."""
    root = ET.fromstring(data)
    parts = ["".join(e.itertext()) for e in root.iter() if e.tag.endswith("text")]
    return re.sub(r"\s+", " ", " ".join(parts))


def _png_shape(data: bytes) -> tuple[int, ...]:
    import matplotlib.image

    return matplotlib.image.imread(io.BytesIO(data), format="png").shape


def _labels(model, targets) -> list[str]:
    out = []
    for node in targets:
        spec = model.spec.nodes[node]
        states = spec.outcome_states()
        for state in states:
            plain = len(states) == 1 and len(spec.states) == 2
            out.append(spec.label if plain else f"{spec.label}: {state}")
    return out


def _fake(draws: dict[str, np.ndarray], states: dict[str, tuple[str, ...]], **kw) -> Uncertainty:
    samples = len(next(iter(draws.values())))
    args = {
        "samples": samples,
        "level": 0.9,
        "seed": 7,
        "draws": draws,
        "states": states,
        "evidence_probability": np.ones(samples),
        "sources": frozenset({"own"}),
    }
    args.update(kw)
    return Uncertainty(**args)


# ----------------------------------------------------------------------------- the picture


def test_png_decodes_to_the_expected_size(scenario_run):
    """Nine outcomes by eight scenarios: a PNG of roughly 16 by 12 inches at 200 dpi
    (print quality), and no larger a file than need be."""
    data = plot_uncertainty(
        _items(scenario_run), scenario_run.targets, scenario_run.model, ICD203, fmt="png"
    )
    assert data.startswith(PNG_SIGNATURE)
    height, width, _ = _png_shape(data)
    assert 2600 < width < 3800
    assert 2000 < height < 3000
    assert len(data) < 400_000


def test_figure_height_grows_with_targets_and_scenarios(scenario_run):
    """One outcome of one scenario is a small picture; more of either, a taller one."""
    model = scenario_run.model
    items = _items(scenario_run)
    small = _png_shape(plot_uncertainty(items[:1], ["war_nature_changes"], model, ICD203))
    more_scen = _png_shape(plot_uncertainty(items, ["war_nature_changes"], model, ICD203))
    more_targets = _png_shape(plot_uncertainty(items[:1], scenario_run.targets, model, ICD203))
    assert small[0] < 1000
    assert more_scen[0] > small[0] + 300
    assert more_targets[0] > small[0] + 300


def test_svg_has_every_label_the_draws_and_the_seed(scenario_run):
    data = plot_uncertainty(
        _items(scenario_run), scenario_run.targets, scenario_run.model, ICD203, fmt="svg"
    )
    text = _svg_text(data)
    for label in _labels(scenario_run.model, scenario_run.targets):
        assert label in text
    for sid, _ in _items(scenario_run):
        assert sid in text
    assert "100 parameter draws" in text
    assert "seed 2" in text
    assert "central 90% intervals" in text
    assert "Spread: from the ranges of the model's terms" in text
    for band in ICD203.bands:  # the scale's words are written beside their shading
        assert band.term in text


@pytest.mark.parametrize("scale", [PHIA, KENT])
def test_other_scales_write_their_words(scenario_run, scale):
    data = plot_uncertainty(
        _items(scenario_run)[:2], ["rok_security_threat"], scenario_run.model, scale, fmt="svg"
    )
    text = _svg_text(data)
    assert all(band.term in text for band in scale.bands)
    assert scale.title in text


def test_same_inputs_give_the_same_bytes(scenario_run):
    """Same inputs, same bytes, several times over (the layout is fixed before saving)."""
    targets = ["war_nature_changes", "rok_security_threat"]
    args = (_items(scenario_run)[:3], targets, scenario_run.model, ICD203)
    svgs = {plot_uncertainty(*args, fmt="svg") for _ in range(4)}
    assert len(svgs) == 1
    assert plot_uncertainty(*args, fmt="png") == plot_uncertainty(*args, fmt="png")
    assert b"<dc:date>" not in svgs.pop()


def test_plotting_leaves_matplotlib_settings_alone(scenario_run):
    import matplotlib

    before = dict(matplotlib.rcParams)
    plot_uncertainty(
        _items(scenario_run)[:1], ["war_nature_changes"], scenario_run.model, ICD203, fmt="svg"
    )
    assert dict(matplotlib.rcParams) == before


def test_one_value_in_every_draw_is_a_labelled_point():
    """An observed or forced outcome is a point: named so if the caller says, else
    described as the same in every draw."""
    model = load_model("tests/data/models/tiny.yaml")
    rng = np.random.default_rng(0)
    p = rng.uniform(0.3, 0.6, 50)
    unc = _fake(
        {
            "incident": np.tile([0.0, 1.0], (50, 1)),
            "escalation": np.column_stack([1 - p, p]),
        },
        {"incident": ("no", "yes"), "escalation": ("no", "yes")},
    )
    targets = ["incident", "escalation"]
    plain = _svg_text(plot_uncertainty([("forced", unc)], targets, model, ICD203, fmt="svg"))
    assert "100% in every draw" in plain
    named = _svg_text(
        plot_uncertainty(
            [("forced", unc)],
            targets,
            model,
            ICD203,
            fmt="svg",
            findings=[{"incident": "forced"}],
            points=[{"escalation": {"no": 0.55, "yes": 0.45}}],
        )
    )
    assert "forced: 100%" in named
    assert "black tick is the answer with every number at its point value" in named


def test_a_hairline_spread_is_drawn_as_a_point_with_its_interval():
    """Draws that all lie within a point of each other would make a violin no wider
    than a line, which reads as a reference rule: a diamond, its value and interval
    written beside it; a visible spread is still a violin."""
    model = load_model("tests/data/models/tiny.yaml")
    rng = np.random.default_rng(0)
    narrow = 0.8 + rng.uniform(-0.003, 0.003, 200)
    wide = rng.uniform(0.3, 0.6, 200)
    unc = _fake(
        {"incident": np.column_stack([1 - narrow, narrow]), "escalation": np.column_stack([1 - wide, wide])},
        {"incident": ("no", "yes"), "escalation": ("no", "yes")},
    )
    data = plot_uncertainty([("s", unc)], ["incident", "escalation"], model, ICD203, fmt="svg")
    text = _svg_text(data)
    lo, hi = (f"{v * 100:.1f}" for v in unc.interval("incident", "yes"))
    assert f"{np.median(narrow) * 100:.1f}%, interval {lo}–{hi}%" in text
    # one violin (a filled shape) for the wide spread, none for the narrow one
    svg = data.decode()
    assert len(re.findall(r'<g id="FillBetweenPolyCollection_\d+"', svg)) == 1


def test_the_seed_is_in_the_caption_not_the_title():
    """A 19-digit seed in a title says nothing to a reader; the caption keeps it, to
    repeat the run."""
    model = load_model("tests/data/models/tiny.yaml")
    p = np.random.default_rng(0).uniform(0.3, 0.6, 50)
    seed = 4760945817798327439
    unc = _fake({"escalation": np.column_stack([1 - p, p])}, {"escalation": ("no", "yes")}, seed=seed)
    root = ET.fromstring(plot_uncertainty([("s", unc)], ["escalation"], model, ICD203, fmt="svg"))
    texts = ["".join(e.itertext()) for e in root.iter() if e.tag.endswith("text")]
    title = next(t for t in texts if t.startswith("How sure is each probability?"))
    assert "seed" not in title and str(seed) not in title
    assert f"seed {seed} (the same seed gives the same draws)" in " ".join(texts).replace("\n", " ")


def test_impossible_draws_are_left_out_and_said():
    model = load_model("tests/data/models/tiny.yaml")
    draws = np.tile([0.6, 0.4], (40, 1))
    draws[:10] = np.nan
    draws[10:, 1] = np.linspace(0.2, 0.5, 30)
    draws[10:, 0] = 1 - draws[10:, 1]
    pe = np.ones(40)
    pe[:10] = 0.0
    some = _fake({"escalation": draws}, {"escalation": ("no", "yes")}, evidence_probability=pe)
    none_ok = _fake(
        {"escalation": np.full((40, 2), np.nan)},
        {"escalation": ("no", "yes")},
        evidence_probability=np.zeros(40),
    )
    text = _svg_text(
        plot_uncertainty(
            [("some", some), ("never", none_ok)], ["escalation"], model, ICD203, fmt="svg"
        )
    )
    assert "findings impossible in every draw" in text
    assert "some 10 of 40" in text
    assert "never 40 of 40" in text


def test_strength_only_spread_is_said_in_the_picture(tmp_path):
    path = tmp_path / "exact.yaml"
    path.write_text(EXACT_MODEL)
    model = load_model(path)
    res = model.query(samples=200, seed=4, strength=20)
    unc = res.uncertainty
    assert unc.strength_only
    text = _svg_text(plot_uncertainty([("q", unc)], ["escalation"], model, ICD203, fmt="svg"))
    assert unc.spread_note() in text
    assert "from --strength 20 only" in text
    assert "not a judgment in the model" in text


def test_no_spread_is_said_too(tmp_path):
    path = tmp_path / "exact.yaml"
    path.write_text(EXACT_MODEL)
    model = load_model(path)
    unc = model.query(samples=20, seed=4).uncertainty
    text = _svg_text(plot_uncertainty([("q", unc)], ["escalation"], model, ICD203, fmt="svg"))
    assert "no spread: every number used is exact" in text
    assert "in every draw" in text


def test_bad_format_and_nothing_to_plot_are_refused(scenario_run):
    items, model = _items(scenario_run), scenario_run.model
    with pytest.raises(ValueError, match="png or svg"):
        plot_uncertainty(items, ["war_nature_changes"], model, ICD203, fmt="pdf")
    with pytest.raises(ValueError, match="no draws"):
        plot_uncertainty([], ["war_nature_changes"], model, ICD203)


def test_importing_riskchain_and_the_plot_module_does_not_import_matplotlib():
    code = (
        "import sys, riskchain, riskchain.cli, riskchain.report.plot; "
        "print(sorted(m for m in ('matplotlib', 'PIL', 'pgmpy', 'pandas') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == "[]"


# ----------------------------------------------------------------------------- the command line


def test_query_plot_writes_an_svg(tmp_path, capsys):
    out = tmp_path / "x.svg"
    args = ["query", MODEL, "-t", "rok_security_threat", "--samples", "200", "--seed", "1"]
    assert main([*args, "--plot", str(out)]) == 0
    text = _svg_text(out.read_bytes())
    assert "Threat to South Korean security: severe" in text
    assert "this question" in text
    assert "200 parameter draws, seed 1" in text
    # every state of the graded target, as query lists them: low is not left out
    for state in ("low", "elevated", "severe"):
        assert f"Threat to South Korean security: {state}" in text
    assert "not drawn" not in text
    assert capsys.readouterr().err == f"wrote {out}\n"


def test_table_plot_says_which_states_it_leaves_out(tmp_path, capsys):
    """The risk table's outcomes of a graded target are its adverse states: the picture
    of a table draws those, and says which it does not."""
    out = tmp_path / "x.svg"
    assert main(["table", SCEN, "--samples", "50", "--seed", "2", "--plot", str(out)]) == 0
    text = _svg_text(out.read_bytes())
    assert "Threat to South Korean security: low" not in text
    assert (
        "Threat to South Korean security: drawn for elevated, severe (the outcomes the risk "
        "table reports); not drawn: low." in text
    )
    capsys.readouterr()


def test_table_plot_writes_a_png(tmp_path, capsys):
    out = tmp_path / "out.png"
    assert main(["table", SCEN, "--samples", "100", "--seed", "2", "--plot", str(out)]) == 0
    data = out.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert _png_shape(data)[1] > 1000
    capsys.readouterr()


def test_run_plot_writes_one_band_per_chosen_scenario(tmp_path, capsys):
    out = tmp_path / "run.svg"
    args = ["run", SCEN, "-s", "nato_enters", "-s", "worst_case", "--samples", "50"]
    assert main([*args, "--seed", "3", "--plot", str(out)]) == 0
    text = _svg_text(out.read_bytes())
    assert "nato_enters" in text
    assert "worst_case" in text
    assert "combat_rumours" not in text
    capsys.readouterr()


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("x.pdf", "must end in .png or .svg"),
        ("no_such_folder/x.png", "no such folder"),
    ],
)
def test_bad_plot_path_exits_2_naming_the_flag(tmp_path, capsys, name, words):
    path = tmp_path / name
    code = main(["query", MODEL, "-t", "rok_security_threat", "--plot", str(path)])
    err = capsys.readouterr().err
    assert code == 2
    assert "--plot" in err
    assert words in err
    assert not path.exists()


def test_no_progress_bar_when_stderr_is_not_a_terminal(capsys):
    """Under capsys stderr is not a TTY: no callback is made, and a long run prints
    nothing on stderr."""
    assert _progress() is None
    args = ["query", MODEL, "-t", "rok_security_threat", "--samples", "20000", "--seed", "5"]
    assert main(args) == 0
    assert capsys.readouterr().err == ""


def test_progress_callback_only_for_a_terminal(monkeypatch):
    """The gate itself: a terminal on stderr gets a callback, anything else none."""
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    assert callable(_progress())
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    assert _progress() is None


# ----------------------------------------------------------------------------- the tornado


@pytest.fixture(scope="module")
def tornado_res():
    """P(severe threat) once the satellite photos are seen: its numbers, by swing."""
    model = load_model(ROOT / MODEL)
    return sensitivity(
        model, "rok_security_threat", "severe", given={"nis_satellite_photos": "yes"}
    )


_NAMES = {n: load_model(ROOT / MODEL).label(n) for n in load_model(ROOT / MODEL).nodes}


@pytest.fixture(scope="module")
def names():
    """The model's node labels, as the CLI hands them to the tornado."""
    return _NAMES


def _label_order(data: bytes) -> list[str]:
    """The node ids of the bars, top to bottom: the small line under each bar's label
    begins with the node's id."""
    root = ET.fromstring(data)
    found = []
    for e in root.iter():
        style_ = e.get("style", "")
        text = "".join(e.itertext())
        match = re.match(r"([A-Za-z_][\w.\-]*) · ", text)
        if e.tag.endswith("text") and "text-anchor: end" in style_ and match:
            found.append((float(e.get("y")), match.group(1)))
    return [node for _, node in sorted(found)]


def _line_boxes(fig) -> list[tuple[str, tuple[float, float, float, float]]]:
    """Every line of every visible text of a drawn figure, with its ink's box in pixels.

    matplotlib's ``Text._get_layout`` gives each line's baseline (the only way to see
    the lines inside one multi-line text, where the old labels ran into each other);
    the renderer measures the glyphs of each line itself, so an underscore that hangs
    below the line's nominal descent counts.
    """
    renderer = fig.canvas.get_renderer()
    out = []
    for text in fig.findobj(lambda a: hasattr(a, "_get_layout")):
        if not text.get_text().strip() or not text.get_visible() or text.get_rotation():
            continue
        _, lines, _ = text._get_layout(renderer)
        ox, oy = text.get_transform().transform(text.get_unitless_position())
        prop = text.get_fontproperties()
        for line, (_, _, descent), (x, y) in lines:
            if not line.strip():
                continue
            w, h, d = renderer.get_text_width_height_descent(line, prop, ismath=False)
            base = oy + y + descent
            out.append((line, (ox + x, base - d, ox + x + w, base + h - d)))
    return out


def test_tornado_text_never_overlaps(tornado_res, names):
    """No line of text touches another (a point of white at least between their ink):
    the labels (the node's label, the id and the number under it, however they wrap),
    the end notes, the title, ruler and caption."""
    from riskchain.report.plot import _tornado_figure

    with style.context():
        fig, texts = _tornado_figure(tornado_res, tornado_res.analyst[:10], names)
        style.freeze_layout(fig, texts)
        fig.canvas.draw()
        boxes = _line_boxes(fig)
    assert len(boxes) > 40
    gap = fig.dpi / 72  # at least a point of white between two lines' ink: not touching
    for k, (a, (ax0, ay0, ax1, ay1)) in enumerate(boxes):
        for b, (bx0, by0, bx1, by1) in boxes[k + 1 :]:
            apart = ax1 + gap <= bx0 or bx1 + gap <= ax0 or ay1 + gap <= by0 or by1 + gap <= ay0
            assert apart, (a, b)


def test_tornado_png_decodes_and_grows_with_top(tornado_res):
    data = plot_tornado(tornado_res, 10, fmt="png")
    assert data.startswith(PNG_SIGNATURE)
    height, width, _ = _png_shape(data)
    assert 2000 < width < 2400  # 11 inches at 200 dpi
    assert 1400 < height < 2400
    small = _png_shape(plot_tornado(tornado_res, 3))
    assert small[0] < height - 500
    assert len(data) < 300_000


def test_tornado_svg_names_the_target_findings_and_every_bar(tornado_res, names):
    text = _svg_text(plot_tornado(tornado_res, 5, fmt="svg", labels=names))
    assert "What the probability of “Threat to South Korean security: severe” rests on" in text
    assert "P(rok_security_threat = severe) now 19.1%: very unlikely [5–20%]" in text
    assert "observed (given): nis_satellite_photos=yes" in text
    assert "forced (do): none" in text
    for par in tornado_res.analyst[:5]:
        assert names[par.node] in text  # the label, and the id beside the number
        assert f"{par.node} · " in text
        assert par.name in text
    # numbers as written, with their plausible range; a leak found on a grid is marked
    assert "row 'russia_tech_transfer=yes' · 0.35 (0.2–0.45)" in text
    assert "≈ leak · 0.05 (0–0.2)" in text
    # a graded node's numbers name their state (0.417 is P(elevated), not P(severe))
    assert "cause us_deterrent_neutralized=yes · elevated: 0.417 (0.2–0.45)" in text
    assert "evaluated on a grid of 101 values" in text
    # the ends: the number's value there, and the word P(target) takes when it changes
    assert "0.2 → unlikely" in text
    assert "edges of 'very unlikely'" in text
    assert "proportional co-variation" in text
    assert "top 5 of the model's 43 numbers" in text
    assert "9 node(s) that cannot change P(target)" in text


def test_tornado_bars_sorted_by_swing_largest_on_top(tornado_res):
    top = tornado_res.analyst[:8]
    swings = [par.swing for par in top]
    assert swings == sorted(swings, reverse=True)
    order = _label_order(plot_tornado(tornado_res, 8, fmt="svg", labels=_NAMES))
    assert order == [par.node for par in top]


def test_tornado_same_input_gives_the_same_bytes(tornado_res):
    svgs = {plot_tornado(tornado_res, 6, fmt="svg") for _ in range(3)}
    assert len(svgs) == 1
    assert b"<dc:date>" not in svgs.pop()
    assert plot_tornado(tornado_res, 6) == plot_tornado(tornado_res, 6)


def test_tornado_leaves_matplotlib_settings_alone(tornado_res):
    import matplotlib

    before = dict(matplotlib.rcParams)
    plot_tornado(tornado_res, 3, fmt="svg")
    assert dict(matplotlib.rcParams) == before


def test_tornado_with_threshold_forced_and_soft_findings():
    """--threshold is drawn and the ends say which side of it they land on; forced
    nodes and soft evidence are named as such."""
    model = load_model(ROOT / MODEL)
    res = sensitivity(
        model,
        "realtime_surveillance_rok_us",
        "yes",
        do={"allied_pressure": "yes"},
        likelihood={"nis_satellite_photos": {"yes": 0.8, "no": 0.2}},
        threshold=0.3,
    )
    text = _svg_text(plot_tornado(res, 4, fmt="svg"))
    assert "observed (given): none" in text
    assert "forced (do): allied_pressure=yes" in text
    assert "likelihood (soft evidence): nis_satellite_photos=no:0.2,yes:0.8" in text
    assert "--threshold 30%" in text
    assert "→ over 30%" in text or "→ under 30%" in text


def test_tornado_refuses_bad_format_top_and_nothing_to_draw(tornado_res):
    with pytest.raises(ValueError, match="png or svg"):
        plot_tornado(tornado_res, fmt="pdf")
    with pytest.raises(ValueError, match="at least 1"):
        plot_tornado(tornado_res, 0)
    empty = type(tornado_res)(**{**vars(tornado_res), "analyst": []})
    with pytest.raises(ValueError, match="no numbers"):
        plot_tornado(empty)


def test_sensitivity_plot_writes_the_file(tmp_path, capsys):
    out = tmp_path / "t.png"
    args = ["sensitivity", SCEN, "--scenario", "reported", "-t", "rok_security_threat=severe"]
    assert main([*args, "-k", "4", "--plot", str(out)]) == 0
    assert out.read_bytes().startswith(PNG_SIGNATURE)
    captured = capsys.readouterr()
    assert captured.err == f"wrote {out}\n"
    assert "The numbers as written" in captured.out  # the table is printed as well
    svg = tmp_path / "t.svg"
    assert main([*args, "-k", "4", "--plot", str(svg)]) == 0
    assert _label_order(svg.read_bytes())[0] == "us_deterrent_neutralized"
    assert "US nuclear deterrent for South Korea neutralized" in _svg_text(svg.read_bytes())
    capsys.readouterr()


def test_sensitivity_bad_plot_suffix_exits_2_naming_the_flag(tmp_path, capsys):
    path = tmp_path / "t.pdf"
    code = main(["sensitivity", MODEL, "-t", "rok_security_threat=severe", "--plot", str(path)])
    err = capsys.readouterr().err
    assert code == 2
    assert "--plot" in err
    assert "must end in .png or .svg" in err
    assert not path.exists()


# ----------------------------------------------------------------------------- the style


def test_series_colours_are_readable_as_text_on_white():
    """Each scenario's name is written in its colour: WCAG 2's contrast ratio of every
    series colour on white is at least 4.5:1 (the formula checked on known values)."""
    assert style.contrast("#000000") == pytest.approx(21.0)
    assert style.contrast("#ffffff") == pytest.approx(1.0)
    assert style.contrast("#767676") == pytest.approx(4.54, abs=0.01)  # the AA threshold grey
    assert style.contrast("#E69F00") == pytest.approx(2.25, abs=0.01)  # Okabe–Ito orange
    assert style.contrast("#56B4E9") == pytest.approx(2.31, abs=0.01)  # Okabe–Ito sky blue
    for colour in style.SERIES:
        assert style.contrast(colour) >= style.MIN_TEXT_CONTRAST, colour
    assert len(set(style.SERIES)) == len(style.SERIES)


def test_pngs_are_print_quality():
    """200 dpi, and said so in the file (a word processor sizes the picture by it)."""
    from PIL import Image

    model = load_model("tests/data/models/tiny.yaml")
    p = np.random.default_rng(0).uniform(0.3, 0.6, 50)
    unc = _fake({"escalation": np.column_stack([1 - p, p])}, {"escalation": ("no", "yes")})
    data = plot_uncertainty([("s", unc)], ["escalation"], model, ICD203)
    assert style.DPI == 200
    assert Image.open(io.BytesIO(data)).info["dpi"] == pytest.approx((200, 200), abs=0.1)


def test_tornado_end_colours_differ_in_grey_scale():
    """Colour carries meaning on a tornado bar (which end of the range): the two
    colours must stay apart when printed in grey."""
    assert abs(style.grey(style.LOW_END) - style.grey(style.HIGH_END)) > 0.3


def test_percent_axis_ticks():
    assert style.band_ticks(ICD203)[1][:3] == ["0", "5", "20"]
    assert style.nice_ticks(0.17, 0.25) == [0.17, 0.18, 0.19, 0.2, 0.21, 0.22, 0.23, 0.24, 0.25]
    assert style.nice_ticks(0.0, 1.0) == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert style.pct_label(0.025) == "2.5"
