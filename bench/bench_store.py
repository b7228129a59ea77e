"""Benchmark of the local job store at scale (issue #7): does it stay fast as it fills up?

Fills a fresh store in a temporary folder with real `add_version` calls, round-robin over 500
job names, and at 0, 5,000 and 10,000 existing versions times one `list_jobs` page, `resolve`
(bare name, alias and explicit version) and `add_version` of new content. Prints median and
p95 in milliseconds. `--smoke` runs the same steps with small numbers in a few seconds.

    .venv/bin/python bench/bench_store.py [--smoke]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jupyter_jobs.store import JobStore  # noqa: E402
from tests.helpers import sample_record  # noqa: E402


@dataclass(frozen=True)
class Scale:
    names: int
    checkpoints: tuple[int, ...]
    repeats: int


FULL = Scale(names=500, checkpoints=(0, 5_000, 10_000), repeats=200)
SMOKE = Scale(names=20, checkpoints=(0, 100, 200), repeats=20)


class Filler:
    """Adds versions with fresh content, round-robin over the job names, counting them."""

    def __init__(self, store: JobStore, names: int) -> None:
        self.store = store
        self.names = [f"job-bench-{i:03d}" for i in range(names)]
        self.added = 0

    def add_one(self) -> None:
        name = self.names[self.added % len(self.names)]
        spec = {"_version": "v0", "source_type": "artifact", "serial": self.added, "noise": os.urandom(8).hex()}
        files = {
            "wandb-job.json": json.dumps(spec).encode(),
            "requirements.frozen.txt": b"wandb==0.31.0\nnumpy==2.1.0\n",
        }
        self.store.add_version(name, files, sample_record(spec=spec), [f"tag{self.added % 3}"])
        self.added += 1

    def fill_to(self, total: int) -> None:
        while self.added < total:
            self.add_one()
            if self.added % 1000 == 0:
                print(f"  ... {self.added} versions", file=sys.stderr, flush=True)


def timed_ms(action: Callable[[], object], repeats: int) -> list[float]:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"{statistics.median(ordered):8.2f} {p95:8.2f}"


def measure(filler: Filler, repeats: int) -> dict[str, list[float]]:
    """Time each operation `repeats` times at the store's current size."""
    adds = timed_ms(filler.add_one, repeats)
    draw = random.Random(7)
    known = filler.names[: min(filler.added, len(filler.names))]
    per_name = filler.added // len(filler.names) or 1  # every known name has this many

    def resolve_some() -> object:
        name = draw.choice(known)
        form = draw.choice([name, f"{name}:latest", f"{name}:v{draw.randrange(per_name)}"])
        return filler.store.resolve(form)

    return {
        "add_version": adds,
        "list_jobs page": timed_ms(lambda: filler.store.list_jobs(limit=50), repeats),
        "resolve": timed_ms(resolve_some, repeats),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="small numbers, a few seconds")
    scale = SMOKE if parser.parse_args(argv).smoke else FULL
    with tempfile.TemporaryDirectory(prefix="bench-store-") as folder:
        filler = Filler(JobStore.open(Path(folder) / "store"), scale.names)
        print(f"{'existing versions':>17} {'operation':<15} {'median ms':>9} {'p95 ms':>8}")
        for checkpoint in scale.checkpoints:
            filler.fill_to(checkpoint)
            for operation, samples in measure(filler, scale.repeats).items():
                print(f"{checkpoint:>17,} {operation:<15} {summary(samples)}", flush=True)
        print(f"({scale.names} job names, {scale.repeats} samples each, store in {folder})")


if __name__ == "__main__":
    main()
