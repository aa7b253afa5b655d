"""``riskchain set``: one number edited in place, every other byte untouched.

Each edit is checked three ways: the new file differs from the old only in the
replaced span, the value reads back as written, and the edited model compiles
to the CPT a hand computation gives.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import OTHER_UID, as_other_user, needs_root, run_cli
from riskchain.compile import compile_spec
from riskchain.edit import EditError, EditResult, InvalidEditError, apply, edit_text, set_value
from riskchain.errors import UsageError
from riskchain.scales import DEFAULT_SCALE
from riskchain.spec.model import parse_model_text
from riskchain.spec.probability import Context, parse_prob
from riskchain.spec.yamlsrc import parse_yaml


def files(folder: Path) -> list[str]:
    """The folder's files but the lock file ``set`` leaves (``.NAME.lock``, see io/files.py)."""
    return sorted(p.name for p in folder.iterdir() if not p.name.endswith(".lock"))


SAMPLE = """\
# Sample model for edit tests: comments, odd spacing, every place a number can be.
riskchain: 1
id: sample
nodes:
  talks_fail:            # a root node
    label: Talks fail
    p:    unlikely     # trailing comment
  incident:
    p: '20%'
  mood:
    states: [calm, tense, hostile]
    p: {calm: 0.5, tense: 0.3}     # hostile gets the rest
  threat:
    states: [low, high, severe]
    p:
      severe: 0
      high: 0.3
  escalation:
    parents: [talks_fail, incident]
    cpt:
      # both triggers
      talks_fail=yes, incident=yes:
        p: very likely
        note: Both triggers at once.
      talks_fail=yes ,  incident=no :   0.4
      talks_fail=no, incident=yes: [0.2, 0.4]
      default: beta(1, 19)   # rare
  crisis_level:
    states: [low, elevated, severe]
    parents: [escalation]
    cpt:
      escalation=yes: {low: 0, elevated: 0.5}
      escalation=no:
        low: 0.8
        elevated: 0.15
  press_report:
    parents: [escalation, mood]
    cpt:
      escalation=yes, mood=*: "0.9"
      escalation=no, mood=calm|tense: 0.1
      default: 0.2
  shaken:
    parents: [talks_fail, incident]
    noisy_or: {leak: 0.05, talks_fail: 0.7, incident: {state: yes, p: 0.3}, form: net}
"""


@pytest.fixture
def model(tmp_path: Path) -> Path:
    path = tmp_path / "sample.yaml"
    path.write_text(SAMPLE)
    return path


def cpts(text: str) -> dict[str, np.ndarray]:
    compiled = compile_spec(parse_model_text(text, "sample.yaml", "sample"))
    return dict(zip(compiled.names, compiled.cpts))


def assert_only_span(result: EditResult) -> None:
    """Everything before and after the replaced span is identical, character for character."""
    old, new, start, end = result.old_text, result.new_text, result.start, result.end
    delta = len(new) - len(old)
    assert old[:start] == new[:start]
    assert old[end:] == new[end + delta :]
    assert old[start:end] == result.old_value
    assert new[start : end + delta] == result.new_value


def assert_file_is(path: Path, result: EditResult) -> None:
    """The file on disk holds exactly the new text, byte for byte."""
    old, new = SAMPLE.encode(), path.read_bytes()
    s = len(result.old_text[: result.start].encode())
    e = len(result.old_text[: result.end].encode())
    delta = len(new) - len(old)
    assert old[:s] == new[:s] and old[e:] == new[e + delta :]
    assert new == result.new_text.encode()


# ----------------------------------------------------------------------------- the composer's offsets


def test_every_node_records_its_span():
    """text[start:end] is each node as written: quotes, anchors, brackets included;
    a block collection ends at its last value, not at the comment after it."""
    text = "a: 'x y'  # c\nb: &k [1, 2]\nc:\n  - p\n  - q   # after\nd: {e: f}\n"
    root = parse_yaml(text, "f.yaml").root
    spans = {k: text[v.start : v.end] for k, _, v in root.pairs()}
    assert spans == {"a": "'x y'", "b": "&k [1, 2]", "c": "- p\n  - q", "d": "{e: f}"}
    key = root.keynode("d")
    assert text[key.start : key.end] == "d"
    assert text[root.start : root.end] == text.rstrip("\n")


# ----------------------------------------------------------------------------- each kind of target


