"""Which indicator to watch: the unobserved nodes ranked by what observing them would
tell about a target, and the indicators that best tell two scenarios apart.

For a target T, findings e and an unobserved node X, the mutual information

    I(T; X | e) = Σ_x P(x | e) Σ_t P(t | e, x) log2[P(t | e, x) / P(t | e)]

is the expected drop, in bits, of the uncertainty about T once X is seen (Netica's
"entropy reduction"). Every P(t | e, x) and P(x | e) = P(e, x) / P(e) comes from one
batched engine call: one batch element per (node, state), a one-hot likelihood on
that node and rows of ones on the others, solved in chunks that fit a memory budget.
Nodes d-separated from the target by the findings cannot tell anything (their mutual
information is exactly 0); they are left out and listed as ``uninformative``.

Two scenarios A and B are told apart by an indicator X as far as its predictive
distributions P_A(X) and P_B(X) differ: the Jensen–Shannon divergence in bits, which
is the mutual information between X and a fair coin that picks A or B (0: X looks the
same under both; 1: seeing X settles which one holds).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from riskchain.engine.plan import BYTES_PER_ENTRY, DEFAULT_MAX_TABLE
from riskchain.errors import ImpossibleEvidenceError, RiskchainError, UsageError
from riskchain.model import Model
from riskchain.scales import DEFAULT_SCALE, Scale

if TYPE_CHECKING:
    from riskchain.analysis.scenarios import Posed

# Batches of (node, state) solves are cut into chunks of at most this many bytes.
CHUNK_BYTES = 64 << 20


def _label(scale: Scale, p: float) -> str | None:
    """``likely [55–80%]``, or None in a gap of the scale (or for NaN)."""
    band = scale.classify(p)
    return band.label() if band is not None else None


def _term(scale: Scale, p: float) -> str | None:
    band = scale.classify(p)
    return band.term if band is not None else None


@dataclass
class Outcome:
    """What seeing one state of an indicator would do to the target.

    Attributes
    ----------
    state : str
        The indicator's state.
    probability : float
        P(X = state | findings): how likely this observation is now.
    posterior : dict of str to float
        P(target | findings, X = state), every state of the target; NaN where the
        observation is impossible under the findings.
    p : float or None
        The reported target state's probability after the observation (None for a
        graded target followed as a whole).
    term : str or None
        Its estimative term with range, ``likely [55–80%]`` (None in a gap of the scale).
    terms : dict of str to str or None
        The term of every target state after the observation.
    changes_term : bool
        Whether the reported state's term differs from the one it has now; for a
        graded target, whether the call (its most likely state and that state's
        term, see :func:`call`) differs.
    """

    state: str
    probability: float
    posterior: dict[str, float]
    p: float | None
    term: str | None
    terms: dict[str, str | None]
    changes_term: bool

    @property
    def possible(self) -> bool:
        return self.probability > 0

    @property
    def call(self) -> str | None:
        """A graded target's headline after the observation (see :func:`call`)."""
        return call(self.posterior, self.terms) if self.possible else None


# The names of the two quantities ``expected_change`` can be (see WatchResult.measure_name):
# one name per quantity in watch, explain and the report.
EXPECTED_SHIFT = "expected shift"


@dataclass
class Indicator:
    """One unobserved node and what observing it would tell about the target.

    Attributes
    ----------
    node, label : str
        The node and its label.
    mutual_information : float
        I(target; node | findings) in bits.
    expected_change : float
        The *expected change in P(t)*, Σ_x P(x | e) |P(t | e, x) − P(t | e)|, for the
        followed target state t; for a graded target followed as a whole, the *expected
        shift*, the expected total-variation distance
        Σ_x P(x | e) ½ Σ_t |P(t | e, x) − P(t | e)|. Outputs print the name
        :attr:`WatchResult.measure_name` gives.
    term_change : float
        The probability that observing the node changes the target's estimative term
        (for a graded target followed as a whole: its call, see :func:`call`).
    outcomes : dict of str to Outcome
        One per state of the node, in model order.
    """

    node: str
    label: str
    mutual_information: float
    expected_change: float
    term_change: float
    outcomes: dict[str, Outcome]

    @property
    def now(self) -> dict[str, float]:
        """P(X = x | findings) for every state x of the node."""
        return {s: o.probability for s, o in self.outcomes.items()}

    def to_json(self, graded: bool) -> dict:
        outcomes = {}
        for s, o in self.outcomes.items():
            if graded:
                p: object = o.posterior if o.possible else None
                term: object = o.terms if o.possible else None
                outcomes[s] = {"probability": o.probability, "p": p, "term": term, "call": o.call}
            else:
                p, term = (o.p, o.term) if o.possible else (None, None)
                outcomes[s] = {"probability": o.probability, "p": p, "term": term}
        return {
            "node": self.node,
            "label": self.label,
            "mutual_information": self.mutual_information,
            "expected_change": self.expected_change,
            "term_change": self.term_change,
            "now": self.now,
            "outcomes": outcomes,
        }


