"""Export to and import from BIF, XMLBIF, Hugin NET, UAI and GeNIe XDSL.

Every format is round-tripped (export, then import of the file written) on
the bundled model and on shared networks with odd state names (``<5``,
``>=7.5``, ``Asy/Patch``, ``TRUE``): the tables read back equal the model's
within what the format keeps (NET: 8 decimals, XDSL: 16 decimals, the others
exactly), and so do names where the format has them. UAI keeps no names, so
its round trip compares nodes by position. The shared networks come from
``conftest.network`` (read once per session).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from conftest import compiled, run_cli
from riskchain import load_model
from riskchain.compile import CompiledModel
from riskchain.io.bif import ImportFailure
from riskchain.io.formats import (
    FORMATS,
    NET_DECIMALS,
    export_model,
    format_of,
    identifier,
    import_file,
    import_network,
)

ROOT = Path(__file__).resolve().parents[2]
KOREA = ROOT / "models" / "korea_russia_2024.yaml"
SHARED = ("asia", "child", "insurance", "alarm", "hailfinder")
NAMES = [f.name for f in FORMATS]


def _write(tmp_path: Path, stem: str, fmt: str, data: str | bytes) -> Path:
    path = tmp_path / f"{stem}{next(f for f in FORMATS if f.name == fmt).suffixes[0]}"
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


def _tolerance(fmt: str, card: int) -> float:
    """How far a table entry may move: the format's rounding, then renormalization."""
    if fmt == "net":
        return 0.5 * 10.0**-NET_DECIMALS * (card + 1) + 1e-15
    return 1e-15  # exact (repr) or 16 decimals: the last bits, and renormalization


def assert_round_trip(original: CompiledModel, back: CompiledModel, fmt: str) -> None:
    """``back`` is ``original`` read back from a file of format ``fmt``."""
    assert len(back) == len(original)
    for i, name in enumerate(original.names):
        if fmt == "uai":  # no names: the nodes keep their positions
            j = i
            assert back.names[j] == f"v{i}"
            assert back.states[j] == tuple(f"s{k}" for k in range(original.cards[i]))
            assert [back.names[p] for p in back.parents[j]] == [
                f"v{p}" for p in original.parents[i]
            ]
        else:
            j = back.index[name]
            assert back.states[j] == original.states[i], name
            assert [back.names[p] for p in back.parents[j]] == [
                original.names[p] for p in original.parents[i]
            ], name
        np.testing.assert_allclose(
            back.cpts[j],
            original.cpts[i],
            rtol=0,
            atol=_tolerance(fmt, original.cards[i]),
            err_msg=f"{fmt}: {name}",
        )


# ----------------------------------------------------------------------------- round trips


@pytest.fixture(scope="module")
def korea():
    return load_model(KOREA)


@pytest.mark.parametrize("fmt", NAMES)
def test_bundled_model_notes(korea, fmt):
    """The editorial's model: the notes name its parametric tables, and what else changed.

    Its round trip is ``test_cli_export_then_import`` (pgmpy's BIF reader costs
    seconds per file, so each file is read back once).
    """
    _, notes = export_model(korea, fmt)
    assert notes[0].startswith("parametric tables written as full CPTs: ")
    for node in ("realtime_surveillance_rok_us", "us_deterrent_neutralized"):
        assert f"{node} (noisy-OR)" in notes[0]
    assert "rok_security_threat (noisy-MAX)" in notes[0]
    if fmt in ("bif", "bif.gz", "xmlbif"):
        assert any("labels not kept" in n for n in notes)
    if fmt == "uai":
        assert any("UAI keeps no names" in n for n in notes)
    if fmt in ("net", "xdsl"):  # the editorial's ids are identifiers already
        assert not any("identifiers" in n for n in notes)


@pytest.mark.parametrize("fmt", [f for f in NAMES if f != "bif.gz"])  # bif.gz: BIF, gzipped
@pytest.mark.parametrize("net", SHARED)
def test_shared_network_round_trip(tmp_path, net, fmt):
    """Shared networks (with odd state names in child, alarm, hailfinder): round trip per format."""
    model = compiled(net)
    data, notes = export_model(model, fmt)
    assert not any("parametric" in n for n in notes)  # every table is a full CPT already
    result = import_file(_write(tmp_path, net, fmt, data))
    assert_round_trip(model, result.model, fmt)
    assert result.model.id == net