CASES = [
    # (id, args, kwargs, old value, new value, node, check(cpt))
    (
        "root scalar with trailing comment",
        ("talks_fail", "likely"),
        {},
        "unlikely",
        "likely",
        lambda c: np.allclose(c["talks_fail"], [0.325, 0.675]),
    ),
    (
        "root mapping state",
        ("mood", "0.1"),
        {"state": "tense"},
        "0.3",
        "0.1",
        lambda c: np.allclose(c["mood"], [0.5, 0.1, 0.4]),
    ),
    (
        "root block mapping, state next to a zero",
        ("threat", "35%"),
        {"state": "high"},
        "0.3",
        "35%",
        lambda c: np.allclose(c["threat"], [0.65, 0.35, 0.0]),
    ),
    (
        "cpt row scalar, parents in another order and spacing",
        ("escalation", "0.25"),
        {"when": "incident=no,talks_fail = yes"},
        "0.4",
        "0.25",
        lambda c: np.allclose(c["escalation"][1, 0], [0.75, 0.25]),
    ),
    (
        "cpt row, block mapping state",
        ("crisis_level", "5%"),
        {"when": "escalation=no", "state": "elevated"},
        "0.15",
        "5%",
        lambda c: np.allclose(c["crisis_level"][0], [0.8, 0.05, 0.15]),
    ),
    (
        "default row",
        ("escalation", "beta(1, 9)"),
        {"when": "default"},
        "beta(1, 19)",
        "beta(1, 9)",
        lambda c: np.allclose(c["escalation"][0, 0], [0.9, 0.1]),
    ),
    (
        "extended {p: ...} row",
        ("escalation", "0.6"),
        {"when": "talks_fail=yes, incident=yes"},
        "very likely",
        "0.6",
        lambda c: np.allclose(c["escalation"][1, 1], [0.4, 0.6]),
    ),
    (
        "flow-style row: beta is quoted",
        ("crisis_level", "beta(3, 7)"),
        {"when": "escalation=yes", "state": "elevated"},
        "0.5",
        "'beta(3, 7)'",
        lambda c: np.allclose(c["crisis_level"][1], [0.0, 0.3, 0.7]),
    ),
    (
        "range replaced by a term",
        ("escalation", "roughly even chance"),
        {"when": "talks_fail=no, incident=yes"},
        "[0.2, 0.4]",
        "roughly even chance",
        lambda c: np.allclose(c["escalation"][0, 1], [0.5, 0.5]),
    ),
    (
        "single-quoted value keeps its quotes",
        ("incident", "35%"),
        {},
        "'20%'",
        "'35%'",
        lambda c: np.allclose(c["incident"], [0.65, 0.35]),
    ),
    (
        "double-quoted value in a row written with *, matched by meaning",
        ("press_report", "0.8"),
        {"when": "mood=*, escalation=yes"},
        '"0.9"',
        '"0.8"',
        lambda c: np.allclose(c["press_report"][1], [[0.2, 0.8]] * 3),
    ),
    (
        "row written with |",
        ("press_report", "[0.1, 0.3]"),
        {"when": "escalation=no, mood=tense|calm"},
        "0.1",
        "[0.1, 0.3]",
        lambda c: np.allclose(c["press_report"][0], [[0.8, 0.2], [0.8, 0.2], [0.8, 0.2]]),
    ),
    (
        "noisy_or leak",
        ("shaken", "0.1"),
        {"leak": True},
        "0.05",
        "0.1",
        # net form: P(no | x) = (1 - leak) * prod over present causes (1 - p)
        lambda c: np.allclose(
            c["shaken"][..., 1], [[0.1, 1 - 0.9 * 0.7], [1 - 0.9 * 0.3, 1 - 0.9 * 0.3 * 0.7]]
        ),
    ),
    (
        "noisy_or cause written as a number",
        ("shaken", "0.5"),
        {"cause": "talks_fail"},
        "0.7",
        "0.5",
        lambda c: np.allclose(c["shaken"][1, 0, 1], 1 - 0.95 * 0.5),
    ),
    (
        "noisy_or cause written {state, p}: beta is quoted",
        ("shaken", "beta(1, 1)"),
        {"cause": "incident"},
        "0.3",
        "'beta(1, 1)'",
        lambda c: np.allclose(c["shaken"][0, 1, 1], 1 - 0.95 * 0.5),
    ),
]