@dataclass
class WatchResult:
    """The unobserved nodes ranked by mutual information with the target, highest first.

    ``state`` is the target state whose probability is followed (a binary target's
    ``yes`` unless another was named); None for a graded target followed as a whole,
    whose ``expected_change`` is then a total-variation distance and whose term
    changes are changes of its call (see :func:`call`). ``uninformative``
    lists the nodes d-separated from the target by the findings (mutual information
    exactly 0), which are not ranked.
    """

    model: str
    target: str
    label: str
    state: str | None
    posterior: dict[str, float]
    entropy: float
    given: dict[str, str]
    do: dict[str, str]
    likelihood: dict[str, dict[str, float]]
    scale: Scale
    indicators: list[Indicator]
    uninformative: list[str] = field(default_factory=list)
    scenario: str | None = None

    @property
    def graded(self) -> bool:
        return self.state is None

    @property
    def p(self) -> float | None:
        """P(target = state | findings) now (None for a graded target)."""
        return None if self.state is None else self.posterior[self.state]

    @property
    def term(self) -> str | None:
        return None if self.state is None else _label(self.scale, self.posterior[self.state])

    @property
    def terms(self) -> dict[str, str | None]:
        """The term of every target state now."""
        return {s: _label(self.scale, p) for s, p in self.posterior.items()}

    @property
    def call(self) -> str | None:
        """A graded target's headline now (see :func:`call`); None for a followed state."""
        return call(self.posterior, self.terms) if self.graded else None

    @property
    def measure(self) -> str:
        """What ``expected_change`` measures, in words."""
        if self.state is None:
            return "expected total-variation distance of P(target) (½ Σ over its states)"
        return f"expected absolute change of P({self.target} = {self.state})"

    @property
    def measure_name(self) -> str:
        """The one name of what ``expected_change`` measures, as every output prints it:
        ``expected shift`` for a graded target followed as a whole (a distance over all
        its states), ``expected change in P(STATE)`` for one state's probability."""
        return EXPECTED_SHIFT if self.state is None else f"expected change in P({self.state})"

    @property
    def measure_subject(self) -> str:
        """What the indicators tell about: ``P(target = state)``, or the target."""
        return self.target if self.state is None else f"P({self.target} = {self.state})"

    @property
    def measure_note(self) -> str:
        """The definition of :attr:`measure_name`, for a footnote."""
        if self.state is None:
            return (
                f"{EXPECTED_SHIFT}: how far the distribution of {self.target} is expected to "
                "move once the indicator is seen: the total-variation distance (half the summed "
                "absolute changes of its states), weighted by how likely each state of the "
                "indicator is now."
            )
        return (
            f"{self.measure_name}: how far P({self.target} = {self.state}) is expected to move "
            "once the indicator is seen (absolute change), weighted by how likely each state "
            f"of the indicator is now; not the {EXPECTED_SHIFT}, a distance over all of a "
            "target's states."
        )

    def to_json(self) -> dict:
        """``{"target", "state", "indicators": [{"node", "mutual_information",
        "expected_change", "outcomes": {STATE: {"p", "term"}}}], ...}``."""
        now: object = self.posterior if self.graded else self.p
        term: object = self.terms if self.graded else self.term
        return {
            "model": self.model,
            "scenario": self.scenario,
            "target": self.target,
            "state": self.state,
            "p": now,
            "term": term,
            "call": self.call,
            "entropy": self.entropy,
            "given": dict(self.given),
            "do": dict(self.do),
            "likelihood": {k: dict(v) for k, v in self.likelihood.items()},
            "scale": self.scale.name,
            "units": "bits",
            "expected_change_measure": "total_variation" if self.graded else "absolute_change",
            "expected_change_name": self.measure_name,
            "indicators": [x.to_json(self.graded) for x in self.indicators],
            "uninformative": list(self.uninformative),
        }


# ----------------------------------------------------------------------------- the analysis


