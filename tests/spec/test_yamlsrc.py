"""The YAML composer: located nodes, YAML 1.2 scalars, merge keys, aliases and refusals."""

from __future__ import annotations

import textwrap

import pytest

from riskchain.errors import SpecError, UsageError
from riskchain.spec.model import parse_model_text
from riskchain.spec.yamlsrc import MAX_DEPTH, decode_text, load_yaml, parse_yaml, read_text


def doc(text: str):
    return parse_yaml(textwrap.dedent(text), "f.yaml")


def failure(text: str | bytes) -> list[tuple[int, int, str]]:
    """The (line, col, message) records of a file that is refused."""
    with pytest.raises(SpecError) as info:
        if isinstance(text, bytes):
            decode_text(text, "f.yaml")
        else:
            parse_yaml(text, "f.yaml")
    return [(d.line, d.col, d.message) for d in info.value.diagnostics]


# ----------------------------------------------------------------------------- positions


def test_positions_are_one_based_line_and_column():
    """Every node carries the 1-based line and column where its text starts."""
    root = doc(
        """\
        a: 1
        b:
          c: x
          d: [p, 'q']
        """
    ).root
    assert (root.line, root.col) == (1, 1)
    kb = root.keynode("b")
    assert (kb.line, kb.col) == (2, 1)
    b = root.get("b")
    assert (b.line, b.col) == (3, 3)
    assert (b.get("c").line, b.get("c").col) == (3, 6)
    d = b.get("d")
    assert (d.line, d.col) == (4, 6)
    assert [(i.text, i.line, i.col, i.style) for i in d.items] == [
        ("p", 4, 7, ""),
        ("q", 4, 10, "'"),
    ]


def test_flow_flag_marks_nodes_inside_brackets():
    """Nodes written inside {...} or [...] are flagged flow; block nodes are not."""
    root = doc("a: {x: [1, 2]}\nb:\n  y: 1\n").root
    a = root.get("a")
    assert a.flow and a.get("x").flow and a.get("x").items[0].flow
    assert not root.flow and not root.get("b").flow and not root.get("b").get("y").flow


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("yes", "str"),
        ("no", "str"),
        ("on", "str"),
        ("off", "str"),
        ("y", "str"),
        ("true", "bool"),
        ("False", "bool"),
        ("0", "int"),
        ("-12", "int"),
        ("0x1F", "int"),
        ("0o17", "int"),
        ("1.5e3", "float"),
        (".5", "float"),
        ("-.inf", "float"),
        (".nan", "float"),
        ("~", "null"),
        ("null", "null"),
        ("", "null"),
        ("'0'", "str"),
        ('"true"', "str"),
        ("12+", "str"),
        ("2024-10-18", "str"),
        ("1_000", "str"),
    ],
)
def test_scalar_types_follow_yaml_1_2_core_schema(text, kind):
    """yes/no/on stay text (YAML 1.2); quoted scalars are always text."""
    assert doc(f"v: {text}\n").root.get("v").scalar_type() == kind


@pytest.mark.parametrize(
    ("text", "value"),
    [("0x10", 16.0), ("0o17", 15.0), ("012", 12.0), ("1.5e3", 1500.0), ("-.inf", float("-inf"))],
)
def test_number_reads_plain_numbers(text, value):
    """number() gives the value of a plain int or float and None for text."""
    assert doc(f"v: {text}\n").root.get("v").number() == value


def test_number_is_none_for_text():
    """Quoted digits and words are not numbers."""
    root = doc("a: '0.3'\nb: yes\n").root
    assert root.get("a").number() is None
    assert root.get("b").number() is None


def test_number_of_a_whole_number_beyond_floats_is_infinite():
    """A hexadecimal or decimal integer too large for a float is inf, not an OverflowError."""
    root = doc("a: 0x" + "f" * 300 + "\nb: " + "9" * 400 + "\n").root
    assert root.get("a").number() == float("inf")
    assert root.get("b").number() == float("inf")


# ----------------------------------------------------------------------------- nesting


def nested(depth: int, opening: str = "[", closing: str = "]") -> str:
    return "riskchain: 1\nx: " + opening * depth + "1" + closing * depth + "\n"


def test_nesting_up_to_the_limit_is_read():
    """The root mapping and 99 lists: 100 levels."""
    node = doc(nested(MAX_DEPTH - 1)).root.get("x")
    depth = 1
    while node.is_seq:
        node, depth = node.items[0], depth + 1
    assert depth == MAX_DEPTH


