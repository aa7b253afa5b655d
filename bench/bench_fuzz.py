"""Fuzzing at scale: many mutated model and scenario files, and what riskchain made of each.

The same documents as ``tests/spec/test_fuzz.py`` (the mutations and file kinds of
``tests/spec/fuzzing.py``), many more of them, each built from its own seed so any
one can be made again: ``random.Random(f"{seed}-{kind}-{i}")``. Prints how many
were valid, refused with positioned errors, or failures (a traceback, a
diagnostic without a position, a numpy overflow warning, a tag that ran code),
per file kind and per mutation, and each distinct failure with the seeds that
gave it.

A document that takes longer than ``--timeout`` seconds (default 10) to read is
stopped and counted as a failure too: an input that slow is a failure for the
person waiting.

Run: ``python bench/bench_fuzz.py`` (100,000 documents, half of each kind;
``--documents N``, ``--seed S``). With ``PYTHONPATH`` pointing at another checkout's
``src`` it fuzzes that code (the before/after counts in docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "spec"))

from fuzzing import KINDS, Outcome, check, mutate


class TooSlow(Exception):
    """Raised in the middle of reading a document that took too long."""


def _alarm(signum, frame):
    raise TooSlow("took longer than the timeout")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--documents", type=int, default=100_000, help="in all, shared by the kinds")
    ap.add_argument("--seed", default="0")
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds per document")
    args = ap.parse_args()
    signal.signal(signal.SIGALRM, _alarm)
    per_kind = args.documents // len(KINDS)
    outcomes: collections.Counter = collections.Counter()
    by_mutation: collections.Counter = collections.Counter()
    failures: dict[str, list[str]] = collections.defaultdict(list)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        os.chdir(folder)  # where a tag that ran 'touch' would leave its marker
        for kind in KINDS:
            text, path = kind.text(), kind.prepare(folder)
            for i in range(per_kind):
                name = f"{args.seed}-{kind.name}-{i}"
                rng = random.Random(name)
                data, applied = mutate(text, rng, rng.randint(1, 3))
                signal.setitimer(signal.ITIMER_REAL, args.timeout)
                try:
                    outcome = check(kind, data, path)
                except TooSlow as exc:  # (when it fires outside the reading itself)
                    outcome = Outcome("failure", f"TooSlow: {exc}")
                finally:
                    signal.setitimer(signal.ITIMER_REAL, 0)
                outcomes[kind.name, outcome.kind] += 1
                for m in set(applied):
                    by_mutation[m, outcome.kind] += 1
                if outcome.kind == "failure":
                    failures[outcome.detail.split("\n")[0][:200]].append(f"{name} {applied}")
                if (i + 1) % 10_000 == 0:
                    print(f"  {kind.name}: {i + 1:,} documents", file=sys.stderr)
    spent = time.perf_counter() - start
    total = per_kind * len(KINDS)
    print(f"{total:,} documents in {spent:.0f} s ({spent / total * 1000:.1f} ms each)\n")
    print(f"{'file kind':<12} {'valid':>8} {'refused':>8} {'failures':>8}")
    for kind in KINDS:
        row = [outcomes[kind.name, k] for k in ("valid", "refused", "failure")]
        print(f"{kind.name:<12} {row[0]:>8,} {row[1]:>8,} {row[2]:>8,}")
    print(f"\n{'mutation (documents with it)':<30} {'valid':>8} {'refused':>8} {'failures':>8}")
    for m in sorted({m for m, _ in by_mutation}):
        row = [by_mutation[m, k] for k in ("valid", "refused", "failure")]
        print(f"{m:<30} {row[0]:>8,} {row[1]:>8,} {row[2]:>8,}")
    if failures:
        print("\nfailures (count, first seeds):")
        for detail, seeds in sorted(failures.items(), key=lambda kv: -len(kv[1])):
            print(f"{len(seeds):>6}  {detail}\n        {'; '.join(seeds[:3])}")


if __name__ == "__main__":
    main()