@pytest.mark.parametrize(
    ("args", "kwargs", "old", "new", "check"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_edit_changes_only_the_value(model, args, kwargs, old, new, check):
    result = set_value(model, *args, **kwargs)
    assert (result.old_value, result.new_value) == (old, new)
    assert_only_span(result)
    assert model.read_text() == SAMPLE  # planning writes nothing
    apply(result)
    assert_file_is(model, result)
    assert check(cpts(model.read_text()))
    # every other node's table is unchanged
    before, after = cpts(SAMPLE), cpts(model.read_text())
    for name in before:
        if name != args[0]:
            assert np.array_equal(before[name], after[name]), name


def test_result_position_and_summary(model):
    result = set_value(model, "talks_fail", "likely")
    assert (result.line, result.col) == (7, 11)
    assert result.summary() == f"set talks_fail p: unlikely -> likely ({model}:7:11)"
    result = set_value(model, "crisis_level", "0.2", when="escalation=yes", state="elevated")
    assert result.target == "cpt[escalation=yes][elevated]"


def test_bom_crlf_anchor_and_tag_survive(tmp_path):
    """A byte-order mark, CRLF line ends, an unused anchor and a tag stay as written."""
    text = (
        "riskchain: 1\r\nnodes:\r\n  a:\r\n    p: &unused 0.3   # c\r\n  b:\r\n    p: !!str 0.2\r\n"
    )
    path = tmp_path / "m.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    apply(set_value(path, "a", "0.4"))
    apply(set_value(path, "b", "likely"))
    assert (
        path.read_bytes()
        == b"\xef\xbb\xbf" + text.replace("0.3", "0.4").replace("0.2", "likely").encode()
    )


def test_block_list_and_block_text_are_replaced_whole(tmp_path):
    """A range written as a block list, or a value written over several lines, is replaced as a whole."""
    text = "riskchain: 1\nnodes:\n  a:\n    p:\n      - 0.1\n      - 0.2\n    # after\n  b:\n    p: almost\n      certain\n"
    path = tmp_path / "m.yaml"
    path.write_text(text)
    apply(set_value(path, "a", "0.5"))
    apply(set_value(path, "b", "likely"))
    assert path.read_text() == (
        "riskchain: 1\nnodes:\n  a:\n    p:\n      0.5\n    # after\n  b:\n    p: likely\n"
    )


def test_an_edit_can_repair_an_invalid_file(tmp_path):
    """The file need not be valid before the edit, only after it."""
    path = tmp_path / "m.yaml"
    path.write_text("riskchain: 1\nnodes:\n  a:\n    p: 1.7   # was meant as 17%\n")
    apply(set_value(path, "a", "17%"))
    assert path.read_text() == "riskchain: 1\nnodes:\n  a:\n    p: 17%   # was meant as 17%\n"


def test_composer_only_parametric_tables():
    """--leak/--cause locate the numbers of noisy_and and noisy_max too (no model validation)."""
    text = textwrap.dedent(
        """\
        nodes:
          e:
            parents: [a, b]
            noisy_and:
              leak: 0.9   # all causes present
              a: {p: 0.2, note: x}
              b: 0.3
          g:
            states: [none, some, lots]
            noisy_max: {leak: {none: 0.9, some: 0.1}, a: {yes: {none: 0.2, some: 0.5}}}
        """
    )
    r = edit_text(text, "f.yaml", "e", "0.25", cause="a", validate=False)
    assert (r.old_value, r.new_value, r.target) == ("0.2", "0.25", "noisy_and.a")
    assert_only_span(r)
    r = edit_text(text, "f.yaml", "e", "beta(9, 1)", leak=True, validate=False)
    assert (r.old_value, r.new_value) == ("0.9", "beta(9, 1)")
    assert_only_span(r)
    r = edit_text(text, "f.yaml", "g", "beta(1, 9)", leak=True, state="some", validate=False)
    assert (r.old_value, r.new_value, r.target) == ("0.1", "'beta(1, 9)'", "noisy_max.leak[some]")
    assert_only_span(r)
    with pytest.raises(EditError, match="a noisy_max cause holds one distribution"):
        edit_text(text, "f.yaml", "g", "0.3", cause="a", validate=False)


# ----------------------------------------------------------------------------- round trips


VALUE_TARGETS = [
    # (set_value arguments, key path of the value in the YAML tree)
    ({"node": "talks_fail"}, ("nodes", "talks_fail", "p")),
    ({"node": "incident"}, ("nodes", "incident", "p")),
    ({"node": "threat", "state": "high"}, ("nodes", "threat", "p", "high")),
    (
        {"node": "escalation", "when": ("talks_fail=yes", "incident=yes")},
        ("nodes", "escalation", "cpt", "talks_fail=yes, incident=yes", "p"),
    ),
    (
        {"node": "escalation", "when": ("talks_fail=yes", "incident=no")},
        ("nodes", "escalation", "cpt", "talks_fail=yes ,  incident=no"),
    ),
    (
        {"node": "escalation", "when": ("talks_fail=no", "incident=yes")},
        ("nodes", "escalation", "cpt", "talks_fail=no, incident=yes"),
    ),
    ({"node": "escalation", "when": "default"}, ("nodes", "escalation", "cpt", "default")),
    (
        {"node": "crisis_level", "when": ("escalation=yes",), "state": "elevated"},
        ("nodes", "crisis_level", "cpt", "escalation=yes", "elevated"),
    ),
    (
        {"node": "press_report", "when": ("escalation=yes", "mood=*")},
        ("nodes", "press_report", "cpt", "escalation=yes, mood=*"),
    ),
    (
        {"node": "press_report", "when": ("mood=tense|calm", "escalation=no")},
        ("nodes", "press_report", "cpt", "escalation=no, mood=calm|tense"),
    ),
    ({"node": "shaken", "leak": True}, ("nodes", "shaken", "noisy_or", "leak")),
    ({"node": "shaken", "cause": "incident"}, ("nodes", "shaken", "noisy_or", "incident", "p")),
]

unit = st.floats(0, 1, allow_nan=False)
numbers = st.one_of(
    st.sampled_from(["0", "1", "0.0", "1.0", ".5", "0.25", "1e-3", "2.5E-1"]),
    st.builds(lambda x, d: f"{x:.{d}f}", unit, st.integers(1, 6)),
)
percents = st.builds(lambda x, d: f"{x * 100:.{d}f}%", unit, st.integers(0, 3))
terms = st.builds(
    lambda w, case: getattr(w, case)(),
    st.sampled_from(DEFAULT_SCALE.words()),
    st.sampled_from(["lower", "upper", "title"]),
)
ranges = st.builds(
    lambda a, b, pct: "[{}, {}]".format(
        *((f"{x * 100:g}%" if pct else f"{x:g}") for x in sorted((a, b)))
    ),
    unit,
    unit,
    st.booleans(),
)
betas = st.builds(
    lambda a, b, sp: f"beta({sp}{a:g}{sp},{sp or ' '}{b:g})",
    st.floats(0.1, 50),
    st.floats(0.1, 50),
    st.sampled_from(["", " ", "  "]),
)
values = st.one_of(numbers, percents, terms, ranges, betas)


def written_prob(text: str, keys: tuple[str, ...]):
    node = parse_yaml(text, "f.yaml").root
    for key in keys:
        node = node.get(key)
    return parse_prob(node, Context("f.yaml"))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    target=st.sampled_from(VALUE_TARGETS),
    value=values,
    data=st.data(),
)
def test_random_values_round_trip(target, value, data):
    """Any valid value at any target: only its span changes, and it reads back as written."""
    args, keys = target
    kwargs = dict(args)
    if isinstance(kwargs.get("when"), tuple):
        parts = data.draw(st.permutations(kwargs["when"]))
        sep = data.draw(st.sampled_from([", ", ",", " ,  "]))
        kwargs["when"] = sep.join(parts)
    node = kwargs.pop("node")
    want = written_prob(f"v: {value}\n", ("v",))
    assert want is not None
    if kwargs.get("leak") and want.point >= 1:
        # a leak of 1 leaves the causes nothing to do: the validator refuses it
        with pytest.raises(InvalidEditError, match="leaves the causes nothing to do"):
            edit_text(SAMPLE, "sample.yaml", node, value, **kwargs)
        return
    result = edit_text(SAMPLE, "sample.yaml", node, value, **kwargs)
    assert_only_span(result)
    parse_model_text(result.new_text, "sample.yaml", "sample")  # still a valid model
    got = written_prob(result.new_text, keys)
    assert got is not None
    assert (got.kind, got.point, got.low, got.high, got.params) == (
        want.kind,
        want.point,
        want.low,
        want.high,
        want.params,
    )


# ----------------------------------------------------------------------------- refusals


run = run_cli


REFUSALS = [
    (
        ["talks_fail", "likly"],
        "{path}: error: VALUE: unknown probability 'likly': not a term of scale icd203 "
        "(the default)\n    hint: did you mean 'likely'?\n",
    ),
    (
        ["talks_fail", "1.5"],
        "{path}: error: VALUE: probability 1.5 is outside [0, 1]\n"
        "    hint: for a percentage write '1.5%'\n",
    ),
    (
        ["talks_fial", "0.3"],
        "{path}: error: no node 'talks_fial' in the model\n    hint: did you mean 'talks_fail'?\n",
    ),
    (
        ["mood", "0.3", "--state", "tence"],
        "{path}: error: --state: node 'mood' has no state 'tence'\n    hint: did you mean 'tense'?\n",
    ),
    (
        ["mood", "0.1", "--state", "hostile"],
        "{path}:12:8: error: p of 'mood' does not write 'hostile': it receives the remainder "
        "(1 minus the others); the states written are: calm, tense\n"
        "    hint: set one of the written states, or write this state in the file\n",
    ),
    (
        ["mood", "0.1"],
        "{path}:12:8: error: p of 'mood' is a mapping {{state: p}}: say which state with --state\n"
        "    hint: states written: calm, tense\n",
    ),
    (
        ["talks_fail", "0.1", "--state", "no"],
        "{path}:7:11: error: p of 'talks_fail' does not write 'no': it receives the remainder "
        "(1 minus the others); the states written are: yes\n"
        "    hint: set one of the written states, or write this state in the file\n",
    ),
    (
        ["escalation", "0.3", "--when", "talks_fail=maybe, incident=no"],
        "{path}: error: --when: 'talks_fail' has no state 'maybe'\n"
        "    hint: the states of 'talks_fail' are: no, yes\n",
    ),
    (
        ["escalation", "0.3", "--when", "talks=yes, incident=no"],
        "{path}: error: --when: 'talks' is not a parent of 'escalation'\n"
        "    hint: did you mean 'talks_fail'?\n",
    ),
    (
        ["escalation", "0.3", "--when", "incident=no"],
        "{path}: error: --when names no state for talks_fail\n"
        "    hint: name every parent of 'escalation' (talks_fail, incident), or --when default for the default row\n",
    ),
    (
        ["escalation", "0.3", "--when", "talks_fail=no, incident=no"],
        "{path}:27:7: error: no row is written for talks_fail=no, incident=no: the default row "
        "(line 27) covers it\n"
        "    hint: edit the default row with --when default (it also covers every other combination "
        "not listed), or add a row for this combination to the file\n",
    ),
    (
        ["press_report", "0.3", "--when", "escalation=yes, mood=calm"],
        "{path}:39:7: error: no row is written for escalation=yes, mood=calm alone: row "
        "'escalation=yes, mood=*' (line 39) covers it together with 2 other combinations\n"
        "    hint: edit that whole row with --when 'escalation=yes, mood=*', or split the row in "
        "the file to give this combination its own number\n",
    ),
    (
        ["escalation", "0.3"],
        "{path}:20:5: error: node 'escalation' has a cpt: say which row with --when\n"
        "    hint: e.g. --when 'talks_fail=yes, incident=yes' or --when default\n",
    ),
    (
        ["talks_fail", "0.3", "--when", "default"],
        "{path}:6:5: error: --when: node 'talks_fail' has no parents; its number is its 'p'\n"
        "    hint: leave out --when to edit p\n",
    ),
    (
        ["shaken", "0.3", "--cause", "mood"],
        "{path}:44:15: error: --cause: 'mood' is not a cause of 'shaken'\n"
        "    hint: its causes: talks_fail, incident\n",
    ),
    (
        ["escalation", "0.3", "--leak"],
        "{path}:19:5: error: --leak: node 'escalation' has no noisy_or, noisy_and or noisy_max "
        "table (it is written with 'cpt')\n"
        "    hint: --cause and --leak edit parametric tables; use --when for a cpt row\n",
    ),
    (
        # validated before writing: the mapping no longer leaves anything for 'hostile'
        ["mood", "0.9", "--state", "calm"],
        "{path}:12:8: error: p of 'mood': the probabilities given sum to 1.2, leaving nothing "
        "for 'hostile' (0.2 too much)\n"
        "note: nothing was written; the file is unchanged\n",
    ),
]


@pytest.mark.parametrize(("args", "expected"), REFUSALS, ids=[" ".join(a) for a, _ in REFUSALS])
def test_refusals_exit_1_and_change_nothing(capsys, model, args, expected):
    before = model.stat().st_mtime_ns
    code, out, err = run(capsys, "set", str(model), *args)
    assert (code, out) == (1, "")
    assert err == expected.format(path=model)
    assert model.read_bytes() == SAMPLE.encode()
    assert model.stat().st_mtime_ns == before
    assert files(model.parent) == ["sample.yaml"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["escalation", "0.3", "--when", "talks_fail"], "--when: 'talks_fail' is not PARENT=STATE"),
        (["shaken", "0.3", "--leak", "--cause", "incident"], "give one of them"),
        (["shaken", "0.3", "--leak", "--when", "default"], "--when selects a CPT row"),
        (["talks_fail"], "Missing argument 'VALUE'"),
    ],
)
def test_malformed_flags_exit_2(capsys, model, args, needle):
    code, _, err = run(capsys, "set", str(model), *args)
    assert code == 2
    assert needle in err
    assert model.read_bytes() == SAMPLE.encode()