def test_gzip_bif_is_the_bif_text(korea):
    """``.bif.gz`` is the BIF text gzip-compressed, reproducibly (no time stamp)."""
    import gzip

    gz, _ = export_model(korea, "x.bif.gz")
    text, _ = export_model(korea, "x.bif")
    assert isinstance(gz, bytes) and gzip.decompress(gz).decode() == text
    assert export_model(korea, "bif.gz")[0] == gz


@pytest.mark.networks("child", "insurance")
def test_numbers_rounded_say_so():
    """The NET note gives the rounding; exact formats say nothing about numbers."""
    _, notes = export_model(compiled("insurance"), "net")
    assert any(n.startswith(f"numbers rounded to {NET_DECIMALS} decimals") for n in notes)
    for fmt in ("bif", "xmlbif", "uai"):
        assert not any(
            "rounded" in n or "decimals" in n for n in export_model(compiled("child"), fmt)[1]
        )


# ----------------------------------------------------------------------------- names


def odd_model() -> CompiledModel:
    """Ids a format may forbid (``.``, ``-``, ``_`` first, clashing ignoring case) and odd states."""
    rng = np.random.default_rng(7)
    names = ["a.b-c", "_9.lives", "A_B_C", "x"]
    states = [
        ["<5", ">=7.5", "12+"],
        ["0", "1"],
        ["Asy/Patch", "with space", 'quo"te', "a(b)"],
        ["TRUE", "FALSE"],
    ]
    parents = {"_9.lives": ["a.b-c"], "A_B_C": ["a.b-c", "_9.lives"], "x": ["A_B_C"]}
    shapes = {"a.b-c": (3,), "_9.lives": (3, 2), "A_B_C": (3, 2, 4), "x": (4, 2)}
    tables = {
        n: rng.dirichlet(np.ones(s[-1]), size=s[:-1] or None).reshape(s) for n, s in shapes.items()
    }
    return CompiledModel.from_tables("odd-model", names, states, parents, tables)


@pytest.mark.parametrize("fmt", ["xmlbif", "net", "xdsl"])
def test_odd_names_come_back(tmp_path, fmt):
    """XMLBIF holds any name; NET and XDSL write identifiers and restore the originals."""
    model = odd_model()
    data, notes = export_model(model, fmt)
    result = import_file(_write(tmp_path, "odd", fmt, data))
    assert_round_trip(model, result.model, fmt)
    if fmt == "net":
        assert (
            "node ids made Hugin identifiers: a.b-c -> a_b_c_2, _9.lives -> n_9_lives" in notes[0]
        )
        assert re.search(r'^node a_b_c_2\{$.*?riskchain_id = "a\.b-c";', data, re.M | re.S)
        assert 'states = ("Asy/Patch"  "with space"  "quo\\"te"  "a(b)");' in data
        assert result.notes == ["node ids restored from riskchain_id attributes (2 nodes)"]
    if fmt == "xdsl":
        root = ET.fromstring(data)
        ids = [el.get("id") for el in root.find("nodes")]
        assert ids == ["a_b_c_2", "n_9_lives", "A_B_C", "x"]
        states = [s.get("id") for s in root.find("nodes")[0].findall("state")]
        assert states == ["lt5", "ge7_5", "s12plus"]
        assert "original names kept in each renamed node's GeNIe comment" in notes
        comment = root.find("extensions/genie/node[@id='a_b_c_2']/comment").text
        assert json.loads(comment.split("riskchain names: ")[1]) == {
            "id": "a.b-c",
            "states": ["<5", ">=7.5", "12+"],
        }


def test_bif_changes_names_it_cannot_hold():
    """BIF delimits names with parentheses and quotes: those names change, and the notes say so."""
    data, notes = export_model(odd_model(), "bif")
    assert 'A_B_C=quo"te -> quo_te, A_B_C=a(b) -> a_b_' in notes[0]
    assert "type discrete [ 4 ] { Asy/Patch, with space, quo_te, a_b_ };" in data
    assert "type discrete [ 3 ] { <5, >=7.5, 12+ };" in data


