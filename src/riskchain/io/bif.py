"""Import of BIF networks (``.bif``, ``.bif.gz``) through pgmpy's reader.

The model file written keeps every state name and every number exactly as
pgmpy read it; CPT rows are written with every parent named
(``A=s1, B=s2: {...}``), which is long but leaves nothing implicit.
:func:`to_yaml` and :func:`checked` are also the model-file writer and check
of the other formats' importers (:mod:`riskchain.io.formats`).
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from riskchain.compile import CompiledModel
from riskchain.errors import Diagnostic, RiskchainError
from riskchain.io import yamlout as Y

FORMATS = (".bif", ".bif.gz")


class ImportFailure(RiskchainError):
    """A network file could not be read or converted.

    Given ``path`` (and ``line``/``col`` where known) it prints as
    ``path:line:col: error: message``; otherwise the message is printed as is.
    """

    def __init__(self, message: str, *, path: str | None = None, line: int = 0, col: int = 0):
        self.diagnostic = Diagnostic(path, line, col, message) if path is not None else None
        super().__init__(self.diagnostic.format() if self.diagnostic else message)

    def lines(self) -> list[str]:
        if self.diagnostic is not None:
            return str(self).splitlines()
        return super().lines()


@dataclass
class Imported:
    """A network read from another tool's file.

    ``model`` holds the tables as read (each column renormalized to sum to 1
    exactly, as the validator would); ``raw`` keeps the numbers as written.
    ``labels`` are node labels the file gives (written to the model file when
    they differ from the id); ``fmt`` and ``reader`` name the file's format and
    what read it; ``notes`` say what the import had to change or invent.
    """

    model: CompiledModel
    raw: dict[str, np.ndarray]
    source: str
    labels: dict[str, str] = field(default_factory=dict)
    fmt: str = "BIF"
    reader: str = "pgmpy reader"
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def sum_warning(imp: Imported) -> str | None:
    """The one warning for a file whose distributions sum to 1 only roughly (within
    :data:`~riskchain.compile.IMPORT_TOLERANCE`, else the import fails): how many, by
    how much, and that they were renormalized. None when every sum is 1 within 1e-6."""
    from riskchain.compile import IMPORT_TOLERANCE, sum_gaps

    count, worst = sum_gaps(imp.raw)
    if not count:
        return None
    what = "1 distribution sums" if count == 1 else f"{count} distributions sum"
    return (
        f"{what} to 1 only within {worst:.2g} (six-decimal numbers such as 0.333333 "
        f"three times): renormalized, as any sum within {IMPORT_TOLERANCE:g} of 1 is"
    )


def read_bif(path: str | Path) -> Imported:
    """Read a BIF file (optionally gzip-compressed) with pgmpy's ``BIFReader``.

    Raises
    ------
    ImportFailure
        When the file is missing, not BIF, or its tables do not sum to 1.
    """
    p = Path(path)
    name = p.name
    where = str(path)
    if not (name.endswith(".bif") or name.endswith(".bif.gz")):
        raise ImportFailure(
            f"cannot import this file type; riskchain imports {', '.join(FORMATS)}", path=where
        )
    from riskchain.io.files import gunzip_input, read_input

    data = read_input(p, where)  # a regular file only (never a FIFO), size-capped
    try:
        # unpacked under the same cap as any input: a gzip bomb is refused, not unpacked
        text = (gunzip_input(data, where) if name.endswith(".gz") else data).decode("utf-8")
    except (OSError, UnicodeDecodeError, EOFError) as exc:
        raise ImportFailure(f"not a readable BIF file ({exc})", path=where) from None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgmpy.readwrite import BIFReader

        try:
            reader = BIFReader(string=text)
        except Exception as exc:  # pgmpy raises assorted errors on bad input
            raise ImportFailure(f"pgmpy could not parse it as BIF: {exc}", path=where) from None
    names = [str(n) for n in reader.variable_names]
    if not names:
        raise ImportFailure("no variables found; is it a BIF file?", path=where)
    states = {n: [str(s) for s in reader.variable_states[n]] for n in names}
    parents = {n: [str(q) for q in reader.variable_parents.get(n, [])] for n in names}
    raw: dict[str, np.ndarray] = {}
    for n in names:
        if n not in reader.variable_cpds:
            raise ImportFailure(f"variable '{n}' has no probability table", path=where)
        values = np.asarray(reader.variable_cpds[n], dtype=np.float64)
        shape = [len(states[q]) for q in parents[n]]
        # pgmpy: rows are the node's states, columns the parent combinations (first parent slowest)
        raw[n] = np.moveaxis(values.reshape([len(states[n]), *shape]), 0, -1)
    model_id = name.removesuffix(".gz").removesuffix(".bif") or "network"
    try:
        model = CompiledModel.from_tables(model_id, names, [states[n] for n in names], parents, raw)
    except (ValueError, KeyError) as exc:
        raise ImportFailure(str(exc), path=where) from None
    return Imported(model, raw, name)


def to_yaml(imp: Imported) -> str:
    """The model file text for an imported network (every format's importer writes with this).

    Node labels are written where the file gave one that differs from the id;
    ``imp.notes`` become comment lines under the header.
    """
    m = imp.model
    description = f"Imported from {imp.source} ({imp.fmt}) with {imp.reader}."
    lines = [
        f"# Imported by 'riskchain import' from {imp.source}.",
        "# State names and numbers are exactly as read; every CPT row names every parent.",
        *(f"# Note: {note}" for note in imp.notes),
        *(f"# Warning: {text}" for text in imp.warnings),
        "riskchain: 1",
        f"id: {Y.scalar(m.id)}",
        f"title: {Y.scalar(m.id)}",
        f"description: {Y.block_text(description, 2)}",
        "nodes:",
    ]
    for i, n in enumerate(m.names):
        arr = imp.raw[n]
        lines.append(f"  {Y.scalar(n)}:")
        label = imp.labels.get(n, "").strip()
        if label and label != n:
            lines.append(f"    label: {Y.block_text(' '.join(label.split()), 6)}")
        lines.append(f"    states: {Y.flow_list(m.states[i])}")
        ps = m.parents[i]
        if not ps:
            lines.append(f"    p: {Y.dist(m.states[i], arr)}")
            continue
        pnames = [m.names[q] for q in ps]
        lines.append(f"    parents: {Y.flow_list(pnames)}")
        lines.append("    cpt:")
        pstates = [m.states[q] for q in ps]
        for combo in itertools.product(*(range(len(s)) for s in pstates)):
            key = Y.row_key([(pn, pstates[k][j]) for k, (pn, j) in enumerate(zip(pnames, combo))])
            lines.append(f"      {key}: {Y.dist(m.states[i], arr[combo])}")
    return "\n".join(lines) + "\n"


def import_network(path: str | Path) -> tuple[str, CompiledModel]:
    """Read a network file and return ``(model file text, compiled model)``.

    The text is validated by reading it back, and its tables are checked to
    equal the ones read from the file, before it is returned.

    Raises
    ------
    ImportFailure
        If the file cannot be read or the round trip changes a number.
    """
    imp = read_bif(path)
    note = sum_warning(imp)
    imp.warnings += [note] if note else []
    text = to_yaml(imp)
    return text, checked(text, imp, path)


def checked(text: str, imp: Imported, path: str | Path) -> CompiledModel:
    """The model compiled from ``text``, checked to equal the network read.

    Raises
    ------
    ImportFailure
        If the text does not validate or a table changed on the way.
    """
    from riskchain.compile import compile_spec
    from riskchain.errors import SpecError
    from riskchain.spec.model import parse_model_text

    try:
        back = compile_spec(parse_model_text(text, f"{imp.model.id}.yaml", imp.model.id))
    except SpecError as exc:  # names the file gives that a model file cannot hold
        raise ImportFailure(
            f"the model file written does not validate:\n{exc}", path=str(path)
        ) from None
    for i, name in enumerate(imp.model.names):
        if back.states[back.index[name]] != imp.model.states[i] or not np.allclose(
            back.cpts[back.index[name]], imp.model.cpts[i], rtol=0, atol=1e-15
        ):  # pragma: no cover - would be a bug in the writer
            raise ImportFailure(f"node '{name}' changed in the round trip", path=str(path))
    return back
