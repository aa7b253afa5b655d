"""Parameter draws from the shell: 10,000 whole parameter sets on alarm, each solved
exactly, against a pgmpy loop that rebuilds the model for every draw; and the
peak memory of such runs.

Goals (parameter uncertainty):

1. ``riskchain query alarm.yaml --given BP=LOW --target LVFAILURE --samples 10000
   --strength 50 --seed 1 --format json``, whole process, at least 100x faster
   than a Python loop that, per draw, draws every CPT column from a
   Dirichlet(50 x column) with numpy, builds a pgmpy ``DiscreteBayesianNetwork``
   with ``TabularCPD``s and asks ``VariableElimination`` the same question.
2. The peak resident memory of that run stays under 1 GiB.

What each figure is:

- riskchain: the whole process (median of ``--repeat`` runs after one run that
  warms the file cache and riskchain's model cache, kept in a temporary
  folder). Peak RSS is the process's own (``wait4``), the largest over the runs.
  CPU seconds (user + system, also from ``wait4``) are printed next to wall
  seconds: on a shared machine they depend much less on what else is running.
- pgmpy: the loop runs in its own process; ``--pgmpy-draws`` draws are timed
  after ``--warmup`` untimed ones, and 10,000 draws are *extrapolated* from their
  mean time per draw, plus the process's fixed cost measured in the same run
  (interpreter start, importing pgmpy, reading the BIF). Running all 10,000
  would take several minutes for the same figure.
- cross-check: pgmpy's mean posterior over its draws and riskchain's ``mean``
  from the JSON must agree within Monte-Carlo error (different random streams,
  same distribution of parameters).
- memory: the peak RSS of heavier runs (every node's posterior, no finding:
  alarm with 10,000 draws, hepar2 and win95pts with 2,000 and 10,000), next to
  the same query without draws, to show that chunking keeps memory flat as the
  number of draws grows.

BP (blood pressure) depends on LVFAILURE through CO and STROKEVOLUME, so the
finding moves the target (checked: the exact posterior differs from the prior).
HRBP would not do: its only path to LVFAILURE runs through CO, a collider left
unobserved, so P(LVFAILURE | HRBP) is the prior.

Linux only (``os.wait4``). Run: ``python bench/bench_draws.py
[--repeat N] [--pgmpy-draws K] [--warmup W] [--quick]``
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from _common import NETWORKS, ROOT, python

SAMPLES = 10_000
STRENGTH = 50.0
GIVEN = ("BP", "LOW")
TARGET, TARGET_STATE = "LVFAILURE", "TRUE"
GIB = 1 << 30

# The baseline, in its own process so its fixed cost (interpreter, import, read)
# is measured like riskchain's. argv: bif, node, state, target, strength, warmup, draws, seed.
# Prints JSON: when the process started its work, the per-draw times and posteriors.
PGMPY_LOOP = r"""
import json, sys, time
t_start = time.perf_counter()
import warnings
warnings.simplefilter("ignore")
import numpy as np
from pgmpy.factors.discrete import TabularCPD
from pgmpy.inference import VariableElimination
from pgmpy.models import DiscreteBayesianNetwork
from pgmpy.readwrite import BIFReader

bif, node, state, target = sys.argv[1:5]
strength, warmup, draws, seed = float(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7]), int(sys.argv[8])
t_import = time.perf_counter()
base = BIFReader(bif).get_model()
# the structure and the point tables, read once; the loop rebuilds everything else
nodes = list(base.nodes())
edges = list(base.edges())
spec = []
for v in nodes:
    cpd = base.get_cpds(v)
    values = cpd.get_values()
    spec.append((v, int(cpd.cardinality[0]), values, list(cpd.variables[1:]),
                 [int(c) for c in cpd.cardinality[1:]], dict(cpd.state_names)))
t_read = time.perf_counter()
rng = np.random.default_rng(seed)

def one():
    cpds = []
    for v, card, values, parents, pcards, names in spec:
        # Dirichlet(strength x column) for every column at once: normalised gammas
        g = rng.standard_gamma(strength * values)
        total = g.sum(axis=0, keepdims=True)
        g = np.where(total > 0, g / np.where(total > 0, total, 1.0), values)
        cpds.append(TabularCPD(v, card, g, evidence=parents or None,
                               evidence_card=pcards or None, state_names=names))
    model = DiscreteBayesianNetwork(edges)
    model.add_nodes_from(nodes)
    model.add_cpds(*cpds)
    f = VariableElimination(model).query([target], evidence={node: state}, show_progress=False)
    return float(f.get_value(**{target: sys.argv[9]}))

t_loop, c_loop = time.perf_counter(), time.process_time()
for _ in range(warmup):
    one()
