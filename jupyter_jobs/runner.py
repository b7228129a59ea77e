"""Run a stored job on this machine, the way W&B Launch would run it.

The job's code (the exported script from its code artifact) is copied into a fresh working
folder and started with the current Python and offline wandb. Config overrides travel as W&B
Launch sends them — `WANDB_LAUNCH=true` and a JSON `WANDB_CONFIG` — so the script's own
`wandb.init(config=...)` sees the overridden values without any change to the code. Overrides
of a declared config file are written into the file before the run and passed in
`WANDB_LAUNCH_FILE_OVERRIDES`, which the script's `manage_config_file` applies as under Launch.
Git and image jobs run the same exported snapshot: cloning or pulling needs the network.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import msgspec

from .errors import JobError
from .inputs import check_config_overrides, check_file_overrides, split_key
from .models import JobRecord, RunOutcome, utc_now
from .store import JobStore

LOG_FILE = "output.log"
# Linux refuses an environment string over 128 KiB (MAX_ARG_STRLEN); WANDB_CONFIG is one.
MAX_CONFIG_BYTES = 100_000


def parse_overrides(pairs: Sequence[str]) -> dict[str, Any]:
    """`key=value` pairs; values are JSON when they parse as JSON (0.1, true, [1,2]), else text."""
    overrides: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise JobError(f"Cannot read the override {pair!r}", hint="write it as KEY=VALUE, e.g. learning_rate=0.1")
        try:
            overrides[key.strip()] = json.loads(raw)
        except ValueError:
            overrides[key.strip()] = raw
    return overrides


def parse_file_overrides(pairs: Sequence[str]) -> dict[str, dict[str, Any]]:
    """`config.yaml:training.epochs=5` pairs as Launch's file overrides: {path: {"training": {"epochs": 5}}}."""
    overrides: dict[str, dict[str, Any]] = {}
    for pair in pairs:
        path, sep, assignment = pair.partition(":")
        if not sep or not path.strip():
            raise JobError(
                f"Cannot read the file override {pair!r}", hint="write it as FILE:KEY=VALUE, e.g. config.yaml:epochs=5"
            )
        for key, value in parse_overrides([assignment]).items():
            *parents, leaf = split_key(key)
            node = overrides.setdefault(path.strip(), {})
            for parent in parents:
                node = node.setdefault(parent, {})
            node[leaf] = value
    return overrides


def run_job(
    store: JobStore,
    ref: str,
    overrides: Mapping[str, Any],
    workdir: Path | None = None,
    file_overrides: Mapping[str, Mapping[str, Any]] | None = None,
    timeout: float | None = None,
) -> RunOutcome:
    """Run the job, then keep the outcome in the store (`jupyter jobs show` lists it).

    A run still going after `timeout` seconds is killed; its outcome says so (the exit code of
    a killed process, and a last line in its log).
    """
    stored = store.resolve(ref)
    record = stored.record
    file_overrides = dict(file_overrides or {})
    check_config_overrides(record, overrides)
    check_file_overrides(record, file_overrides)
    folder = _materialise(store, record, workdir)
    _write_file_overrides(folder, file_overrides)
    log = folder / LOG_FILE
    started_at, start = utc_now(), time.monotonic()
    environment = _launch_environment(record, overrides, file_overrides, folder)
    with log.open("wb") as output:
        try:
            exit_code = subprocess.run(
                [sys.executable, record.code_artifact.entrypoint],
                cwd=folder,
                env=environment,
                stdout=output,
                stderr=subprocess.STDOUT,
                check=False,
                timeout=timeout,
            ).returncode
        except OSError as err:
            raise JobError(f"The job could not be started: {err.strerror or err}", hint=f"its log is {log}") from None
        except subprocess.TimeoutExpired:  # subprocess.run has killed it
            output.write(f"\njupyter-jobs: stopped after the run timeout of {timeout} s\n".encode())
            exit_code = -signal.SIGKILL
    outcome = RunOutcome(
        job=record.ref,
        exit_code=exit_code,
        workdir=str(folder),
        log=str(log),
        run_dir=_newest_run_dir(folder),
        overrides=dict(overrides),
        started_at=started_at,
        seconds=round(time.monotonic() - start, 3),
        file_overrides=file_overrides,
    )
    try:
        store.record_run(stored.name, outcome)
    except JobError as err:  # the run happened; a read-only store only cannot remember it
        return msgspec.structs.replace(outcome, not_recorded=err.line)
    return outcome


def _materialise(store: JobStore, record: JobRecord, workdir: Path | None) -> Path:
    """Copy the job's code out of this store (wherever it has moved), checked against its
    digest first: code changed after it was stored is never run."""
    files = store.code_files(record.code_artifact.digest)
    folder = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix=f"{record.name[:40]}-"))
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return folder


def _write_file_overrides(folder: Path, file_overrides: Mapping[str, Mapping[str, Any]]) -> None:
    """Write each override into its materialised config file with wandb's own reader and writer."""
    from .wandb_compat import apply_file_override

    for path, tree in file_overrides.items():
        apply_file_override(folder / path, tree)


# Variables that tie a process to a run of its parent: wandb sets WANDB_SERVICE so that child
# processes attach to the parent's wandb-core. A job runs as its own run, as under W&B Launch.
PARENT_RUN_VARIABLES = ("WANDB_SERVICE", "WANDB_RUN_ID")


def _launch_environment(
    record: JobRecord,
    overrides: Mapping[str, Any],
    file_overrides: Mapping[str, Mapping[str, Any]],
    folder: Path,
) -> dict[str, str]:
    inherited = {key: value for key, value in os.environ.items() if key not in PARENT_RUN_VARIABLES}
    env = {
        **inherited,
        "WANDB_MODE": "offline",
        "WANDB_DIR": str(folder),
        "WANDB_PROJECT": record.project,
        "WANDB_LAUNCH": "true",
        "WANDB_CONFIG": json.dumps(dict(overrides)),
    }
    if file_overrides:
        env["WANDB_LAUNCH_FILE_OVERRIDES"] = json.dumps(dict(file_overrides))
    if record.entity:
        env["WANDB_ENTITY"] = record.entity
    if len(env["WANDB_CONFIG"]) > MAX_CONFIG_BYTES:
        raise JobError(
            f"The config overrides are too large to pass to the job ({len(env['WANDB_CONFIG']):,} characters)",
            hint=f"keep them under {MAX_CONFIG_BYTES:,}; pass large data as a file the job reads",
        )
    return env


def _newest_run_dir(folder: Path) -> str | None:
    runs = sorted((folder / "wandb").glob("offline-run-*"), key=lambda p: p.stat().st_mtime)
    return str(runs[-1]) if runs else None