def test_identifiers():
    taken: set[str] = set()
    assert [identifier(s, taken, "s", words=True) for s in ("<=1", "-2", "0", "a b", "A B")] == [
        "le1",
        "minus2",
        "s0",
        "a_b",
        "A_B_2",
    ]
    assert identifier("9x", set()) == "n_9x" and identifier("_x", set()) == "n_x"


# ----------------------------------------------------------------------------- what each tool reads


def test_xdsl_is_what_genie_reads(korea):
    """A <smile> root, one <cpt> per node with parents written before it, GeNIe's drawing."""
    data, _ = export_model(korea, "xdsl")
    assert data.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<smile ')
    root = ET.fromstring(data)
    assert root.tag == "smile" and root.get("id") == "korea_russia_2024"
    cpts = root.find("nodes").findall("cpt")
    assert len(cpts) == len(korea.compiled) == len(root.find("nodes"))
    seen: set[str] = set()
    for el in cpts:
        parents = (el.findtext("parents") or "").split()
        assert set(parents) <= seen, el.get("id")
        seen.add(el.get("id"))
        m = korea.compiled
        i = m.index[el.get("id")]
        probs = [float(x) for x in el.findtext("probabilities").split()]
        np.testing.assert_allclose(probs, m.cpts[i].ravel(), atol=1e-15)  # own state fastest
    genie = root.find("extensions/genie")
    assert genie.get("app").startswith("riskchain ")
    drawn = {el.get("id"): el for el in genie.findall("node")}
    assert (
        drawn["nk_troop_dispatch"].findtext("name") == "North Korea sends combat troops to Russia"
    )
    positions = {tuple(el.findtext("position").split()) for el in drawn.values()}
    assert len(positions) == len(drawn)  # laid out, not stacked
    assert export_model(korea, "xdsl")[0] == data  # deterministic


@pytest.mark.networks("child")
@pytest.mark.parametrize("which", ["korea", "child"])
def test_xdsl_drawing_is_the_graph_layout_with_charts_sized_by_states(korea, which):
    """GeNIe opens a readable network: each node a bar chart with a row per state
    (GeNIe's 64 px for two states, 18 px more per state), none overlapping another,
    causes above effects, in the left-to-right order ``riskchain graph`` draws."""
    from riskchain.report import graph as g

    model = korea.compiled if which == "korea" else compiled("child")
    data, _ = export_model(korea if which == "korea" else model, "xdsl")
    root = ET.fromstring(data)
    boxes = {}
    for el in root.find("extensions/genie").findall("node"):
        x0, y0, x1, y1 = (int(v) for v in el.findtext("position").split())
        chart = el.find("barchart")
        assert (int(chart.get("width")), int(chart.get("height"))) == (x1 - x0, y1 - y0)
        comment = el.findtext("comment") or ""
        found = re.search(r"riskchain names: (\{.*\})", comment)
        name = json.loads(found.group(1)).get("id", el.get("id")) if found else el.get("id")
        boxes[name] = (x0, y0, x1, y1)
    assert sorted(boxes) == sorted(model.names)
    for i, name in enumerate(model.names):
        x0, y0, x1, y1 = boxes[name]
        assert y1 - y0 == 28 + 18 * model.cards[i], name
        assert 128 <= x1 - x0 <= 240
        for p in model.parents[i]:
            assert boxes[model.names[p]][3] < y0, (model.names[p], name)  # cause above
    items = list(boxes.items())
    for k, (a, (ax0, ay0, ax1, ay1)) in enumerate(items):
        for b, (bx0, by0, bx1, by1) in items[k + 1 :]:
            assert ax1 <= bx0 or bx1 <= ax0 or ay1 <= by0 or by1 <= ay0, (a, b)
    # the rows, left to right, are graph's layers
    edges = [(model.names[p], model.names[c]) for c, ps in enumerate(model.parents) for p in ps]
    layers = g.layout(model.names, edges, {n: (150.0, 60.0) for n in model.names}).layers
    by_top: dict[int, list[str]] = {}
    for name, (_, y0, _, _) in sorted(boxes.items(), key=lambda kv: kv[1][0]):
        by_top.setdefault(y0, []).append(name)
    assert sorted(by_top.values()) == sorted(list(layer) for layer in layers)


