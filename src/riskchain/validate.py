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


def validate_file(
    path: str | Path, max_table: float = 1 << 30, model: str | Path | None = None
) -> FileReport:
    """Validate one model or scenario file; never raises for problems in the file itself.

    A scenario file is checked with its model (``model``, when given, in place of the
    one it names), and each scenario's findings are checked to be possible under the
    model. ``max_table`` is the memory budget, in bytes, that the model's tables are
    sized against before they are built.

    Raises
    ------
    UsageError
        When ``model`` is given for a model file, or cannot be read as a model file.
    """
    from riskchain.compile import compile_spec
    from riskchain.spec.model import build_model
    from riskchain.spec.scenario import build_scenarios, is_scenario_document
    from riskchain.spec.yamlsrc import load_yaml

    name = str(path)
    try:
        doc = load_yaml(path, name)
        if is_scenario_document(doc):
            sf = build_scenarios(doc, Path(path), max_table, model)
            problems = _impossible_scenarios(sf, max_table)
            if problems:
                return FileReport(name, "scenario", problems)
            return FileReport(
                name,
                "scenario",
                [],
                f"{_count(len(sf.scenarios), 'scenario')} on model '{sf.model.id}'"
                + (f" ({sf.model_source()})" if sf.model_flag else "")
                + f", baseline '{sf.baseline}'",
            )
        if model is not None:
            raise UsageError(
                f"--model: {name} is a model file; --model replaces the model a scenario "
                "file names"
            )
        spec = build_model(doc, default_id=Path(path).stem, max_table=max_table)
        compile_spec(spec)
        spec.issue_warnings()
    except SpecError as exc:
        return FileReport(name, "model", list(exc.diagnostics))
    n = len(spec.nodes)
    edges = sum(len(node.parents) for node in spec.nodes.values())
    return FileReport(
        name, "model", [], f"model '{spec.id}': {_count(n, 'node')}, {_count(edges, 'edge')}"
    )


def _impossible_scenarios(sf, max_table: float) -> list[Diagnostic]:
    from riskchain.analysis.scenarios import scenario_model
    from riskchain.errors import ImpossibleEvidenceError
    from riskchain.model import Model

    model = Model(sf.model)
    out = []
    for s in sf.scenarios.values():
        try:
            scenario_model(model, s).query(
                given=s.given, do=s.do, likelihood=s.likelihood, targets=[], max_table=max_table
            )
        except ImpossibleEvidenceError as exc:
            out.append(
                Diagnostic(
                    sf.path,
                    s.line,
                    s.col,
                    f"scenario '{s.id}': {exc}",
                    "a finding, or a number set by the scenario, rules the others out; check the model's zeros",
                )
            )
    return out


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def validate_paths(
    paths: Iterable[str | Path], max_table: float = 1 << 30, model: str | Path | None = None
) -> list[FileReport]:
    """Validate every file named (folders: every YAML file inside), each model's
    tables sized against ``max_table`` bytes; ``model`` replaces the model each
    scenario file names."""
    return [validate_file(p, max_table, model) for p in expand_paths(paths)]
