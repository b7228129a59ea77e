"""Run every benchmark and print every table: `make bench` (full) / `make bench-smoke` (CI).

Each benchmark runs in its own process, one after the other (they would skew each other's
timings if run at once), with `--smoke` passed through. The exit status is non-zero when any
benchmark failed; timings never fail a run.

    .venv/bin/python bench/run_all.py [--smoke]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import PYTHON, bench_env  # noqa: E402

BENCH = Path(__file__).resolve().parent
SCRIPTS = ("bench_export.py", "bench_create.py", "bench_store.py", "bench_rest.py", "bench_startup.py", "bench_scan.py")


def run(script: str, smoke: bool) -> tuple[int, float, float]:
    """Run one benchmark, its output straight to ours; (exit status, seconds, load at the end).

    The 1-minute load average says how busy the shared machine was: read figures with it.
    """
    print(f"\n# {script}{' --smoke' if smoke else ''}", flush=True)
    started = time.perf_counter()
    status = subprocess.run([PYTHON, str(BENCH / script), *(["--smoke"] if smoke else [])], env=bench_env()).returncode
    return status, time.perf_counter() - started, os.getloadavg()[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: every benchmark in a few seconds")
    smoke = parser.parse_args(argv).smoke
    results = {script: run(script, smoke) for script in SCRIPTS}
    print(f"\n# summary ({os.cpu_count()} CPUs)")
    for script, (status, seconds, load) in results.items():
        outcome = "ok" if status == 0 else f"FAILED (exit {status})"
        print(f"{script:<18} {outcome:<16} {seconds:6.1f} s   load average at end {load:.1f}")
    print(f"{'total':<18} {'':<16} {sum(seconds for _, seconds, _ in results.values()):6.1f} s")
    return 0 if all(status == 0 for status, _, _ in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
