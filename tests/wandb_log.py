"""Read an offline run's `.wandb` transaction log: the SDK's own protobuf `Record` messages.

The file is W&B's LevelDB-style log: a 7-byte header (`:W&B`, magic 0xBEE1, version), then
32 KiB blocks of chunks (crc32 4 bytes, length 2 bytes, type 1 byte: full/first/middle/last).
Parsing with `wandb.proto.wandb_internal_pb2.Record` means we read what `wandb sync` uploads.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from wandb.proto import wandb_internal_pb2

HEADER_LENGTH = 7
BLOCK_SIZE = 32 * 1024
CHUNK_HEADER = 7
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4


def records(path: Path) -> Iterator[Any]:
    data = path.read_bytes()
    assert data[:4] == b":W&B", f"{path} is not a W&B transaction log"
    position, pending = HEADER_LENGTH, b""
    while position + CHUNK_HEADER <= len(data):
        block_left = BLOCK_SIZE - position % BLOCK_SIZE
        if block_left < CHUNK_HEADER:
            position += block_left
            continue
        _, length, kind = struct.unpack("<IHB", data[position : position + CHUNK_HEADER])
        if kind == 0 and length == 0:
            position += block_left
            continue
        chunk = data[position + CHUNK_HEADER : position + CHUNK_HEADER + length]
        position += CHUNK_HEADER + length
        pending = chunk if kind in (FULL, FIRST) else pending + chunk
        if kind in (FULL, LAST):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending)
            yield record


def run_log(run_dir: Path) -> Path:
    return next(run_dir.glob("run-*.wandb"))


def artifacts(run_dir: Path) -> list[Any]:
    return [r.artifact for r in records(run_log(run_dir)) if r.WhichOneof("record_type") == "artifact"]


def config(run_dir: Path) -> dict[str, Any]:
    """The run's final config, as the config records in the log set it."""
    values: dict[str, Any] = {}
    for record in records(run_log(run_dir)):
        kind = record.WhichOneof("record_type")
        items = record.run.config.update if kind == "run" else record.config.update if kind == "config" else []
        for item in items:
            values[item.key or "/".join(item.nested_key)] = json.loads(item.value_json)
    return values


def exit_code(run_dir: Path) -> int | None:
    for record in records(run_log(run_dir)):
        if record.WhichOneof("record_type") == "exit":
            return record.exit.exit_code
    return None
