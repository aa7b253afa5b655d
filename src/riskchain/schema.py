"""JSON Schemas (draft 2020-12) for model and scenario files, built from the validators.

The schemas are generated, never kept by hand: every fixed set of keys comes
from the tuple the validator checks (``MODEL_KEYS``, ``NODE_KEYS``, ...), every
list of allowed words from the code that accepts them (confidence levels, NRR
levels, the words of every estimative scale, parametric forms), and the
patterns of probabilities and names from the validators' own regular
expressions. What the code does not keep in a constant, a description, is
kept here in one table, :data:`FIELDS`, keyed by the validators' key names
(each parametric table kind describes its own keys, objects and definitions:
``schema_*`` in ``spec/parametric.py``);
:func:`build_schema` raises :class:`SchemaDriftError` when that table and a
validator disagree on a key, so a key added to the validator cannot be
forgotten here.

The published copies are ``docs/schema/model.schema.json`` and
``docs/schema/scenario.schema.json``; regenerate them with::

    python -m riskchain.schema docs/schema

JSON Schema checks keys, types and the form of each value. It cannot check
what depends on another part of the file (names of nodes, states and sources,
cycles, rows covering every parent combination, distributions summing to 1);
``riskchain validate`` does. The schema is meant never to reject a file that
riskchain accepts; it accepts some files that riskchain rejects.
"""

from __future__ import annotations

import copy
import json
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from riskchain import scales
from riskchain.errors import UsageError
from riskchain.spec import impact as spec_impact
from riskchain.spec import model as spec_model
from riskchain.spec import parametric as spec_parametric
from riskchain.spec import probability as spec_probability
from riskchain.spec import scenario as spec_scenario
from riskchain.spec import tables as spec_tables

Schema = dict[str, Any]

#: The kinds of file a schema is built for.
SCHEMA_KINDS = ("model", "scenario")
#: The file each schema is published as (in ``docs/schema``).
SCHEMA_FILES = {"model": "model.schema.json", "scenario": "scenario.schema.json"}
DIALECT = "https://json-schema.org/draft/2020-12/schema"

#: Keys the parsers check inline rather than in a module constant (see the
#: ``parse_*`` functions of ``spec/impact.py``; the parametric kinds' are kept by
#: each kind, ``schema_keys``); ``tests/test_schema.py`` checks that riskchain
#: accepts each and rejects others.
IMPACT_LEVEL_KEYS = ("level",)
IMPACT_VALUE_KEYS = ("value", "unit")
RANKED_KEYS = spec_parametric.RANKED_KEYS  # (named here too: the tests read them here)
LOGIC_KEYS = spec_parametric.LOGIC_KEYS

#: The objects with a fixed set of keys and where the validator keeps that set:
#: ``(module, attribute)``, read when the schema is built.
VALIDATOR_KEYS: dict[str, tuple[ModuleType, str]] = {
    "model": (spec_model, "MODEL_KEYS"),
    "node": (spec_model, "NODE_KEYS"),
    "source": (spec_model, "SOURCE_KEYS"),
    "row": (spec_model, "ROW_KEYS"),
    "cause": (spec_parametric, "CAUSE_KEYS"),
    "scenario file": (spec_scenario, "SCENARIO_FILE_KEYS"),
    "scenario": (spec_scenario, "SCENARIO_KEYS"),
    "set": (spec_scenario, "SET_KEYS"),
}
#: The same for keys checked inline (their tuples are kept above, and by each
#: parametric kind).
INLINE_KEYS: dict[str, tuple[str, ...]] = {
    **{obj: keys for kind in spec_parametric.kinds() for obj, keys in kind.schema_keys.items()},
    "impact level": IMPACT_LEVEL_KEYS,
    "impact value": IMPACT_VALUE_KEYS,
}


class SchemaDriftError(RuntimeError):
    """The description table and a validator disagree on the keys of an object."""