@pytest.mark.parametrize("depth", [MAX_DEPTH, 1000, 100_000])
@pytest.mark.parametrize(("opening", "closing"), [("[", "]"), ("{a: ", "}")])
def test_nesting_beyond_the_limit_is_refused_where_it_goes_too_deep(depth, opening, closing):
    """Refused at the collection that opens level 101, whatever the depth below it
    (the parser is not asked for the rest: 100,000 levels took it 36 s)."""
    ((line, col, message),) = failure(nested(depth, opening, closing))
    assert (line, col) == (2, 4 + len(opening) * (MAX_DEPTH - 1))
    assert message == "lists and mappings are nested more than 100 levels deep here; refusing the file"


def test_block_nesting_beyond_the_limit_is_refused():
    """Indentation nests too: a mapping 101 levels down is refused at its first key."""
    text = "".join(" " * i + f"k{i}:\n" for i in range(MAX_DEPTH)) + " " * MAX_DEPTH + "z: 1\n"
    ((line, col, _),) = failure(text)
    assert (line, col) == (MAX_DEPTH + 1, MAX_DEPTH + 1)


# ----------------------------------------------------------------------------- merge keys and aliases


def test_merge_key_copies_entries_and_explicit_keys_win():
    """'<<: *base' copies the base's entries; a key written in the mapping overrides it."""
    root = doc(
        """\
        base: &base {x: 1, y: 2}
        m:
          y: 3
          <<: *base
          z: 4
        """
    ).root
    m = root.get("m")
    assert [(k, v.text) for k, _, v in m.pairs()] == [("y", "3"), ("z", "4"), ("x", "1")]


def test_merge_list_earlier_mappings_win():
    """With '<<: [*a, *b]' a key in both comes from the first."""
    root = doc("a: &a {k: from_a}\nb: &b {k: from_b, j: 1}\nm: {<<: [*a, *b]}\n").root
    assert {k: v.text for k, _, v in root.get("m").pairs()} == {"k": "from_a", "j": "1"}


def test_merge_of_a_scalar_is_reported():
    """'<<' of something that is not a mapping is a located error, parsing goes on."""
    d = doc("a: 1\nm:\n  <<: 1\n  k: 2\n")
    assert [(x.line, x.col, x.message) for x in d.diagnostics] == [
        (3, 3, "'<<' (merge) needs a mapping or a list of mappings")
    ]
    assert d.root.get("m").get("k").text == "2"


def test_merge_keys_work_in_a_model():
    """A node can take its states from another's anchor and override its p."""
    spec = parse_model_text(
        textwrap.dedent(
            """\
            riskchain: 1
            nodes:
              a: &base
                states: [low, high]
                p: {low: 0.3}
              b:
                <<: *base
                p: {low: 0.6}
            """
        )
    )
    assert spec.nodes["b"].states == ("low", "high")
    assert spec.nodes["b"].table.expand(2, []).tolist() == pytest.approx([0.6, 0.4])
    assert spec.nodes["a"].table.expand(2, []).tolist() == pytest.approx([0.3, 0.7])


def test_alias_reuses_the_anchored_node():
    """An alias stands for the anchored node itself, with its expanded size counted."""
    root = doc("a: &x [1, 2]\nb: *x\nc: [*x, *x]\n").root
    assert root.get("b") is root.get("a")
    assert root.get("c").items == [root.get("a"), root.get("a")]
    assert root.get("a").size == 3
    assert root.get("c").size == 1 + 3 + 3


def test_moderate_alias_use_is_accepted():
    """Ten levels of a 2-fold alias tree (about 2,000 nodes) is not a bomb."""
    lines = ["l0: &l0 [x, x]"]
    lines += [f"l{i}: &l{i} [*l{i - 1}, *l{i - 1}]" for i in range(1, 10)]
    root = doc("\n".join(lines) + "\n").root
    assert root.get("l9").size == 2**11 - 1


def test_alias_bomb_is_refused_at_the_alias_that_crosses_the_cap():
    """A 'billion laughs' file fails fast with a located message instead of expanding."""
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    prev = "a"
    for name in "bcdefghi":
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 10) + "]")
        prev = name
    errors = failure("\n".join(lines) + "\n")
    assert len(errors) == 1
    line, col, message = errors[0]
    assert (line, col) == (5, 36)
    assert message.startswith("aliases expand this file to more than ")
    assert message.endswith(" nodes; refusing it (an alias-expansion bomb?)")


def test_alias_text_is_counted_in_characters():
    """One long anchor used as many labels is few nodes but many copies of its text:
    a 200,000-character label repeated 100 times (20 million characters from a file
    of 200 KB) is refused at the alias that crosses ten times the file's length."""
    label = "x" * 200_000
    lines = [f"a: &big {label}"] + [f"n{i}: *big" for i in range(100)]
    ((line, col, message),) = failure("\n".join(lines) + "\n")
    # 1 MiB + 10 x 200,999 = 3,058,566 characters: crossed by the 16th copy
    assert (line, col) == (17, 6)
    assert message == (
        "aliases repeat more than 3,058,566 characters of text in this file of 200,999; "
        "refusing it (an alias-expansion bomb?)"
    )


