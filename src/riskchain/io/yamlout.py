"""Writing model files: YAML text that riskchain (and any YAML 1.2 tool) reads back exactly.

Quoting is decided per value: names that another YAML tool would read as a
boolean, null or number (``TRUE``, ``no``, ``0``) or that start with a special
character (``<5``, ``>=7.5``) are single-quoted; numbers are written with
``repr``, the shortest text that reads back as the same float.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-/]*$")
_RESERVED = re.compile(
    r"^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|null|Null|NULL|~)$"
)
_KEY_PART = re.compile(r"^[A-Za-z0-9_.\-/<>=+]+$")


def scalar(text: str) -> str:
    """A name as a YAML scalar usable anywhere (flow or block), quoted only when needed."""
    if _PLAIN.match(text) and not _RESERVED.match(text):
        return text
    return "'" + text.replace("'", "''") + "'"


def row_key(pairs: Sequence[tuple[str, str]]) -> str:
    """``parent=state, parent=state`` as a block mapping key."""
    text = ", ".join(f"{p}={s}" for p, s in pairs)
    if all(_KEY_PART.match(s) for _, s in pairs) and _PLAIN.match(pairs[0][0]):
        return text
    return "'" + text.replace("'", "''") + "'"


def number(x: float) -> str:
    """Shortest round-tripping text of a float, in a form YAML 1.2 reads as a float."""
    text = repr(float(x))
    if text in ("inf", "-inf", "nan"):
        raise ValueError(f"not a probability: {text}")
    return text


def dist(states: Sequence[str], values: np.ndarray) -> str:
    """``{state: p, ...}`` in flow style."""
    return "{" + ", ".join(f"{scalar(s)}: {number(v)}" for s, v in zip(states, values)) + "}"


def flow_list(items: Sequence[str]) -> str:
    return "[" + ", ".join(scalar(s) for s in items) + "]"


def block_text(text: str, indent: int) -> str:
    """A possibly multi-line text as a YAML value (``|`` block when it has newlines)."""
    if "\n" not in text:
        return "'" + text.replace("'", "''") + "'"
    pad = " " * indent
    return "|\n" + "\n".join(pad + line if line else "" for line in text.rstrip("\n").split("\n"))