def ref(name: str) -> Schema:
    """``{"$ref": "#/$defs/NAME"}``."""
    return {"$ref": f"#/$defs/{name}"}


# ----------------------------------------------------------------------------- patterns


def _unanchored(pattern: re.Pattern[str]) -> str:
    text = pattern.pattern
    if not (text.startswith("^") and text.endswith("$")):
        raise SchemaDriftError(f"expected an anchored pattern, found {text!r}")
    return text[1:-1]


def _char(c: str) -> str:
    """One character for a pattern, escaped the same way in Python and ECMA-262."""
    return c if c.isalnum() or c in " ,|_=" else f"\\u{ord(c):04x}"


def _anycase_word(word: str) -> str:
    return "".join(
        f"[{c.lower()}{c.upper()}]" if c.isascii() and c.isalpha() else _char(c) for c in word
    )


def anycase_pattern(words: Iterable[str], *, strip: bool = False, loose: bool = False) -> str:
    """An anchored pattern matching ``words`` in any (ASCII) case.

    ``strip`` allows spaces around the word (the code strips it); ``loose``
    allows any run of spaces, ``_`` and ``-`` between the words of a term, as
    :func:`riskchain.scales.normalize_term` does.
    """
    alternatives = []
    for word in words:
        if loose:
            tokens = scales.normalize_term(word).split(" ")
            alternatives.append(r"[\s_-]+".join(_anycase_word(t) for t in tokens))
        else:
            alternatives.append(_anycase_word(word))
    pad = r"\s*" if strip else ""
    return f"^{pad}(?:{'|'.join(alternatives)}){pad}$"


def estimative_words() -> list[str]:
    """Every word of every scale in :data:`riskchain.scales.SCALES`, each once, in scale order."""
    out: list[str] = []
    for scale in scales.SCALES.values():
        for word in scale.words():
            if word not in out:
                out.append(word)
    return out


def _state_pattern() -> str:
    """A state name: not empty, no spaces at either end, none of ``,`` ``|``, not ``*``."""
    bad = "".join(_char(c) for c in spec_model._BAD_STATE_CHARS)
    return rf"^(?!\*$)[^\s{bad}](?:[^{bad}]*[^\s{bad}])?$"


def _row_key_pattern() -> str:
    """``default``, or ``parent=state, parent=a|b, parent=*`` (the states are not checked)."""
    part = rf"\s*{_unanchored(spec_model._NODE_ID)}\s*=[^,]*"
    return rf"^(?:default|{part}(?:,{part})*)$"


def _beta_pattern() -> str:
    beta = spec_probability._BETA
    if not beta.flags & re.IGNORECASE or "beta" not in beta.pattern:
        raise SchemaDriftError(f"unexpected beta pattern {beta.pattern!r}")
    return beta.pattern.replace("beta", _anycase_word("beta"), 1)


# ----------------------------------------------------------------------------- the key table

TEXT = ref("text")
NAMES = ref("names")
CONFIDENCE = ref("confidence")
STRENGTH = {"type": "number", "exclusiveMinimum": 0}
NOTE = (TEXT, "The analyst's reasoning for the numbers.")
SOURCE = (NAMES, "One source id declared under the model's top-level 'sources' (or a list).")
SOURCES = (NAMES, "Source ids declared under the model's top-level 'sources'.")
CONFIDENCE_FIELD = (
    CONFIDENCE,
    "How well founded the judgment is: low, moderate or high. It never changes a number.",
)

