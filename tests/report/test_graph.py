"""``riskchain graph``: the layered layout, the SVG/PNG/DOT pictures and the command."""

from __future__ import annotations

import io
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given, settings

from conftest import networks, run_cli
from riskchain.analysis.scenarios import pose
from riskchain.model import load_model
from riskchain.report import graph as g
from riskchain.report import style
from riskchain.report.text import pct

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "korea_russia_2024.yaml"
SCENARIOS = ROOT / "scenarios" / "korea_russia_2024.yaml"
NETWORKS = ROOT / "tests" / "data" / "networks"
SVG = "{http://www.w3.org/2000/svg}"


def view_of(scenario: str | None = None, path: Path = SCENARIOS, **extra) -> g.GraphView:
    """The view the CLI draws for a scenario (with ``given``/``do`` on top)."""
    return g.graph_question(
        path, scenario, extra.get("given"), extra.get("do"), extra.get("likelihood"),
        focus=extra.get("focus"), depth=extra.get("depth", g.DEFAULT_DEPTH),
    )  # fmt: skip


def layout_of(view: g.GraphView) -> g.Layout:
    sizes = {n.id: g._box_size(n) for n in view.nodes}
    return g.layout([n.id for n in view.nodes], view.edges, sizes)


# ----------------------------------------------------------------------------- layout


def check_layout(nodes, edges, lay: g.Layout) -> None:
    """Parents above children, no overlapping boxes, arrows clear of other boxes."""
    boxes = lay.boxes
    assert set(boxes) == set(nodes)
    for p, c in edges:
        assert boxes[p].layer < boxes[c].layer, (p, c)
        assert boxes[p].y + boxes[p].h < boxes[c].y, (p, c)
    items = list(boxes.items())
    for i, (a, ba) in enumerate(items):
        assert ba.x >= 0 and ba.x + ba.w <= lay.width + 0.01
        assert ba.y >= 0 and ba.y + ba.h <= lay.height + 0.01
        for b, bb in items[i + 1 :]:
            apart = (
                ba.x + ba.w <= bb.x
                or bb.x + bb.w <= ba.x
                or ba.y + ba.h <= bb.y
                or bb.y + bb.h <= ba.y
            )
            assert apart, (a, b)
    # every arrow, sampled along the curve drawn, stays out of the boxes it does not join
    assert sorted((r.source, r.target) for r in lay.routes) == sorted(edges)
    for r in lay.routes:
        for x, y in sample_curve(g._curve(r.points)):
            for n, b in boxes.items():
                if n in (r.source, r.target):
                    continue
                inside = b.x + 0.5 < x < b.x + b.w - 0.5 and b.y + 0.5 < y < b.y + b.h - 0.5
                assert not inside, (r.source, r.target, n, x, y)


