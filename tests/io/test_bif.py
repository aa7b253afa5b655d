"""Import of every shared BIF network: YAML that validates and keeps every name and number.

Each network is parsed by pgmpy once per session (``conftest.network``);
``import_network`` is run on that cached read (``conftest.network_import``
hands it to ``import_network`` in place of ``read_bif``; the call may run ahead
of time in a worker process), so it still writes the YAML text, reads it back
with riskchain's own loader, compiles it and compares it with the tables read.
The result is checked against an independent reading
of the BIF file: a small regex parser in this file that takes the states and
every number straight from the text, so pgmpy's reader, riskchain's reshaping
of its tables, the YAML writer and the YAML loader are all checked against
the file itself.
"""

from __future__ import annotations

import gzip
import itertools
import re
from dataclasses import dataclass

import numpy as np
import pytest
from ruamel.yaml import YAML

import riskchain.io.bif as bif
from conftest import NETWORKS, network, network_import, network_path

# ----------------------------------------------------------------------------- BIF text


@dataclass
class BifTable:
    parents: list[str]
    tokens: dict[tuple[str, ...], list[str]]  # parent states -> numbers as written


@dataclass
class BifText:
    states: dict[str, list[str]]  # in file order
    tables: dict[str, BifTable]


_VARIABLE = re.compile(
    r"variable\s+(\S+)\s*\{\s*type\s+discrete\s*\[\s*(\d+)\s*\]\s*\{([^}]*)\}\s*;\s*\}"
)
_PROBABILITY = re.compile(r"probability\s*\(\s*([^|)\s]+)\s*(?:\|([^)]*))?\)\s*\{([^}]*)\}")


def parse_bif_text(text: str) -> BifText:
    """States and tables of a BIF file, numbers kept as the strings written."""
    states: dict[str, list[str]] = {}
    for name, card, body in _VARIABLE.findall(text):
        names = [s.strip() for s in body.split(",")]
        assert len(names) == int(card), name
        states[name] = names
    tables: dict[str, BifTable] = {}
    for name, given, body in _PROBABILITY.findall(text):
        parents = [p.strip() for p in given.split(",")] if given else []
        tokens: dict[tuple[str, ...], list[str]] = {}
        for entry in body.split(";"):
            entry = entry.strip()
            if not entry:
                continue
            if entry.startswith("table"):
                assert not parents, f"{name}: 'table' with parents is not handled here"
                key: tuple[str, ...] = ()
                numbers = entry[len("table") :]
            else:
                assert entry.startswith("("), entry[:40]
                inside, _, numbers = entry[1:].partition(")")
                key = tuple(s.strip() for s in inside.split(","))
            tokens[key] = [t.strip() for t in numbers.split(",")]
        tables[name] = BifTable(parents, tokens)
    return BifText(states, tables)


def bif_array(doc: BifText, name: str) -> np.ndarray:
    """The table of ``name`` as floats, axes (*parents, node) in the BIF's parent order."""
    table = doc.tables[name]
    shape = (*(len(doc.states[p]) for p in table.parents), len(doc.states[name]))
    arr = np.full(shape, np.nan)
    for key, toks in table.tokens.items():
        idx = tuple(doc.states[p].index(s) for p, s in zip(table.parents, key))
        arr[idx] = [float(t) for t in toks]
    assert not np.isnan(arr).any(), f"{name}: a row is missing from the BIF text"
    return arr


# ----------------------------------------------------------------------------- YAML text


def _unquote(s: str) -> str:
    return s[1:-1].replace("''", "'") if s.startswith("'") else s


def _flow_items(body: str) -> list[str]:
    # names never contain ',' (the model format forbids it), so ', ' splits items
    return [x for x in body.split(", ")] if body else []


def _flow_map(text: str) -> list[tuple[str, str]]:
    assert text.startswith("{") and text.endswith("}"), text[:60]
    out = []
    for item in _flow_items(text[1:-1]):
        key, _, value = item.rpartition(": ")
        out.append((_unquote(key), value))
    return out


@dataclass
class YamlNode:
    header: str  # the node's key as written
    states_text: str  # the flow list as written
    states: list[str]
    parents: list[str]
    rows: list[tuple[str, list[tuple[str, str]]]]  # (row key as written, [(state, number)])


def parse_yaml_lines(text: str) -> dict[str, YamlNode]:
    """The nodes of an imported model file, read line by line (numbers kept as text)."""
    nodes: dict[str, YamlNode] = {}
    cur: YamlNode | None = None
    lines = text.splitlines()
    start = lines.index("nodes:") + 1
    for line in lines[start:]:
        if line.startswith("      "):
            assert cur is not None
            body = line[6:]
            end = body.index("': {") + 1 if body.startswith("'") else body.index(": {")
            cur.rows.append((body[:end], _flow_map(body[end + 2 :])))
        elif line.startswith("    states: ["):
            assert cur is not None and line.endswith("]")
            cur.states_text = line[len("    states: ") :]
            cur.states = [_unquote(s) for s in _flow_items(cur.states_text[1:-1])]
        elif line.startswith("    parents: ["):
            assert cur is not None
            cur.parents = [_unquote(s) for s in _flow_items(line[len("    parents: [") : -1])]
        elif line.startswith("    p: "):
            assert cur is not None
            cur.rows.append(("", _flow_map(line[len("    p: ") :])))
        elif line == "    cpt:":
            continue
        else:
            assert line.startswith("  ") and line.endswith(":") and line[2] != " ", line
            header = line[2:-1]
            cur = nodes[_unquote(header)] = YamlNode(header, "", [], [], [])
    return nodes