#: Type and description of every key of every object with fixed keys, keyed by
#: the validators' key names (see :data:`VALIDATOR_KEYS` and :data:`INLINE_KEYS`).
FIELDS: dict[str, dict[str, tuple[Schema, str]]] = {
    "model": {
        "riskchain": (
            {"type": "integer", "const": spec_model.FORMAT_VERSION},
            f"Format version; this riskchain reads version {spec_model.FORMAT_VERSION}.",
        ),
        "id": (
            {
                "type": ["string", "number", "boolean"],
                "pattern": spec_model._MODEL_ID.pattern,
            },
            "Model id: letters, digits, '_', '.' and '-'. Default: the file name without its extension.",
        ),
        "title": (TEXT, "One-line title. Default: the id."),
        "horizon": (
            TEXT,
            "The time window every probability refers to, as text (e.g. '24 months from October 2024').",
        ),
        "description": (TEXT, "Free text: what the model is for, and what its numbers rest on."),
        "scale": (
            ref("scale"),
            "The estimative-language scale whose words the file's probabilities use "
            f"({', '.join(scales.SCALES)}; default {scales.DEFAULT_SCALE.name}).",
        ),
        "strength": (
            STRENGTH,
            "For uncertainty analysis (--samples): the pseudo-count of a Dirichlet around every "
            "exact number of the model (a node's own strength wins). Terms, ranges and beta(a, b) "
            "keep their own spread.",
        ),
        "sources": (
            {
                "type": "object",
                "additionalProperties": ref("source"),
            },
            "Cited sources, keyed by id: a title alone, or {title, date, url, publisher, note}.",
        ),
        "targets": (
            ref("nodeIds"),
            "Node ids 'riskchain query' reports by default (default: every node).",
        ),
        "nodes": (
            {
                "type": "object",
                "minProperties": 1,
                "propertyNames": ref("nodeId"),
                "additionalProperties": ref("node"),
            },
            "The nodes, keyed by id (letters, digits, '_', '.' and '-'; not starting with a digit).",
        ),
    },
    "source": {
        "title": (TEXT, "The source's title (required)."),
        "date": (TEXT, "When it was published, as written (e.g. 2024-10-21)."),
        "url": (TEXT, "Where to find it."),
        "publisher": (TEXT, "Who published it."),
        "note": (TEXT, "Anything else about the source."),
    },
    "node": {
        "label": (TEXT, "Short human label. Default: the id."),
        "description": (TEXT, "Longer text about the node."),
        "states": (
            {
                "type": "array",
                "minItems": 2,
                "uniqueItems": True,
                "items": ref("stateName"),
            },
            "The node's state names, at least two, distinct. Default: [no, yes].",
        ),
        "parents": (
            {
                "oneOf": [
                    ref("nodeId"),
                    {"type": "array", "uniqueItems": True, "items": ref("nodeId")},
                ]
            },
            "The parent node ids (the causes); the graph must have no cycle.",
        ),
        "p": (
            ref("distribution"),
            "The distribution of a node without parents: a probability of the second state "
            "(binary node) or {state: probability}.",
        ),
        "cpt": (
            ref("cpt"),
            "The conditional table of a node with parents: rows keyed "
            "'parent=state, parent=state' (every parent named; 'a|b' or '*' for several states), "
            "and an optional 'default' row.",
        ),
        "note": NOTE,
        "source": SOURCE,
        "sources": SOURCES,
        "confidence": CONFIDENCE_FIELD,
        "impact": (
            ref("nodeImpact"),
            "How bad the outcome is: an NRR level 1-5 or its label, {value, unit}, "
            "or {state: impact}. Shown beside probability, never multiplied into it.",
        ),
        "adverse": (
            ref("stateNames"),
            "The states a risk table reports (default: yes for a binary node, every state otherwise).",
        ),
        "strength": (
            STRENGTH,
            "For uncertainty analysis (--samples): the pseudo-count of a Dirichlet around the "
            "node's exact numbers (e.g. 20: worth about 20 cases). Overrides the model's strength.",
        ),
    },
    "row": {
        "p": (ref("distribution"), "The row's probability or {state: probability}."),
        "note": NOTE,
        "source": SOURCE,
        "sources": SOURCES,
        "confidence": CONFIDENCE_FIELD,
    },
    "impact level": {
        "level": (ref("impactLevel"), "An NRR level 1-5 or its label."),
    },
    "impact value": {
        "value": ({"type": "number"}, "The size of the impact, a number."),
        "unit": (
            {"type": ["string", "number", "boolean", "null"]},
            "Its unit, as text (e.g. 'bn USD').",
        ),
    },
    "scenario file": {
        "riskchain": (
            {"type": "integer", "const": spec_model.FORMAT_VERSION},
            f"Format version; this riskchain reads version {spec_model.FORMAT_VERSION}.",
        ),
        "model": (TEXT, "The model file, relative to this file."),
        "title": (TEXT, "Text for the table's heading."),
        "description": (TEXT, "Text for the table's heading."),
        "targets": (
            {
                "oneOf": [
                    ref("nodeId"),
                    {"type": "array", "minItems": 1, "items": ref("nodeId")},
                ]
            },
            "The nodes the table reports (default: the model's targets, else every node).",
        ),
        "baseline": (
            TEXT,
            "The scenario changes are measured against (default: the first).",
        ),
        "scenarios": (
            {
                "type": "object",
                "minProperties": 1,
                "additionalProperties": ref("scenario"),
            },
            "The scenarios, keyed by id.",
        ),
    },
    "scenario": {
        "description": (TEXT, "One line for the table."),
        "extends": (
            TEXT,
            "The id of another scenario to start from: its findings and numbers, "
            "then this scenario's additions and overrides.",
        ),
        "given": (
            ref("nodeStates"),
            "Observations {node: state}: 'we saw this'. Beliefs about the node's causes move too.",
        ),
        "do": (
            ref("nodeStates"),
            "Interventions {node: state}: 'suppose this is made to happen'. "
            "The node's incoming arrows are cut; only its effects move.",
        ),
        "likelihood": (
            {
                "type": "object",
                "propertyNames": ref("nodeId"),
                "additionalProperties": ref("stateWeights"),
            },
            "Soft evidence {node: {state: weight, ...}} with a weight for every state; "
            "only ratios move beliefs.",
        ),
        "set": (
            {
                "type": "object",
                "propertyNames": ref("nodeId"),
                "additionalProperties": ref("set"),
            },
            "The analyst's own numbers for this scenario, {node: {p or cpt, or the "
            "numbers of the node's parametric form, ...}}, in model-file syntax.",
        ),
    },
    "set": {
        "p": (
            ref("distribution"),
            "Replaces every row of the node's table (on a node with parents: whatever its parents).",
        ),
        "cpt": (
            {
                "type": "object",
                "propertyNames": ref("rowKey"),
                "additionalProperties": ref("distribution"),
            },
            "Rows 'parent=state, ...: value' replace the combinations they name; "
            "a 'default' row replaces all the others.",
        ),
        "note": (TEXT, "Why these numbers."),
        "source": SOURCE,
        "sources": SOURCES,
        "confidence": CONFIDENCE_FIELD,
    },
}


