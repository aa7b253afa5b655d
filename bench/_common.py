"""Shared helpers for the benchmarks: timing, and loading the repository networks."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NETWORKS = ROOT / "tests" / "data" / "networks"


def median_time(fn, repeat: int) -> float:
    """Median wall time of ``fn()`` over ``repeat`` calls, in seconds."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def command_time(argv: list[str], repeat: int) -> float:
    """Median wall time of a whole process, in seconds (fails loudly if it fails)."""

    def once() -> None:
        subprocess.run(
            argv, check=True, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    once()  # warm the file cache
    return median_time(once, repeat)


def read_network(name: str):
    """A repository network as a CompiledModel (through pgmpy's BIF reader)."""
    from riskchain.io.bif import read_bif

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return read_bif(NETWORKS / f"{name}.bif.gz").model


def python() -> str:
    return sys.executable
