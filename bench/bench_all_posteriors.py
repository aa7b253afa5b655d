"""Every node's posterior, no evidence, whole process: riskchain's CLI against pgmpy
and pyAgrum on the same networks, measured in the same run.

Goal (issue #5): on alarm, hepar2, win95pts, andes, pathfinder, water, pigs and
munin, faster than pgmpy (VariableElimination over every node) on each, and a
median within 2x of pyAgrum's LazyPropagation.

What each figure is (a whole process each time, output discarded):

- riskchain: ``riskchain query NET.yaml --format json`` (no ``--target``: every
  node), on the model file ``riskchain import`` wrote (imported once, not
  timed). *no cache* with ``RISKCHAIN_NO_CACHE=1``; *cold* with an empty cache
  folder (the run reads the YAML and writes the cache entry); *warm* with the
  entry in place.
- pgmpy: ``python`` reading the network and running
  ``VariableElimination(model).query([node], show_progress=False)`` for every
  node. *BIF*: read with pgmpy's ``BIFReader`` from the plain ``.bif``; *pickle*:
  the same ``DiscreteBayesianNetwork`` loaded from a pickle made beforehand
  (pgmpy's counterpart of riskchain's warm cache). Both include importing pgmpy.
- pyAgrum: ``python`` running ``gum.loadBN`` on the plain ``.bif``, then
  ``LazyPropagation``, ``makeInference()`` and ``posterior`` of every node, on one
  thread like everyone else (``--threads``; see :func:`use_threads`). Skipped
  with a message when pyAgrum is not installed (it is not a riskchain dependency;
  ``pip install pyagrum`` to run it).

The ``.bif.gz`` files are decompressed once before timing. Every process keeps
compiled bytecode (in the work folder) as a normal install does, unless
``--no-bytecode``. Runs are interleaved (one of each per round) so a change in
the machine's load weighs on every figure alike. The posteriors of
every node are compared between riskchain and each baseline (max abs difference)
so the timings compare the same work.

Run: ``python bench/bench_all_posteriors.py [--repeat N] [--pgmpy-repeat N] [NETWORK ...]``
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
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

DEFAULT = ["alarm", "hepar2", "win95pts", "andes", "pathfinder", "water", "pigs", "munin"]

PGMPY = r"""
import json, pickle, sys, warnings
warnings.simplefilter("ignore")
from pgmpy.inference import VariableElimination
from pgmpy.models import DiscreteBayesianNetwork
src = sys.argv[1]
if src.endswith(".pkl"):
    with open(src, "rb") as fh:
        model = pickle.load(fh)
else:
    from pgmpy.readwrite import BIFReader
    model = BIFReader(src).get_model()
assert isinstance(model, DiscreteBayesianNetwork)
ve = VariableElimination(model)
post = {}
for node in model.nodes():
    f = ve.query([node], show_progress=False)
    post[node] = dict(zip(f.state_names[node], f.values.tolist()))
if len(sys.argv) > 2:
    with open(sys.argv[2], "w") as fh:
        json.dump(post, fh)
"""

PGMPY_PICKLE = r"""
import pickle, sys, warnings
warnings.simplefilter("ignore")
from pgmpy.readwrite import BIFReader
with open(sys.argv[2], "wb") as fh:
    pickle.dump(BIFReader(sys.argv[1]).get_model(), fh)
"""

PYAGRUM = r"""
import json, os, sys
try:
    import pyagrum as gum
except ImportError:
    import pyAgrum as gum
if os.environ.get("BENCH_THREADS"):
    gum.setNumberOfThreads(int(os.environ["BENCH_THREADS"]))
bn = gum.loadBN(sys.argv[1])
ie = gum.LazyPropagation(bn)
ie.makeInference()
post = {}
for n in bn.nodes():
    var = bn.variable(n)
    post[var.name()] = dict(zip(var.labels(), ie.posterior(n).toarray().tolist()))
if len(sys.argv) > 2:
    with open(sys.argv[2], "w") as fh:
        json.dump(post, fh)
"""


@dataclass
class Row:
    """One network's figures (seconds) and the posterior cross-checks."""

    name: str
    nodes: int
    yaml_bytes: int
    nocache: float
    cold: float
    warm: float
    cached: bool  # the CLI wrote a cache entry
    pgmpy_bif: float
    pgmpy_pickle: float
    pyagrum: float | None
    diff_pgmpy: float
    diff_pyagrum: float | None


def have_pyagrum() -> bool:
    return any(importlib.util.find_spec(m) is not None for m in ("pyagrum", "pyAgrum"))


# The environment of every timed process (see use_bytecode).
BASE_ENV: dict[str, str] = dict(os.environ)


def use_bytecode(folder: Path) -> None:
    """Let every timed process keep compiled bytecode, in ``folder``, as a normal
    install does (this environment sets PYTHONDONTWRITEBYTECODE, which makes each
    process compile riskchain's modules, and any other uncompiled ones, again)."""
    BASE_ENV.pop("PYTHONDONTWRITEBYTECODE", None)
    BASE_ENV["PYTHONPYCACHEPREFIX"] = str(folder)


