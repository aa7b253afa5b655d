"""A what-if query on the bundled model from the shell, against importing pgmpy's inference.

Goal (issue #2): well under 0.5 s, and at most a quarter of the time of
``python -c "import pgmpy.inference"`` measured in the same run.

Run: ``python bench/bench_cli_query.py [--repeat N]``
"""

from __future__ import annotations

import argparse
import shutil

from _common import command_time, python

QUERY = [
    "query",
    "models/korea_russia_2024.yaml",
    "--given", "nis_satellite_photos=yes",
    "--given", "training_ground_video=yes",
    "--do", "nato_member_enters_war=yes",
    "--target", "rok_security_threat",
    "--target", "war_nature_changes",
]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    exe = shutil.which("riskchain")
    argv = [exe, *QUERY] if exe else [python(), "-m", "riskchain.cli", *QUERY]
    ours = command_time(argv, args.repeat)
    base = command_time([python(), "-c", "import pgmpy.inference"], max(3, args.repeat // 2))
    bare = command_time([python(), "-c", "pass"], args.repeat)
    print(f"riskchain query (whole process)      {ours:7.3f} s   goal < 0.5 s")
    print(f"python -c 'import pgmpy.inference'   {base:7.3f} s")
    print(f"python -c 'pass' (interpreter alone) {bare:7.3f} s")
    print(f"ratio riskchain / pgmpy import       {ours / base:7.3f}     goal <= 0.25")


if __name__ == "__main__":
    main()
