"""JSON Schemas of model and scenario files: generated from the validators, published
in ``docs/schema``, and never stricter than riskchain.

YAML is turned into JSON data with riskchain's own composer (:func:`to_data`), so
the schema sees what riskchain sees: YAML 1.2 scalars, ``yes`` stays text, a date
stays text. Files are fed back to riskchain as JSON, which is YAML 1.2 too.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import riskchain.schema as schema_mod
from riskchain import scales
from riskchain.errors import SpecError, UsageError
from riskchain.schema import SCHEMA_FILES, SchemaDriftError, build_schema, render_schema
from riskchain.spec import impact as spec_impact
from riskchain.spec import model as spec_model
from riskchain.spec import parametric as spec_parametric
from riskchain.spec import scenario as spec_scenario
from riskchain.spec import tables as spec_tables
from riskchain.spec.model import parse_model_text
from riskchain.spec.probability import Context, parse_prob
from riskchain.spec.scenario import build_scenarios
from riskchain.spec.yamlsrc import YNode, load_yaml, parse_yaml
from riskchain.validate import validate_file

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_DIR = ROOT / "docs" / "schema"
GOLDEN = [
    *sorted((ROOT / "tests" / "golden" / "errors").glob("*.yaml")),
    *sorted((ROOT / "tests" / "golden" / "scenario_errors").glob("*.yaml")),
    *sorted((ROOT / "tests" / "golden" / "scenario_errors" / "models").glob("*.yaml")),
]
BUNDLED = [
    *sorted((ROOT / "models").glob("*.yaml")),
    *sorted((ROOT / "scenarios").glob("*.yaml")),
    ROOT / "tests" / "data" / "models" / "tiny.yaml",
]


def to_data(node: YNode) -> Any:
    """A YAML node as plain JSON data, typed as riskchain types it (YAML 1.2 core schema)."""
    if node.is_map:
        return {key: to_data(value) for key, _, value in node.pairs()}
    if node.is_seq:
        return [to_data(item) for item in node.items]
    kind = node.scalar_type()
    if kind == "null":
        return None
    if kind == "bool":
        return node.text.lower() == "true"
    if kind == "int":
        return int(node.text, 0) if node.text[:2] in ("0o", "0x") else int(node.text)
    if kind == "float":
        return node.number()
    return node.text


def kind_of(data: dict) -> str:
    return "scenario" if "scenarios" in data or "model" in data else "model"


@functools.cache
def validator(kind: str, definition: str | None = None) -> jsonschema.Draft202012Validator:
    """The schema of ``kind``, or one of its definitions (``#/$defs/NAME``)."""
    schema = build_schema(kind)
    if definition is not None:
        schema = {"$defs": schema["$defs"], "$ref": f"#/$defs/{definition}"}
    return jsonschema.Draft202012Validator(schema)


def schema_errors(data: Any, kind: str) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator(kind).iter_errors(data)
    ]


def riskchain_errors(data: dict, folder: Path) -> list[str]:
    """Validate ``data`` (written as JSON, i.e. YAML 1.2) with riskchain; the messages."""
    text = json.dumps(data, indent=1)
    try:
        if kind_of(data) == "model":
            parse_model_text(text, "m.yaml")
        else:
            path = folder / "s.yaml"
            path.write_text(text)
            build_scenarios(parse_yaml(text, "s.yaml"), path)
    except SpecError as exc:
        return [d.message for d in exc.diagnostics]
    return []


# ----------------------------------------------------------------------------- published files


@pytest.mark.parametrize("kind", schema_mod.SCHEMA_KINDS)
def test_published_schema_is_current(kind):
    """docs/schema/*.json are exactly what the code generates."""
    path = SCHEMA_DIR / SCHEMA_FILES[kind]
    assert path.read_text(encoding="utf-8") == render_schema(kind), (
        f"{path.relative_to(ROOT)} has drifted from the validators; "
        "regenerate it with: python -m riskchain.schema docs/schema"
    )


