"""Impact of an outcome: a UK National Risk Register level, or a number with a unit.

Impact is shown beside probability, never multiplied with it unless it is a
number with a unit (then an expected impact is meaningful). An ordinal level
times a probability band is not a quantity (Cox 2008), so riskchain never
computes one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from riskchain.errors import listing, power_text, shorten
from riskchain.spec.probability import Context
from riskchain.spec.yamlsrc import YNode

NRR_LEVELS = ("Minor", "Limited", "Moderate", "Significant", "Catastrophic")
# A numeric impact's magnitude is at most this: every whole number up to it is exact
# in floating point, and expected impacts summed over states and scenarios stay finite.
VALUE_MAX = 1e15
IMPACT_HINT = (
    "impact is a level 1-5 (Minor, Limited, Moderate, Significant, Catastrophic), "
    "{value: number, unit: text}, or a mapping {state: impact} for chosen states"
)


@dataclass(frozen=True)
class Impact:
    """An ordinal NRR level (1-5) or a numeric value with its unit."""

    level: int | None = None
    value: float | None = None
    unit: str | None = None

    @property
    def numeric(self) -> bool:
        return self.value is not None

    def label(self) -> str:
        """``4 Significant`` or ``2.5 bn USD``."""
        if self.level is not None:
            return f"{self.level} {NRR_LEVELS[self.level - 1]}"
        value = f"{self.value:g}"
        return f"{value} {self.unit}" if self.unit else value

    def to_json(self) -> dict:
        if self.level is not None:
            return {"level": self.level, "label": NRR_LEVELS[self.level - 1]}
        return {"value": self.value, "unit": self.unit}


def parse_impact(node: YNode, ctx: Context, owner: str) -> Impact | None:
    """Parse one impact value (not the per-state mapping)."""
    if node.is_scalar:
        kind = node.scalar_type()
        if kind == "int":
            # compared as a float: int() of a 309-digit level would overflow
            level = node.number()
            if level is not None and 1 <= level <= 5:
                return Impact(level=int(level))
            ctx.error(
                node, f"impact level of {owner} must be 1 to 5, not {shorten(node.text)}", IMPACT_HINT
            )
            return None
        if kind == "float":
            ctx.error(
                node,
                f"impact level of {owner} must be a whole number 1 to 5, not {shorten(node.text)}",
                IMPACT_HINT,
            )
            return None
        if kind == "str":
            for i, name in enumerate(NRR_LEVELS, start=1):
                if node.text.strip().lower() == name.lower():
                    return Impact(level=i)
            ctx.error(
                node,
                f"unknown impact '{shorten(node.text)}' of {owner}",
                ctx.suggest(node.text, NRR_LEVELS) or IMPACT_HINT,
            )
            return None
    if node.is_map and node.get("level") is not None and len(node.items) == 1:
        return parse_impact(node.get("level"), ctx, owner)
    if node.is_map and (node.get("value") is not None or node.get("unit") is not None):
        for key, knode, _ in node.pairs():
            if key not in ("value", "unit"):
                ctx.error(
                    knode,
                    f"unknown key '{key}' in impact of {owner}",
                    ctx.suggest(key, ("value", "unit")),
                )
                return None
        if node.get("value") is None:
            ctx.error(node, f"impact of {owner} gives a unit but no 'value'", IMPACT_HINT)
            return None
        value = node.get("value").number()
        if value is None or math.isnan(value):
            ctx.error(node.get("value"), f"impact value of {owner} must be a number", IMPACT_HINT)
            return None
        if not abs(value) <= VALUE_MAX:  # .inf, and numbers written beyond a float, too
            ctx.error(
                node.get("value"),
                f"impact value of {owner} is {shorten(node.get('value').text)}; its size must be at most "
                f"{power_text(VALUE_MAX)}",
                "give the value in a larger unit, e.g. {value: 2.5, unit: bn USD}",
            )
            return None
        unit_node = node.get("unit")
        unit = unit_node.text if unit_node is not None and unit_node.is_scalar else None
        return Impact(value=value, unit=unit)
    ctx.error(
        node, f"impact of {owner} must be a level or a value, found {node.describe()}", IMPACT_HINT
    )
    return None


def parse_node_impact(
    node: YNode, states: tuple[str, ...], ctx: Context, nid: str
) -> dict[str, Impact] | None:
    """``impact:`` of a node: one impact (for its adverse states) or ``{state: impact}``."""
    keys = [k for k, _, _ in node.pairs()] if node.is_map else []
    if keys and (any(k in ctx.members(states) for k in keys) or not {"value", "unit", "level"} & set(keys)):
        out: dict[str, Impact] = {}
        ok = True
        known = ctx.members(states)
        for state, knode, value in node.pairs():
            if state not in known:
                hint = ctx.suggest(state, states) or f"the states of '{nid}' are: {listing(states)}"
                ctx.error(knode, f"impact of '{nid}' names no state '{state}'", hint)
                ok = False
                continue
            imp = parse_impact(value, ctx, f"'{nid}={state}'")
            if imp is None:
                ok = False
                continue
            out[state] = imp
        return out if ok else None
    imp = parse_impact(node, ctx, f"'{nid}'")
    return {"*": imp} if imp is not None else None