def test_invalid_edit_carries_the_validators_located_errors(model):
    with pytest.raises(InvalidEditError) as info:
        set_value(model, "threat", "0.8", state="severe")
    (d,) = info.value.diagnostics
    assert (d.path, d.line, d.col) == (str(model), 16, 7)
    assert "sum to 1.1, leaving nothing for 'low'" in d.message


def test_invalid_file_is_said_to_be_invalid_already(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("riskchain: 1\nnodes:\n  a:\n    p: 0.3\n  b:\n    p: likley\n")
    with pytest.raises(InvalidEditError) as info:
        set_value(path, "a", "0.4")
    assert info.value.lines()[-1].endswith(
        "(it was invalid before this edit too: check it with 'riskchain validate')"
    )


def test_binary_mapping_defaults_to_the_second_state(tmp_path):
    """For a binary node written {no: .., yes: ..}, the number set is the second state's."""
    path = tmp_path / "m.yaml"
    path.write_text(
        "riskchain: 1\nnodes:\n  a:\n    p: {no: 0.3, yes: 0.7}\n  b:\n    p: {no: 0.4}\n"
    )
    result = set_value(path, "a", "30%", state="no")
    assert (result.target, result.new_text.splitlines()[3]) == (
        "p[no]",
        "    p: {no: 30%, yes: 0.7}",
    )
    with pytest.raises(InvalidEditError, match=r"probabilities sum to 0.9, not 1 \(0.1 short\)"):
        set_value(path, "a", "0.6")  # edits yes
    with pytest.raises(EditError, match="does not write 'yes': it receives the remainder"):
        set_value(path, "b", "0.6")


def test_shared_value_is_refused(tmp_path):
    """A value reached through an alias or merge key is written once for several places."""
    text = "riskchain: 1\nnodes:\n  a:\n    p: &x 0.3\n  b:\n    p: *x\n  c:\n    p: 0.1\n"
    path = tmp_path / "m.yaml"
    path.write_text(text)
    for node in ("a", "b"):
        with pytest.raises(EditError, match="shared through the YAML anchor &x at line 4"):
            set_value(path, node, "0.4")
    apply(set_value(path, "c", "0.2"))
    assert path.read_text() == text.replace("0.1", "0.2")


def test_missing_file_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="no such file"):
        set_value(tmp_path / "nope.yaml", "a", "0.3")