def sample_curve(ops) -> list[tuple[float, float]]:
    pts, here = [], ops[0][1:3]
    for op in ops[1:]:
        if op[0] == "L":
            (x0, y0), (x1, y1) = here, op[1:3]
            pts += [(x0 + (x1 - x0) * t / 20, y0 + (y1 - y0) * t / 20) for t in range(21)]
        else:
            p0, p1, p2, p3 = here, op[1:3], op[3:5], op[5:7]
            for k in range(41):
                t = k / 40
                w = ((1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t**2, t**3)
                pts.append(
                    (
                        sum(wi * p[0] for wi, p in zip(w, (p0, p1, p2, p3))),
                        sum(wi * p[1] for wi, p in zip(w, (p0, p1, p2, p3))),
                    )
                )
        here = op[-2:]
    return pts


def test_editorial_layout_is_layered_without_overlaps():
    view = view_of("tech_for_troops")
    lay = layout_of(view)
    check_layout([n.id for n in view.nodes], view.edges, lay)
    # causes at the top, the security threat alone at the bottom
    assert "treaty_mutual_assistance" in lay.layers[0]
    assert lay.layers[-1] == ("rok_security_threat",)


@settings(max_examples=60, deadline=None)
@given(networks(min_nodes=1, max_nodes=14, max_parents=4))
def test_layout_of_random_networks(net):
    model, _ = net
    nodes = list(model.names)
    edges = [(model.names[p], model.names[c]) for c in range(len(model)) for p in model.parents[c]]
    sizes = {n: (150.0 + 7 * (i % 5), 60.0 + 14 * (i % 3)) for i, n in enumerate(nodes)}
    lay = g.layout(nodes, edges, sizes)
    check_layout(nodes, edges, lay)
    assert g.layout(nodes, edges, sizes) == lay  # deterministic


def test_layers_lift_a_cause_to_just_above_its_effect():
    edges = [("a", "b"), ("b", "c"), ("c", "d"), ("z", "d")]
    layer = g.layers_of(["a", "b", "c", "d", "z"], edges)
    assert layer == {"a": 0, "b": 1, "c": 2, "d": 3, "z": 2}


def test_text_widths_match_the_font_the_png_uses():
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    measure = TextToPath()
    for text in ("North Korea sends combat troops to Russia", "nk_troop_dispatch 99.957%"):
        for bold in (False, True):
            prop = FontProperties(
                family="DejaVu Sans", weight="bold" if bold else "normal", size=100
            )
            width = measure.get_text_width_height_descent(text, prop, ismath=False)[0]
            assert g.text_width(text, 100, bold) == pytest.approx(width, rel=0.02)


def test_wrap_keeps_every_word_within_the_width():
    label = "North Korea can watch South Korean and US forces in real time"
    lines = g.wrap(label, g.LABEL_W, g.LABEL_PX, bold=True)
    assert " ".join(lines) == label
    assert all(g.text_width(x, g.LABEL_PX, True) <= g.LABEL_W for x in lines)
    assert g.wrap("Supercalifragilisticexpialidocious-and-more", 20, 10) == [
        "Supercalifragilisticexpialidocious-and-more"
    ]


# ----------------------------------------------------------------------------- SVG


def svg_nodes(svg: str) -> dict[str, ET.Element]:
    root = ET.fromstring(svg)
    return {e.get("data-node"): e for e in root.iter(f"{SVG}g") if e.get("class") == "node"}


def svg_edges(svg: str) -> dict[tuple[str, str], ET.Element]:
    root = ET.fromstring(svg)
    return {
        (e.get("data-from"), e.get("data-to")): e
        for e in root.iter(f"{SVG}g")
        if (e.get("class") or "").startswith("edge")
    }


def texts(element: ET.Element) -> list[str]:
    return [t.text or "" for t in element.iter(f"{SVG}text")]


@pytest.mark.parametrize(
    ("scenario", "extra"),
    [
        ("tech_for_troops", {}),
        ("nato_enters", {"given": {"nk_troops_in_combat": "yes"}}),
        ("combat_rumours", {"do": {"russia_tech_transfer": "yes"}}),
        (None, {}),
    ],
)
def test_svg_shows_fresh_posteriors_and_exactly_the_findings(scenario, extra):
    path = SCENARIOS if scenario else MODEL
    view = view_of(scenario, path, **extra)
    svg = g.render_svg(view)
    nodes, edges = svg_nodes(svg), svg_edges(svg)

    q = pose(path, scenario, extra.get("given"), extra.get("do"))
    fresh = q.model.query(given=q.given, do=q.do, likelihood=q.likelihood, targets=q.model.nodes)
    assert set(nodes) == set(q.model.nodes)
    for name, element in nodes.items():
        shown = texts(element)
        assert q.model.label(name) in " ".join(shown)
        wanted = [pct(fresh.posteriors[name][s]) for s in q.model.states(name)]
        percents = [t for t in shown if t.endswith("%") and not t.endswith("]")]
        assert percents == wanted, name

    def marked(how: str) -> set[str]:
        return {n for n, e in nodes.items() if e.get("data-finding") == how}

    assert marked("observed") == set(q.given)
    assert marked("forced") == set(q.do)
    assert marked("likelihood") == set(q.likelihood)
    for name, element in nodes.items():
        shown = texts(element)
        assert ("observed" in shown) == (name in q.given)
        assert ("forced (do)" in shown) == (name in q.do)
        if name in q.given or name in q.do:
            assert element.get("data-state") == (q.given.get(name) or q.do.get(name))
    own = set(q.scenario.sets) if q.scenario else set()
    assert {n for n, e in nodes.items() if e.get("data-own-numbers") == "yes"} == own

    parents = {n: q.model.spec.nodes[n].parents for n in q.model.nodes}
    all_edges = {(p, c) for c in parents for p in parents[c]}
    assert set(edges) == all_edges
    cut = {k for k, e in edges.items() if e.get("class") == "edge cut"}
    assert cut == {(p, c) for p, c in all_edges if c in q.do}


def test_header_says_what_was_asked():
    head = " ".join(texts(ET.fromstring(g.render_svg(view_of(None, MODEL)))))
    assert "Nothing observed, nothing forced" in head
    assert "observed (given): none" in head and "forced (do): none" in head
    assert "horizon: 24 months from October 2024" in head
    head = " ".join(texts(ET.fromstring(g.render_svg(view_of("nato_enters")))))
    assert "Scenario nato_enters: A NATO member goes to war" in head
    assert "forced (do): nato_member_enters_war=yes" in head
    assert "arrow cut by an intervention" in head  # the legend explains the cut mark


def test_words_follow_the_scale():
    q = pose(MODEL)
    icd = g.graph_view(q.model)
    kent = g.graph_view(q.model, scale=__import__("riskchain.scales").scales.KENT)
    assert icd.node("nk_troop_dispatch").word.startswith("yes: ")
    assert icd.node("nk_troop_dispatch").word != kent.node("nk_troop_dispatch").word
    assert icd.node("rok_security_threat").word == ""  # three states: no single word
    seen = g.graph_view(q.model, given={"nk_troop_dispatch": "yes"})
    assert seen.node("nk_troop_dispatch").word == ""  # an observed node is a fact


def test_pictures_are_deterministic():
    a, b = view_of("nato_enters"), view_of("nato_enters")
    assert g.render_svg(a) == g.render_svg(b)
    assert g.render_dot(a) == g.render_dot(b)
    assert g.render_png(a) == g.render_png(b)


# ----------------------------------------------------------------------------- PNG and DOT


def test_png_decodes():
    from PIL import Image

    view = view_of("nato_enters")
    image = Image.open(io.BytesIO(g.render_png(view)))
    scene = g._scene(view)
    assert image.format == "PNG"
    # 100 scene units an inch, drawn at print quality: 200 pixels an inch
    assert g.PNG_SCALE * style.DPI == 200
    assert image.size[0] == pytest.approx(scene.width * 2, abs=2)
    assert image.size[1] == pytest.approx(scene.height * 2, abs=2)


def test_dot_has_every_node_edge_and_mark():
    view = view_of("nato_enters")
    dot = g.render_dot(view)
    assert dot.startswith("// riskchain graph") and dot.rstrip().endswith("}")
    for node in view.nodes:
        assert f'"{node.id}" [label=<<TABLE' in dot
        for p in node.probs:
            assert pct(p) in dot
    for p, c in view.edges:
        assert f'"{p}" -> "{c}"' in dot
    assert '"nk_troops_in_combat" -> "nato_member_enters_war" [style=dashed' in dot
    assert dot.count('label="cut (do)"') == len(view.cut) == 1
    assert dot.count("observed = yes") == len(view.given) == 6
    assert "forced (do) = yes" in dot


def test_unknown_format_is_refused():
    with pytest.raises(ValueError, match="svg, png or dot"):
        g.render(view_of(None, MODEL), "pdf")


def test_importing_the_graph_module_does_not_import_matplotlib():
    code = "import sys, riskchain.report.graph; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ----------------------------------------------------------------------------- the command


@pytest.mark.parametrize("suffix", ["svg", "png", "dot"])
def test_cli_writes_the_picture(capsys, tmp_path, suffix):
    out = tmp_path / f"graph.{suffix}"
    code, _, err = run_cli(
        capsys, "graph", str(SCENARIOS), "-s", "tech_for_troops", "--do",
        "nato_member_enters_war=yes", "-o", str(out),
    )  # fmt: skip
    assert code == 0, err
    assert err == f"wrote {out}\n"
    data = out.read_bytes()
    view = view_of("tech_for_troops", do={"nato_member_enters_war": "yes"})
    assert data == (g.render_png(view) if suffix == "png" else g.render(view, suffix).encode())
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no temporary file left


def test_cli_refuses_a_bad_suffix_or_folder(capsys, tmp_path):
    code, _, err = run_cli(capsys, "graph", str(MODEL), "-o", str(tmp_path / "g.pdf"))
    assert code == 2 and "-o" in err and ".svg, .png or .dot" in err
    code, _, err = run_cli(capsys, "graph", str(MODEL), "-o", str(tmp_path / "no" / "g.svg"))
    assert code == 2 and "no such folder" in err
    code, _, err = run_cli(capsys, "graph", str(MODEL), "--given", "nope=yes", "-o", "x.svg")
    assert code == 2 and err.startswith("error: --given:")
    code, _, err = run_cli(capsys, "graph", str(SCENARIOS), "-o", str(tmp_path / "g.svg"))
    assert code == 2 and "--scenario" in err
    assert list(tmp_path.iterdir()) == []


def test_cli_draws_an_imported_network(capsys, tmp_path):
    model = tmp_path / "alarm.yaml"
    code, _, err = run_cli(capsys, "import", str(NETWORKS / "alarm.bif.gz"), "-o", str(model))
    assert code == 0, err
    out = tmp_path / "alarm.svg"
    code, _, err = run_cli(
        capsys, "graph", str(model), "--given", "HR=HIGH", "--do", "CO=LOW", "-o", str(out)
    )
    assert code == 0, err
    svg = out.read_text()
    nodes, edges = svg_nodes(svg), svg_edges(svg)
    m = load_model(model)
    assert set(nodes) == set(m.nodes) and len(nodes) == 37
    assert nodes["HR"].get("data-finding") == "observed"
    assert nodes["CO"].get("data-finding") == "forced"
    assert {k for k, e in edges.items() if e.get("class") == "edge cut"} == {
        (p, "CO") for p in m.spec.nodes["CO"].parents
    }
    view = g.graph_view(m, {"HR": "HIGH"}, {"CO": "LOW"})
    check_layout(m.nodes, view.edges, layout_of(view))


def test_docs_picture_is_current():
    """docs/img/graph.svg is what docs/graph.md's command draws (the SVG is pure Python,
    so it is the same on every machine; the PNG beside it depends on matplotlib's version)."""
    doc = (ROOT / "docs" / "graph.md").read_text()
    command = "riskchain graph scenarios/korea_russia_2024.yaml --scenario tech_for_troops"
    assert f"{command} -o docs/img/graph.svg" in doc
    assert (ROOT / "docs" / "img" / "graph.svg").read_text() == g.render_svg(
        view_of("tech_for_troops")
    )
    assert (ROOT / "docs" / "img" / "graph.png").stat().st_size < 400_000  # 200 dpi


# ----------------------------------------------------------------------------- targets, baseline, focus


def test_two_state_nodes_take_the_word_on_the_positive_state():
    """present/absent, TRUE/FALSE, positive/negative and 1/0 report their positive state
    (any case, either order), as yes/no does; other pairs their second state."""
    from riskchain.report.query import reported_state

    assert reported_state(("absent", "present")) == "present"
    assert reported_state(("present", "absent")) == "present"
    assert reported_state(("TRUE", "FALSE")) == "TRUE"
    assert reported_state(("False", "True")) == "True"
    assert reported_state(("negative", "positive")) == "positive"
    assert reported_state(("1", "0")) == "1"
    assert reported_state(("No", "Yes")) == "Yes"
    assert reported_state(("Correct", "Incorrect")) == "Incorrect"  # no pair: the second
    assert reported_state(("low", "mid", "high")) is None


@pytest.mark.networks("hepar2", "alarm")
def test_graph_and_risk_table_word_present_and_true(tmp_path, capsys):
    """hepar2's present/absent and alarm's TRUE/FALSE nodes carry the word on the positive
    state in the picture, and a risk table reports that state."""
    for net, node, positive in (("hepar2", "Cirrhosis", None), ("hepar2", "fibrosis", "present"),
                                ("alarm", "HYPOVOLEMIA", "TRUE")):  # fmt: skip
        model_path = tmp_path / f"{net}.yaml"
        if not model_path.exists():
            code, _, err = run_cli(capsys, "import", str(NETWORKS / f"{net}.bif.gz"), "-o", str(model_path))
            assert code == 0, err
        model = load_model(model_path)
        view = g.graph_view(model, focus=node, depth=0)
        word = view.node(node).word
        if positive is None:
            assert word == ""  # three states
            continue
        assert word.startswith(f"{positive}: "), word
        assert model.spec.nodes[node].outcome_states() == (positive,)


def test_declared_targets_are_marked():
    svg = g.render_svg(view_of(None, MODEL))
    nodes = svg_nodes(svg)
    targets = set(load_model(MODEL).spec.targets)
    assert targets and {n for n, e in nodes.items() if e.get("data-target") == "yes"} == targets
    for name, element in nodes.items():
        assert ("target" in texts(element)) == (name in targets)
    assert "a target: an outcome the model or scenario file asks about" in svg


def test_a_scenario_shows_its_change_against_the_baseline():
    """Each state's change from the baseline scenario: the numbers equal the difference of
    two independent queries (the scenario's, and the baseline's through run_scenarios)."""
    from riskchain.analysis.scenarios import run_scenarios

    view = view_of("tech_for_troops")
    assert view.baseline == "reported"
    run = run_scenarios(SCENARIOS, ["reported"], include_baseline=True)
    base = next(r for r in run.results if r.id == "reported")
    q = pose(SCENARIOS, "reported")
    everything = q.model.query(given=q.given, do=q.do, likelihood=q.likelihood, targets=q.model.nodes)
    for node in view.nodes:
        before = everything.posteriors[node.id]
        assert node.baseline == pytest.approx([before[s] for s in node.states], abs=1e-12)
        if node.id in base.posteriors:
            assert node.baseline == pytest.approx(
                [base.posteriors[node.id][s] for s in node.states], abs=1e-12
            )
    threat = view.node("rok_security_threat")
    diffs = [p - b for p, b in zip(threat.probs, threat.baseline)]
    assert threat.changes() == tuple(f"{d * 100:+.1f} pp" for d in diffs)
    svg = g.render_svg(view)
    shown = texts(svg_nodes(svg)["rok_security_threat"])
    assert all(c in shown for c in threat.changes())
    assert "Changes against the baseline scenario 'reported'" in " ".join(texts(ET.fromstring(svg)))
    # the baseline itself, and a model file, have nothing to compare with
    assert view_of("reported").baseline is None
    assert all(n.baseline is None for n in view_of("reported").nodes)
    assert view_of(None, MODEL).baseline is None


@pytest.mark.networks("hepar2")
def test_focus_draws_a_neighbourhood_and_says_what_it_left_out(tmp_path, capsys):
    model_path = tmp_path / "hepar2.yaml"
    code, _, err = run_cli(capsys, "import", str(NETWORKS / "hepar2.bif.gz"), "-o", str(model_path))
    assert code == 0, err
    model = load_model(model_path)
    spec = model.spec.nodes
    children = {n: [c for c in model.nodes if n in spec[c].parents] for n in model.nodes}

    def ring(start, step, k):  # every node within k steps along one direction
        out, frontier = set(), {start}
        for _ in range(k):
            frontier = {m for n in frontier for m in step(n)}
            out |= frontier
        return out

    everything = model.query(targets=model.nodes).posteriors
    for depth in (1, 2):
        view = g.graph_view(model, focus="Cirrhosis", depth=depth)
        want = {"Cirrhosis"} | ring("Cirrhosis", lambda n: spec[n].parents, depth)
        want |= ring("Cirrhosis", lambda n: children[n], depth)
        assert {n.id for n in view.nodes} == want
        assert set(view.left_out) == set(model.nodes) - want and view.total == 70
        assert set(view.edges) == {(p, c) for c in want for p in spec[c].parents if p in want}
        for node in view.nodes:  # the whole network's probabilities, not the piece's
            assert node.probs == pytest.approx([everything[node.id][s] for s in node.states])
            hidden = (
                sum(p not in want for p in spec[node.id].parents),
                sum(c not in want for c in children[node.id]),
            )
            assert node.hidden == hidden
        head = " ".join(texts(ET.fromstring(g.render_svg(view))))
        steps = "1 step" if depth == 1 else "2 steps"
        assert f"Focus on Cirrhosis: its causes and effects up to {steps} ({len(want)} of 70 nodes" in head
        assert "Left out: " in head
        assert [n.id for n in view.nodes if n.focus] == ["Cirrhosis"]
        assert "focus" in texts(svg_nodes(g.render_svg(view))["Cirrhosis"])
        check_layout([n.id for n in view.nodes], view.edges, layout_of(view))
    # the CLI draws the same, deterministically; a wrong node or depth is one message
    out = tmp_path / "f.svg"
    code, _, err = run_cli(capsys, "graph", str(model_path), "--focus", "Cirrhosis", "-o", str(out))
    assert code == 0, err
    assert out.read_text() == g.render_svg(g.graph_view(model, focus="Cirrhosis"))
    code, _, err = run_cli(capsys, "graph", str(model_path), "--focus", "Cirhosis", "-o", str(out))
    assert code == 2 and err.startswith("error: --focus: no node 'Cirhosis'") and "Cirrhosis" in err
    code, _, err = run_cli(capsys, "graph", str(model_path), "--depth", "2", "-o", str(out))
    assert code == 2 and "--depth" in err and "--focus" in err
    code, _, err = run_cli(capsys, "graph", str(model_path), "--focus", "Cirrhosis", "--depth", "-1", "-o", str(out))
    assert code == 2 and "--depth" in err


def test_tags_with_white_text_are_readable():
    for fill in (style.INK, style.EDGE_INK):  # observed, forced (do)
        assert style.contrast("#ffffff", fill) >= style.MIN_TEXT_CONTRAST
    assert style.contrast(g.BAR) >= style.MIN_TEXT_CONTRAST  # the target tag's blue on white
