"""``impact`` and ``adverse`` in model files: every accepted form, every error, and
which states a risk table reports (``outcome_states``) with their impact (``impact_of``)."""

from __future__ import annotations

import pytest

from riskchain.errors import SpecError
from riskchain.spec.impact import Impact
from riskchain.spec.model import NodeSpec, parse_model_text

HINT = (
    "impact is a level 1-5 (Minor, Limited, Moderate, Significant, Catastrophic), "
    "{value: number, unit: text}, or a mapping {state: impact} for chosen states"
)


def threat(line: str) -> NodeSpec:
    """The graded node 'threat' with one more line (written at line 6, column 5) and,
    unless that line says otherwise, ``adverse: [elevated, severe]`` after it."""
    extra = "" if "adverse" in line else "    adverse: [elevated, severe]\n"
    text = (
        "riskchain: 1\n"
        "nodes:\n"
        "  threat:\n"
        "    states: [low, elevated, severe]\n"
        "    p: {low: 0.5, elevated: 0.3}\n"
        f"    {line}\n" + extra
    )
    return parse_model_text(text, "m.yaml").nodes["threat"]


def errors(line: str) -> list[str]:
    """The formatted errors of 'threat' with that line."""
    with pytest.raises(SpecError) as info:
        threat(line)
    return [d.format() for d in info.value.diagnostics]


def node(body: str, states: str = "") -> NodeSpec:
    """A binary root node 'n' (states no/yes unless given) with ``body`` lines."""
    head = f"    states: {states}\n" if states else ""
    text = f"riskchain: 1\nnodes:\n  n:\n{head}    p: 0.2\n{body}"
    return parse_model_text(text, "m.yaml").nodes["n"]


# ----------------------------------------------------------------------------- accepted forms


@pytest.mark.parametrize(
    ("written", "level", "label"),
    [
        ("1", 1, "1 Minor"),
        ("2", 2, "2 Limited"),
        ("3", 3, "3 Moderate"),
        ("4", 4, "4 Significant"),
        ("5", 5, "5 Catastrophic"),
        ("Minor", 1, "1 Minor"),
        ("limited", 2, "2 Limited"),
        ("MODERATE", 3, "3 Moderate"),
        ("Significant", 4, "4 Significant"),
        ("catastrophic", 5, "5 Catastrophic"),
        ("{level: 4}", 4, "4 Significant"),
    ],
)
def test_level_as_number_or_label(written, level, label):
    """A level 1-5 or its NRR label (any case) applies to every reported state."""
    spec = threat(f"impact: {written}")
    assert spec.impact == {"*": Impact(level=level)}
    assert spec.impact["*"].label() == label
    assert not spec.impact["*"].numeric


def test_value_with_unit():
    """``{value, unit}``: a numeric impact, which may be multiplied by a probability."""
    spec = threat("impact: {value: 2.5, unit: bn USD}")
    assert spec.impact == {"*": Impact(value=2.5, unit="bn USD")}
    assert spec.impact["*"].numeric
    assert spec.impact["*"].label() == "2.5 bn USD"
    assert spec.impact["*"].to_json() == {"value": 2.5, "unit": "bn USD"}


def test_value_without_unit():
    """The unit is optional."""
    spec = threat("impact: {value: 40}")
    assert spec.impact == {"*": Impact(value=40.0)}
    assert spec.impact["*"].label() == "40"


def test_per_state_mapping():
    """``{state: impact}``: one impact per state named, of either kind."""
    spec = threat("impact: {elevated: 3, severe: {value: 1200, unit: deaths}}")
    assert spec.impact == {
        "elevated": Impact(level=3),
        "severe": Impact(value=1200.0, unit="deaths"),
    }
    assert spec.impact["elevated"].to_json() == {"level": 3, "label": "Moderate"}


def test_no_impact():
    """Without ``impact`` the node has none."""
    assert threat("label: Threat").impact == {}


@pytest.mark.parametrize(
    ("written", "adverse"),
    [
        ("adverse: [severe]", ("severe",)),
        ("adverse: [severe, elevated]", ("severe", "elevated")),
        ("adverse: severe", ("severe",)),
        ("adverse: [severe, severe]", ("severe",)),
    ],
)
def test_adverse_forms(written, adverse):
    """A list of states (or one name), in the order written, repeats dropped."""
    assert threat(written).adverse == adverse


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize("level", ["0", "6", "-1"])
def test_level_out_of_range(level):
    """Levels run 1 to 5."""
    assert errors(f"impact: {level}") == [
        f"m.yaml:6:13: error: impact level of 'threat' must be 1 to 5, not {level}\n    hint: {HINT}"
    ]