def use_threads(n: int) -> None:
    """Give every process ``n`` threads: pyAgrum's own, and BLAS/OpenMP for numpy.
    pyAgrum runs LazyPropagation on every core by default, and on a shared machine
    a busy core stalls it (munin: 2 s with one thread, 14 s with two while other
    work ran); one thread each compares engine with engine on one core."""
    BASE_ENV["BENCH_THREADS"] = str(n)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        BASE_ENV[var] = str(n)


def run(argv: list[str], env: dict[str, str] | None = None) -> float:
    """Wall time of one whole process (fails loudly if it fails)."""
    t = time.perf_counter()
    subprocess.run(
        argv,
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env if env is not None else BASE_ENV,
    )
    return time.perf_counter() - t


def riskchain_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in BASE_ENV.items() if not k.startswith("RISKCHAIN_")}
    env.update(extra)
    return env


def interleaved(commands: dict[str, tuple[list[str], object]], repeat: int) -> dict[str, float]:
    """Median wall time of each command, run in rounds (one run of each per round) so a
    change in the machine's load weighs on every command alike.

    ``commands`` maps a label to ``(argv, env)``; ``env`` may be a function called
    before each run (a fresh empty cache folder for the cold runs). Every command
    runs once untimed first (file cache, compiled bytecode, the warm cache entry).
    """

    def env_of(env):
        return env() if callable(env) else env

    for argv, env in commands.values():
        run(argv, env_of(env))
    times: dict[str, list[float]] = {label: [] for label in commands}
    for _ in range(repeat):
        for label, (argv, env) in commands.items():
            times[label].append(run(argv, env_of(env)))
    return {label: statistics.median(t) for label, t in times.items()}