def _add_kind_fields() -> None:
    """Each parametric kind describes its own node keys and objects (``schema_fields``)."""
    for kind in spec_parametric.kinds():
        for obj, table in kind.schema_fields(sys.modules[__name__]).items():
            FIELDS.setdefault(obj, {}).update(table)


_add_kind_fields()


def object_keys(kind: str) -> tuple[str, ...]:
    """The keys the validator accepts in an object of ``kind`` (see :data:`FIELDS`)."""
    if kind in VALIDATOR_KEYS:
        module, attribute = VALIDATOR_KEYS[kind]
        return tuple(getattr(module, attribute))
    return INLINE_KEYS[kind]


def properties(kind: str) -> Schema:
    """``properties`` of an object of ``kind``, in the validator's key order.

    Raises
    ------
    SchemaDriftError
        When the validator accepts a key :data:`FIELDS` does not describe, or
        :data:`FIELDS` describes a key the validator does not accept.
    """
    keys = object_keys(kind)
    table = FIELDS[kind]
    missing = [k for k in keys if k not in table]
    extra = [k for k in table if k not in keys]
    if missing or extra:
        where = (
            f"{VALIDATOR_KEYS[kind][0].__name__}.{VALIDATOR_KEYS[kind][1]}"
            if kind in VALIDATOR_KEYS
            else f"riskchain.schema.INLINE_KEYS[{kind!r}]"
        )
        parts = []
        if missing:
            parts.append(f"not described in riskchain.schema.FIELDS: {', '.join(missing)}")
        if extra:
            parts.append(f"described but not accepted by the validator: {', '.join(extra)}")
        raise SchemaDriftError(
            f"the keys of the {kind} object drifted from {where}: " + "; ".join(parts)
        )
    return {k: {"description": table[k][1], **table[k][0]} for k in keys}