def test_aliases_of_short_text_are_accepted():
    """A short anchor used a thousand times expands little: no refusal."""
    lines = ["a: &p likely"] + [f"n{i}: *p" for i in range(1000)]
    root = doc("\n".join(lines) + "\n").root
    assert root.get("n999").text == "likely"
    assert root.chars == sum(len(k.text) + len(v.text) for k, v in root.items)


def test_recursive_alias_is_refused():
    """An alias inside the node it names is reported where the alias is written."""
    assert failure("a: &n\n  b: *n\n") == [
        (2, 6, "alias *n refers to a node that contains it (recursive alias)")
    ]


def test_undefined_alias_is_refused():
    """An alias to an anchor never defined is a located error."""
    assert failure("a: 1\nb: *nowhere\n") == [
        (2, 4, "alias *nowhere refers to an anchor that is not defined")
    ]


# ----------------------------------------------------------------------------- duplicates


def test_duplicate_keys_are_all_recorded_and_parsing_continues():
    """Each duplicate is reported at the repeated key; the first value is kept."""
    d = doc(
        """\
        a: 1
        b:
          x: 1
          x: 2
          y: 3
        a: 4
        c: 5
        """
    )
    assert [(x.line, x.col, x.message) for x in d.diagnostics] == [
        (4, 3, "duplicate key 'x' (first written at line 3)"),
        (6, 1, "duplicate key 'a' (first written at line 1)"),
    ]
    assert {k: v.text for k, _, v in d.root.pairs() if v.is_scalar} == {"a": "1", "c": "5"}
    assert {k: v.text for k, _, v in d.root.get("b").pairs()} == {"x": "1", "y": "3"}


def test_a_key_that_is_a_list_is_reported():
    """Complex keys ('? [a, b]') are refused with their position."""
    d = doc("? [a, b]\n: 1\nc: 2\n")
    assert [(x.line, x.col, x.message) for x in d.diagnostics] == [
        (1, 3, "a key must be plain text, not a list or mapping")
    ]
    assert [k for k, _, _ in d.root.pairs()] == ["c"]


# ----------------------------------------------------------------------------- refusals


def test_one_explicit_document_is_fine_but_two_are_not():
    """'---' may open the one document; a second document is refused at its marker."""
    assert doc("---\na: 1\n...\n").root.get("a").text == "1"
    assert failure("a: 1\n---\nb: 2\n") == [
        (2, 1, "the file holds more than one YAML document ('---')")
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ("\n  \n", "the file is empty"),
        ("# just a comment\n\n  # another\n", "the file holds only comments"),
    ],
)
def test_empty_and_comment_only_files(text, message):
    """Nothing to read is one error at 1:1."""
    assert failure(text) == [(1, 1, message)]


@pytest.mark.parametrize(
    ("text", "found"),
    [("- a\n- b\n", "a list"), ("hello\n", "'hello'"), ("42\n", "a number")],
)
def test_root_must_be_a_mapping(text, found):
    """A list or a scalar at the top is refused, naming what was found."""
    assert failure(text) == [
        (1, 1, f"expected a mapping of keys at the top of the file, found {found}")
    ]


def test_syntax_error_points_at_the_unclosed_bracket():
    """An unclosed '[' is reported where it opens, not at the end of the file."""
    errors = failure("a: 1\nb: [x, y\nc: 2\nd: 3\n")
    assert [(line, col) for line, col, _ in errors] == [(2, 4)]
    assert errors[0][2].startswith("YAML syntax error: ")


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        # a label indented three spaces: the parser stops on the next line, 'p'
        ("nodes:\n  a:\n   label: A\n    p: 0.3\n", (3, 4), "'label' is indented 3 spaces"),
        ("nodes:\n  a:\n     label: A\n    p: 0.3\n", (3, 6), "'label' is indented 5 spaces"),
        ("nodes:\n  a:\n    p: 0.3\n   label: A\n", (4, 4), "'label' is indented 3 spaces"),
        # 'p 30%': the parser stops on the next line (or past the end of the file)
        ("nodes:\n  a:\n    label: A\n    p 30%\n  b:\n    p: 0.1\n", (4, 5), "'p 30%' has no ':'"),
        ("nodes:\n  a:\n    label: A\n    p 30%\n", (4, 5), "'p 30%' has no ':'"),
        ("nodes:\n  a\n    p: 0.3\n", (2, 3), "'a' has no ':'"),
        ("nodes:\n  a:\n      label: A\n    p: 0.3\n", (4, 5), "'p' (indented 4 spaces) lines up neither"),
        ("nodes:\n  a:\n    label: A\n      p: 0.3\n", (4, 7), "'p' is indented deeper than 'label'"),
    ],
)
def test_layout_mistakes_point_at_the_line_that_is_wrong(text, where, words):
    """A key out of step, or without its ':', is reported on its own line with what
    is wrong with it, not where the parser gave up."""
    (err,) = failure(text)
    assert err[:2] == where
    assert words in err[2]


