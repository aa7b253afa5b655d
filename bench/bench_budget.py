"""The memory budget on the two largest repository networks: every node's posterior,
no findings, default budget (1 GiB).

``link`` fits the budget and is solved; ``munin1`` does not and must be refused
before any table is allocated. Prints the planner's estimate and the wall time
of each outcome, and (for contrast) the time to read the network.

Run: ``python bench/bench_budget.py``
"""

from __future__ import annotations

import resource
import time

from _common import read_network
from riskchain.engine.exact import infer
from riskchain.errors import TooLargeError, format_bytes


def main() -> None:
    for name in ("link", "munin1"):
        t = time.perf_counter()
        m = read_network(name)
        read = time.perf_counter() - t
        t = time.perf_counter()
        try:
            res = infer(m, list(range(len(m))))
            outcome = (
                f"solved: largest table {format_bytes(res.plan.largest * 8)}, "
                f"working set {format_bytes(res.plan.working * 8)}"
            )
        except TooLargeError as exc:
            outcome = f"refused: needs about {format_bytes(exc.needed_bytes)}"
        spent = time.perf_counter() - t
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"{name:<8} {len(m):>5} nodes  read {read:5.1f} s  {outcome}  in {spent:.2f} s  (peak RSS so far {rss:.0f} MiB)"
        )


if __name__ == "__main__":
    main()
