"""Benchmark of the secrets scan over large outputs (issue #15): does it stay linear?

Builds notebooks whose outputs are training logs, once with lines that mention token, key,
auth or password (the words that send a line to the detectors) and once with other words, at
doubling sizes, and times `secrets.scan` of each (median of a few runs). Also one long line of
dotted words (`auth.auth.auth...` on a line with `=` and a quote, but no assignment), which the
assignment pattern used to scan in quadratic time.
A linear scan doubles its time when the size doubles. `--smoke` runs small sizes.

    .venv/bin/python bench/bench_scan.py [--smoke]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchlib import print_table  # noqa: E402

from jupyter_jobs.export import export_text  # noqa: E402
from jupyter_jobs.secrets import scan  # noqa: E402

FULL_LINES = (50_000, 100_000, 200_000)
SMOKE_LINES = (2_000, 4_000)
MENTIONS = ("token", "key", "auth", "password")
PLAIN = ("cache", "batch", "queue", "shard")


def notebook(log: list[str], salt: int) -> bytes:
    """A one-cell notebook printing `log`; `salt` makes the outputs new to the scan's cache."""
    cell = {"cell_type": "code", "id": "a", "metadata": {}, "execution_count": 1, "source": "train()"}
    cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": [*log, f"run {salt}\n"]}]
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [cell]}).encode()


def training_log(lines: int, words: tuple[str, ...]) -> list[str]:
    return [f"step {i}: loss=0.{i % 997:03d} refreshing {words[i % 4]} for worker {i % 61} ok\n" for i in range(lines)]


def seconds(log: list[str], repeats: int) -> tuple[float, int]:
    """Median seconds of `scan` over fresh copies of the notebook, and its size in bytes."""
    samples = []
    for salt in range(repeats):
        text = notebook(log, salt)
        export = export_text(text, "bench.ipynb")
        started = time.perf_counter()
        scan(export, text, exported=True)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples), len(text)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true")
    smoke = parser.parse_args(argv).smoke
    sizes, repeats = (SMOKE_LINES, 1) if smoke else (FULL_LINES, 3)
    seconds([*training_log(10, MENTIONS), "api_key = 'a1b2c3d4e5f6'\n"], 1)  # detect-secrets loads lazily
    rows = []
    for lines in sizes:
        (with_words, size), (without, _) = (seconds(training_log(lines, w), repeats) for w in (MENTIONS, PLAIN))
        rows.append([f"{lines:,} log lines", f"{size / 1e6:.1f}", f"{with_words:.2f}", f"{without:.2f}",
                     f"{size / 1e6 / with_words:.1f}", f"{with_words / without:.1f}x"])  # fmt: skip
    for words in (2_000, 8_000) if smoke else (20_000, 80_000):
        took, size = seconds(["step = 1, " + ".".join(["auth"] * words) + " 'done'"], repeats)
        rows.append([f"one line of {words:,} dotted words", f"{size / 1e6:.2f}", f"{took:.2f}", "", "", ""])
    print_table(
        "Secrets scan of large outputs (seconds, median)",
        ["outputs", "MB", "with token/key/auth/password", "without", "MB/s with", "ratio"],
        rows,
    )


if __name__ == "__main__":
    main()