def test_layout_hints_say_how_to_fix_it():
    with pytest.raises(SpecError) as info:
        parse_yaml("nodes:\n  a:\n    label: A\n    p 30%\n", "f.yaml")
    assert info.value.diagnostics[0].hint == (
        "a key and its value are written 'key: value'; did you mean 'p: 30%'?"
    )
    with pytest.raises(SpecError) as info:
        parse_yaml("x: 1\nnodes:\n  a:\n   label: A\n    p: 0.3\n", "f.yaml")
    hint = info.value.diagnostics[0].hint
    assert "line 5 ('p') starts at 4 spaces" in hint
    assert "YAML reads line 5 as more of the value of 'label'" in hint


def test_a_colon_inside_a_value_keeps_the_quoting_hint():
    """'label: Note: x' is not a layout mistake: the hint still says to quote it."""
    with pytest.raises(SpecError) as info:
        parse_yaml("nodes:\n  a:\n    label: Note: x\n    p: 0.3\n", "f.yaml")
    (d,) = info.value.diagnostics
    assert (d.line, d.col, d.hint) == (3, 16, "a value containing ': ' must be quoted")


def test_any_line_of_the_model_reindented_is_reported_on_that_line():
    """Every line of the shipped model moved one space left or right: when the file is
    refused, the error is on the line that moved (1,045 cases; the parser's own
    position is that line in 133 of them)."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "models" / "korea_russia_2024.yaml").read_text()
    lines = text.splitlines()
    refused = []
    for i, line in enumerate(lines):
        if not line.startswith(" "):
            continue
        for changed in (" " + line, line[1:]):
            new = "\n".join([*lines[:i], changed, *lines[i + 1 :]]) + "\n"
            try:
                parse_yaml(new, "m.yaml")
            except SpecError as exc:
                refused.append((i + 1, exc.diagnostics[0].line))
    assert len(refused) > 1000
    assert [(moved, at) for moved, at in refused if at != moved] == []


def test_block_scalar_error_points_at_its_indicator():
    """'- >=7.5' is reported at the '>' with a hint to quote it."""
    with pytest.raises(SpecError) as info:
        parse_yaml("s:\n  - low\n  - >=7.5\n", "f.yaml")
    (d,) = info.value.diagnostics
    assert (d.line, d.col) == (3, 5)
    assert d.hint == (
        "'>' and '|' at the start of a value begin a block of text in YAML; "
        "quote values that start with them, e.g. '>=7.5'"
    )


# ----------------------------------------------------------------------------- bytes and files


def test_utf8_with_bom_is_text():
    """A UTF-8 byte-order mark is dropped."""
    assert decode_text("\ufeffa: é\n".encode(), "f.yaml") == "a: é\n"


def test_nul_byte_is_located():
    """The first NUL byte is reported by line and column."""
    assert failure(b"a: 1\nbb: x\x00y\n") == [(2, 6, "not a text file: it contains NUL bytes")]


def test_invalid_utf8_is_located():
    """A byte that is not UTF-8 is reported by line and column, with its value."""
    assert failure(b"a: 1\nname: caf\xe9\n") == [
        (2, 10, "not UTF-8 text: byte 0xe9 is not valid UTF-8")
    ]


def test_read_text_missing_file_and_folder_are_usage_errors(tmp_path):
    """Naming a missing file or a folder is a usage error that names the path."""
    with pytest.raises(UsageError, match=r"^nope\.yaml: no such file$"):
        read_text(tmp_path / "nope.yaml", "nope.yaml")
    with pytest.raises(UsageError, match=r"^dir: is a folder, not a file$"):
        read_text(tmp_path, "dir")


def test_load_yaml_uses_the_display_name(tmp_path):
    """Messages name the file as the caller displays it."""
    path = tmp_path / "m.yaml"
    path.write_text("a: 1\na: 2\n")
    d = load_yaml(path, "shown.yaml")
    assert d.path == "shown.yaml"
    assert [x.format() for x in d.diagnostics] == [
        "shown.yaml:2:1: error: duplicate key 'a' (first written at line 1)\n"
        "    hint: YAML keeps only one of them; remove or rename one"
    ]