def closed_object(kind: str, description: str, required: Sequence[str] = ()) -> Schema:
    """An object of ``kind`` whose keys are fixed: ``additionalProperties: false``."""
    out: Schema = {"description": description, "type": "object"}
    if required:
        out["required"] = list(required)
    out["properties"] = properties(kind)
    out["additionalProperties"] = False
    return out


# ----------------------------------------------------------------------------- definitions

_SCALAR_TEXT = ["string", "number", "boolean"]


def _common_defs() -> dict[str, Schema]:
    """Definitions shared by both schemas: names, probabilities, distributions."""
    num = spec_probability._NUMBER_TEXT.pattern
    pct = spec_probability._PERCENT.pattern
    words = estimative_words()
    unit = {"type": "number", "minimum": 0, "maximum": 1}
    return {
        "text": {
            "description": "Text. A YAML number, date or boolean is taken as written; "
            "an empty value is not text.",
            "type": _SCALAR_TEXT,
        },
        "names": {
            "description": "A name, or a list of names.",
            "oneOf": [{"type": _SCALAR_TEXT}, {"type": "array", "items": {"type": _SCALAR_TEXT}}],
        },
        "nodeId": {
            "description": "A node id: letters, digits, '_', '.' and '-', not starting with a digit "
            "(YAML 1.2 reads true and false as booleans; riskchain takes them as names).",
            "type": ["string", "boolean"],
            "pattern": spec_model._NODE_ID.pattern,
        },
        "nodeIds": {
            "description": "A node id, or a list of node ids.",
            "oneOf": [ref("nodeId"), {"type": "array", "items": ref("nodeId")}],
        },
        "stateName": {
            "description": "A state name, always text: yes, 0, '<5', '>=7.5' are all names. "
            "Not empty, no spaces at either end, no ',' or '|', not '*'.",
            "type": _SCALAR_TEXT,
            "pattern": _state_pattern(),
        },
        "stateNames": {
            "description": "A state name, or a list of state names.",
            "oneOf": [ref("stateName"), {"type": "array", "items": ref("stateName")}],
        },
        "probability": {
            "description": "A probability: a number in [0, 1], a percentage ('35%'), "
            "an estimative term (likely), a range [low, high] or beta(a, b).",
            "oneOf": [
                {"description": "A number from 0 to 1.", **unit},
                ref("quotedNumber"),
                ref("percentage"),
                {
                    "description": "beta(a, b) with a, b > 0: its mean a/(a+b) is the point "
                    "value, the distribution is kept for uncertainty analysis. "
                    "Quote it inside {...}: a comma ends a value there.",
                    "type": "string",
                    "pattern": _beta_pattern(),
                },
                ref("estimativeTerm"),
                {
                    "description": "A range [low, high] of numbers or percentages; "
                    "its midpoint is the point value.",
                    "type": "array",
                    "minItems": 2,
                    "maxItems": 2,
                    "items": {"oneOf": [unit, ref("quotedNumber"), ref("percentage")]},
                },
            ],
        },
        "quotedNumber": {
            "description": "A number from 0 to 1, written as text (e.g. quoted).",
            "type": "string",
            "pattern": num,
        },
        "percentage": {
            "description": "A percentage from 0% to 100% (e.g. 35%).",
            "type": "string",
            "pattern": pct,
        },
        "estimativeTerm": {
            "description": "An estimative term of the file's scale, standing for its range "
            "(point value: the midpoint). Any case; words separated by spaces, '_' or '-'. "
            "Scales: "
            + "; ".join(f"{s.name}: {', '.join(s.words())}" for s in scales.SCALES.values())
            + ".",
            "type": "string",
            "anyOf": [{"enum": words}, {"pattern": anycase_pattern(words, strip=True, loose=True)}],
        },
        "stateProbabilities": {
            "description": "{state: probability}. One state may be left out: it receives "
            "the remainder 1 - sum; otherwise the values sum to 1.",
            "type": "object",
            "minProperties": 1,
            "propertyNames": ref("stateName"),
            "additionalProperties": ref("probability"),
        },
        "distribution": {
            "description": "A distribution over the node's states: for a binary node a "
            "probability of its second state (with [no, yes], P(yes)), or {state: probability}.",
            "oneOf": [ref("probability"), ref("stateProbabilities")],
        },
        "confidence": {
            "description": "low, moderate or high (any case).",
            "type": "string",
            "anyOf": [
                {"enum": list(spec_tables.CONFIDENCE_LEVELS)},
                {"pattern": anycase_pattern(spec_tables.CONFIDENCE_LEVELS)},
            ],
        },
        "rowKey": {
            "description": "A row key: 'parent=state, parent=state' naming every parent "
            "('parent=a|b' for several states, 'parent=*' for all), or 'default'.",
            "type": "string",
            "pattern": _row_key_pattern(),
        },
    }