@pytest.mark.parametrize("level", ["9" * 309, "0x" + "f" * 300, "1" + "0" * 400])
def test_level_beyond_any_float_is_out_of_range(level):
    """A level of 309 digits was an OverflowError traceback; it is out of range, named shortly."""
    shown = level[:59] + "…"
    assert errors(f"impact: {level}") == [
        f"m.yaml:6:13: error: impact level of 'threat' must be 1 to 5, not {shown}\n    hint: {HINT}"
    ]


@pytest.mark.parametrize("value", ["1e16", "-2e300", "9" * 309, ".inf"])
def test_value_beyond_exact_whole_numbers_is_refused(value):
    """A numeric impact above 1e15 (where floats stop counting every unit) is refused."""
    shown = value if len(value) <= 60 else value[:59] + "…"
    assert errors(f"impact: {{value: {value}, unit: USD}}") == [
        f"m.yaml:6:21: error: impact value of 'threat' is {shown}; its size must be at most 1e15"
        "\n    hint: give the value in a larger unit, e.g. {value: 2.5, unit: bn USD}"
    ]


def test_value_up_to_the_limit_is_kept():
    assert threat("impact: {value: -1e15, unit: USD}").impact["*"].value == -1e15


def test_level_not_whole():
    """2.5 is neither a level nor a value."""
    assert errors("impact: 2.5") == [
        f"m.yaml:6:13: error: impact level of 'threat' must be a whole number 1 to 5, not 2.5\n    hint: {HINT}"
    ]


def test_unknown_label_with_did_you_mean():
    """A misspelt label is named with the nearest one."""
    assert errors("impact: Signifcant") == [
        "m.yaml:6:13: error: unknown impact 'Signifcant' of 'threat'\n    hint: did you mean 'Significant'?"
    ]


def test_unknown_label_far_from_any():
    """No label near: the hint lists the forms."""
    assert errors("impact: huge") == [
        f"m.yaml:6:13: error: unknown impact 'huge' of 'threat'\n    hint: {HINT}"
    ]


def test_value_not_a_number():
    """The value must be a number; the error points at it."""
    assert errors("impact: {value: lots, unit: USD}") == [
        f"m.yaml:6:21: error: impact value of 'threat' must be a number\n    hint: {HINT}"
    ]


def test_value_with_an_unknown_key():
    """``units`` for ``unit``."""
    assert errors("impact: {value: 3, units: USD}") == [
        "m.yaml:6:24: error: unknown key 'units' in impact of 'threat'\n    hint: did you mean 'unit'?"
    ]


def test_unit_without_value():
    """A unit alone is reported as a missing value."""
    assert errors("impact: {unit: USD}") == [
        f"m.yaml:6:13: error: impact of 'threat' gives a unit but no 'value'\n    hint: {HINT}"
    ]


def test_per_state_mapping_naming_an_unknown_state():
    """A misspelt state in the mapping is named, with did-you-mean, at its key."""
    assert errors("impact: {elevated: 3, sever: 5}") == [
        "m.yaml:6:27: error: impact of 'threat' names no state 'sever'\n    hint: did you mean 'severe'?"
    ]


def test_per_state_mapping_with_only_unknown_states():
    """Every key that is no state is reported; the hint lists the states when none is near."""
    assert errors("impact: {bad: 3, worse: 5}") == [
        "m.yaml:6:14: error: impact of 'threat' names no state 'bad'\n"
        "    hint: the states of 'threat' are: low, elevated, severe",
        "m.yaml:6:22: error: impact of 'threat' names no state 'worse'\n"
        "    hint: the states of 'threat' are: low, elevated, severe",
    ]


def test_per_state_mapping_with_a_bad_level():
    """The state is named in the owner of the error."""
    assert errors("impact: {elevated: 0, severe: 5}") == [
        f"m.yaml:6:24: error: impact level of 'threat=elevated' must be 1 to 5, not 0\n    hint: {HINT}"
    ]


@pytest.mark.parametrize(("written", "found"), [("[3]", "a list"), ("true", "a boolean")])
def test_impact_of_the_wrong_kind(written, found):
    """A list or a boolean is neither a level nor a value."""
    assert errors(f"impact: {written}") == [
        f"m.yaml:6:13: error: impact of 'threat' must be a level or a value, found {found}\n    hint: {HINT}"
    ]