@pytest.mark.parametrize("kind", schema_mod.SCHEMA_KINDS)
def test_schema_is_valid_draft_2020_12(kind):
    schema = json.loads(render_schema(kind))
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] and schema["title"]
    assert "riskchain validate" in schema["description"]
    assert render_schema(kind) == render_schema(kind)


def test_unknown_kind_is_a_usage_error():
    with pytest.raises(UsageError, match=r"unknown schema 'graph' \(kinds: model, scenario\)"):
        render_schema("graph")


def test_entry_point_writes_both_files(tmp_path, capsys):
    assert schema_mod.main([str(tmp_path / "out")]) == 0
    for kind, name in SCHEMA_FILES.items():
        assert (tmp_path / "out" / name).read_text(encoding="utf-8") == render_schema(kind)
    assert "model.schema.json" in capsys.readouterr().out
    assert schema_mod.main([]) == 2


@pytest.mark.parametrize("path", BUNDLED[:-1], ids=lambda p: p.relative_to(ROOT).as_posix())
def test_bundled_files_name_their_schema(path):
    """The first line tells yaml-language-server which schema to validate and complete with."""
    first = path.read_text(encoding="utf-8").splitlines()[0]
    kind = "model" if path.parent.name == "models" else "scenario"
    m = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first)
    assert m, first
    assert (path.parent / m.group(1)).resolve() == SCHEMA_DIR / SCHEMA_FILES[kind]


# ----------------------------------------------------------------------------- drift guard


