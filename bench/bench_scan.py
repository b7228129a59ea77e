"""Benchmark of the secrets scan over large outputs (issue #15): does it stay linear?

Builds notebooks whose outputs are training logs, once with lines that mention token, key,
auth or password (the words that send a line to the detectors) and once with other words, at
doubling sizes, and times `secrets.scan` of each (median of a few runs). Also one long line of
dotted words (`auth.auth.auth...`), which an assignment pattern used to scan in quadratic time.
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


def notebook(lines: int, words: tuple[str, ...]) -> bytes:
    log = [f"step {i}: loss=0.{i % 997:03d} refreshing {words[i % 4]} for worker {i % 61} ok\n" for i in range(lines)]
    cell = {"cell_type": "code", "id": "a", "metadata": {}, "execution_count": 1, "source": "train()"}
    cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": log}]
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [cell]}).encode()


def dotted(words: int) -> bytes:
    cell = {"cell_type": "code", "id": "a", "metadata": {}, "execution_count": 1, "source": "show()"}
    cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ".".join(["auth"] * words)}]
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [cell]}).encode()


def seconds(text: bytes, repeats: int) -> float:
    export = export_text(text, "bench.ipynb")
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        scan(export, text, exported=True)  # the output cache is keyed by content: the copy is fresh
        samples.append(time.perf_counter() - started)
        text = text.replace(b'"train()"', b'"train() "', 1) if b'"train()"' in text else text + b" "
        export = export_text(text, "bench.ipynb")
    return statistics.median(samples)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true")
    smoke = parser.parse_args(argv).smoke
    sizes, repeats = (SMOKE_LINES, 1) if smoke else (FULL_LINES, 3)
    rows = []
    for lines in sizes:
        mentions, plain = notebook(lines, MENTIONS), notebook(lines, PLAIN)
        with_words, without = seconds(mentions, repeats), seconds(plain, repeats)
        megabytes = len(mentions) / 1e6
        rows.append([f"{lines:,} log lines", f"{megabytes:.1f}", f"{with_words:.2f}", f"{without:.2f}",
                     f"{megabytes / with_words:.1f}", f"{with_words / without:.1f}x"])  # fmt: skip
    for words in (2_000, 8_000) if smoke else (20_000, 80_000):
        rows.append([f"one line of {words:,} dotted words", f"{len(dotted(words)) / 1e6:.2f}",
                     f"{seconds(dotted(words), repeats):.2f}", "", "", ""])  # fmt: skip
    print_table(
        "Secrets scan of large outputs (seconds, median)",
        ["outputs", "MB", "with token/key/auth/password", "without", "MB/s with", "ratio"],
        rows,
    )


if __name__ == "__main__":
    main()