# ----------------------------------------------------------------------------- the command


def test_set_writes_and_confirms(capsys, model):
    code, out, err = run(capsys, "set", str(model), "talks_fail", "likely")
    assert (code, out) == (0, "")
    assert err == f"set talks_fail p: unlikely -> likely ({model}:7:11)\n"
    assert model.read_text() == SAMPLE.replace("p:    unlikely", "p:    likely")
    code, _, err = run(capsys, "set", str(model), "talks_fail", "likely")
    assert code == 0
    assert err.endswith(": unchanged, nothing written\n")


def test_dry_run_prints_a_diff_and_writes_nothing(capsys, model):
    before = model.stat().st_mtime_ns
    code, out, err = run(
        capsys, "set", str(model), "crisis_level", "beta(3, 7)", "-w", "escalation=yes",
        "--state", "elevated", "--dry-run",
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert out == (
        f"--- {model}\n+++ {model}\n@@ -29,7 +29,7 @@\n"
        "     states: [low, elevated, severe]\n"
        "     parents: [escalation]\n"
        "     cpt:\n"
        "-      escalation=yes: {low: 0, elevated: 0.5}\n"
        "+      escalation=yes: {low: 0, elevated: 'beta(3, 7)'}\n"
        "       escalation=no:\n"
        "         low: 0.8\n"
        "         elevated: 0.15\n"
    )
    assert model.read_bytes() == SAMPLE.encode()
    assert model.stat().st_mtime_ns == before


def test_dry_run_marks_a_missing_final_newline(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("riskchain: 1\nnodes:\n  a:\n    p: 0.3")
    assert (
        set_value(path, "a", "0.4")
        .diff()
        .endswith(
            "-    p: 0.3\n\\ No newline at end of file\n+    p: 0.4\n\\ No newline at end of file\n"
        )
    )


def test_crash_before_rename_leaves_the_old_file(capsys, model, monkeypatch):
    """An interrupted write (the rename fails) leaves the old file and no temporary file."""

    def crash(src, dst):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "replace", crash)
    code, out, err = run(capsys, "set", str(model), "talks_fail", "likely")
    assert (code, out) == (1, "")
    assert err == f"{model}: error: cannot write the file: Input/output error\n"
    assert model.read_bytes() == SAMPLE.encode()
    assert files(model.parent) == ["sample.yaml"]


def test_symlink_stays_a_link(model):
    link = model.parent / "link.yaml"
    link.symlink_to(model.name)
    apply(set_value(link, "talks_fail", "likely"))
    assert link.is_symlink()
    assert model.read_text() == SAMPLE.replace("p:    unlikely", "p:    likely")
    assert files(model.parent) == ["link.yaml", "sample.yaml"]


def test_apply_refuses_a_file_changed_since_planning(model):
    result = set_value(model, "talks_fail", "likely")
    model.write_text(SAMPLE.replace("0.4", "0.45"))
    with pytest.raises(EditError, match="the file changed since the edit was planned"):
        apply(result)
    assert model.read_text() == SAMPLE.replace("0.4", "0.45")


# ----------------------------------------------------------------------------- concurrent edits (issue 12)

# A child process: imports the CLI, says it is ready, waits for the go file, then runs
# `riskchain set MODEL NODE 0.5` for each node given (the same code path as the command).
_CHILD = r"""
import os, sys, time
import riskchain.cli, riskchain.compile, riskchain.edit, riskchain.io.files, riskchain.spec.model
ready, go, model = sys.argv[1:4]
open(ready, "w").close()
while not os.path.exists(go):
    time.sleep(0.0005)
sys.exit(max(riskchain.cli.main(["set", model, node, "0.5"]) for node in sys.argv[4:]))
"""


def _env() -> dict[str, str]:
    src = str(Path(__file__).resolve().parents[1] / "src")
    return {**os.environ, "PYTHONPATH": src, "RISKCHAIN_NO_CACHE": "1"}


def test_concurrent_sets_on_one_file_keep_every_change(tmp_path):
    """Issue 12 item 1: two `set` on one file at once both exited 0 and one change was
    lost. Six processes released together each set five different nodes (30 edits
    racing); every edit must be in the file. Before the lock, about 6 of 30 were kept."""
    import subprocess
    import sys
    import time

    procs_n, edits = 6, 5
    path = tmp_path / "many.yaml"
    path.write_text(
        "riskchain: 1\nid: many\nnodes:\n"
        + "".join(f"  n{i}:\n    p: 0.1\n" for i in range(procs_n * edits))
    )
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(tmp_path / f"ready{k}"), str(go), str(path)]
            + [f"n{k * edits + e}" for e in range(edits)],
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for k in range(procs_n)
    ]
    deadline = time.monotonic() + 60
    while not all((tmp_path / f"ready{k}").exists() for k in range(procs_n)):
        assert time.monotonic() < deadline and all(p.poll() is None for p in procs)
        time.sleep(0.01)
    go.touch()
    results = [(p.wait(), p.stderr.read().decode()) for p in procs]
    assert [code for code, _ in results] == [0] * procs_n, results
    text = path.read_text()
    assert text.count("p: 0.5") == procs_n * edits
    assert "p: 0.1" not in text
    parse_model_text(text)  # still a valid model