def _model_defs() -> dict[str, Schema]:
    kit = sys.modules[__name__]
    has_parents = {
        "required": ["parents"],
        "properties": {"parents": {"not": {"type": "array", "maxItems": 0}}},
    }
    ways = ("p", "cpt", *spec_parametric.PARAMETRIC_KEYS)
    node = closed_object("node", "One node: its states, parents, probabilities and provenance.")
    node["allOf"] = [
        {
            "description": "Exactly one of " + ", ".join(ways) + " gives the probabilities.",
            "oneOf": [{"required": [k]} for k in ways],
        },
        {
            "description": "A node with parents takes cpt or a parametric form; "
            "a node without parents takes p.",
            "if": has_parents,
            "then": {"not": {"required": ["p"]}},
            "else": {"required": ["p"]},
        },
    ]
    node["dependentSchemas"] = {
        key: rule for kind in spec_parametric.kinds() for key, rule in kind.schema_rules.items()
    }
    return {
        "scale": {
            "description": "An estimative-language scale (any case).",
            "type": "string",
            "anyOf": [
                {"enum": list(scales.SCALES)},
                {"pattern": anycase_pattern(scales.SCALES)},
            ],
        },
        "source": {
            "description": "A cited source: its title alone, or {title, date, url, publisher, note}.",
            "oneOf": [
                ref("text"),
                closed_object("source", "A cited source.", required=["title"]),
            ],
        },
        "node": node,
        "cpt": {
            "description": "Rows keyed by the parents' states, and an optional 'default' row "
            "for every combination not listed. Rows must not overlap; without 'default' "
            "every combination is listed.",
            "type": "object",
            "minProperties": 1,
            "propertyNames": ref("rowKey"),
            "additionalProperties": ref("cptRow"),
        },
        "cptRow": {
            "description": "A row's value: a distribution, or {p: distribution, note, "
            "source(s), confidence} (unless the node has a state named p).",
            "anyOf": [ref("distribution"), ref("annotatedRow")],
        },
        "annotatedRow": closed_object(
            "row", "A row with its provenance: {p, note, source, sources, confidence}.", ["p"]
        ),
        **{
            name: schema
            for kind in spec_parametric.kinds()
            for name, schema in kind.schema_defs(kit).items()
        },
        "impactLevel": {
            "description": "A UK National Risk Register level: 1 to 5, or its label "
            f"({', '.join(spec_impact.NRR_LEVELS)}; any case).",
            "oneOf": [
                {"type": "integer", "minimum": 1, "maximum": len(spec_impact.NRR_LEVELS)},
                {
                    "type": "string",
                    "anyOf": [
                        {"enum": list(spec_impact.NRR_LEVELS)},
                        {"pattern": anycase_pattern(spec_impact.NRR_LEVELS, strip=True)},
                    ],
                },
            ],
        },
        "impact": {
            "description": "One impact: an NRR level or label, {level}, or {value, unit}.",
            "oneOf": [
                ref("impactLevel"),
                closed_object("impact level", "An NRR level.", ["level"]),
                closed_object("impact value", "A number with its unit.", ["value"]),
            ],
        },
        "nodeImpact": {
            "description": "One impact (for the states a risk table reports), "
            "or {state: impact} for chosen states.",
            "anyOf": [
                ref("impact"),
                {
                    "type": "object",
                    "minProperties": 1,
                    "propertyNames": ref("stateName"),
                    "additionalProperties": ref("impact"),
                },
            ],
        },
    }