def _row_pairs(key: str) -> list[tuple[str, str]]:
    # node names never contain '='; state names may (">=7.5"): split at the first '='
    return [tuple(part.split("=", 1)) for part in _unquote(key).split(", ")]  # type: ignore[misc]


# ----------------------------------------------------------------------------- tests


@pytest.mark.network_import
@pytest.mark.parametrize("net", NETWORKS)
def test_import_network_keeps_every_name_and_number(net):
    """``import_network`` of each shared network: the YAML validates and is exact."""
    path = network_path(net)
    imp = network(net)
    # writes the YAML, reads it back with riskchain's loader (so it validates: it raises
    # ImportFailure otherwise), compiles it and compares the tables with the ones read
    text, back = network_import(net)
    assert text.startswith("# Imported by 'riskchain import' from ")

    doc = parse_bif_text(gzip.decompress(path.read_bytes()).decode("utf-8"))
    model = imp.model
    assert list(back.names) == list(doc.states) == list(model.names)
    ynodes = parse_yaml_lines(text)
    assert list(ynodes) == list(doc.states)
    written: set[str] = set()  # every number as the YAML writes it

    for name, bif_states in doc.states.items():
        i = back.index[name]
        table = doc.tables[name]
        # names: exactly the strings of the BIF file, in its order
        assert list(back.states[i]) == bif_states, name
        assert [back.names[p] for p in back.parents[i]] == table.parents, name
        y = ynodes[name]
        assert y.states == bif_states and y.parents == table.parents, name

        # numbers: pgmpy read every number of the file exactly ...
        expected = bif_array(doc, name)
        assert np.array_equal(imp.raw[name], expected), f"{name}: pgmpy's numbers differ"
        # ... the YAML text holds each of them, written as the shortest exact decimal ...
        pstates = [doc.states[p] for p in table.parents]
        combos = list(itertools.product(*pstates))
        assert len(y.rows) == len(combos), name
        for (key, entries), combo in zip(y.rows, combos):
            if table.parents:
                assert _row_pairs(key) == list(zip(table.parents, combo)), (name, key)
            assert [s for s, _ in entries] == bif_states, (name, key)
        tokens = [[tok for _, tok in entries] for _, entries in y.rows]
        in_yaml = np.array(tokens, dtype=np.float64)
        in_bif = np.array([table.tokens[c] for c in combos], dtype=np.float64)
        bad = np.argwhere(in_yaml != in_bif)
        assert not bad.size, f"{name}: row {bad[0][0]} has {tokens[bad[0][0]]}"
        written.update(itertools.chain.from_iterable(tokens))
        # ... and the model read back from the YAML is the file's table, normalized
        # (to the last bit or so: the loader sums a row in its own order)
        want = expected / expected.sum(axis=-1, keepdims=True)
        np.testing.assert_allclose(back.cpts[i], want, rtol=0, atol=1e-15, err_msg=name)
        np.testing.assert_allclose(model.cpts[i], want, rtol=0, atol=1e-15, err_msg=name)

    # each number is the shortest text that reads back as that float (repr), so e.g.
    # 0.1 is written 0.1 and not 0.10000000000000001
    assert all(tok == repr(float(tok)) for tok in written), sorted(written)[:20]

    # Another YAML 1.2 reader sees the same names: nothing became a bool or a number.
    generic = YAML(typ="safe").load(
        "\n".join(f"{y.header}: {y.states_text}" for y in ynodes.values())
    )
    assert generic == {n: list(s) for n, s in doc.states.items()}
    if sum(len(y.rows) for y in ynodes.values()) <= 5000:
        for y in ynodes.values():
            if y.parents:
                keys = YAML(typ="safe").load("\n".join(f"{k}: 0" for k, _ in y.rows))
                assert list(keys) == [
                    ", ".join(f"{p}={s}" for p, s in _row_pairs(k)) for k, _ in y.rows
                ]


SPECIAL_STATES = {
    "<5": "child",
    ">=7.5": "child",
    "12+": "child",
    "Asy/Patch": "child",
    "TRUE": "alarm",
    "0": "pigs",
    "1": "link",
}


@pytest.mark.networks(*sorted(set(SPECIAL_STATES.values())))
@pytest.mark.parametrize("state", sorted(SPECIAL_STATES))
def test_special_state_names_survive(state):
    """State names a YAML reader could mangle are kept as text, quoted where needed."""
    net = SPECIAL_STATES[state]
    imp = network(net)
    owners = [i for i, ss in enumerate(imp.model.states) if state in ss]
    assert owners, f"{net} has no state {state!r}"
    name = imp.model.names[owners[0]]
    y = parse_yaml_lines(bif.to_yaml(imp))[name]
    assert state in y.states
    loaded = YAML(typ="safe").load(f"states: {y.states_text}")["states"]
    assert loaded == list(imp.model.states[owners[0]])
    assert all(isinstance(s, str) for s in loaded)