def test_net_is_what_hugin_reads(korea):
    data, _ = export_model(korea, "net")
    assert data.startswith("net {\n}\n")
    assert re.search(
        r'^node nk_troop_dispatch\{\n    states = \("no"  "yes"\);\n'
        r'    label = "North Korea sends combat troops to Russia";\n    position = \(\d+ \d+\);\n\}',
        data,
        re.M,
    )
    assert (
        "potential (nk_troop_dispatch | treaty_mutual_assistance russia_manpower_shortage){" in data
    )


@pytest.mark.networks("child")
def test_xmlbif_parses_and_keeps_state_names():
    data, _ = export_model(compiled("child"), "xmlbif")
    root = ET.fromstring(data.split("\n", 1)[1])
    outcomes = {
        v.findtext("NAME"): [o.text for o in v.findall("OUTCOME")] for v in root.iter("VARIABLE")
    }
    assert outcomes["CO2Report"] == ["<7.5", ">=7.5"]


def test_uai_follows_the_format():
    """The child is last in each scope and varies fastest in the table (UAI's order)."""
    m = CompiledModel.from_tables(
        "t",
        ["a", "b", "c"],
        [["a0", "a1"], ["b0", "b1", "b2"], ["c0", "c1"]],
        {"c": ["a", "b"]},
        {
            "a": np.array([0.3, 0.7]),
            "b": np.array([0.2, 0.3, 0.5]),
            "c": np.array(
                [[[0.1, 0.9], [0.2, 0.8], [0.3, 0.7]], [[0.4, 0.6], [0.5, 0.5], [0.6, 0.4]]]
            ),
        },
    )
    text, _ = export_model(m, "uai")
    assert text.splitlines()[:7] == ["BAYES", "3", "2 3 2", "3", "1 0", "1 1", "3 0 1 2"]
    assert text.splitlines()[-1] == "0.1 0.9 0.2 0.8 0.3 0.7 0.4 0.6 0.5 0.5 0.6 0.4"


def test_uai_reads_a_file_written_elsewhere(tmp_path):
    """A UAI file as the format's documentation gives it (comments included)."""
    path = tmp_path / "example.uai"
    path.write_text(
        "c an example\nBAYES\n4\n2 2 2 2\n4\n1 0\n2 0 1\n2 0 2\n3 1 2 3\n\n"
        "2\n0.2 0.8\n4\n0.6 0.4 0.3 0.7\n4\n0.25 0.75 0.75 0.25\n8\n1.0 0.0 0.35 0.65 0.8 0.2 0.0 1.0\n"
    )
    text, model = import_network(path)
    d = model.index["v3"]
    assert [model.names[p] for p in model.parents[d]] == ["v1", "v2"]
    np.testing.assert_array_equal(
        model.cpts[d], [[[1.0, 0.0], [0.35, 0.65]], [[0.8, 0.2], [0.0, 1.0]]]
    )
    assert "# Note: UAI has no names" in text