times, cpu, post = [], [], []
for _ in range(draws):
    t, c = time.perf_counter(), time.process_time()
    post.append(one())
    times.append(time.perf_counter() - t)
    cpu.append(time.process_time() - c)
print(json.dumps({"import": t_import - t_start, "read": t_read - t_import,
                  "loop": time.perf_counter() - t_loop, "loop_cpu": time.process_time() - c_loop,
                  "times": times, "cpu": cpu, "post": post}))
"""


def riskchain_argv() -> list[str]:
    # the console script next to this interpreter (not a pyenv shim in front of it)
    exe = Path(sys.executable).with_name("riskchain")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("riskchain")
    return [found] if found else [python(), "-m", "riskchain.cli"]


@dataclass
class Run:
    """One whole process: wall seconds, CPU seconds (user + system), peak RSS in bytes."""

    wall: float
    cpu: float
    rss: int


def measured(argv: list[str], env: dict[str, str] | None = None, out: Path | None = None) -> Run:
    """Run one whole process and measure it (fails loudly if it fails)."""
    with open(out or os.devnull, "wb") as fh:
        t = time.perf_counter()
        p = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.PIPE)
        # wait4 gives this child's own rusage (RUSAGE_CHILDREN is a max over all of them)
        _, status, usage = os.wait4(p.pid, 0)
        spent = time.perf_counter() - t
    p.returncode = os.waitstatus_to_exitcode(status)
    err = p.stderr.read().decode(errors="replace") if p.stderr else ""
    if p.stderr:
        p.stderr.close()
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({p.returncode}):\n{err}")
    # ru_maxrss is in KiB on Linux
    return Run(spent, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024)


def median_measured(argv: list[str], env: dict[str, str], repeat: int) -> Run:
    """Median wall and CPU seconds and the largest peak RSS over ``repeat`` runs, after
    a warm-up run."""
    measured(argv, env)  # warms the file cache and the model cache
    runs = [measured(argv, env) for _ in range(repeat)]
    return Run(
        statistics.median(r.wall for r in runs),
        statistics.median(r.cpu for r in runs),
        max(r.rss for r in runs),
    )


def mib(n: int) -> str:
    return f"{n / (1 << 20):.0f} MiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="riskchain runs per figure")
    parser.add_argument("--pgmpy-draws", type=int, default=200, help="pgmpy draws timed")
    parser.add_argument("--warmup", type=int, default=10, help="pgmpy draws before timing")
    parser.add_argument("--quick", action="store_true", help="skip the 10,000-draw heavy runs")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench_draws_"))
    try:
        run(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(args: argparse.Namespace, tmp: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RISKCHAIN_")}
    env["RISKCHAIN_CACHE_DIR"] = str(tmp / "cache")  # never the user's cache
    rc = riskchain_argv()
    models = {}
    for name in ("alarm", "hepar2", "win95pts"):
        models[name] = tmp / f"{name}.yaml"
        subprocess.run(
            [*rc, "import", str(NETWORKS / f"{name}.bif.gz"), "-o", str(models[name])],
            check=True, cwd=ROOT, env=env, capture_output=True,
        )  # fmt: skip
    bif = tmp / "alarm.bif"
    bif.write_bytes(gzip.decompress((NETWORKS / "alarm.bif.gz").read_bytes()))

    alarm = str(models["alarm"])
    given = ["--given", f"{GIVEN[0]}={GIVEN[1]}", "--target", TARGET]
    draws = ["--samples", str(SAMPLES), "--strength", f"{STRENGTH:g}", "--seed", "1"]
    query = [*rc, "query", alarm, *given, *draws, "--format", "json"]

    # the finding must move the target, or the question is trivial
    prior_out, post_out = tmp / "prior.json", tmp / "post.json"
    measured([*rc, "query", alarm, "--target", TARGET, "--format", "json"], env, prior_out)
    measured([*rc, "query", alarm, *given, "--format", "json"], env, post_out)
    prior = json.loads(prior_out.read_text())["posteriors"][TARGET][TARGET_STATE]
    exact = json.loads(post_out.read_text())["posteriors"][TARGET][TARGET_STATE]
    assert abs(exact - prior) > 1e-3, "finding and target are d-separated"

    # -- 1. time: riskchain's whole process against the pgmpy loop ------------------------
    ours = median_measured(query, env, args.repeat)
    plain = median_measured([*rc, "query", alarm, *given, "--format", "json"], env, args.repeat)
    out = tmp / "draws.json"
    measured(query, env, out)
    unc = json.loads(out.read_text())["uncertainty"]
    ours_mean = unc["mean"][TARGET][TARGET_STATE]
    assert unc["samples"] == SAMPLES and unc["impossible_draws"] == 0

    loop = [python(), "-c", PGMPY_LOOP, str(bif), *GIVEN, TARGET, f"{STRENGTH:g}"]
    loop += [str(args.warmup), str(args.pgmpy_draws), "2", TARGET_STATE]
    loop_out = tmp / "loop.json"
    whole = measured(loop, None, loop_out)
    base = json.loads(loop_out.read_text())
    k = len(base["post"])
    # extrapolate with the mean per draw (a total is a sum); the fixed cost is the
    # rest of the process: interpreter, importing pgmpy, reading the BIF
    per_draw, per_draw_cpu = statistics.fmean(base["times"]), statistics.fmean(base["cpu"])
    fixed = whole.wall - base["loop"]
    fixed_cpu = whole.cpu - base["loop_cpu"]
    theirs = fixed + SAMPLES * per_draw
    theirs_cpu = fixed_cpu + SAMPLES * per_draw_cpu
    base_mean, sd = statistics.fmean(base["post"]), statistics.stdev(base["post"])
    z = (ours_mean - base_mean) / (sd * math.sqrt(1 / k + 1 / SAMPLES))

    q = f"--given {GIVEN[0]}={GIVEN[1]} --target {TARGET}"
    print(f"alarm, {q}, {SAMPLES} draws, --strength {STRENGTH:g}")
    print(f"  exact P({TARGET}={TARGET_STATE}): prior {prior:.4f}, given the finding {exact:.4f}")
    print(f"{'':44}{'wall s':>9}{'CPU s':>9}{'peak RSS':>10}")
    print(
        f"{f'riskchain query, {SAMPLES} draws (median of {args.repeat})':<44}{ours.wall:9.2f}{ours.cpu:9.2f}{mib(ours.rss):>10}"
    )
    print(
        f"{'riskchain query, no draws (same question)':<44}{plain.wall:9.2f}{plain.cpu:9.2f}{mib(plain.rss):>10}"
    )
    print(f"pgmpy loop: {k} draws timed after {args.warmup} warm-up draws")
    print(f"{'  per draw, in ms (mean)':<44}{per_draw * 1e3:9.1f}{per_draw_cpu * 1e3:9.1f}")
    print(f"{'  fixed: interpreter, import pgmpy, read BIF':<44}{fixed:9.2f}{fixed_cpu:9.2f}")
    print(f"{f'  EXTRAPOLATED to {SAMPLES} draws':<44}{theirs:9.1f}{theirs_cpu:9.1f}")
    print(
        f"{'speed-up, pgmpy (extrapolated) / riskchain':<44}{theirs / ours.wall:8.0f}x{theirs_cpu / ours.cpu:8.0f}x   goal >= 100x"
    )
    print(
        f"{'peak RSS of the riskchain run':<44}{mib(ours.rss):>9}  {ours.rss / GIB:.3f} GiB   goal < 1 GiB"
    )
    print(
        f"cross-check, mean P({TARGET}={TARGET_STATE}) over the draws: riskchain {ours_mean:.4f} "
        f"({SAMPLES}), pgmpy {base_mean:.4f} ({k}); sd {sd:.4f}; difference {z:+.1f} standard errors"
    )
    assert abs(z) < 4, "the two means disagree beyond Monte-Carlo error"
    assert ours.rss < GIB, "over 1 GiB"

    # -- 2. memory: heavier runs, against the same query without draws ----------------------
    rep = max(1, args.repeat // 2)
    print(
        f"\nevery node's posterior, no finding, --strength {STRENGTH:g} (median of {rep}, largest RSS)"
    )
    print(
        f"{'network':<10}{'draws':>7}{'wall s':>9}{'CPU s':>8}{'peak RSS':>10}   no draws: wall s, peak RSS"
    )
    cases = [("alarm", SAMPLES), ("hepar2", 2000), ("win95pts", 2000)]
    if not args.quick:
        cases += [("hepar2", SAMPLES), ("win95pts", SAMPLES)]
    for name, n in cases:
        path = str(models[name])
        heavy = [
            *rc,
            "query",
            path,
            "--samples",
            str(n),
            "--strength",
            f"{STRENGTH:g}",
            "--seed",
            "1",
        ]
        r = median_measured([*heavy, "--format", "json"], env, rep)
        r0 = median_measured([*rc, "query", path, "--format", "json"], env, rep)
        print(
            f"{name:<10}{n:>7}{r.wall:>9.2f}{r.cpu:>8.2f}{mib(r.rss):>10}   {r0.wall:.2f}, {mib(r0.rss)}"
        )
        assert r.rss < GIB, f"{name}: peak RSS {mib(r.rss)} is over 1 GiB"


if __name__ == "__main__":
    main()