# a child that writes slowly: it stops inside the write (temporary file written, not yet
# renamed) so that it can be killed there
_SLOW_CHILD = r"""
import os, sys, time
import riskchain.cli
real = os.fsync
def slow(fd):
    open(sys.argv[1], "w").close()
    time.sleep(60)
    real(fd)
os.fsync = slow
sys.exit(riskchain.cli.main(["set", sys.argv[2], "talks_fail", "likely"]))
"""


def test_a_kill_during_the_write_leaves_the_old_file_and_its_temp_is_cleaned(model, tmp_path):
    """Issue 12 item 7: a kill during `set` never corrupts the file, but left a hidden
    `.NAME.XXXX.tmp`; the next edit of the file removes it."""
    import signal
    import subprocess
    import sys
    import time

    inside = tmp_path / "inside-the-write"
    child = subprocess.Popen(
        [sys.executable, "-c", _SLOW_CHILD, str(inside), str(model)],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while not inside.exists():
        assert time.monotonic() < deadline and child.poll() is None, child.stderr.read()
        time.sleep(0.01)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert model.read_bytes() == SAMPLE.encode()
    temps = [p.name for p in model.parent.glob(".sample.yaml.*.tmp")]
    assert len(temps) == 1, temps  # the killed write's
    apply(set_value(model, "incident", "0.25"))
    assert list(model.parent.glob(".sample.yaml.*.tmp")) == []
    assert files(model.parent) == ["inside-the-write", "sample.yaml"]
    assert model.read_text() == SAMPLE.replace("p: '20%'", "p: '0.25'")


def test_kills_at_random_moments_leave_the_old_or_the_new_file(model):
    """Kill -9 at random moments of a `set` run: the file is always byte for byte the
    old text or the new one."""
    import random
    import signal
    import subprocess
    import sys
    import time

    rng = random.Random(12)
    new = SAMPLE.replace("p:    unlikely", "p:    likely").encode()
    code = "import sys, riskchain.cli; sys.exit(riskchain.cli.main(sys.argv[1:]))"
    for _ in range(6):
        model.write_text(SAMPLE)
        child = subprocess.Popen(
            [sys.executable, "-c", code, "set", str(model), "talks_fail", "likely"],
            env=_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.2, 0.8))
        child.send_signal(signal.SIGKILL)
        child.wait()
        assert model.read_bytes() in (SAMPLE.encode(), new)


