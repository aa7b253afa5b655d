"""Hostile inputs of issue 12: time and peak memory of ``riskchain validate`` on each.

Each input is written to a scratch folder and validated in its own process, which
is timed and its peak resident memory read (``os.wait4``); a run longer than
``--timeout`` seconds is stopped and reported as such. Families come in two sizes,
so that the ratio of the times shows how time grows with the file (about 2 when
it grows linearly, about 4 when quadratically).

Run: ``python bench/bench_inputs.py`` (this checkout), or with ``--src`` another
checkout's ``src`` folder, e.g. the code before a change.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT


def fan_in(n: int) -> str:
    lines = ["riskchain: 1", "nodes:"] + [f"  p{i}: {{p: 0.5}}" for i in range(n)]
    parents = ", ".join(f"p{i}" for i in range(n))
    return "\n".join([*lines, "  c:", f"    parents: [{parents}]", "    cpt: {default: 0.3}"]) + "\n"


def noisy_or(n: int) -> str:
    lines = ["riskchain: 1", "nodes:"] + [f"  p{i}: {{p: 0.5}}" for i in range(n)]
    causes = ", ".join(f"p{i}: 0.3" for i in range(n))
    parents = ", ".join(f"p{i}" for i in range(n))
    return "\n".join([*lines, "  c:", f"    parents: [{parents}]", f"    noisy_or: {{leak: 0.01, {causes}}}"]) + "\n"


def unknown_keys(n: int) -> str:
    states = ", ".join(f"s{i}" for i in range(n))
    keys = "".join(f"      x{i}: 0.0001\n" for i in range(n))
    return f"riskchain: 1\nnodes:\n  a:\n    states: [{states}]\n    p:\n{keys}"


def many_states(n: int) -> str:
    states = "".join(f"      - s{i}\n" for i in range(n))
    p = "".join(f"      s{i}: {1 / n}\n" for i in range(n - 1))
    return f"riskchain: 1\nnodes:\n  a:\n    states:\n{states}    p:\n{p}"


def missing_states(n: int) -> str:
    states = "".join(f"      - s{i}\n" for i in range(n))
    return f"riskchain: 1\nnodes:\n  a:\n    states:\n{states}    p: {{s0: 0.5}}\n"


def nested(n: int) -> str:
    return "riskchain: 1\nx: " + "{a: " * n + "1" + "}" * n + "\n"


def alias_labels(copies: int) -> str:
    label = "x" * 1_000_000
    lines = ["riskchain: 1", "nodes:", "  n0:", f"    label: &big {label}", "    p: 0.5"]
    for i in range(1, copies):
        lines += [f"  n{i}:", "    label: *big", "    p: 0.5"]
    return "\n".join(lines) + "\n"


def chained_scenarios(n: int) -> str:
    lines = ["riskchain: 1", "model: ../models/korea_russia_2024.yaml", "scenarios:"]
    lines += ["  s0:", "    given: {nis_satellite_photos: 'yes'}"]
    for i in range(1, n):
        lines += [f"  s{i}:", f"    extends: s{i - 1}"]
    return "\n".join(lines) + "\n"


CASES = [
    ("1 KB file, a node with 40 parents", fan_in, 40),
    ("a node with 26 parents", fan_in, 26),
    ("noisy_or with 18 parents", noisy_or, 18),
    ("noisy_or with 21 parents", noisy_or, 21),
    ("2,000 unknown keys over 2,000 states", unknown_keys, 2000),
    ("4,000 unknown keys over 4,000 states", unknown_keys, 4000),
    ("a node with 50,000 states", many_states, 50_000),
    ("a node with 100,000 states", many_states, 100_000),
    ("99,999 of 100,000 states missing", missing_states, 100_000),
    ("{a: {a: ...}} 50,000 deep", nested, 50_000),
    ("{a: {a: ...}} 100,000 deep", nested, 100_000),
    ("1 MB anchor used as 1,000 labels", alias_labels, 1000),
    ("1,500 scenarios, each extending the last", chained_scenarios, 1500),
    ("3,000 scenarios, each extending the last", chained_scenarios, 3000),
]


def run(argv: list[str], env: dict, timeout: float) -> tuple[float, float, int | None, int]:
    """(seconds, peak RSS in MiB, exit code or None when stopped, bytes written to stderr)."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=err)
        deadline = start + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                os.kill(proc.pid, signal.SIGKILL)
                pid, status, usage = os.wait4(proc.pid, 0)
                return time.perf_counter() - start, usage.ru_maxrss / 1024, None, 0
            time.sleep(0.01)
        spent = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        return spent, usage.ru_maxrss / 1024, proc.returncode, err.tell()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--src", default=str(ROOT / "src"), help="the riskchain source folder to run")
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds before a run is stopped")
    args = ap.parse_args()
    env = {**os.environ, "PYTHONPATH": args.src, "RISKCHAIN_CACHE_DIR": tempfile.mkdtemp()}
    print(f"riskchain from {args.src}\n")
    print(f"{'input':<44} {'file':>9} {'seconds':>8} {'peak MiB':>9} {'exit':>5} {'stderr':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "models").mkdir()
        (Path(tmp) / "models" / "korea_russia_2024.yaml").write_bytes(
            (ROOT / "models" / "korea_russia_2024.yaml").read_bytes()
        )
        (Path(tmp) / "in").mkdir()
        for label, make, n in CASES:
            path = Path(tmp) / "in" / "case.yaml"
            path.write_text(make(n))
            argv = [sys.executable, "-m", "riskchain.cli", "validate", str(path)]
            spent, rss, code, err = run(argv, env, args.timeout)
            size = path.stat().st_size
            shown = f"{size / 1e6:.1f} MB" if size >= 1e5 else f"{size / 1e3:.1f} KB"
            when = f"{spent:8.2f}" if code is not None else f">{args.timeout:7.0f}"
            code_text = str(code) if code is not None else "-"
            print(f"{label:<44} {shown:>9} {when} {rss:9.0f} {code_text:>5} {err:>9,}")


if __name__ == "__main__":
    main()