def test_adverse_naming_an_unknown_state():
    """Did-you-mean, pointing at the misspelt state."""
    assert errors("adverse: [severe, elevatd]") == [
        "m.yaml:6:23: error: 'adverse' of 'threat' names no state 'elevatd'\n"
        "    hint: did you mean 'elevated'?"
    ]


def test_adverse_naming_a_state_far_from_any():
    """No state near: the hint lists the states."""
    assert errors("adverse: [catastrophe]") == [
        "m.yaml:6:15: error: 'adverse' of 'threat' names no state 'catastrophe'\n"
        "    hint: the states of 'threat' are: low, elevated, severe"
    ]


def test_adverse_not_a_list():
    """A mapping is not a list of states."""
    assert errors("adverse: {severe: 1}") == [
        "m.yaml:6:14: error: 'adverse' must be a list of names, found a mapping"
    ]


def test_impact_checked_even_when_the_table_is_bad():
    """A bad ``p`` does not hide a bad impact of the same node."""
    text = "riskchain: 1\nnodes:\n  n:\n    p: 1.5\n    impact: 7\n"
    with pytest.raises(SpecError) as info:
        parse_model_text(text, "m.yaml")
    assert [d.format() for d in info.value.diagnostics] == [
        "m.yaml:4:8: error: probability 1.5 is outside [0, 1]\n    hint: for a percentage write '1.5%'",
        f"m.yaml:5:13: error: impact level of 'n' must be 1 to 5, not 7\n    hint: {HINT}",
    ]


# ----------------------------------------------------------------------------- outcome_states


def test_outcome_of_a_binary_node_is_yes():
    """no/yes: the yes state."""
    assert node("").outcome_states() == ("yes",)


def test_outcome_of_a_binary_node_with_yes_first():
    """yes is found by name, wherever it is (any case)."""
    assert node("", "[Yes, No]").outcome_states() == ("Yes",)


def test_outcome_of_a_binary_node_without_yes_is_its_second_state():
    """peace/war: war."""
    assert node("", "[peace, war]").outcome_states() == ("war",)


def test_outcome_of_a_graded_node_is_every_state():
    """Without ``adverse``: all three."""
    assert threat("adverse: []").outcome_states() == ("low", "elevated", "severe")


def test_outcome_with_adverse():
    """``adverse`` picks the states, in its order."""
    assert threat("adverse: [severe, elevated]").outcome_states() == ("severe", "elevated")


def test_adverse_overrides_yes_on_a_binary_node():
    """A binary node whose adverse state is 'no'."""
    assert node("    adverse: [no]\n").outcome_states() == ("no",)


# ----------------------------------------------------------------------------- impact_of


def test_single_impact_applies_to_the_reported_states_only():
    """``impact: 4`` with adverse severe: severe has it, elevated and low do not."""
    spec = threat("impact: 4\n    adverse: [severe]")
    assert spec.impact_of("severe") == Impact(level=4)
    assert spec.impact_of("elevated") is None
    assert spec.impact_of("low") is None


def test_single_impact_on_a_binary_node():
    """Only the yes state carries it."""
    spec = node("    impact: Catastrophic\n")
    assert spec.impact_of("yes") == Impact(level=5)
    assert spec.impact_of("no") is None


def test_single_impact_on_a_graded_node_without_adverse():
    """One impact on a graded node without 'adverse' would rate its good states too: an error."""
    text = (
        "riskchain: 1\nnodes:\n  threat:\n    states: [low, elevated, severe]\n"
        "    p: {low: 0.5, elevated: 0.3}\n    impact: 4\n"
    )
    with pytest.raises(SpecError) as info:
        parse_model_text(text, "m.yaml")
    assert [d.format() for d in info.value.diagnostics] == [
        "m.yaml:6:13: error: one impact for the graded node 'threat' would apply to every state, "
        "good ones included\n"
        "    hint: say which states it describes with adverse: [...], or give one per state: {state: level}"
    ]


def test_single_impact_with_adverse_applies_to_the_adverse_states():
    spec = threat("impact: {value: 3, unit: m GBP}")
    assert [spec.impact_of(s) for s in ("low", "elevated", "severe")] == [None] + [
        Impact(value=3.0, unit="m GBP")
    ] * 2


def test_per_state_impacts():
    """Each named state has its own; a state not named has none."""
    spec = threat("impact: {elevated: 3, severe: 5}\n    adverse: [elevated, severe]")
    assert spec.impact_of("elevated") == Impact(level=3)
    assert spec.impact_of("severe") == Impact(level=5)
    assert spec.impact_of("low") is None


def test_no_impact_at_all():
    """A node without ``impact``."""
    assert threat("adverse: [severe]").impact_of("severe") is None