def _scenario_defs() -> dict[str, Schema]:
    return {
        "scenario": closed_object(
            "scenario",
            "One scenario: what it observes, forces, softens and sets, "
            "optionally starting from another.",
        ),
        "nodeStates": {
            "description": "{node: state}.",
            "type": "object",
            "propertyNames": ref("nodeId"),
            "additionalProperties": ref("stateName"),
        },
        "stateWeights": {
            "description": "{state: weight}: a nonnegative likelihood for every state of the "
            "node, not all zero.",
            "type": "object",
            "minProperties": 2,
            "propertyNames": ref("stateName"),
            "additionalProperties": {"type": "number", "minimum": 0},
        },
        "set": closed_object(
            "set",
            "The analyst's numbers for one node in this scenario: p and/or cpt, or the "
            "numbers of the model's parametric form, with note, sources and confidence.",
        )
        | {
            "oneOf": [
                {"anyOf": [{"required": ["p"]}, {"required": ["cpt"]}]},
                *({"required": [k]} for k in spec_parametric.PARAMETRIC_KEYS),
            ],
        },
        **_set_form_defs(),
    }


def _set_form_defs() -> dict[str, Schema]:
    """The parametric forms as a scenario's ``set`` writes them: any part of the model's."""
    model = _model_defs()
    kit = sys.modules[__name__]
    return {
        name: schema
        for kind in spec_parametric.kinds()
        for name, schema in kind.schema_set_defs(kit, model).items()
    }


_UNCHECKED = (
    "This schema checks keys, types and the form of each value, but not what depends on "
    "other parts of the file; 'riskchain validate' checks those too: "
)

_MODEL_UNCHECKED = (
    "that parents, targets, cpt rows, adverse states, impact states and sources name "
    "nodes, states and sources that exist; that the graph has no cycle; that cpt rows "
    "cover every parent combination exactly once (or a default row the rest); that a "
    "distribution sums to 1 or leaves out one state for the remainder; that a single "
    "probability is given only for a binary node; that a range's low end is not above its "
    "high end; that percentages are within 0-100% and beta parameters positive; that an "
    "estimative term belongs to the file's scale; and that parametric forms give one "
    "entry per parent and numbers consistent with their leak."
)

_SCENARIO_UNCHECKED = (
    "that the model file exists and is valid; that nodes, states, parents, targets, the "
    "baseline and extended scenarios exist; that 'extends' has no cycle; that a scenario "
    "does not both observe and force a node, nor give a likelihood to one it observes or "
    "forces; that likelihoods give a weight for every state, not all zero; that set "
    "distributions sum to 1 and set rows do not overlap; that a set's parametric form is "
    "the one the model gives the node, and its numbers fit the model's others; and that "
    "each scenario's findings "
    "are possible under the model."
)