# ----------------------------------------------------------------------------- permissions and links (issue 12)


def test_a_read_only_file_is_refused(capsys, model):
    """Issue 12 item 2: a 444 file was replaced with exit 0. Root passes the permission
    check too, so the write bits are checked as well (see io/files.py)."""
    model.chmod(0o444)
    code, out, err = run(capsys, "set", str(model), "talks_fail", "likely")
    assert (code, out) == (1, "")
    assert err == (
        f"{model}: error: the file is read-only (mode 0444); nothing was written\n"
        "    hint: make it writable first (chmod u+w) if you mean to change it\n"
    )
    assert model.read_bytes() == SAMPLE.encode()
    assert model.stat().st_mode & 0o777 == 0o444


def test_a_hard_linked_file_is_refused(capsys, model):
    """Issue 12 item 2: a hard-linked file was silently split (the other name kept the
    old text). Refused: replacing it would split the link, writing it in place would
    give up the all-or-nothing write."""
    other = model.parent / "other-name.yaml"
    os.link(model, other)
    code, _, err = run(capsys, "set", str(model), "talks_fail", "likely")
    assert code == 1
    assert err.startswith(f"{model}: error: the file has 2 hard links; replacing it would")
    assert model.read_bytes() == other.read_bytes() == SAMPLE.encode()
    assert os.stat(model).st_ino == os.stat(other).st_ino


