"""The kinds of riskchain file, told from the document itself.

A model file lists ``nodes:``; a scenario file names its ``model:`` and lists
``scenarios:``. Every command that reads a file asks :func:`require_kind` for
the kind it wants first, so a file of another kind gets one message saying
what it is and what was wanted, not the other kind's "unknown key" errors.
A new kind of file (a ledger, an analyst's numbers) is one more
:class:`FileKind` in :data:`KINDS`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from riskchain.errors import FileKindError
from riskchain.spec.yamlsrc import Document, YNode


@dataclass(frozen=True)
class FileKind:
    """One kind of file.

    Attributes
    ----------
    name : str
        ``model`` or ``scenarios``.
    noun : str
        The kind in words: ``a model file``.
    markers : tuple of str
        Top-level keys that only this kind has; any one of them tells the kind.
    holds : str
        What a file of this kind has, for messages: ``'nodes:'``.
    readers : str
        The commands that read it, for the hint when such a file is given elsewhere.
    """

    name: str
    noun: str
    markers: tuple[str, ...]
    holds: str
    readers: str


MODEL = FileKind(
    "model",
    "a model file",
    ("nodes",),
    "'nodes:'",
    "a model file is read by show, set, export, query, explain, sensitivity, watch and "
    "graph; a scenario file names its model with 'model:' (see docs/scenario-format.md)",
)
SCENARIOS = FileKind(
    "scenarios",
    "a scenario file",
    ("scenarios", "model"),
    "'model:' and 'scenarios:'",
    "a scenario file is read by run, table, report and validate, and by query, explain, "
    "sensitivity, watch and graph with --scenario ID",
)
# In order of precedence: a document with 'nodes:' is a model, whatever else it has.
KINDS: tuple[FileKind, ...] = (MODEL, SCENARIOS)


def detect_kind(doc: Document) -> FileKind | None:
    """The kind of a parsed file, from its top-level keys; None when no kind's marker
    is there (the file is then read as the kind the command wants, and its errors
    say what is missing)."""
    return next((k for k in KINDS if _marker(doc.root, k) is not None), None)


def require_kind(doc: Document, wanted: FileKind) -> None:
    """Refuse a file of another kind than ``wanted`` with one located message.

    Raises
    ------
    FileKindError
        When the file is of a known kind other than ``wanted``.
    """
    found = detect_kind(doc)
    if found is None or found is wanted:
        return
    key = _marker(doc.root, found)
    assert key is not None
    hint = _own_model(doc) if found is SCENARIOS and wanted is MODEL else None
    raise FileKindError(
        (doc.path, key.line, key.col),
        (found.name, found.noun, found.holds),
        (wanted.name, wanted.noun, wanted.holds),
        hint or found.readers,
    )


def _marker(root: YNode, kind: FileKind) -> YNode | None:
    """The first of ``kind``'s marker keys in the file (its key node)."""
    if not root.is_map:
        return None
    for name in kind.markers:
        key = root.keynode(name)
        if key is not None:
            return key
    return None


def _own_model(doc: Document) -> str | None:
    """``its model is models/x.yaml``: where a scenario file's 'model:' points."""
    node = doc.root.get("model")
    if node is None or not node.is_scalar or not node.text.strip():
        return None
    path = os.path.normpath(Path(doc.path).parent / node.text.strip())
    return f"this scenario file's model is {path} (its 'model:'); give that file instead"