# ----------------------------------------------------------------------------- bad files


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("m.uai", "MARKOV\n1\n2\n1\n1 0\n2\n1 1\n", "m.uai:1:1: error: a Markov network"),
        (
            "t.uai",
            "BAYES\n1\n2\n1\n1 0\n2\n0.5 x\n",
            "t.uai:7:5: error: expected entry 1 of function 0, found 'x'",
        ),
        (
            "s.uai",
            "BAYES\n1\n2\n1\n1 0\n3\n",
            "s.uai:6:1: error: function 0 has 3 entries, its scope needs 2",
        ),
        (
            "x.xdsl",
            "<smile><nodes>\n<cpt id='a'>\n</nodes>",
            "x.xdsl:3:3: error: not well-formed XML: mismatched tag",
        ),
        (
            "n.xdsl",
            "<smile><nodes><noisymax id='a'/></nodes></smile>",
            "n.xdsl: error: node 'a' is a <noisymax> node; pgmpy reads only <cpt> nodes",
        ),
        (
            "d.net",
            'net {}\nnode a { states = ("x" "y"); }\n\ndecision d { states = ("x" "y"); }\n',
            "d.net:4:1: error: node 'd' is a decision node",
        ),
        (
            "p.net",
            'net {}\nnode a { states = ("x" "y"); }\npotential (a) {\n data = (0.5);\n}\n',
            "p.net:4:9: error: the potential of 'a' has 1 numbers, expected 2",
        ),
        ("g.xmlbif", "<BIF><NETWORK></NETWORK></BIF>", "g.xmlbif: error: no variables found"),
        (
            "f.dot",
            "digraph {}",
            "f.dot: error: cannot import this file type; riskchain imports .bif, .bif.gz",
        ),
    ],
)
def test_bad_files_are_one_clear_message(tmp_path, monkeypatch, name, content, message):
    monkeypatch.chdir(tmp_path)
    Path(name).write_text(content)
    with pytest.raises(ImportFailure) as info:
        import_file(name)
    assert str(info.value).startswith(message), str(info.value)


def test_net_from_hugin_with_comments_and_labels(tmp_path):
    """A NET file as Hugin writes it: comments, attributes, labels with 'node' in them,
    state names with spaces and commas."""
    path = tmp_path / "hugin.net"
    path.write_text(
        "% written by Hugin\nnet\n{\n    node_size = (80 40);\n}\n\n"
        'node Rain\n{\n    label = "the node for (rain)";\n    position = (10 10);\n'
        '    states = ("no rain" "rain, heavy");\n}\n\n'
        'node Wet\n{\n    label = "";\n    states = ("dry" "wet");\n    HR_Desc = "x";\n}\n\n'
        "potential (Rain)\n{\n    data = ( 0.8 0.2 );  % prior\n}\n\n"
        "potential (Wet | Rain)\n{\n    data = (( 0.9 0.1 )\n            ( 0.2 0.8 ));\n}\n"
    )
    result = import_file(path)
    m = result.model
    # a model file separates states with ',' in CPT row keys: the name changes, and a note says so
    assert m.states[m.index["Rain"]] == ("no rain", "rain; heavy")
    assert result.notes == [
        "state names with ',' or '|' were changed: Rain=rain, heavy -> rain; heavy"
    ]
    np.testing.assert_array_equal(m.cpts[m.index["Wet"]], [[0.9, 0.1], [0.2, 0.8]])
    assert "label: 'the node for (rain)'" in result.text
    assert result.text.count("label:") == 1


# ----------------------------------------------------------------------------- CLI


def test_format_of():
    assert format_of("a/b.BIF.gz").name == "bif.gz"
    assert format_of("m.xml").name == "xmlbif" and format_of("xdsl").name == "xdsl"
    assert format_of("m.yaml") is None and format_of(".net") is None


def test_export_writes_and_refuses_to_overwrite(capsys, tmp_path):
    out = tmp_path / "k.xdsl"
    code, _, err = run_cli(capsys, "export", str(KOREA), "-o", str(out))
    assert code == 0, err
    assert err.startswith(f"wrote {out} (xdsl, 25 nodes): parametric tables written as full CPTs: ")
    assert "rok_security_threat (noisy-MAX)" in err
    assert ET.parse(out).getroot().tag == "smile"
    out.write_text("mine\n")
    code, _, err = run_cli(capsys, "export", str(KOREA), "-o", str(out))
    assert code == 2 and "the file exists; add --force to replace it" in err
    assert out.read_text() == "mine\n"
    code, _, err = run_cli(capsys, "export", str(KOREA), "-o", str(out), "--force")
    assert code == 0 and out.read_text().startswith("<?xml")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.xdsl"]  # no temporary file left


def test_export_unknown_extension_is_a_usage_error(capsys, tmp_path):
    out = tmp_path / "k.dot"
    code, _, err = run_cli(capsys, "export", str(KOREA), "-o", str(out))
    assert code == 2
    assert err == (
        f"error: -o {out}: unknown file type; riskchain writes "
        ".bif, .bif.gz, .xmlbif, .bifxml, .xml, .net, .uai, .xdsl\n"
    )
    assert not out.exists()