def watch(
    model: Model,
    target: str,
    state: str | None = None,
    given: Mapping[str, str] | None = None,
    do: Mapping[str, str] | None = None,
    likelihood: Mapping[str, Mapping[str, float]] | None = None,
    scale: Scale = DEFAULT_SCALE,
    max_table: float = DEFAULT_MAX_TABLE,
) -> WatchResult:
    """Rank the unobserved nodes by mutual information with ``target`` under the findings.

    Parameters
    ----------
    model : Model
        The model (with a scenario's numbers in place, if any).
    target : str
        The node to learn about.
    state : str, optional
        The target state whose probability and term are followed. Default: a binary
        node's ``yes`` (else its second state); a graded node is followed as a whole.
    given, do, likelihood : mapping, optional
        Findings, interventions and virtual evidence, as in :meth:`Model.query`. A node
        with a likelihood is still a candidate: seeing it outright tells more.
    scale : Scale
        The scale of the estimative terms.
    max_table : float
        Memory budget in bytes for each chunk of solves.

    Returns
    -------
    WatchResult

    Raises
    ------
    UsageError
        Unknown names, the target observed or forced.
    ImpossibleEvidenceError
        When the findings are impossible.
    TooLargeError
        When one solve alone would exceed ``max_table``.
    """
    from riskchain.engine.exact import infer
    from riskchain.report.query import reported_state

    base = model.query(given=given, do=do, likelihood=likelihood, targets=[target])
    states = model.states(target)
    if state is not None and state not in states:
        raise UsageError(f"target: '{target}' has no state '{state}' (states: {', '.join(states)})")
    if target in base.given or target in base.do:
        how = "observed" if target in base.given else "forced"
        raise UsageError(f"target: '{target}' is {how}, so there is nothing left to learn about it")
    if state is None:
        state = reported_state(states)
    m = model.compiled
    t = m.index[target]
    ev = {m.index[k]: m.state(k, v) for k, v in base.given.items()}
    dv = {m.index[k]: m.state(k, v) for k, v in base.do.items()}
    soft = {
        m.index[k]: np.array([v[s] for s in m.states[m.index[k]]])
        for k, v in base.likelihood.items()
    }
    reach = connected(m.parents, t, set(ev) | set(dv), set(soft), set(dv))
    # observed and forced nodes are never reached (they block), so are no candidates
    unseen = [i for i in range(len(m.names)) if i != t and i not in ev and i not in dv]
    candidates = [i for i in unseen if i in reach]
    uninformative = [m.names[i] for i in unseen if i not in reach]

    # Every candidate carries a likelihood in every chunk (ones where the chunk is not
    # about it), so all chunks share one plan; this first solve is the baseline on it.
    shared = {i: soft.get(i, np.ones(m.cards[i])) for i in candidates}
    res = infer(m, [t], ev, dv, {**soft, **shared}, max_table_bytes=max_table)
    post0 = res.marginals[t][0]
    log_e0 = float(res.log_evidence[0])
    per = res.plan.working + m.cards[t] + sum(m.cards[i] for i in candidates)
    per_chunk = max(1, int(min(CHUNK_BYTES, max_table) // (BYTES_PER_ENTRY * per)))

    posts: dict[int, np.ndarray] = {}
    probs: dict[int, np.ndarray] = {}
    for chunk in _chunks(candidates, [m.cards[i] for i in candidates], per_chunk):
        rows = sum(m.cards[i] for i in chunk)
        lik = dict(shared)
        start = 0
        for i in chunk:
            arr = np.ones((rows, m.cards[i]))
            arr[start : start + m.cards[i]] = np.eye(m.cards[i])
            lik[i] = arr * shared[i]  # seeing X outright on top of a likelihood on it
            start += m.cards[i]
        out = infer(m, [t], ev, dv, {**soft, **lik}, max_table_bytes=max_table)
        with np.errstate(over="ignore"):
            ratio = np.exp(out.log_evidence - log_e0)
        start = 0
        for i in chunk:
            part = slice(start, start + m.cards[i])
            p_x = ratio[part]
            total = p_x.sum()
            probs[i] = p_x / total if total > 0 else p_x  # remove rounding: they sum to 1
            posts[i] = out.marginals[t][part]
            start += m.cards[i]

    posterior = {s: float(p) for s, p in zip(states, post0)}
    indicators = [
        _indicator(model, i, probs[i], posts[i], post0, states, state, scale) for i in candidates
    ]
    indicators.sort(key=lambda x: (-x.mutual_information, -x.expected_change))
    return WatchResult(
        model=model.id,
        target=target,
        label=model.label(target),
        state=state,
        posterior=posterior,
        entropy=_entropy(post0),
        given=base.given,
        do=base.do,
        likelihood=base.likelihood,
        scale=scale,
        indicators=indicators,
        uninformative=uninformative,
    )


def _chunks(nodes: Sequence[int], cards: Sequence[int], size: int) -> list[list[int]]:
    """Consecutive groups of nodes, each with at most ``size`` states in all (a node's
    states stay together; a node with more states than ``size`` is a group alone)."""
    out: list[list[int]] = []
    group: list[int] = []
    used = 0
    for node, card in zip(nodes, cards):
        if group and used + card > size:
            out.append(group)
            group, used = [], 0
        group.append(node)
        used += card
    if group:
        out.append(group)
    return out


def _entropy(p: np.ndarray) -> float:
    q = p[p > 0]
    return float(max(0.0, -(q * np.log2(q)).sum()))


def _indicator(
    model: Model,
    i: int,
    p_x: np.ndarray,
    post: np.ndarray,
    post0: np.ndarray,
    states: Sequence[str],
    state: str | None,
    scale: Scale,
) -> Indicator:
    m = model.compiled
    ts = None if state is None else list(states).index(state)
    mi = change = flip = 0.0
    outcomes: dict[str, Outcome] = {}
    terms0 = [_term(scale, float(p)) for p in post0]
    for x, xs in enumerate(m.states[i]):
        px = float(p_x[x])
        row = post[x]
        possible = px > 0 and bool(np.all(np.isfinite(row)))
        terms = [_term(scale, float(p)) for p in row] if possible else [None] * len(row)
        if ts is None:
            changed = possible and _call(row, terms) != _call(post0, terms0)
        else:
            changed = possible and terms[ts] != terms0[ts]
        if possible:
            nz = row > 0
            mi += px * float((row[nz] * np.log2(row[nz] / post0[nz])).sum())
            if ts is None:
                change += px * 0.5 * float(np.abs(row - post0).sum())
            else:
                change += px * abs(float(row[ts] - post0[ts]))
            flip += px if changed else 0.0
        p = float(row[ts]) if ts is not None and possible else None
        outcomes[xs] = Outcome(
            state=xs,
            probability=px,
            posterior={s: float(v) for s, v in zip(states, row)},
            p=p,
            term=_label(scale, p) if p is not None else None,
            terms={s: _label(scale, float(v)) if possible else None for s, v in zip(states, row)},
            changes_term=changed,
        )
    # rounding can leave -1e-17 where the node tells nothing
    return Indicator(
        node=m.names[i],
        label=model.label(m.names[i]),
        mutual_information=max(0.0, round(mi, 14)),
        expected_change=round(change, 14),
        term_change=min(1.0, round(flip, 14)),
        outcomes=outcomes,
    )


def _call(p: np.ndarray, terms: Sequence[str | None]) -> tuple[int, str | None]:
    """A graded target's headline: its most likely state and that state's term."""
    k = int(np.argmax(p))
    return k, terms[k]


def call(posterior: Mapping[str, float], terms: Mapping[str, str | None]) -> str:
    """The headline of a graded distribution: ``low: unlikely [20–45%]`` (its most
    likely state, the first on a tie, and that state's term)."""
    states = list(posterior)
    k, term = _call(np.array([posterior[s] for s in states]), [terms[s] for s in states])
    return f"{states[k]}: {term or '(between terms)'}"


def connected(
    parents: Sequence[Sequence[int]],
    source: int,
    observed: set[int],
    soft: set[int],
    forced: set[int],
) -> set[int]:
    """Nodes not d-separated from ``source`` by the findings (Bayes ball), ``source`` included.

    Forced nodes lose their incoming arrows (and are fixed, so they block); a node with
    a likelihood has an observed virtual child, so it opens the colliders at it and at
    its ancestors without blocking the paths through it. ``observed`` includes the
    forced nodes.
    """
    par = [() if v in forced else tuple(ps) for v, ps in enumerate(parents)]
    kids: list[list[int]] = [[] for _ in parents]
    for v, ps in enumerate(par):
        for p in ps:
            kids[p].append(v)
    # colliders are open at findings and at their ancestors
    opened: set[int] = set()
    stack = [*observed, *soft]
    while stack:
        v = stack.pop()
        if v not in opened:
            opened.add(v)
            stack.extend(par[v])
    reached: set[int] = set()
    seen: set[tuple[int, bool]] = set()
    todo = [(source, True)]  # (node, arrived from a child)
    while todo:
        v, up = todo.pop()
        if (v, up) in seen:
            continue
        seen.add((v, up))
        if v not in observed:
            reached.add(v)
        if up and v not in observed:
            todo += [(p, True) for p in par[v]]
            todo += [(c, False) for c in kids[v]]
        elif not up:
            if v not in observed:
                todo += [(c, False) for c in kids[v]]
            if v in opened:
                todo += [(p, True) for p in par[v]]
    return reached


# ----------------------------------------------------------------------------- two scenarios


@dataclass
class Discriminator:
    """How differently one node is expected to turn out under two scenarios.

    Attributes
    ----------
    node, label : str
    divergence : float
        Jensen–Shannon divergence of P_A(node) and P_B(node), in bits (0 to 1).
    a, b : dict of str to float
        The node's predictive distribution under each scenario.
    """

    node: str
    label: str
    divergence: float
    a: dict[str, float]
    b: dict[str, float]

    @property
    def likelihood_ratio(self) -> dict[str, float]:
        """P_A(x) / P_B(x): how much seeing x multiplies the odds of A against B."""
        out = {}
        for s in self.a:
            pa, pb = self.a[s], self.b[s]
            out[s] = math.inf if pb == 0 and pa > 0 else (pa / pb if pb > 0 else math.nan)
        return out

    def to_json(self) -> dict:
        return {
            "node": self.node,
            "label": self.label,
            "divergence": self.divergence,
            "a": dict(self.a),
            "b": dict(self.b),
            "likelihood_ratio": {
                k: (None if not math.isfinite(v) else v) for k, v in self.likelihood_ratio.items()
            },
        }


@dataclass
class BetweenResult:
    """Indicators ranked by how well they tell scenario ``a`` from scenario ``b``.

    ``excluded`` lists the nodes observed or forced in either scenario: they are part
    of what defines the scenarios, not something left to watch.
    """

    model: str
    a: str
    b: str
    indicators: list[Discriminator]
    excluded: list[str]

    def to_json(self) -> dict:
        """``{"between": [A, B], "units": "bits", "indicators": [{"node", "divergence",
        "a", "b", "likelihood_ratio"}], "excluded": [...]}``."""
        return {
            "model": self.model,
            "between": [self.a, self.b],
            "units": "bits",
            "measure": "jensen_shannon",
            "indicators": [x.to_json() for x in self.indicators],
            "excluded": list(self.excluded),
        }


def between(
    a: Posed,
    b: Posed,
    names: tuple[str, str] | None = None,
    max_table: float = DEFAULT_MAX_TABLE,
) -> BetweenResult:
    """Rank the nodes by how well seeing them tells question ``a`` from question ``b``.

    Parameters
    ----------
    a, b : Posed
        Two questions on the same model (typically two scenarios of a scenario file,
        from :func:`riskchain.analysis.scenarios.pose`): each with its own numbers,
        findings and interventions.
    names : (str, str), optional
        What to call them; default: the scenario ids, else ``A`` and ``B``.
    max_table : float
        Memory budget in bytes for each solve.

    Returns
    -------
    BetweenResult
        Sorted by Jensen–Shannon divergence, highest first (ties in file order).

    Raises
    ------
    RiskchainError
        When either question's findings are impossible (naming which).
    """
    if names is None:
        names = (
            a.scenario.id if a.scenario is not None else "A",
            b.scenario.id if b.scenario is not None else "B",
        )
    fixed = set(a.given) | set(a.do) | set(b.given) | set(b.do)
    nodes = [n for n in a.model.nodes if n not in fixed]
    dists = []
    for q, name in ((a, names[0]), (b, names[1])):
        try:
            res = q.model.query(
                given=q.given, do=q.do, likelihood=q.likelihood, targets=nodes, max_table=max_table
            )
        except ImpossibleEvidenceError as exc:
            raise RiskchainError(f"scenario '{name}': {exc}") from None
        dists.append(res.posteriors)
    out = []
    for n in nodes:
        pa, pb = dists[0][n], dists[1][n]
        out.append(Discriminator(n, a.model.label(n), _jensen_shannon(pa, pb), dict(pa), dict(pb)))
    out.sort(key=lambda x: -x.divergence)
    return BetweenResult(
        a.model.id, names[0], names[1], out, [n for n in a.model.nodes if n in fixed]
    )


def _jensen_shannon(p: Mapping[str, float], q: Mapping[str, float]) -> float:
    """JS(P, Q) = ½ KL(P ‖ M) + ½ KL(Q ‖ M), M = (P + Q) / 2, in bits (0 to 1)."""
    pa = np.array(list(p.values()))
    pb = np.array([q[s] for s in p])
    mid = (pa + pb) / 2

    def kl(x: np.ndarray) -> float:
        nz = x > 0
        return float((x[nz] * np.log2(x[nz] / mid[nz])).sum())

    return float(min(1.0, max(0.0, round(0.5 * kl(pa) + 0.5 * kl(pb), 14))))
