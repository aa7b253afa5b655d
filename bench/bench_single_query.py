"""Single exact queries on repository networks: riskchain's engine against pgmpy's
VariableElimination, in the same process, on the same questions.

Each question observes a few random nodes (a state drawn by forward sampling, so
the evidence is possible) and asks for one other node. Both engines get the
same questions; riskchain plans every question from scratch (its plan cache is
cleared), pgmpy reuses one VariableElimination object per network.

Goal (issue #2): on alarm, hepar2, andes and pathfinder, at least as fast as pgmpy.

Run: ``python bench/bench_single_query.py [--questions N] [NETWORK ...]``
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

from _common import read_network
from riskchain.engine.exact import infer
from riskchain.engine.pgmpy_bridge import _variable_elimination, to_pgmpy


def questions(m, n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    order = m.topological_order()
    out = []
    for _ in range(n):
        x = {}
        for v in order:
            p = m.cpts[v][tuple(x[q] for q in m.parents[v])]
            x[v] = int(rng.choice(len(p), p=p))
        nodes = rng.choice(len(m), size=min(6, len(m) - 1), replace=False)
        evidence = {int(v): x[int(v)] for v in nodes[:-1]}
        out.append((int(nodes[-1]), evidence))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("networks", nargs="*", default=["alarm", "hepar2", "andes", "pathfinder"])
    parser.add_argument("--questions", type=int, default=30)
    args = parser.parse_args()
    VariableElimination = _variable_elimination()
    print(
        f"{'network':<12}{'nodes':>6}{'riskchain ms':>14}{'pgmpy ms':>10}{'speed-up':>10}   (median per question)"
    )
    for name in args.networks:
        m = read_network(name)
        qs = questions(m, args.questions)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ve = VariableElimination(to_pgmpy(m))
        ours, theirs = [], []
        for target, evidence in qs:
            m._plans.clear()
            t = time.perf_counter()
            res = infer(m, [target], evidence)
            ours.append(time.perf_counter() - t)
            ev_names = {m.names[k]: m.states[k][s] for k, s in evidence.items()}
            t = time.perf_counter()
            f = ve.query([m.names[target]], evidence=ev_names, show_progress=False)
            theirs.append(time.perf_counter() - t)
            assert np.allclose(res.marginals[target][0], f.values, atol=1e-9), name
        a, b = np.median(ours) * 1e3, np.median(theirs) * 1e3
        print(f"{name:<12}{len(m):>6}{a:>14.2f}{b:>10.2f}{b / a:>9.1f}x")


if __name__ == "__main__":
    main()
