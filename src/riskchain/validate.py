"""``riskchain validate``: check model files and report every problem at once."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from riskchain.errors import Diagnostic, SpecError, UsageError


@dataclass
class FileReport:
    """The outcome of validating one file."""

    path: str
    kind: str  # "model"
    diagnostics: list[Diagnostic] = field(default_factory=list)
    summary: str = ""

    @property
    def ok(self) -> bool:
        return not self.diagnostics


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files named, plus every ``*.yaml``/``*.yml`` under folders named (sorted).

    Raises
    ------
    UsageError
        When a path does not exist or a folder holds no YAML files.
    """
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found = sorted([*p.rglob("*.yaml"), *p.rglob("*.yml")])
            if not found:
                raise UsageError(f"{raw}: no .yaml files in this folder")
            out.extend(found)
        elif p.exists():
            out.append(p)
        else:
            raise UsageError(f"{raw}: no such file or folder")
    return out


def validate_file(path: str | Path) -> FileReport:
    """Validate one model file; never raises for problems in the file itself."""
    from riskchain.compile import compile_spec
    from riskchain.spec.model import load_model_spec

    name = str(path)
    try:
        spec = load_model_spec(path, name)
        compile_spec(spec)
    except SpecError as exc:
        return FileReport(name, "model", list(exc.diagnostics))
    n = len(spec.nodes)
    edges = sum(len(node.parents) for node in spec.nodes.values())
    return FileReport(
        name, "model", [], f"model '{spec.id}': {_count(n, 'node')}, {_count(edges, 'edge')}"
    )


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def validate_paths(paths: Iterable[str | Path]) -> list[FileReport]:
    """Validate every file named (folders: every YAML file inside)."""
    return [validate_file(p) for p in expand_paths(paths)]
