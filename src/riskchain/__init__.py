"""riskchain: scenario and conditional-risk modelling with discrete Bayesian networks.

Analysts write "if X then Y" reasoning as a Bayesian network in YAML and ask
what-if questions of it::

    import riskchain
    model = riskchain.load_model("models/korea_russia_2024.yaml")
    result = model.query(given={"nis_satellite_photos": "yes"},
                         do={"nato_member_enters_war": "yes"})
    result.posteriors            # {node: {state: probability}}
    result.evidence_probability  # P(findings), after the interventions

    run = riskchain.run_scenarios("scenarios/korea_russia_2024.yaml")
    run.result("reported").posteriors   # each scenario of a scenario file, answered

Importing this package is cheap: pgmpy, matplotlib and pandas are imported
only by the functions that need them, and the scenario functions only when
first used.
"""

from __future__ import annotations

from riskchain._version import __version__
from riskchain.errors import (
    Diagnostic,
    FileKindError,
    ImpossibleEvidenceError,
    RiskchainError,
    SpecError,
    TooLargeError,
    UsageError,
)
from riskchain.model import Model, QueryResult, load_model

__all__ = [
    "Diagnostic",
    "FileKindError",
    "ImpossibleEvidenceError",
    "Model",
    "QueryResult",
    "RiskchainError",
    "SpecError",
    "TooLargeError",
    "UsageError",
    "__version__",
    "load_model",
    "load_scenarios",
    "run_scenarios",
]

# Imported on first use (see __getattr__): the scenario machinery is not needed to
# load a model and ask it a question.
_LAZY = {
    "run_scenarios": "riskchain.analysis.scenarios",
    "load_scenarios": "riskchain.analysis.scenarios",
}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'riskchain' has no attribute '{name}'")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