@pytest.mark.parametrize("suffix", [s for f in FORMATS for s in f.suffixes])
def test_cli_export_then_import(capsys, tmp_path, korea, suffix):
    """Every ending: ``export`` writes the bundled model, ``import`` reads it back to a model
    file that validates, with the same numbers (and names and labels, where the format has them)."""
    out = tmp_path / f"korea{suffix}"
    code, _, err = run_cli(capsys, "export", str(KOREA), "-o", str(out))
    assert code == 0, err
    model_file = tmp_path / "back.yaml"
    code, _, err = run_cli(capsys, "import", str(out), "-o", str(model_file))
    assert code == 0, err
    assert err.startswith(f"wrote {model_file}: model 'korea', 25 nodes, 29 edges (validated)")
    back = load_model(model_file)
    fmt = format_of(suffix.lstrip(".")) or format_of(out)
    assert_round_trip(korea.compiled, back.compiled, fmt.name)
    if fmt.name in ("net", "xdsl"):
        assert back.label("nk_troop_dispatch") == "North Korea sends combat troops to Russia"
    if fmt.name == "uai":
        assert "UAI has no names: nodes named v0-v24" in err


def test_names_a_model_file_cannot_hold_are_changed(tmp_path):
    """XMLBIF from another tool may name a node 'blood pressure': the id changes, the name
    becomes its label, and a note says so."""
    path = tmp_path / "bp.xml"
    path.write_text(
        '<?xml version="1.0"?><BIF VERSION="0.3"><NETWORK><NAME>bp</NAME>'
        "<VARIABLE TYPE='nature'><NAME>blood pressure</NAME><OUTCOME>low</OUTCOME>"
        "<OUTCOME>high</OUTCOME></VARIABLE>"
        "<DEFINITION><FOR>blood pressure</FOR><TABLE>0.3 0.7</TABLE></DEFINITION>"
        "</NETWORK></BIF>"
    )
    result = import_file(path)
    assert result.model.names == ("blood_pressure",)
    assert "label: 'blood pressure'" in result.text
    assert result.notes == [
        "node ids a model file cannot hold were changed: blood pressure -> blood_pressure"
    ]


# ----------------------------------------------------------------------------- files from pyAgrum
# tests/data/agrum holds files written by pyAgrum 3.3.1's saveBN (see make_files.py there):
# unquoted NET states, '#' comments in UAI, .bifxml, six-decimal numbers, and XDSL and UAI
# tables with the parents in reverse order.

AGRUM = ROOT / "tests" / "data" / "agrum"


def _pgmpy_tables(path: Path) -> dict[str, tuple[list[str], np.ndarray]]:
    """Parents and tables (axes: parents..., node) of a BIF file as pgmpy reads it: the
    independent reference for what pyAgrum's other files should hold."""
    import gzip

    from pgmpy.readwrite import BIFReader

    data = path.read_bytes()
    text = (gzip.decompress(data) if path.suffix == ".gz" else data).decode()
    net = BIFReader(string=text).get_model()
    out = {}
    for cpd in net.get_cpds():
        values = np.asarray(cpd.get_values(), dtype=float)
        shape = [len(cpd.state_names[v]) for v in cpd.variables[1:]]
        arr = np.moveaxis(values.reshape([values.shape[0], *shape]), 0, -1)
        out[str(cpd.variable)] = ([str(v) for v in cpd.variables[1:]], arr / arr.sum(-1, keepdims=True))
    return out


