"""Benchmark of command-line start-up (issue #7): is `jupyter-jobs list` quick to answer?

Runs whole processes, round-robin in a shuffled order each round: `jupyter-jobs list` (the
console script, else `python -m jupyter_jobs.cli`) on an empty and on a populated store, next
to `python -c pass` (the floor) and `python -c "import nbformat"` / `"import wandb"` (what the
lazy imports keep out of `list`). When `list` misses its target, `python -X importtime` names
the imports that cost the most.

    .venv/bin/python bench/bench_startup.py [--smoke]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import PYTHON, Stats, bench_env, ms, print_table  # noqa: E402

TARGET_MS = 100


@dataclass(frozen=True)
class Scale:
    rounds: int
    versions: int
    names: int


FULL = Scale(rounds=20, versions=1000, names=100)
SMOKE = Scale(rounds=1, versions=20, names=5)


def list_command() -> list[str]:
    """The console script when installed next to this Python, else the module."""
    script = Path(PYTHON).with_name("jupyter-jobs")
    return [str(script), "list"] if script.exists() else [PYTHON, "-m", "jupyter_jobs.cli", "list"]


def commands(empty: Path, full: Path, scale: Scale) -> dict[str, tuple[list[str], Path | None]]:
    """label -> (argv, store or None)."""
    listing = list_command()
    shown = " ".join(Path(listing[0]).name if i == 0 else part for i, part in enumerate(listing))
    return {
        "python -c pass (floor)": ([PYTHON, "-c", "pass"], None),
        'python -c "import nbformat"': ([PYTHON, "-c", "import nbformat"], None),
        'python -c "import wandb"': ([PYTHON, "-c", "import wandb"], None),
        f"{shown} (empty store)": (listing, empty),
        f"{shown} ({scale.versions:,} versions)": (listing, full),
    }


def populate(store: Path, scale: Scale) -> None:
    from bench_store import Filler

    from jupyter_jobs.store import JobStore

    JobStore.open(store.parent / "empty")
    filler = Filler(JobStore.open(store), scale.names)
    filler.fill_to(scale.versions)


def run_once(argv: list[str], store: Path | None) -> float:
    env = bench_env(**({"JUPYTER_JOBS_STORE": str(store)} if store else {}))
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return (time.perf_counter() - start) * 1000


def importtime_offenders(store: Path, top: int = 12) -> list[list[object]]:
    """The imports of `list` with the largest cumulative time (`python -X importtime`)."""
    env = bench_env(JUPYTER_JOBS_STORE=str(store))
    out = subprocess.run(
        [PYTHON, "-X", "importtime", "-m", "jupyter_jobs.cli", "list"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    rows = []
    for line in out.splitlines():
        if line.startswith("import time:") and "|" in line and "cumulative" not in line:
            self_us, cumulative_us, name = (part.strip() for part in line.removeprefix("import time:").split("|", 2))
            rows.append((int(cumulative_us), int(self_us), name))
    rows.sort(reverse=True)
    return [[name, f"{cumulative / 1000:.1f}", f"{self_ / 1000:.1f}"] for cumulative, self_, name in rows[:top]]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="few rounds, a few seconds")
    scale = SMOKE if parser.parse_args(argv).smoke else FULL
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        full, empty = Path(tmp) / "full", Path(tmp) / "empty"
        populate(full, scale)
        table = commands(empty, full, scale)
        samples: dict[str, list[float]] = {label: [] for label in table}
        draw = random.Random(3)
        for round_ in range(scale.rounds + 1):  # round 0 warms the file cache and is dropped
            for label in draw.sample(list(table), len(table)):
                elapsed = run_once(*table[label])
                if round_:
                    samples[label].append(elapsed)
        floor = Stats.of(samples["python -c pass (floor)"]).median
        rows, missed = [], False
        for label, values in samples.items():
            stats = Stats.of(values)
            target = ""
            if "list" in label:
                target = ("met" if stats.median <= TARGET_MS else "MISSED") + f" (<= {TARGET_MS})"
                missed |= stats.median > TARGET_MS
            rows.append([label, stats.count, ms(stats.median), ms(stats.p95), ms(stats.median - floor), target])
        print_table(
            f"Whole-process start-up (ms; {os.cpu_count()} CPUs, rounds interleaved)",
            ["command", "n", "median", "p95", "minus floor", "target"],
            rows,
        )
        if missed:
            print_table(
                "python -X importtime -m jupyter_jobs.cli list: largest imports (ms)",
                ["module", "cumulative", "self"],
                importtime_offenders(full),
            )


if __name__ == "__main__":
    main()
