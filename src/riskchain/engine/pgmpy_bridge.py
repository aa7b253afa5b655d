"""The pgmpy bridge: the same questions answered through pgmpy.

Used as the reference every number of the fast engine is checked against,
and by ``--engine pgmpy``. pgmpy is imported only here, inside functions:
importing its inference stack costs seconds.

Semantics, mapped onto pgmpy:

* hard evidence -> ``evidence``;
* ``do(X = x)`` -> X's CPT replaced by a point mass on ``x`` with X's parents
  removed (graph surgery), then X observed at ``x`` (which then has
  probability 1, so P(evidence) is unchanged);
* likelihoods -> pgmpy ``virtual_evidence`` (scaled to a maximum of 1,
  which pgmpy requires, and the scale multiplied back into P(evidence));
* P(evidence) by the chain rule over findings, one pgmpy query per finding.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence

import numpy as np

from riskchain.compile import CompiledModel
from riskchain.errors import ImpossibleEvidenceError


def to_pgmpy(model: CompiledModel, do: Mapping[int, int] | None = None):
    """A ``pgmpy.models.DiscreteBayesianNetwork`` equal to ``model``.

    Parameters
    ----------
    model : CompiledModel
    do : mapping of int to int, optional
        Interventions applied by graph surgery.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        from pgmpy.factors.discrete import TabularCPD
        from pgmpy.models import DiscreteBayesianNetwork

    do = dict(do or {})
    net = DiscreteBayesianNetwork()
    net.add_nodes_from(model.names)
    cpds = []
    for i, name in enumerate(model.names):
        if i in do:
            values = np.zeros((model.cards[i], 1))
            values[do[i], 0] = 1.0
            cpds.append(
                TabularCPD(name, model.cards[i], values, state_names={name: list(model.states[i])})
            )
            continue
        ps = model.parents[i]
        for p in ps:
            net.add_edge(model.names[p], name)
        arr = model.cpts[i]
        values = np.moveaxis(arr, -1, 0).reshape(model.cards[i], -1)
        state_names = {name: list(model.states[i])}
        for p in ps:
            state_names[model.names[p]] = list(model.states[p])
        cpds.append(
            TabularCPD(
                name,
                model.cards[i],
                values,
                evidence=[model.names[p] for p in ps] or None,
                evidence_card=[model.cards[p] for p in ps] or None,
                state_names=state_names,
            )
        )
    net.add_cpds(*cpds)
    return net


def from_pgmpy(net, model_id: str = "model") -> CompiledModel:
    """A :class:`CompiledModel` from a pgmpy network (states become strings)."""
    names = [str(n) for n in net.nodes()]
    states: dict[str, list[str]] = {}
    parents: dict[str, list[str]] = {}
    tables: dict[str, np.ndarray] = {}
    cpds = {str(c.variable): c for c in net.get_cpds()}
    for n in names:
        cpd = cpds[n]
        variables = [str(v) for v in cpd.variables]
        states[n] = [str(s) for s in cpd.state_names[cpd.variables[0]]]
        parents[n] = variables[1:]
        values = np.asarray(cpd.get_values(), dtype=np.float64)
        shape = [len(cpd.state_names[v]) for v in cpd.variables[1:]]
        arr = values.reshape([values.shape[0], *shape])
        tables[n] = np.moveaxis(arr, 0, -1)
    order = _topological(names, parents)
    return CompiledModel.from_tables(model_id, order, [states[n] for n in order], parents, tables)


def _variable_elimination():
    # pgmpy's estimators emit a FutureWarning on import; it is not the user's concern
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        from pgmpy.inference import VariableElimination
    return VariableElimination


def _topological(names: list[str], parents: dict[str, list[str]]) -> list[str]:
    done: list[str] = []
    seen: set[str] = set()
    for start in names:
        stack = [(start, False)]
        while stack:
            n, expanded = stack.pop()
            if n in seen:
                continue
            if expanded:
                seen.add(n)
                done.append(n)
                continue
            stack.append((n, True))
            stack.extend((p, False) for p in reversed(parents[n]) if p not in seen)
    return done