def closed_objects(node: Any, where: str = "#") -> list[tuple[str, tuple[str, ...]]]:
    """Every object of the schema with ``additionalProperties: false`` and its keys."""
    out = []
    if isinstance(node, dict):
        if node.get("additionalProperties") is False:
            out.append((where, tuple(node.get("properties", {}))))
        for key, value in node.items():
            out += closed_objects(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += closed_objects(value, f"{where}/{i}")
    return out


def test_model_schema_keys_are_the_validators_keys():
    schema = build_schema("model")
    assert tuple(schema["properties"]) == spec_model.MODEL_KEYS
    assert tuple(schema["$defs"]["node"]["properties"]) == spec_model.NODE_KEYS
    found = {keys for _, keys in closed_objects(schema)}
    assert found == {
        spec_model.MODEL_KEYS,
        spec_model.NODE_KEYS,
        spec_model.SOURCE_KEYS,
        spec_model.ROW_KEYS,
        spec_parametric.CAUSE_KEYS,
        schema_mod.RANKED_KEYS,
        schema_mod.LOGIC_KEYS,
        schema_mod.IMPACT_LEVEL_KEYS,
        schema_mod.IMPACT_VALUE_KEYS,
    }


def test_scenario_schema_keys_are_the_validators_keys():
    schema = build_schema("scenario")
    assert tuple(schema["properties"]) == spec_scenario.SCENARIO_FILE_KEYS
    found = {keys for _, keys in closed_objects(schema)}
    assert found == {
        spec_scenario.SCENARIO_FILE_KEYS,
        spec_scenario.SCENARIO_KEYS,
        spec_scenario.SET_KEYS,
        # the parametric forms a set writes in, as the model file does
        spec_parametric.CAUSE_KEYS,
        schema_mod.RANKED_KEYS,
        schema_mod.LOGIC_KEYS,
    }


def test_word_lists_come_from_the_code():
    defs = build_schema("model")["$defs"]
    words = [w for s in scales.SCALES.values() for w in s.words()]
    assert defs["estimativeTerm"]["anyOf"][0]["enum"] == list(dict.fromkeys(words))
    assert defs["confidence"]["anyOf"][0]["enum"] == list(spec_tables.CONFIDENCE_LEVELS)
    assert defs["impactLevel"]["oneOf"][1]["anyOf"][0]["enum"] == list(spec_impact.NRR_LEVELS)
    assert defs["scale"]["anyOf"][0]["enum"] == list(scales.SCALES)
    assert defs["noisy"]["properties"]["form"]["enum"] == list(spec_parametric.FORMS)
    ranked = defs["ranked"]["properties"]["function"]["anyOf"][0]["enum"]
    assert ranked == list(spec_parametric.RANKED_FUNCTIONS)
    version = build_schema("scenario")["properties"]["riskchain"]["const"]
    assert version == spec_model.FORMAT_VERSION


def test_a_key_added_to_a_validator_fails_the_build(monkeypatch):
    monkeypatch.setattr(spec_model, "NODE_KEYS", (*spec_model.NODE_KEYS, "weight"))
    with pytest.raises(SchemaDriftError, match=r"node.*NODE_KEYS.*not described.*: weight"):
        build_schema("model")


def test_a_key_removed_from_a_validator_fails_the_build(monkeypatch):
    keys = tuple(k for k in spec_scenario.SET_KEYS if k != "confidence")
    monkeypatch.setattr(spec_scenario, "SET_KEYS", keys)
    with pytest.raises(SchemaDriftError, match="not accepted by the validator: confidence"):
        build_schema("scenario")


def test_a_described_key_the_validator_lacks_fails_the_build(monkeypatch):
    monkeypatch.setitem(schema_mod.FIELDS["model"], "author", (schema_mod.TEXT, "Who wrote it."))
    with pytest.raises(SchemaDriftError, match="author"):
        build_schema("model")


# ----------------------------------------------------------------------------- never stricter than riskchain


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_bundled_files_pass(path):
    data = to_data(load_yaml(path).root)
    assert schema_errors(data, kind_of(data)) == []


def test_every_golden_file_riskchain_accepts_passes():
    accepted = []
    for path in GOLDEN:
        if not validate_file(path).ok:
            continue
        accepted.append(path.name)
        data = to_data(load_yaml(path).root)
        assert schema_errors(data, kind_of(data)) == [], path
    assert {"ok_sum_within_tolerance.yaml", "ok_scenarios.yaml"} <= set(accepted)


@pytest.mark.parametrize(
    "case",
    [
        "errors/unknown_key_model",
        "errors/unknown_key_node",
        "errors/unknown_key_row",
        "errors/unknown_key_source",
        "errors/bad_confidence",
        "errors/prob_out_of_range",
        "errors/unknown_term",
        "errors/version_2",
        "errors/version_missing",
        "errors/version_quoted_1_0",
        "errors/states_too_few",
        "errors/state_duplicate",
        "errors/state_comma_pipe",
        "errors/p_with_parents",
        "errors/cpt_on_root",
        "errors/type_title_list",
        "scenario_errors/unknown_key_file",
        "scenario_errors/unknown_key_scenario",
        "scenario_errors/unknown_key_set",
        "scenario_errors/set_out_of_range",
        "scenario_errors/likelihood_negative",
        "scenario_errors/version_unsupported",
        "scenario_errors/targets_empty",
    ],
)
def test_golden_files_with_errors_in_form_are_rejected(case):
    data = to_data(load_yaml(ROOT / "tests" / "golden" / f"{case}.yaml").root)
    assert schema_errors(data, kind_of(data))


# A model and a scenario file that use every key the schemas describe.
FULL_MODEL = """\
riskchain: 1
id: full
title: Every key
horizon: 12 months
description: Uses every key of the format.
scale: ICD203
strength: 30
sources:
  memo: {title: Internal memo, date: 2024-01-01, url: "https://example.org/m", publisher: Ministry, note: leaked}
  wire: Wire report
  2024: A source whose id is a number
targets: [d, e]
nodes:
  a:
    label: A
    description: A root node.
    p: likely
    note: Why.
    source: memo
    sources: [wire, 2024]
    confidence: High
    impact: 3
  b:
    states: [no, yes]
    p: {yes: 35%}
    impact: {level: Significant}
    strength: 12.5
  c:
    states: [low, '0', high]
    p: {low: 0.2, '0': [0.3, '40%']}
    impact: {'0': moderate, high: {value: 2.5, unit: bn USD}}
    adverse: ['0', high]
  d:
    parents: a
    cpt:
      a=yes:
        p: beta(3, 7)
        note: Row note.
        source: memo
        sources: [wire]
        confidence: low
      default: Very_Likely
  e:
    parents: [a, c]
    noisy_or:
      form: net
      leak: "0.05"
      a: {p: 0.7, state: yes, note: n, source: memo, sources: [wire], confidence: moderate}
      c: {p: 40%, state: high}
  f:
    parents: [a, b]
    noisy_and: {leak: 0.9, a: 0.3, b: 0.5}
  g:
    parents: [a, b]
    logic: {at_least: 1}
  h:
    parents: [a, b, g]
    logic: or
  i:
    states: [low, mid, high]
    parents: [a, c]
    noisy_max:
      form: compound
      leak: {low: 0.8, mid: 0.15}
      a: {yes: {low: 0.5, mid: 0.3}}
      c: {absent: low, '0': {low: 0.6, mid: 0.3}, high: {low: 0.2, mid: 0.3}}
  j:
    states: [low, mid, high]
    parents: [c, i]
    ranked: {function: WMEAN, weights: {c: 2, i: 1}, variance: 0.05}
  k:
    states: [low, mid, high, extreme]
    parents: [c, i]
    ranked: {function: mixminmax, weights: [1, 2], variance: 0.1}
"""

FULL_SCENARIOS = """\
riskchain: 1
model: full.yaml
title: Every key
description: Uses every key of the format.
targets: e
baseline: base
scenarios:
  base:
    description: Nothing seen.
  seen:
    extends: base
    given: {a: yes}
    do: {b: no}
    likelihood: {c: {low: 0.1, '0': 0.5, high: 1}}
    set:
      d:
        cpt:
          a=no: 0.2
        note: Why.
        source: memo
        sources: [wire]
        confidence: moderate
      c: {p: {low: almost no chance, high: 0.5}}
  forms:
    extends: seen
    description: The numbers of every parametric form, in part.
    set:
      e:
        noisy_or:
          form: compound
          leak: 0.1
          a: {p: likely, note: n, sources: [wire], confidence: low}
      f: {noisy_and: {b: 0.4}}
      g: {logic: {at_least: 2}}
      h: {logic: and}
      i:
        noisy_max:
          leak: {low: 0.7, mid: 0.2}
          c: {high: {low: 0.1, mid: 0.3}}
      j: {ranked: {weights: {i: 3}}}
      k: {ranked: {function: MixMinMax, weights: [2, 1], variance: 0.2}}
"""


@pytest.fixture
def full(tmp_path) -> tuple[dict, dict]:
    """The full model and scenario file as JSON data (the model also written to tmp_path)."""
    (tmp_path / "full.yaml").write_text(FULL_MODEL)
    model = to_data(parse_yaml(FULL_MODEL, "full.yaml").root)
    scenarios = to_data(parse_yaml(FULL_SCENARIOS, "s.yaml").root)
    return model, scenarios


def test_every_key_passes_both(full, tmp_path):
    """Every key and every value form: riskchain accepts the files, so must the schema."""
    model, scenarios = full
    for data in (model, scenarios):
        assert riskchain_errors(data, tmp_path) == []
        assert schema_errors(data, kind_of(data)) == []
    assert scenarios["scenarios"]["seen"]["given"] == {"a": "yes"}  # YAML 1.2: text
    used = {k for node in model["nodes"].values() for k in node}
    assert used == set(spec_model.NODE_KEYS)
    sets = [b for sc in scenarios["scenarios"].values() for b in (sc or {}).get("set", {}).values()]
    assert {k for body in sets for k in body} == set(spec_scenario.SET_KEYS)


UNKNOWN_KEY_AT = {
    "model": [],
    "source": ["sources", "memo"],
    "node": ["nodes", "a"],
    "extended row": ["nodes", "d", "cpt", "a=yes"],
    "cause": ["nodes", "e", "noisy_or", "a"],
    "logic": ["nodes", "g", "logic"],
    "ranked": ["nodes", "j", "ranked"],
    "impact level": ["nodes", "b", "impact"],
    "impact value": ["nodes", "c", "impact", "high"],
    "scenario file": [],
    "scenario": ["scenarios", "seen"],
    "set": ["scenarios", "seen", "set", "d"],
    "set cause": ["scenarios", "forms", "set", "e", "noisy_or", "a"],
    "set ranked": ["scenarios", "forms", "set", "k", "ranked"],
}


@pytest.mark.parametrize("where", UNKNOWN_KEY_AT)
def test_unknown_key_fails_both(where, full, tmp_path):
    model, scenarios = full
    data = copy.deepcopy(scenarios if where.startswith(("scenario", "set")) else model)
    target = data
    for key in UNKNOWN_KEY_AT[where]:
        target = target[key]
    target["colour"] = "blue"
    assert schema_errors(data, kind_of(data)), where
    assert riskchain_errors(data, tmp_path), where


BAD_VALUES = {
    "probability 1.5": (["nodes", "a", "p"], 1.5),
    "negative probability": (["nodes", "c", "p", "low"], -0.1),
    "unknown term": (["nodes", "a", "p"], "perhaps"),
    "probability as a boolean": (["nodes", "a", "p"], True),
    "range of three": (["nodes", "d", "cpt", "default"], [0.1, 0.2, 0.3]),
    "range of terms": (["nodes", "d", "cpt", "default"], ["likely", "very likely"]),
    "unknown confidence": (["nodes", "a", "confidence"], "very high"),
    "format version 2": (["riskchain"], 2),
    "format version as text": (["riskchain"], "1"),
    "unknown scale": (["scale"], "nato"),
    "state with a comma": (["nodes", "c", "states"], ["low", "a,b", "high"]),
    "state '*'": (["nodes", "c", "states"], ["low", "*", "high"]),
    "bad node id": (["targets"], ["1st"]),
    "row key without '='": (["nodes", "d", "cpt"], {"yes": 0.3}),
    "impact level 6": (["nodes", "a", "impact"], 6),
    "unknown impact label": (["nodes", "a", "impact"], "Severe"),
    "logic xor": (["nodes", "h", "logic"], "xor"),
    "unknown form": (["nodes", "e", "noisy_or", "form"], "compund"),
    "zero variance": (["nodes", "j", "ranked", "variance"], 0),
    "ranked with two states": (["nodes", "j", "states"], ["low", "high"]),
    "noisy_or on a graded node": (["nodes", "e", "states"], ["a", "b", "c"]),
    "p and cpt": (["nodes", "d", "p"], 0.5),
    "p on a node with parents": (["nodes", "e"], {"parents": ["a"], "p": 0.5}),
    "root without p": (["nodes", "a"], {"label": "A"}),
    "no nodes": (["nodes"], {}),
}


@pytest.mark.parametrize("case", BAD_VALUES)
def test_bad_value_fails_both(case, full, tmp_path):
    model, _ = full
    path, value = BAD_VALUES[case]
    data = copy.deepcopy(model)
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert schema_errors(data, "model"), case
    assert riskchain_errors(data, tmp_path), case


BAD_SCENARIO_VALUES = {
    "format version 2": (["riskchain"], 2),
    "no model": (["model"], None),
    "negative likelihood": (["scenarios", "seen", "likelihood", "c", "low"], -1),
    "observation not a state": (["scenarios", "seen", "given", "a"], ["yes"]),
    "set without p or cpt": (["scenarios", "seen", "set", "c"], {"note": "n"}),
    "set probability 1.2": (["scenarios", "seen", "set", "d", "cpt", "a=no"], 1.2),
    "set p and noisy_or": (["scenarios", "forms", "set", "e", "p"], 0.3),
    "set zero variance": (["scenarios", "forms", "set", "k", "ranked", "variance"], 0),
    "set unknown noisy form": (["scenarios", "forms", "set", "e", "noisy_or", "form"], "netto"),
    "set logic xor": (["scenarios", "forms", "set", "h", "logic"], "xor"),
    "no scenarios": (["scenarios"], {}),
}


@pytest.mark.parametrize("case", BAD_SCENARIO_VALUES)
def test_bad_scenario_value_fails_both(case, full, tmp_path):
    _, scenarios = full
    path, value = BAD_SCENARIO_VALUES[case]
    data = copy.deepcopy(scenarios)
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    data = {k: v for k, v in data.items() if v is not None}
    assert schema_errors(data, "scenario"), case
    assert riskchain_errors(data, tmp_path), case


# ----------------------------------------------------------------------------- probabilities

WORDS = [w for s in scales.SCALES.values() for w in s.words()]


@st.composite
def written_words(draw) -> str:
    """An estimative word as an analyst might type it: any case, any separators."""
    word = draw(st.sampled_from(WORDS))
    out = "".join(c.upper() if draw(st.booleans()) else c for c in word)
    out = re.sub(" ", lambda _: draw(st.sampled_from([" ", "_", "-", "  ", " - ", "\t"])), out)
    pad = st.sampled_from(["", " ", "_", "-"])
    return draw(pad) + out + draw(pad)


NUMBER = st.one_of(
    st.floats(-0.5, 150, allow_nan=False).map(lambda x: f"{x:.4g}"),
    st.sampled_from(["0", "1", ".5", "5.", "+0.3", "-0", "1e-2", "2E-1", "0.35e0", "1.0000001"]),
)
PROBABILITY_TEXT = st.one_of(
    written_words(),
    NUMBER,
    NUMBER.map(lambda x: f"{x}%"),
    NUMBER.map(lambda x: f" {x} %"),
    st.tuples(NUMBER, NUMBER).map(lambda ab: f"beta({ab[0]}, {ab[1]})"),
    st.tuples(NUMBER, NUMBER).map(lambda ab: f"BETA ( {ab[0]},{ab[1]} )"),
    st.text(alphabet="abetly() ,.%0123456789-_", max_size=14),
)


@settings(max_examples=300, deadline=None)
@given(PROBABILITY_TEXT, st.booleans())
def test_probability_text_riskchain_accepts_passes(text, quoted):
    """Quoted or plain, every probability riskchain accepts passes the schema's."""
    source = json.dumps(text) if quoted else text
    try:
        node = parse_yaml(f"v: {source}\n", "t.yaml").root.get("v")
    except SpecError:
        return  # not a YAML scalar when written plain
    if not any(parse_prob(node, Context("t.yaml", scale=s)) for s in scales.SCALES.values()):
        return
    assert not list(validator("model", "probability").iter_errors(to_data(node))), source


@pytest.mark.parametrize(
    "value",
    [
        0,
        1,
        0.35,
        "0.35",
        "35%",
        " 35 %",
        "beta(3, 7)",
        "Beta(0.5,2)",
        "likely",
        "Highly Probable",
        "almost_certain",
        "  remote ",
        "realistic possibility",
        "probably not",
        [0.2, "30%"],
    ],
)
def test_probability_forms_pass(value):
    assert not list(validator("model", "probability").iter_errors(value))


@pytest.mark.parametrize(
    "value",
    [
        1.5,
        -0.1,
        True,
        None,
        "",
        "perhaps",
        "likely likely",
        "_likely",
        "beta(3",
        "beta(3, 7",
        [0.1],
        ["likely", 0.2],
        {"p": 0.3},
        "35 %%",
    ],
)
def test_probability_non_forms_fail(value):
    assert list(validator("model", "probability").iter_errors(value)), value


def test_state_names_follow_the_code():
    check = validator("model", "stateName")
    for name in ["yes", "0", "<5", ">=7.5", "12+", "Asy/Patch", "a b", "x*", 0, True]:
        assert not list(check.iter_errors(name)), name
    for name in ["", " a", "a ", "a,b", "a|b", "*", None, [], {}]:
        assert list(check.iter_errors(name)), name


def test_row_keys_follow_the_code():
    check = validator("model", "rowKey")
    for key in ["default", "a=yes", "a=yes, b=no", " a = yes ,b=*", "a.b-c=x|y", "a=>=7.5"]:
        assert not list(check.iter_errors(key)), key
    for key in ["yes", "Default", "a=yes,", "1a=yes", "a yes, b=no", ""]:
        assert list(check.iter_errors(key)), key


def test_json_is_deterministic_text():
    text = render_schema("model")
    assert text.endswith("}\n") and "\t" not in text
    assert json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n" == text
