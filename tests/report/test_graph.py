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
from riskchain.report.text import pct

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "korea_russia_2024.yaml"
SCENARIOS = ROOT / "scenarios" / "korea_russia_2024.yaml"
NETWORKS = ROOT / "tests" / "data" / "networks"
SVG = "{http://www.w3.org/2000/svg}"


def view_of(scenario: str | None = None, path: Path = SCENARIOS, **extra) -> g.GraphView:
    """The view the CLI draws for a scenario (with ``given``/``do`` on top)."""
    q = pose(path, scenario, extra.get("given"), extra.get("do"), extra.get("likelihood"))
    s = q.scenario
    return g.graph_view(
        q.model,
        q.given,
        q.do,
        q.likelihood,
        scenario=s.id if s else None,
        description=s.description if s else None,
        own_numbers=s.sets if s else (),
    )


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
    assert image.size[0] == pytest.approx(scene.width * g.PNG_SCALE, abs=2)
    assert image.size[1] == pytest.approx(scene.height * g.PNG_SCALE, abs=2)


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
    assert (ROOT / "docs" / "img" / "graph.png").stat().st_size < 200_000
