"""One-way sensitivity of one target to every CPT entry of alarm: riskchain's whole
process against re-solving with pgmpy per entry, measured in the same run.

Goal: ``riskchain sensitivity`` on alarm (about 500 free parameters) under evidence,
whole process, in under 2 s and at least 20x faster than re-solving with pgmpy once
per entry.

What each figure is:

- riskchain: ``riskchain sensitivity alarm.yaml -t LVFAILURE=TRUE --given ...
  --format json``, a whole process, output discarded, median of ``--repeat`` runs
  (after one untimed run), on the model file ``riskchain import`` wrote (imported
  once, not timed). *no cache* with ``RISKCHAIN_NO_CACHE=1``; *warm* with the
  compiled-model cache entry in place (a cache folder of this run's own). The two
  are run in turn, so that a change in the machine's load hits both alike.
- pgmpy: in this process, for each CPT entry the riskchain run analysed (its JSON
  ``parameters``): the entry's column co-varied proportionally to the same second
  value θ1 riskchain uses (the first point, the unmodified network, is solved once
  and shared), a new ``TabularCPD`` swapped into the same
  ``DiscreteBayesianNetwork`` with ``add_cpds`` (it replaces the node's CPD in place;
  the ``VariableElimination`` object is reused, since its default ``greedy`` query
  reads the model's CPDs on every call), then P(target | evidence) and P(evidence)
  by ``VariableElimination.query(..., show_progress=False)``. P(evidence) needs its
  own query (pgmpy's queries return normalised factors); the run times both ways
  it can be had — two queries (``query([target], evidence)`` and the joint of the
  evidence variables with no evidence), or one query of the joint of the target
  and the evidence variables with no evidence — on the unmodified network and
  uses the cheaper. The original CPD is put back after each entry. The
  figure is that loop plus the shared first solve plus ``python -c "import
  pgmpy.inference"`` (a whole process, median of 3); reading the network into
  pgmpy is not counted (it favours pgmpy). With ``--sample K`` only K random
  entries are timed (after a warm-up) and the loop is extrapolated to all entries.
- cross-check: for every timed entry, pgmpy's P(target | evidence) at θ1 against
  riskchain's closed form ``(αθ1 + β) / (γθ1 + δ)`` from the JSON ``function``
  (printed to 12 significant digits), to 1e-9.

Two evidence sets: every monitored (leaf) node observed, so that every node of
alarm is requisite, and ``HRBP=HIGH, BP=LOW``, under which 26 of 37 are. The
number of CPT entries analysed is counted from the JSON; it exceeds the number of
free parameters by one entry per column of each node with more than two states
(riskchain reports every state of such a node, each a different question; a binary
node gets one entry per column).

The machine may be shared: the interpreter's bare start-up (``python -c pass``)
is printed as a gauge of load.

Run: ``python bench/bench_sensitivity.py [--repeat N] [--sample K]``
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import os
import random
import shutil
import statistics
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from _common import NETWORKS, ROOT, command_time, python

TARGET = ("LVFAILURE", "TRUE")
# every leaf of alarm observed (its monitors): a left-ventricular-failure picture
MONITORS = {
    "HISTORY": "TRUE",
    "CVP": "HIGH",
    "PCWP": "HIGH",
    "HRBP": "HIGH",
    "HREKG": "HIGH",
    "HRSAT": "HIGH",
    "EXPCO2": "NORMAL",
    "MINVOL": "NORMAL",
    "PAP": "NORMAL",
    "PRESS": "NORMAL",
    "BP": "LOW",
}
TWO = {"HRBP": "HIGH", "BP": "LOW"}
GOAL_SECONDS, GOAL_RATIO, TOL = 2.0, 20.0, 1e-9


def riskchain_cmd() -> list[str]:
    exe = shutil.which("riskchain")
    return [exe] if exe else [python(), "-m", "riskchain.cli"]


def sensitivity_argv(model: Path, evidence: dict[str, str]) -> list[str]:
    given = [x for k, v in evidence.items() for x in ("--given", f"{k}={v}")]
    target = f"{TARGET[0]}={TARGET[1]}"
    return [*riskchain_cmd(), "sensitivity", str(model), "-t", target, *given, "--format", "json"]


def process_times(argv: list[str], envs: list[dict[str, str]], repeat: int) -> list[float]:
    """Median wall time of a whole process under each of ``envs``, the runs interleaved
    so that a change in the machine's load hits each alike (after one untimed run each)."""

    def once(env: dict[str, str]) -> float:
        t = time.perf_counter()
        subprocess.run(argv, check=True, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
        return time.perf_counter() - t

    for env in envs:
        once(env)  # warms the file cache, and fills the model cache when it is on
    times = [[once(env) for env in envs] for _ in range(repeat)]
    return [statistics.median(column) for column in zip(*times)]


def covary(column: np.ndarray, x: int, theta: float) -> np.ndarray:
    """Entry ``x`` set to ``theta``, the others scaled to fill ``1 - theta`` (shared
    equally when they were all zero): riskchain's co-variation, written out again."""
    out = np.empty_like(column)
    rest = 1.0 - column[x]
    for j in range(len(column)):
        out[j] = column[j] * (1.0 - theta) / rest if rest > 0 else (1.0 - theta) / (len(column) - 1)
    out[x] = theta
    return out


class PgmpySolver:
    """P(target | evidence) and P(evidence) of a pgmpy network, the cheaper way."""

    def __init__(self, model, evidence: dict[str, str]):
        from pgmpy.inference import VariableElimination

        self.model, self.evidence = model, evidence
        self.ve = VariableElimination(model)
        self.target, self.state = TARGET
        t = self.target
        two = lambda: self._two()  # noqa: E731
        one = lambda: self._one()  # noqa: E731
        for f in (two, one):
            f()  # warm-up
        cost = {}
        for name, f in (("two", two), ("one", one)):
            times = []
            for _ in range(5):
                s = time.perf_counter()
                f()
                times.append(time.perf_counter() - s)
            cost[name] = statistics.median(times)
        self.way = min(cost, key=cost.get)
        self.solve = two if self.way == "two" else one
        self.described = (
            f"query([{t}], evidence) + query(evidence variables), no evidence"
            if self.way == "two"
            else f"one query([{t}, evidence variables]), no evidence"
        )
        self.costs = cost

    def _two(self) -> tuple[float, float]:
        q = self.ve.query([self.target], evidence=self.evidence, show_progress=False)
        j = self.ve.query(list(self.evidence), show_progress=False)
        return float(q.get_value(**{self.target: self.state})), float(j.get_value(**self.evidence))

    def _one(self) -> tuple[float, float]:
        # with no evidence the joint sums to 1 already: its entry is P(t, e) itself
        j = self.ve.query([self.target, *self.evidence], show_progress=False)
        pte = float(j.get_value(**{self.target: self.state}, **self.evidence))
        pe = float(j.marginalize([self.target], inplace=False).get_value(**self.evidence))
        return pte / pe, pe


def pgmpy_loop(model, solver: PgmpySolver, params: list[dict], sample: int, seed: int = 0):
    """Re-solve per entry; returns (loop seconds for all entries, per-entry seconds,
    max |pgmpy - closed form| at θ1, entries checked)."""
    from pgmpy.factors.discrete import TabularCPD

    chosen = list(range(len(params)))
    if sample and sample < len(params):
        chosen = sorted(random.Random(seed).sample(chosen, sample))
        for k in chosen[: min(5, len(chosen))]:  # warm-up, not timed
            _one_entry(model, solver, params[k], TabularCPD)
    per, worst = [], 0.0
    for k in chosen:
        t = time.perf_counter()
        theta1, p1 = _one_entry(model, solver, params[k], TabularCPD)
        per.append(time.perf_counter() - t)
        f = params[k]["function"]
        closed = (f["alpha"] * theta1 + f["beta"]) / (f["gamma"] * theta1 + f["delta"])
        worst = max(worst, abs(p1 - closed))
    total = sum(per) if len(chosen) == len(params) else statistics.fmean(per) * len(params)
    return total, per, worst, len(chosen)


def _one_entry(model, solver: PgmpySolver, par: dict, TabularCPD) -> tuple[float, float]:
    node = par["node"]
    cpd = model.get_cpds(node)
    names = cpd.state_names
    parents = [names[p].index(par["when"][p]) for p in cpd.variables[1:]]
    index = (names[node].index(par["state"]), *parents)
    values = cpd.values  # (card, *parent cards), in cpd.variables order
    theta0 = float(values[index])
    assert abs(theta0 - par["value"]) < 1e-9, (node, par["name"])
    theta1 = theta0 + 0.5 if theta0 < 0.5 else theta0 - 0.5  # riskchain's second point
    new = values.copy()
    col = (slice(None), *index[1:])
    new[col] = covary(values[col], index[0], theta1)
    swapped = TabularCPD(
        node,
        cpd.variable_card,
        new.reshape(cpd.variable_card, -1),
        evidence=cpd.variables[1:] or None,
        evidence_card=list(cpd.cardinality[1:]) or None,
        state_names=names,
    )
    model.add_cpds(swapped)
    try:
        p1, _pe1 = solver.solve()  # P(t|e)(θ1) and P(e)(θ1): the second solve
    finally:
        model.add_cpds(cpd)  # put the original back
    return theta1, p1


def free_parameters(model, nodes) -> int:
    return sum(
        (model.get_cardinality(v) - 1) * int(np.prod(model.get_cpds(v).cardinality[1:]))
        for v in nodes
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9, help="riskchain runs per figure")
    parser.add_argument(
        "--sample", type=int, default=0, help="time K random entries in pgmpy and extrapolate"
    )
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    logging.getLogger("pgmpy").setLevel(logging.ERROR)  # add_cpds warns on every swap
    from pgmpy.readwrite import BIFReader

    with tempfile.TemporaryDirectory(prefix="bench-sensitivity-") as tmp:
        work = Path(tmp)
        yaml = work / "alarm.yaml"
        subprocess.run(
            [*riskchain_cmd(), "import", str(NETWORKS / "alarm.bif.gz"), "-o", str(yaml)],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        bif = work / "alarm.bif"
        bif.write_bytes(gzip.decompress((NETWORKS / "alarm.bif.gz").read_bytes()))
        pg = BIFReader(str(bif)).get_model()
        for cpd in pg.get_cpds():
            # riskchain's import rescales columns that do not sum to 1 (alarm writes
            # 0.3333333 three times): give pgmpy the same numbers
            cpd.normalize(inplace=True)
        warm_env = {**os.environ, "RISKCHAIN_CACHE_DIR": str(work / "cache")}
        warm_env.pop("RISKCHAIN_NO_CACHE", None)
        cold_env = {**os.environ, "RISKCHAIN_NO_CACHE": "1"}

        imp = command_time([python(), "-c", "import pgmpy.inference"], 3)
        bare = command_time([python(), "-c", "pass"], args.repeat)
        print(f"alarm: {len(pg.nodes())} nodes, {free_parameters(pg, pg.nodes())} free parameters")
        print(f"target {TARGET[0]}={TARGET[1]}")
        for label, evidence in (("every monitor observed", MONITORS), ("HRBP=HIGH, BP=LOW", TWO)):
            argv = sensitivity_argv(yaml, evidence)
            out = subprocess.run(argv, check=True, cwd=ROOT, capture_output=True, text=True)
            res = json.loads(out.stdout)
            params = res["parameters"]
            requisite = [v for v in pg.nodes() if v not in set(res["irrelevant"])]
            cold, warm = process_times(argv, [cold_env, warm_env], args.repeat)

            solver = PgmpySolver(pg, evidence)
            s = time.perf_counter()
            p0, _ = solver.solve()  # the first point, shared by every entry
            first = time.perf_counter() - s
            assert abs(p0 - res["p"]) < TOL, (p0, res["p"])
            loop, per, worst, checked = pgmpy_loop(pg, solver, params, args.sample)
            theirs = imp + first + loop
            how = (
                f"all {len(params)} entries timed"
                if checked == len(params)
                else f"{checked} random entries timed, extrapolated to {len(params)}"
            )

            print()
            print(f"evidence: {label} ({len(evidence)} findings)")
            print(
                f"  requisite nodes {len(requisite)} of {len(pg.nodes())}, their free parameters "
                f"{free_parameters(pg, requisite)}; CPT entries analysed {len(params)} "
                "(JSON 'parameters')"
            )
            print(
                f"  riskchain sensitivity, whole process, no cache  {cold:7.3f} s   (median of {args.repeat})"
            )
            print(
                f"  riskchain sensitivity, whole process, warm      {warm:7.3f} s   (median of {args.repeat})"
            )
            print(
                f"  pgmpy P(t|e) and P(e), unmodified network: two queries "
                f"{1e3 * solver.costs['two']:.1f} ms, one joint query "
                f"{1e3 * solver.costs['one']:.1f} ms (median of 5); using {solver.described}"
            )
            print(
                f"  pgmpy re-solving per entry                      {theirs:7.3f} s   "
                f"= import {imp:.2f} s + first solve {first:.3f} s + loop {loop:.2f} s "
                f"({how}; {1e3 * statistics.median(per):.1f} ms median per entry)"
            )
            print(
                f"  riskchain (no cache) vs goal                    {cold:7.3f} s   goal < {GOAL_SECONDS:g} s   "
                + ("met" if cold < GOAL_SECONDS else "MISSED")
            )
            print(
                f"  ratio pgmpy / riskchain (no cache)              {theirs / cold:7.1f}x   "
                f"goal >= {GOAL_RATIO:g}x   " + ("met" if theirs / cold >= GOAL_RATIO else "MISSED")
            )
            print(f"  ratio pgmpy / riskchain (warm)                  {theirs / warm:7.1f}x")
            print(
                f"  cross-check: max |pgmpy P(t|e)(θ1) - riskchain function(θ1)| over {checked} "
                f"entries = {worst:.1e}   " + ("ok" if worst <= TOL else "FAILED")
            )
            assert worst <= TOL
        print()
        print(f"python -c 'import pgmpy.inference'  {imp:7.3f} s   (median of 3)")
        print(f"python -c 'pass' (interpreter alone) {bare:7.3f} s   (a gauge of machine load)")


if __name__ == "__main__":
    main()