def prepare(name: str, work: Path, reimport: bool) -> tuple[Path, Path]:
    """The riskchain model file and the plain .bif of a network (made once, not timed)."""
    src = NETWORKS / f"{name}.bif.gz"
    bif = work / f"{name}.bif"
    if not bif.exists():
        bif.write_bytes(gzip.decompress(src.read_bytes()))
    yaml = work / f"{name}.yaml"
    if reimport or not yaml.exists():
        print(f"  importing {name} (once, not timed) ...", file=sys.stderr)
        subprocess.run(
            [*riskchain_cmd(), "import", str(src), "-o", str(yaml), "--force"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return yaml, bif


def riskchain_cmd() -> list[str]:
    exe = shutil.which("riskchain")
    return [exe] if exe else [python(), "-m", "riskchain.cli"]


def max_diff(ours: dict, theirs: dict) -> float:
    """Largest |p - q| over every node and state (both as {node: {state: p}})."""
    if set(ours) != set(theirs):
        raise AssertionError(f"different nodes: {sorted(set(ours) ^ set(theirs))[:5]}")
    worst = 0.0
    for node, dist in ours.items():
        other = {str(k): v for k, v in theirs[node].items()}
        if set(dist) != set(other):
            raise AssertionError(f"{node}: states {sorted(dist)} vs {sorted(other)}")
        worst = max(worst, *(abs(p - other[s]) for s, p in dist.items()))
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("networks", nargs="*", default=DEFAULT)
    parser.add_argument("--repeat", type=int, default=5, help="runs per riskchain/pyAgrum figure")
    parser.add_argument("--pgmpy-repeat", type=int, default=1, help="runs per pgmpy figure")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "riskchain-bench-all-posteriors",
        help="imported model files, plain .bif files and cache folders (kept between runs)",
    )
    parser.add_argument("--reimport", action="store_true", help="import the networks again")
    parser.add_argument(
        "--no-bytecode",
        action="store_true",
        help="keep the environment's PYTHONDONTWRITEBYTECODE (every process compiles its modules)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="threads for pyAgrum and for BLAS/OpenMP in every process (default 1; 0: their defaults)",
    )
    args = parser.parse_args()
    if args.threads > 0:
        use_threads(args.threads)
    work = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    if not args.no_bytecode:
        use_bytecode(work / "pycache")
    agrum = have_pyagrum()
    if not agrum:
        print(
            "pyAgrum is not installed: its column is skipped (pip install pyagrum to run it; "
            "it is not a riskchain dependency)",
            file=sys.stderr,
        )
    rows = []
    prepared = {name: prepare(name, work, args.reimport) for name in args.networks}
    # one untimed pgmpy run first, so pgmpy's modules are compiled like everyone else's
    run([python(), "-c", PGMPY, str(prepared[args.networks[0]][1])])
    for name in args.networks:
        yaml, bif = prepared[name]
        query = [*riskchain_cmd(), "query", str(yaml), "--format", "json"]
        pkl = work / f"{name}.pgmpy.pkl"
        if not pkl.exists():
            subprocess.run([python(), "-c", PGMPY_PICKLE, str(bif), str(pkl)], check=True)
        warm_dir = work / f"cache-{name}"
        shutil.rmtree(warm_dir, ignore_errors=True)
        warm_env = riskchain_env(RISKCHAIN_CACHE_DIR=str(warm_dir))
        cold_dirs = work / f"cold-{name}"
        shutil.rmtree(cold_dirs, ignore_errors=True)
        cold_dirs.mkdir()

        def cold_env(folder: Path = cold_dirs) -> dict[str, str]:
            # an empty cache folder for every cold run
            return riskchain_env(RISKCHAIN_CACHE_DIR=tempfile.mkdtemp(dir=folder))

        print(f"  {name}: riskchain and pyAgrum ...", file=sys.stderr)
        commands = {
            "nocache": (query, riskchain_env(RISKCHAIN_NO_CACHE="1")),
            "cold": (query, cold_env),
            "warm": (query, warm_env),
        }
        if agrum:
            commands["pyagrum"] = ([python(), "-c", PYAGRUM, str(bif)], None)
        t = interleaved(commands, args.repeat)
        shutil.rmtree(cold_dirs)
        cached = any((warm_dir / "models").glob("*.entry"))
        out = subprocess.run(
            query, check=True, cwd=ROOT, capture_output=True, text=True, env=warm_env
        )
        ours = json.loads(out.stdout)["posteriors"]
        ag = diff_ag = None
        if agrum:
            ag = t["pyagrum"]
            check = work / f"{name}.pyagrum.json"
            run([python(), "-c", PYAGRUM, str(bif), str(check)])
            diff_ag = max_diff(ours, json.loads(check.read_text()))
        print(f"  {name}: pgmpy ...", file=sys.stderr)
        check = work / f"{name}.pgmpy.json"
        pg_bif, pg_pkl = [], []
        for _ in range(args.pgmpy_repeat):
            pg_bif.append(run([python(), "-c", PGMPY, str(bif), str(check)]))
            pg_pkl.append(run([python(), "-c", PGMPY, str(pkl)]))
        diff_pg = max_diff(ours, json.loads(check.read_text()))
        rows.append(
            Row(
                name=name,
                nodes=len(ours),
                yaml_bytes=yaml.stat().st_size,
                nocache=t["nocache"],
                cold=t["cold"],
                warm=t["warm"],
                cached=cached,
                pgmpy_bif=statistics.median(pg_bif),
                pgmpy_pickle=statistics.median(pg_pkl),
                pyagrum=ag,
                diff_pgmpy=diff_pg,
                diff_pyagrum=diff_ag,
            )
        )
        print(f"  {name}: done", file=sys.stderr)
    report(rows)


def report(rows: list[Row]) -> None:
    print(
        f"{'network':<11}{'nodes':>6}{'YAML MB':>8}{'no cache':>9}{'cold':>7}{'warm':>7}"
        f"{'pgmpy BIF':>10}{'pgmpy pkl':>10}{'pyAgrum':>9}   seconds, whole process"
    )
    for r in rows:
        ag = f"{r.pyagrum:9.2f}" if r.pyagrum is not None else f"{'-':>9}"
        print(
            f"{r.name:<11}{r.nodes:>6}{r.yaml_bytes / 1e6:>8.2f}{r.nocache:>9.2f}{r.cold:>7.2f}"
            f"{r.warm:>7.2f}{r.pgmpy_bif:>10.2f}{r.pgmpy_pickle:>10.2f}{ag}"
        )
    uncached = [r.name for r in rows if not r.cached]
    if uncached:
        print(
            f"note: no cache entry was written for {', '.join(uncached)} (a CLI without the cache, "
            "or files too small to cache): cold and warm are the same path there"
        )
    print()
    print(
        f"{'network':<11}{'BIF: pgmpy/cold':>16}{'pickle: pgmpy/warm':>19}"
        f"{'cold/pyAgrum':>13}{'warm/pyAgrum':>13}{'|diff| pgmpy':>13}{'|diff| pyAgrum':>15}"
    )
    cold_ratios, warm_ratios = [], []
    faster = True
    for r in rows:
        # like for like: both reading text, both loading what an earlier run prepared
        faster &= r.pgmpy_bif > max(r.cold, r.nocache) and r.pgmpy_pickle > r.warm
        line = f"{r.name:<11}{r.pgmpy_bif / r.cold:>15.1f}x{r.pgmpy_pickle / r.warm:>18.1f}x"
        if r.pyagrum is not None and r.diff_pyagrum is not None:
            cold_ratios.append(r.cold / r.pyagrum)
            warm_ratios.append(r.warm / r.pyagrum)
            line += f"{r.cold / r.pyagrum:>13.2f}{r.warm / r.pyagrum:>13.2f}"
            line += f"{r.diff_pgmpy:>13.1e}{r.diff_pyagrum:>15.1e}"
        else:
            line += f"{'-':>13}{'-':>13}{r.diff_pgmpy:>13.1e}{'-':>15}"
        print(line)
    print()
    print(
        "riskchain faster than pgmpy on every network (no cache and cold against pgmpy "
        f"reading the BIF, warm against pgmpy loading its pickle): {faster}"
    )
    if warm_ratios:
        print(
            f"median riskchain/pyAgrum over {len(warm_ratios)} networks: "
            f"warm {statistics.median(warm_ratios):.2f}, cold {statistics.median(cold_ratios):.2f}"
            "   goal <= 2"
        )


if __name__ == "__main__":
    main()