def query_pgmpy(
    model: CompiledModel,
    targets: Sequence[int],
    evidence: Mapping[int, int] | None = None,
    do: Mapping[int, int] | None = None,
    likelihood: Mapping[int, np.ndarray] | None = None,
    net=None,
) -> tuple[dict[int, np.ndarray], float]:
    """Posteriors of ``targets`` and P(evidence) computed by pgmpy's VariableElimination.

    Returns
    -------
    (posteriors, evidence_probability)
        ``posteriors[i]`` is a vector over node i's states.

    Raises
    ------
    ImpossibleEvidenceError
        When P(evidence) = 0.
    """
    from pgmpy.factors.discrete import TabularCPD

    VariableElimination = _variable_elimination()
    evidence = dict(evidence or {})
    do = dict(do or {})
    likelihood = {k: np.asarray(v, dtype=np.float64) for k, v in (likelihood or {}).items()}
    if net is None:
        net = to_pgmpy(model, do)
    infer = VariableElimination(net)
    names = model.names

    def state(i: int, k: int) -> str:
        return model.states[i][k]

    hard = {names[i]: state(i, k) for i, k in {**evidence, **do}.items()}
    virtual = []
    scales = []
    for i, lik in likelihood.items():
        top = float(lik.max())
        scales.append(top)
        if top <= 0:
            continue
        virtual.append(
            TabularCPD(
                names[i],
                model.cards[i],
                (lik / top).reshape(-1, 1),
                state_names={names[i]: list(model.states[i])},
            )
        )
    # P(evidence) by the chain rule: hard findings one by one, then each likelihood.
    log_pe = 0.0
    seen: dict[str, str] = {}
    for i, k in evidence.items():
        q = infer.query([names[i]], evidence=dict(seen) or None, show_progress=False)
        p = float(q.values[q.state_names[names[i]].index(state(i, k))])
        if p <= 0:
            log_pe = -math.inf
            break
        log_pe += math.log(p)
        seen[names[i]] = state(i, k)
    for i in do:
        seen[names[i]] = state(i, do[i])
    done_virtual: list = []
    if log_pe > -math.inf:
        for (i, lik), top in zip(likelihood.items(), scales):
            if top <= 0:
                log_pe = -math.inf
                break
            q = infer.query(
                [names[i]],
                evidence=dict(seen) or None,
                virtual_evidence=done_virtual or None,
                show_progress=False,
            )
            order = [q.state_names[names[i]].index(st) for st in model.states[i]]
            expected = float(np.dot(np.asarray(q.values)[order], lik))
            if expected <= 0:
                log_pe = -math.inf
                break
            log_pe += math.log(expected)
            done_virtual.append(next(v for v in virtual if v.variables[0] == names[i]))
    if log_pe == -math.inf:
        raise ImpossibleEvidenceError([*(f"{names[i]}={state(i, k)}" for i, k in evidence.items())])
    out: dict[int, np.ndarray] = {}
    # One query per target: pgmpy's joint=False still builds the joint of all targets.
    for t in targets:
        if names[t] in hard:
            continue
        factor = infer.query(
            [names[t]],
            evidence=hard or None,
            virtual_evidence=virtual or None,
            show_progress=False,
        )
        order = [factor.state_names[names[t]].index(s) for s in model.states[t]]
        out[t] = np.asarray(factor.values, dtype=np.float64)[order]
    for t in targets:
        if names[t] in hard:
            vec = np.zeros(model.cards[t])
            vec[model.states[t].index(hard[names[t]])] = 1.0
            out[t] = vec
    from riskchain.engine.exact import probability_of

    return {t: out[t] for t in targets}, probability_of(log_pe)
