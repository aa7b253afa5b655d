"""docs/models/korea_russia_2024.md against the model it documents.

The page quotes two kinds of numbers, and each is checked against the model file:

- Tables in a node section (a heading ``#### `node`: label``) that have ``P(state)``
  columns show the node's expanded table: one column per parent (headed by the
  parent's id or a word of it, in the model's parent order), one row per
  combination of the parents' states, every row present once. Each percentage
  equals ``riskchain.load_model(...).cpt(node)`` rounded to the digits the page
  shows, and the "as written" column (its first ```code``` value: a number, a
  term, a range or a ``{state: p}`` mapping) is that row's probability.
- Numbers in the text are followed by a hidden marker saying where they come from:

  ``41.3%<!-- query: [LETTER] FLAGS -t NODE[=STATE] -->``
      a fresh ``riskchain query`` with these flags; LETTER stands for the flags
      of that question of "Results of some questions"; STATE defaults to yes.
  ``51.4%<!-- cpt: NODE [PARENT=STATE, ...] [-> STATE[|STATE...]] -->``
      an entry of the expanded table; unnamed parents are at their first state,
      several states are summed, STATE defaults to yes.
  ``46.4%<!-- noisy-or: NODE [PARENT=STATE ...] -->``
      what a compound noisy-OR built from the node's own leak row and
      single-cause rows gives with every cause present (a cause is present in
      its ``yes`` state unless named), to back a claim that noisy-OR cannot
      express the table.

  The results table is checked cell by cell against the flags listed under it,
  with its columns named by a ``<!-- columns: NODE[=STATE] ... -->`` line. In
  "Asking questions" every percentage outside a table must carry a marker.

Besides: each node has a section, its summary line names the node's states,
parents, parametric form and likelihood ratio as the model has them, the table
of parametric nodes lists exactly the nodes that use one, and a ```yaml``` block
in a node section says what the file says.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import math
import re
import shlex
from itertools import product
from pathlib import Path

import pytest
from ruamel.yaml import YAML

import riskchain
from riskchain.cli import main
from riskchain.scales import get_scale

ROOT = Path(__file__).resolve().parents[1]
DOC_PATH = ROOT / "docs" / "models" / "korea_russia_2024.md"
MODEL_PATH = ROOT / "models" / "korea_russia_2024.yaml"
DOC = DOC_PATH.read_text()

PARAMETRIC = {
    "noisy_or": "noisy-OR",
    "noisy_and": "noisy-AND",
    "logic": "logic",
    "noisy_max": "noisy-MAX",
    "ranked": "ranked",
}
PCT = r"(\d+(?:\.\d+)?)%"
MARKER = re.compile(PCT + r"<!-- (query|cpt|noisy-or): (.*?) -->")


# ----------------------------------------------------------------------------- reading the page


def _sections(text: str) -> list[tuple[str, str]]:
    """(heading, body) for every heading outside code blocks; the body runs to the next heading."""
    out: list[tuple[str, list[str]]] = []
    fenced = False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        if not fenced and re.match(r"#{1,6} ", line):
            out.append((line, []))
        elif out:
            out[-1][1].append(line)
    return [(heading, "\n".join(body)) for heading, body in out]


SECTIONS = _sections(DOC)
NODE_SECTIONS = {
    m.group(1): body
    for heading, body in SECTIONS
    if (m := re.match(r"#{3,6} `([\w.-]+)`: ", heading))
}


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _tables(body: str) -> list[tuple[list[str], list[list[str]]]]:
    """Markdown tables outside code blocks: (header, rows)."""
    tables, block, fenced = [], [], False
    for line in [*body.splitlines(), ""]:
        if line.startswith("```"):
            fenced = not fenced
        if not fenced and line.startswith("|"):
            block.append(_cells(line))
            continue
        if block:
            tables.append((block[0], block[2:]))
            block = []
    return tables


def _decimals(text: str) -> int:
    return len(text.partition(".")[2])


def _fixed(x: float, text: str) -> str:
    """``x`` with as many decimals as ``text`` (the page's number) has."""
    return f"{x:.{_decimals(text)}f}"


def _shown(p: float, text: str) -> str:
    """Probability ``p`` as a percentage, rounded as the page's ``text`` is."""
    return _fixed(p * 100, text)


def _questions() -> dict[str, list[str]]:
    """The flags of each question listed under the results table (A, B = A's flags + more, ...)."""
    out: dict[str, list[str]] = {}
    for m in re.finditer(r"^- \*\*([A-Z])\. ([^*]+)\*\*: (.*)$", DOC, re.M):
        letter, rest = m.group(1), m.group(3)
        flags: list[str] = []
        if ref := re.match(r"([A-Z]) \+ ", rest):
            flags += out[ref.group(1)]
        for code in re.findall(r"`([^`]*)`", rest):
            flags += shlex.split(code)
        out[letter] = flags
    return out


QUESTIONS = _questions()
QUESTION_TITLES = {t[0]: t for t in re.findall(r"^- \*\*([A-Z]\. [^*]+)\*\*", DOC, re.M)}


# ----------------------------------------------------------------------------- the model


@functools.cache
def model() -> riskchain.Model:
    return riskchain.load_model(MODEL_PATH)


@functools.cache
def raw_nodes() -> dict:
    """The model file's `nodes:` as plain data, to see which form each node is written in."""
    return YAML(typ="safe").load(MODEL_PATH.read_text())["nodes"]


@functools.cache
def ask(flags: tuple[str, ...]) -> dict[str, dict[str, float]]:
    """Posteriors from a fresh `riskchain query MODEL FLAGS --format json`."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["query", str(MODEL_PATH), *flags, "--format", "json"])
    assert code == 0, f"riskchain query {shlex.join(flags)} failed:\n{err.getvalue()}"
    return json.loads(out.getvalue())["posteriors"]


def _point(value: object) -> float:
    """The point value of a probability as written in the file (number, %, term, range)."""
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, list):
        return sum(_point(v) for v in value) / len(value)
    text = str(value).strip()
    if text.endswith("%"):
        return float(text[:-1]) / 100
    band = get_scale(model().spec.scale).lookup(text)
    assert band is not None, f"not a probability: {value!r}"
    return band.midpoint


def _written(cell: str, states: tuple[str, ...]) -> dict[str, float] | None:
    """The distribution an "as written" cell gives (its first `code` value), or None."""
    m = re.search(r"`([^`]+)`", cell)
    if not m:
        return None
    value = YAML(typ="safe").load(m.group(1))
    if isinstance(value, dict):
        dist = {s: _point(p) for s, p in value.items()}
        rest = [s for s in states if s not in dist]
        if rest:
            dist[rest[0]] = 1 - sum(dist.values())
        return dist
    return {states[1]: _point(value)}


# ----------------------------------------------------------------------------- node sections


def test_every_node_has_a_section_and_the_header_counts_are_right():
    m = model()
    assert sorted(NODE_SECTIONS) == sorted(m.nodes)
    edges = sum(len(m.spec.nodes[n].parents) for n in m.nodes)
    counts = re.search(r"(\d+) nodes, (\d+) edges", DOC)
    assert counts and (int(counts.group(1)), int(counts.group(2))) == (len(m.nodes), edges)


@pytest.mark.parametrize("node", sorted(NODE_SECTIONS))
def test_summary_line_matches_the_model(node):
    """`- states: ... · parents: ... · form: ... · likelihood ratio ...` as the model has them."""
    m, spec, raw = model(), model().spec.nodes[node], raw_nodes()[node]
    line = re.search(r"^- (states: .*)$", NODE_SECTIONS[node], re.M)
    assert line, f"{node}: no '- states: ...' line"
    fields = dict(part.partition(": ")[::2] for part in line.group(1).split(" · "))
    assert fields["states"].strip("*").split(", ") == list(m.states(node))
    parents = [] if fields["parents"] == "none" else fields["parents"].split(", ")
    assert parents == list(spec.parents)
    key = next((k for k in PARAMETRIC if k in raw), None)
    if key is None:
        assert "form" not in fields, f"{node} is written as a cpt, the page gives a form"
    else:
        expected = f"{PARAMETRIC[key]} ({raw[key].get('form', 'compound')})"
        assert fields.get("form") == expected
    ratio = re.search(r"likelihood ratio (\d+(?:\.\d+)?)", line.group(1))
    if ratio:
        yes = m.cpt(node)[..., m.states(node).index("yes")]
        assert _fixed(yes[1] / yes[0], ratio.group(1)) == ratio.group(1)


def _check_cpt_table(node: str, header: list[str], rows: list[list[str]]) -> list[str]:
    m = model()
    states, parents, cpt = m.states(node), list(m.spec.nodes[node].parents), m.cpt(node)
    pcols = {i: c[2:-1] for i, c in enumerate(header) if re.fullmatch(r"P\(.+\)", c)}
    first = min(pcols)
    errors = []
    for i, state in pcols.items():
        if state not in states:
            errors.append(f"column {header[i]}: {node} has no state {state!r}")
    heads = header[:first]
    if len(heads) != len(parents) or not all(
        h.lower().replace(" ", "_") in p for h, p in zip(heads, parents)
    ):
        return [*errors, f"parent columns {heads} do not name the parents {parents}"]
    written_col = header.index("as written") if "as written" in header else None
    seen = set()
    for row in rows:
        try:
            idx = tuple(m.states(p).index(c) for p, c in zip(parents, row))
        except ValueError:
            errors.append(f"row {row}: unknown parent state")
            continue
        if idx in seen:
            errors.append(f"row {row}: listed twice")
        seen.add(idx)
        where = ", ".join(f"{p}={c}" for p, c in zip(parents, row)) or "(root)"
        for i, state in pcols.items():
            if state not in states:
                continue
            text = re.fullmatch(PCT, row[i])
            p = cpt[idx][states.index(state)]
            if not text or _shown(p, text.group(1)) != text.group(1):
                errors.append(f"{where}: P({state}) is {_shown(p, '0.0')}%, the page says {row[i]}")
        if written_col is not None and (dist := _written(row[written_col], states)):
            for state, p in dist.items():
                shown = next((row[i] for i, s in pcols.items() if s == state), "0.0%")
                digits = shown.rstrip("%")
                if _shown(p, digits) != _shown(cpt[idx][states.index(state)], digits):
                    errors.append(f"{where}: as written {row[written_col]} gives {state}={p}")
    want = set(product(*(range(len(m.states(p))) for p in parents)))
    if seen != want:
        errors.append(f"rows missing: {sorted(want - seen)}")
    return errors


@pytest.mark.parametrize("node", sorted(NODE_SECTIONS))
def test_node_tables_equal_the_compiled_cpt(node):
    tables = [
        (header, rows)
        for header, rows in _tables(NODE_SECTIONS[node])
        if any(re.fullmatch(r"P\(.+\)", c) for c in header)
    ]
    assert tables, f"{node}: its section shows no table"
    errors = [e for header, rows in tables for e in _check_cpt_table(node, header, rows)]
    assert not errors, f"{node}:\n" + "\n".join(errors)


def _subset(shown: object, actual: object, path: str) -> list[str]:
    if isinstance(shown, dict):
        if not isinstance(actual, dict):
            return [f"{path}: the file has {actual!r}"]
        return [
            e
            for k, v in shown.items()
            for e in (
                _subset(v, actual[k], f"{path}.{k}")
                if k in actual
                else [f"{path}.{k}: not in the file"]
            )
        ]
    return [] if shown == actual else [f"{path}: the page has {shown!r}, the file {actual!r}"]


def test_yaml_blocks_say_what_the_file_says():
    blocks = [
        code
        for body in NODE_SECTIONS.values()
        for code in re.findall(r"^```yaml\n(.*?)^```", body, re.M | re.S)
    ]
    assert blocks
    errors = [
        e
        for code in blocks
        for node, shown in YAML(typ="safe").load(code).items()
        for e in _subset(shown, raw_nodes()[node], node)
    ]
    assert not errors, "\n".join(errors)


def test_table_of_parametric_nodes_is_complete():
    (section,) = [body for heading, body in SECTIONS if heading == "### How the tables are written"]
    ((header, rows),) = _tables(section)
    assert header[:2] == ["node", "form"]
    listed = {row[0]: row[1] for row in rows}
    in_file = {
        node: PARAMETRIC[key]
        for node, raw in raw_nodes().items()
        for key in PARAMETRIC
        if key in raw
    }
    assert listed == in_file


# ----------------------------------------------------------------------------- what-if numbers


def _results_table() -> tuple[list[str], list[list[str]]]:
    m = re.search(r"<!-- columns: (.*?) -->\n((?:\|.*\n)+)", DOC)
    assert m, "no results table after a <!-- columns: ... --> line"
    ((header, rows),) = _tables(m.group(2))
    columns = m.group(1).split()
    assert len(columns) == len(header) - 1
    return columns, rows


RESULT_COLUMNS, RESULT_ROWS = _results_table()


@pytest.mark.parametrize("row", RESULT_ROWS, ids=[r[0][0] for r in RESULT_ROWS])
def test_results_table_equals_fresh_queries(row):
    letter = row[0][0]
    assert row[0] == QUESTION_TITLES[letter], "the table's question differs from the list below it"
    targets = [t for c in RESULT_COLUMNS for t in ("--target", c.partition("=")[0])]
    post = ask((*QUESTIONS[letter], *targets))
    errors = []
    for column, cell in zip(RESULT_COLUMNS, row[1:]):
        node, _, state = column.partition("=")
        p = post[node][state or "yes"]
        text = re.fullmatch(PCT, cell)
        if not text or _shown(p, text.group(1)) != text.group(1):
            errors.append(f"{column}: fresh query gives {_shown(p, '0.0')}%, the page says {cell}")
    assert not errors, f"question {letter}:\n" + "\n".join(errors)


def _query_value(spec: str) -> float:
    flags, target = [], None
    tokens = iter(shlex.split(spec))
    for token in tokens:
        if token in QUESTIONS:
            flags += QUESTIONS[token]
        elif token in ("-t", "--target"):
            assert target is None, "a query marker names one target"
            target = next(tokens)
        else:
            flags.append(token)
    assert target, "a query marker needs -t NODE[=STATE]"
    node, _, state = target.partition("=")
    return ask((*flags, "--target", node))[node][state or "yes"]


def _cpt_value(spec: str) -> float:
    m = model()
    where, _, wanted = spec.partition("->")
    node, _, assigned = where.strip().partition(" ")
    given = dict(a.strip().split("=") for a in assigned.split(",") if a.strip())
    parents = list(m.spec.nodes[node].parents)
    assert set(given) <= set(parents), f"{node} has no parent {set(given) - set(parents)}"
    idx = tuple(m.states(p).index(given.get(p, m.states(p)[0])) for p in parents)
    states = m.states(node)
    return sum(m.cpt(node)[idx][states.index(s)] for s in (wanted.strip() or "yes").split("|"))


def _noisy_or_value(spec: str) -> float:
    """Compound noisy-OR from the node's leak row and single-cause rows, every cause present."""
    m = model()
    node, *named = spec.split()
    present_state = dict(a.split("=") for a in named)
    parents = list(m.spec.nodes[node].parents)
    present = [m.states(p).index(present_state.get(p, "yes")) for p in parents]
    absent = [1 - i for i in present]  # the causes here are binary
    yes = m.cpt(node)[..., m.states(node).index("yes")]
    leak = yes[tuple(absent)]
    no = 1 - leak
    for i in range(len(parents)):
        alone = list(absent)
        alone[i] = present[i]
        no *= (1 - yes[tuple(alone)]) / (1 - leak)
    return 1 - no


MARKERS = list(MARKER.finditer(DOC))


def test_every_marker_follows_a_number():
    assert len(MARKERS) == len(re.findall(r"<!-- (?:query|cpt|noisy-or):", DOC))


@pytest.mark.parametrize(
    "marker", MARKERS, ids=[f"{DOC.count(chr(10), 0, m.start()) + 1}" for m in MARKERS]
)
def test_quoted_number_equals_the_model(marker):
    text, kind, spec = marker.groups()
    value = {"query": _query_value, "cpt": _cpt_value, "noisy-or": _noisy_or_value}[kind](spec)
    assert not math.isnan(value)
    assert _shown(value, text) == text, (
        f"line {DOC.count(chr(10), 0, marker.start()) + 1}: the page says {text}%, "
        f"{kind} {spec!r} gives {_shown(value, '0.00')}%"
    )


def test_every_number_in_asking_questions_is_checked():
    start = DOC.index("## Asking questions")
    section = DOC[start : DOC.index("\n## ", start + 1)]
    prose = re.sub(r"^```.*?^```", "", section, flags=re.M | re.S)
    prose = "\n".join(line for line in prose.splitlines() if not line.startswith("|"))
    unmarked = [m.group(0) for m in re.finditer(PCT + r"(?!<!-- )", prose)]
    assert not unmarked, f"numbers without a <!-- query: ... --> marker: {unmarked}"