@pytest.mark.parametrize("ext", ["net", "bifxml", "xdsl", "uai"])
@pytest.mark.parametrize("stem", ["demo", "asia"])
def test_files_written_by_pyagrum_import(stem, ext, recwarn):
    """Each file imports, and holds the network pyAgrum was given (as pgmpy reads the
    BIF beside it): exactly for NET and BIFXML; for XDSL and UAI with the parent order
    reversed, as aGrUM 3.3 writes them (docs/formats.md)."""
    reference = AGRUM / "demo.bif" if stem == "demo" else ROOT / "tests/data/networks/asia.bif.gz"
    want = _pgmpy_tables(reference)
    back = import_file(AGRUM / f"{stem}.{ext}").model
    if ext == "uai":  # no names: pyAgrum numbers the nodes in its own order, as the BIF lists them
        order = [str(n) for n in _bif_order(reference)]
        names = {f"v{i}": n for i, n in enumerate(order)}
    else:
        names = {n: n for n in back.names}
    assert sorted(names.values()) == sorted(want)
    for i, name in enumerate(back.names):
        parents, table = want[names[name]]
        got_parents = [names[back.names[p]] for p in back.parents[i]]
        assert sorted(got_parents) == sorted(parents), name
        got = back.cpts[i]
        if ext in ("xdsl", "uai") and len(got_parents) > 1:
            # aGrUM wrote the table with the first parent varying fastest: read it so
            shape, k = got.shape[:-1], got.shape[-1]
            got = got.reshape([*shape[::-1], k])
            got = got.transpose([*range(len(shape) - 1, -1, -1), len(shape)])
        got = got.transpose([*(got_parents.index(p) for p in parents), len(parents)])
        np.testing.assert_allclose(got, table, rtol=0, atol=1e-6, err_msg=f"{stem}.{ext}: {name}")
        if ext in ("xdsl", "uai") and stem == "demo" and name in ("c", "v1"):
            # and the table as imported is not the network's: the reversal is real
            assert not np.allclose(back.cpts[i].transpose(
                [*(got_parents.index(p) for p in parents), len(parents)]), table, atol=1e-3)


def _bif_order(path: Path) -> list[str]:
    import gzip

    data = path.read_bytes()
    text = (gzip.decompress(data) if path.suffix == ".gz" else data).decode()
    return re.findall(r"(?m)^variable\s+(\S+)", text)


def test_pyagrum_xdsl_warns_of_the_reversed_parent_order(capsys, tmp_path):
    code, _, err = run_cli(capsys, "import", str(AGRUM / "demo.xdsl"), "-o", str(tmp_path / "d.yaml"))
    assert code == 0
    warnings = [line for line in err.splitlines() if ": warning: " in line]
    assert len(warnings) == 2, err  # the parent order, and the six-decimal sums: once each
    assert "written by aGrUM 3.3.1" in warnings[0] and "the tables of c are" in warnings[0]
    assert "1 distribution sums to 1 only within 1e-06" in warnings[1]
    text = (tmp_path / "d.yaml").read_text()
    assert "# Warning: the file says it was written by aGrUM 3.3.1" in text
    # riskchain's own XDSL (two-parent nodes, no aGrUM mark) imports without a warning
    run_cli(capsys, "export", str(KOREA), "-o", str(tmp_path / "k.xdsl"))
    code, _, err = run_cli(capsys, "import", str(tmp_path / "k.xdsl"), "-o", str(tmp_path / "k.yaml"))
    assert code == 0 and "warning" not in err


def test_six_decimal_sums_warn_once_per_file(capsys, tmp_path):
    code, _, err = run_cli(capsys, "import", str(AGRUM / "demo.uai"), "-o", str(tmp_path / "d.yaml"))
    assert code == 0, err
    # a = (0.333333 0.666667) sums to 1; c's first row, 0.333333 three times, does not; and
    # d's second row (0.333333 0.666667) does: one distribution, one warning
    assert err.count("warning:") == 1
    assert "1 distribution sums to 1 only within 1e-06" in err
    # the model file written keeps the numbers as read, and says so when it is read
    code, _, err = run_cli(capsys, "validate", str(tmp_path / "d.yaml"))
    assert code == 0 and err.count(": warning: ") == 1, err
    assert "a distribution sums to 1 only within 1e-06 (the first is here): renormalized" in err


def test_sums_further_off_than_1e_4_are_still_refused(tmp_path):
    text = (AGRUM / "demo.uai").read_text()
    path = tmp_path / "off.uai"
    path.write_text(text.replace("0.333333 0.333333 0.333333", "0.333 0.333 0.333"))
    with pytest.raises(ImportFailure, match=r"sums to 0\.999, not 1 \(sums within 0\.0001"):
        import_file(path)