@needs_root
def test_owner_group_and_mode_are_kept(capsys, model):
    """Issue 12 item 2: root editing another user's file made it root's."""
    os.chown(model, OTHER_UID, OTHER_UID)
    model.chmod(0o640)
    code, _, _ = run(capsys, "set", str(model), "talks_fail", "likely")
    assert code == 0
    st = model.stat()
    assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (OTHER_UID, OTHER_UID, 0o640)
    assert model.read_text() == SAMPLE.replace("p:    unlikely", "p:    likely")


def _warm(capsys, tmp_path) -> None:
    """Import everything `set` needs (the other user may not read the Python install)."""
    scratch = tmp_path / "warm.yaml"
    scratch.write_text(SAMPLE)
    assert run(capsys, "set", str(scratch), "talks_fail", "likely")[0] == 0
    assert run(capsys, "set", str(scratch), "nope", "likely")[0] == 1


@needs_root
def test_a_read_only_folder_is_named(capsys, tmp_path, shared_dir):
    """Issue 12 item 2: the error for a folder that cannot be written names the folder."""
    _warm(capsys, tmp_path)
    folder = shared_dir(0o555, owner=OTHER_UID)
    path = folder / "m.yaml"
    folder.chmod(0o755)
    path.write_text(SAMPLE)
    os.chown(path, OTHER_UID, OTHER_UID)
    folder.chmod(0o555)
    code, _, err = as_other_user(lambda: run(capsys, "set", str(path), "talks_fail", "likely"))
    assert code == 1
    assert err == (
        f"{path}: error: cannot write in the folder '{folder}': permission denied\n"
        "    hint: riskchain replaces a file through a temporary file and a lock file in its "
        "folder; the folder must be writable\n"
    )
    assert path.read_bytes() == SAMPLE.encode()


@needs_root
def test_a_file_the_user_may_not_write_is_refused(capsys, tmp_path, shared_dir):
    _warm(capsys, tmp_path)
    path = shared_dir(0o777) / "m.yaml"
    path.write_text(SAMPLE)
    path.chmod(0o644)  # root's; the other user may read it only
    code, _, err = as_other_user(lambda: run(capsys, "set", str(path), "talks_fail", "likely"))
    assert code == 1
    assert err == (
        f"{path}: error: the file is not writable for you (mode 0644, owner uid 0); "
        "nothing was written\n    hint: ask its owner to make the change, or edit a copy\n"
    )
    assert path.read_bytes() == SAMPLE.encode()


@needs_root
def test_another_users_writable_file_is_refused(capsys, tmp_path, shared_dir):
    """A file others may write but that belongs to someone else: replacing it would
    make it the editor's (only root can give it back), so it is refused."""
    _warm(capsys, tmp_path)
    path = shared_dir(0o777) / "m.yaml"
    path.write_text(SAMPLE)
    path.chmod(0o666)
    code, _, err = as_other_user(lambda: run(capsys, "set", str(path), "talks_fail", "likely"))
    assert code == 1
    assert err.startswith(f"{path}: error: the file belongs to another user or group (uid 0")
    assert path.read_bytes() == SAMPLE.encode()
    assert path.stat().st_uid == 0


@needs_root
def test_the_other_user_edits_their_own_file(capsys, tmp_path, shared_dir):
    """The same path works for an ordinary user editing their own file (no root bypass)."""
    _warm(capsys, tmp_path)
    folder = shared_dir(0o755, owner=OTHER_UID)
    path = folder / "m.yaml"
    path.write_text(SAMPLE)
    os.chown(path, OTHER_UID, OTHER_UID)
    path.chmod(0o600)
    code, _, err = as_other_user(lambda: run(capsys, "set", str(path), "talks_fail", "likely"))
    assert (code, err) == (0, f"set talks_fail p: unlikely -> likely ({path}:7:11)\n")
    st = path.stat()
    assert (st.st_uid, st.st_mode & 0o777) == (OTHER_UID, 0o600)
    assert path.read_text() == SAMPLE.replace("p:    unlikely", "p:    likely")