def build_schema(kind: str) -> Schema:
    """The JSON Schema of a model or scenario file as a dict.

    Parameters
    ----------
    kind : str
        ``model`` or ``scenario``.

    Raises
    ------
    UsageError
        For any other kind.
    SchemaDriftError
        When :data:`FIELDS` and a validator disagree on the keys of an object.
    """
    if kind not in SCHEMA_KINDS:
        raise UsageError(f"unknown schema '{kind}' (kinds: {', '.join(SCHEMA_KINDS)})")
    header: Schema = {
        "$schema": DIALECT,
        "$id": f"urn:riskchain:schema:{kind}:{spec_model.FORMAT_VERSION}",
        "$comment": "Generated from riskchain's validators by 'python -m riskchain.schema "
        "docs/schema'; do not edit by hand.",
    }
    common = _common_defs()
    if kind == "model":
        root = closed_object(
            "model",
            f"A riskchain model file (format {spec_model.FORMAT_VERSION}): a discrete Bayesian "
            "network written in YAML 1.2 (yes, no and on are text, never booleans). "
            "See docs/model-format.md. " + _UNCHECKED + _MODEL_UNCHECKED,
            required=["riskchain", "nodes"],
        )
        title = f"riskchain model file (format {spec_model.FORMAT_VERSION})"
        defs = {**common, **_model_defs()}
    else:
        root = closed_object(
            "scenario file",
            f"A riskchain scenario file (format {spec_model.FORMAT_VERSION}): named futures "
            "over one model, compared in a risk table, written in YAML 1.2. "
            "See docs/scenario-format.md. " + _UNCHECKED + _SCENARIO_UNCHECKED,
            required=["riskchain", "model", "scenarios"],
        )
        title = f"riskchain scenario file (format {spec_model.FORMAT_VERSION})"
        defs = {**common, **_scenario_defs()}
    schema = {**header, "title": title, **root}
    schema["$defs"] = _reachable(schema, defs)
    return copy.deepcopy(schema)  # the parts taken from FIELDS are shared


def _refs(node: Any) -> Iterable[str]:
    """The names of the ``#/$defs/...`` references inside ``node``."""
    if isinstance(node, Mapping):
        target = node.get("$ref")
        if isinstance(target, str) and target.startswith("#/$defs/"):
            yield target.removeprefix("#/$defs/")
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _reachable(root: Schema, defs: Mapping[str, Schema]) -> dict[str, Schema]:
    """The definitions ``root`` uses, directly or not, in the order of ``defs``."""
    seen: set[str] = set()
    todo = list(_refs(root))
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        if name not in defs:
            raise SchemaDriftError(f"reference to an undefined definition '{name}'")
        seen.add(name)
        todo.extend(_refs(defs[name]))
    return {name: body for name, body in defs.items() if name in seen}


def render_schema(kind: str) -> str:
    """The JSON Schema of a model or scenario file as text, exactly as published.

    Parameters
    ----------
    kind : str
        ``model`` or ``scenario``.

    Returns
    -------
    str
        Indented JSON ending with a newline; the same text for the same code.

    Raises
    ------
    UsageError
        For any other kind (the message lists the kinds).
    """
    return json.dumps(build_schema(kind), indent=2, ensure_ascii=False) + "\n"


def write_schemas(folder: str | Path) -> list[Path]:
    """Write every schema into ``folder`` (created if missing), each through an atomic write.

    Returns
    -------
    list of Path
        The files written.
    """
    from riskchain.io.files import atomic_write

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in SCHEMA_KINDS:
        path = out / SCHEMA_FILES[kind]
        atomic_write(path, render_schema(kind))
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m riskchain.schema FOLDER``: write the schemas into FOLDER."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1 or args[0].startswith("-"):
        print("usage: python -m riskchain.schema FOLDER   (e.g. docs/schema)", file=sys.stderr)
        return 2
    for path in write_schemas(args[0]):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
