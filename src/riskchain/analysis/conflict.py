"""Evidence conflict (Jensen, Chamberlain, Nordahl & Jensen 1991; Hugin):

    conf(e) = log2 [ Π_i P(e_i) / P(e) ]

Findings that support each other under the model are more likely together than
apart (conf ≤ 0); findings that pull against each other are less likely together
than apart (conf > 0), a sign that one of them is wrong, rare, or that the model
misses a way they can both hold. Base 2: conf = 1 means the findings are twice as
unlikely together as their separate probabilities suggest.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from riskchain.engine.plan import DEFAULT_MAX_TABLE
from riskchain.model import Model

#: conf above this counts as a conflict; below it is rounding (a single finding gives ±1e-16).
TOLERANCE = 1e-9


def conflict(
    model: Model,
    given: Mapping[str, str] | None = None,
    likelihood: Mapping[str, Mapping[str, float]] | None = None,
    do: Mapping[str, str] | None = None,
    max_table: float = DEFAULT_MAX_TABLE,
) -> float:
    """The conflict measure of the findings, in bits: log2 of Π P(e_i) / P(e).

    Each hard finding and each likelihood is one e_i; interventions stay in force in
    every term (the probabilities are those of the model after surgery). All the
    terms come from one batched engine call: one batch element per finding alone and
    one with all of them.

    Parameters
    ----------
    model : Model
        The model (with a scenario's numbers in place, if any).
    given, likelihood, do : mapping, optional
        Findings, virtual evidence and interventions, as in :meth:`Model.query`.
    max_table : float
        Memory budget in bytes.

    Returns
    -------
    float
        0.0 with fewer than two findings; ``inf`` when the findings are impossible
        together but each is possible alone; positive values flag a conflict (compare
        with :data:`TOLERANCE`).

    Raises
    ------
    UsageError
        Unknown names or states, a node both observed and forced.
    TooLargeError
        When the solve would exceed ``max_table``.
    """
    from riskchain.engine.exact import infer
    from riskchain.errors import UsageError

    m = model.compiled
    ev = model._assignments(given, "given")
    dv = model._assignments(do, "do")
    lk = model._likelihoods(likelihood)
    for name in (set(ev) | set(lk)) & set(dv):
        raise UsageError(f"'{name}' is both observed and forced (do); choose one")
    findings: dict[int, np.ndarray] = {}
    for name, state in ev.items():
        i = m.index[name]
        findings[i] = np.eye(m.cards[i])[m.state(name, state)]
    for name, vec in lk.items():
        findings[m.index[name]] = np.asarray(vec, dtype=np.float64)
    n = len(findings)
    if n < 2:
        return 0.0
    # element k < n: finding k alone (rows of ones elsewhere); element n: all of them
    soft = {}
    for k, (i, vec) in enumerate(findings.items()):
        arr = np.ones((n + 1, m.cards[i]))
        arr[k] = vec
        arr[n] = vec
        soft[i] = arr
    forced = {m.index[k]: m.state(k, v) for k, v in dv.items()}
    res = infer(m, [], {}, forced, soft, max_table_bytes=max_table)
    log_e = res.log_evidence
    if not np.all(np.isfinite(log_e[:n])):
        return math.nan  # a finding impossible even alone: the question is not a conflict
    if not math.isfinite(float(log_e[n])):
        return math.inf
    return float((log_e[:n].sum() - log_e[n]) / math.log(2))
