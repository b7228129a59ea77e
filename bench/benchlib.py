"""Shared helpers of the benchmarks: statistics, tables, synthetic notebooks, environments.

Benchmarks print figures; they never assert on wall-clock time (a shared 2-core machine is
too noisy for that). Every table quotes medians of many samples, and every comparison with a
reference tool is measured side by side in one loop, so noise hits both sides alike.
"""

from __future__ import annotations

import base64
import json
import os
import random
import statistics
import struct
import sys
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


@dataclass(frozen=True)
class Stats:
    """Median and 95th percentile of a list of samples (milliseconds unless said otherwise)."""

    median: float
    p95: float
    count: int

    @classmethod
    def of(cls, samples: Sequence[float]) -> Stats:
        ordered = sorted(samples)
        p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
        return cls(statistics.median(ordered), p95, len(ordered))


def ms(value: float) -> str:
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def print_table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A plain aligned text table under a title: first column left-aligned, the rest right."""
    cells = [[str(cell) for cell in row] for row in [header, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    print(f"\n## {title}")
    for index, row in enumerate(cells):
        line = "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=False))
        )
        print(line.rstrip())
        if index == 0:
            print("  ".join("-" * w for w in widths))
    sys.stdout.flush()


def bench_env(**extra: str) -> dict[str, str]:
    """The environment of every child process: this checkout importable, W&B offline and quiet,
    and Python's bytecode cache on. An installed package has its modules compiled (pip does it);
    with PYTHONDONTWRITEBYTECODE set, every process would compile each changed module again,
    and start-up would time the compiler."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.update(WANDB_MODE="offline", WANDB_SILENT="true", **extra)
    return env


# ----------------------------------------------------------------------------- notebooks


def png_bytes(side: int, rng: random.Random) -> bytes:
    """A valid RGB PNG of random pixels: incompressible, like a real plot's worth of bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + rng.randbytes(side * 3) for _ in range(side))
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 1)) + chunk(b"IEND", b"")


# The plain-Python cells the synthetic notebook cycles through; `{i}` is the cell number.
_CELL_SOURCES = (
    "import math\nvalues_{i} = [math.sqrt(k) for k in range({i} % 50 + 10)]\nprint(sum(values_{i}))",
    'def step_{i}(x, lr=0.01):\n    """One optimisation step."""\n    for _ in range(3):\n        x = x - lr * 2 * x\n'
    "    return x\n\nresult_{i} = step_{i}(1.0)",
    "import random\nsamples_{i} = [random.random() for _ in range(100)]\nconfig_{i} = {{'epochs': {i} % 7}}",
    "class Model{i}:\n    def __init__(self):\n        self.weights = [0.0] * 8\n\n"
    "    def forward(self, x):\n        return [w * x for w in self.weights]\n\nModel{i}().forward(2)",
    "for epoch in range(3):\n    loss = 1.0 / (epoch + 1)\n"
    "    if loss < 0.5:\n        print(f'epoch {{epoch}}: {{loss:.3f}}')",
)
# Every MAGIC_EVERY-th code cell starts with one of these IPython constructs.
_MAGICS = (
    "%matplotlib inline",
    "!pip install tqdm>=4.0",
    "%time total_{i} = sum(range(1000))",
    "%%capture",
    "%env BENCH_CELL={i}",
    "!echo cell {i}",
)
MAGIC_EVERY = 4


def _cell_source(i: int) -> str:
    body = _CELL_SOURCES[i % len(_CELL_SOURCES)]
    if i % MAGIC_EVERY == MAGIC_EVERY - 1:
        body = _MAGICS[(i // MAGIC_EVERY) % len(_MAGICS)] + "\n" + body
    return body.format(i=i)


def write_notebook(path: Path, code_cells: int, output_bytes: int, seed: int = 0) -> Path:
    """Write a synthetic nbformat 4.5 notebook: `code_cells` code cells (one in MAGIC_EVERY
    starts with a magic or shell escape), a markdown cell every 10, and about `output_bytes` of
    outputs, one third base64 PNG images, the rest text streams: what makes real notebooks big."""
    rng = random.Random(seed)
    images = max(1, code_cells // 10)
    image_side = max(8, int(((output_bytes / 3 / images) * 3 / 4 / 3) ** 0.5))
    text_per_cell = max(1, int(output_bytes * 2 / 3 / code_cells))
    cells = []
    for i in range(code_cells):
        if i % 10 == 0:
            cells.append(
                {
                    "cell_type": "markdown",
                    "id": f"md-{i}",
                    "metadata": {},
                    "source": f"## Section {i // 10}\nSome *prose* about step {i}.",
                }
            )
        outputs: list[dict] = [{"output_type": "stream", "name": "stdout", "text": _text_lines(rng, text_per_cell)}]
        if i % 10 == 5:
            png = base64.b64encode(png_bytes(image_side, rng)).decode()
            outputs.append(
                {
                    "output_type": "display_data",
                    "metadata": {},
                    "data": {"image/png": png, "text/plain": ["<Figure size 640x480 with 1 Axes>"]},
                }
            )
        cells.append(
            {
                "cell_type": "code",
                "id": f"code-{i}",
                "execution_count": i + 1,
                "metadata": {},
                "source": _cell_source(i),
                "outputs": outputs,
            }
        )
    notebook = {
        "cells": cells,
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
    }
    path.write_text(json.dumps(notebook, indent=1), encoding="utf-8")
    return path


def _text_lines(rng: random.Random, size: int) -> list[str]:
    """About `size` characters of log-like output, as nbformat stores it: a list of lines."""
    line = f"step {rng.randrange(10**6):>7} loss {rng.random():.6f} acc {rng.random():.6f} " + "." * 40 + "\n"
    return [line] * max(1, size // len(line))


def size_mb(path: Path) -> str:
    """A file's size for a table: kB below a megabyte."""
    size = path.stat().st_size
    return f"{size / 1e6:.1f} MB" if size >= 1e6 else f"{size / 1e3:.0f} kB"
