"""riskchain: scenario and conditional-risk modelling with discrete Bayesian networks.

Analysts write "if X then Y" reasoning as a Bayesian network in YAML and ask
what-if questions of it::

    import riskchain
    model = riskchain.load_model("models/korea_russia_2024.yaml")
    result = model.query(given={"nis_satellite_photos": "yes"},
                         do={"nato_member_enters_war": "yes"})
    result.posteriors            # {node: {state: probability}}
    result.evidence_probability  # P(findings), after the interventions

Importing this package is cheap: pgmpy, matplotlib and pandas are imported
only by the functions that need them.
"""

from __future__ import annotations

from riskchain._version import __version__
from riskchain.errors import (
    Diagnostic,
    ImpossibleEvidenceError,
    RiskchainError,
    SpecError,
    TooLargeError,
    UsageError,
)
from riskchain.model import Model, QueryResult, load_model

__all__ = [
    "Diagnostic",
    "ImpossibleEvidenceError",
    "Model",
    "QueryResult",
    "RiskchainError",
    "SpecError",
    "TooLargeError",
    "UsageError",
    "__version__",
    "load_model",
]
