"""Run a stored job on this machine, the way W&B Launch would run it.

The job's code (the exported script from its code artifact) is copied into a fresh working
folder under the runs directory (`runs_location`; the newest 50 folders are kept) and started
with the current Python and offline wandb. Config overrides travel as W&B Launch sends them —
`WANDB_LAUNCH=true` and a JSON `WANDB_CONFIG` — so the script's own `wandb.init(config=...)`
sees the overridden values without any change to the code. Overrides of a declared config file
are written into the file before the run and passed in `WANDB_LAUNCH_FILE_OVERRIDES`, which the
script's `manage_config_file` applies as under Launch. Git and image jobs run the same exported
snapshot (cloning or pulling needs the network), and every outcome says so (`what_runs`).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from .errors import JobError
from .inputs import check_config_overrides, check_file_overrides, split_key
from .models import JobRecord, RunOutcome, RunStatus, utc_now
from .store import JobStore, new_run_id

LOG_FILE = "output.log"
# Linux refuses an environment string over 128 KiB (MAX_ARG_STRLEN); WANDB_CONFIG is one.
MAX_CONFIG_BYTES = 100_000
KEEP_RUN_FOLDERS = 50  # run folders beyond the newest 50 are removed when a run starts
TAIL_LINES = 40
TAIL_BYTES = 64_000


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


@dataclass(frozen=True)
class PreparedRun:
    """A run whose overrides are checked and whose code is in its folder, ready to start: the
    CLI waits for it, the server (`server_runs`) starts it and answers at once."""

    name: str  # the stored job's name
    record: JobRecord
    folder: Path
    argv: list[str]
    env: dict[str, str]
    overrides: dict[str, Any]
    file_overrides: dict[str, Any]
    run_id: str = field(default_factory=new_run_id)

    @property
    def log(self) -> Path:
        return self.folder / LOG_FILE

    def outcome(self, status: RunStatus, started_at: str, seconds: float = 0.0, **ended: Any) -> RunOutcome:
        """The run as the store keeps it; `ended` adds exit_code, error and log_tail."""
        return RunOutcome(
            job=self.record.ref,
            exit_code=ended.pop("exit_code", None),
            workdir=str(self.folder),
            log=str(self.log),
            run_dir=_newest_run_dir(self.folder),
            overrides=self.overrides,
            started_at=started_at,
            seconds=round(seconds, 3),
            file_overrides=self.file_overrides,
            id=self.run_id,
            status=status,
            code=what_runs(self.record),
            **ended,
        )

    def ended(self, exit_code: int | None, started_at: str, seconds: float, stopped: str | None = None) -> RunOutcome:
        """The outcome once the process has exited (None: it never started); `stopped` says why
        it was stopped, if it was."""
        tail = log_tail(self.log)
        if stopped is None and exit_code == 0:
            return self.outcome("finished", started_at, seconds, exit_code=exit_code)
        status: RunStatus = "cancelled" if stopped == CANCELLED else "failed"
        last = next((line.strip() for line in reversed(tail) if line.strip()), None)
        error = stopped or f"exit code {exit_code}" + (f": {last}" if last else "")
        return self.outcome(status, started_at, seconds, exit_code=exit_code, error=error, log_tail=tail)


def prepare_run(
    store: JobStore,
    ref: str,
    overrides: Mapping[str, Any],
    workdir: Path | None = None,
    file_overrides: Mapping[str, Mapping[str, Any]] | None = None,
    runs_dir: str | Path | None = None,
) -> PreparedRun:
    """Check the overrides against the job's inputs (before anything runs), then copy its code
    into `workdir`, or a new folder under the runs directory (where old folders are pruned)."""
    stored = store.resolve(ref)
    record = stored.record
    file_overrides = dict(file_overrides or {})
    check_config_overrides(record, overrides)
    check_file_overrides(record, file_overrides)
    environment = _launch_environment(record, overrides, file_overrides)
    folder = Path(workdir) if workdir else _new_run_folder(runs_location(runs_dir), record.name)
    _materialise(store, record, folder)
    _write_file_overrides(folder, file_overrides)
    return PreparedRun(
        name=stored.name,
        record=record,
        folder=folder,
        argv=[sys.executable, record.code_artifact.entrypoint],
        env={**environment, "WANDB_DIR": str(folder)},
        overrides=dict(overrides),
        file_overrides=file_overrides,
    )


def run_job(
    store: JobStore,
    ref: str,
    overrides: Mapping[str, Any],
    workdir: Path | None = None,
    file_overrides: Mapping[str, Mapping[str, Any]] | None = None,
    timeout: float | None = None,
) -> RunOutcome:
    """Run the job and wait for it (`jupyter jobs run`), then keep the outcome in the store.

    A run still going after `timeout` seconds is killed; its outcome says so.
    """
    prepared = prepare_run(store, ref, overrides, workdir, file_overrides)
    started_at, start = utc_now(), time.monotonic()
    stopped = None
    with prepared.log.open("wb") as output:
        try:
            exit_code = subprocess.run(
                prepared.argv,
                cwd=prepared.folder,
                env=prepared.env,
                stdout=output,
                stderr=subprocess.STDOUT,
                check=False,
                timeout=timeout,
            ).returncode
        except OSError as err:
            raise JobError(
                f"The job could not be started: {err.strerror or err}", hint=f"its log is {prepared.log}"
            ) from None
        except subprocess.TimeoutExpired:  # subprocess.run has killed it
            stopped = timed_out(timeout)
            output.write(f"\njupyter-jobs: {stopped}\n".encode())
            exit_code = -signal.SIGKILL
    outcome = prepared.ended(exit_code, started_at, time.monotonic() - start, stopped)
    return keep(store, prepared.name, outcome)


def keep(store: JobStore, name: str, outcome: RunOutcome) -> RunOutcome:
    """Record the run; a read-only store only cannot remember it, which the outcome then says."""
    try:
        store.record_run(name, outcome)
    except JobError as err:
        return msgspec.structs.replace(outcome, not_recorded=err.line)
    return outcome


CANCELLED = "cancelled on request"


def timed_out(timeout: float | None) -> str:
    return f"stopped after the run timeout of {timeout:g} s"


def what_runs(record: JobRecord) -> str:
    """Said plainly for every run: a local run always runs the exported script stored with the
    job; for a git or image job W&B Launch would run the checkout or the image instead."""
    script = f"the exported script {record.code_artifact.entrypoint} stored with the job"
    if record.git is not None:
        return f"{script}, not a checkout of {record.git.remote} at {record.git.commit[:12]} (Launch runs that)"
    if record.image:
        return f"{script}, not the image {record.image} (Launch runs that)"
    return script


def with_log_tail(run: RunOutcome) -> RunOutcome:
    """A run as the panel and the widget show it: its log's last lines, read now (they change
    while it runs)."""
    return msgspec.structs.replace(run, log_tail=log_tail(Path(run.log)))


def log_tail(log: Path, lines: int = TAIL_LINES) -> list[str]:
    """The last `lines` lines of a log, read from its end (a long run's log may be large)."""
    try:
        with log.open("rb") as file:
            file.seek(0, os.SEEK_END)
            file.seek(max(0, file.tell() - TAIL_BYTES))
            text = file.read().decode("utf-8", "replace")
    except OSError:
        return []
    return text.splitlines()[-lines:]


def runs_location(override: str | Path | None = None) -> Path:
    """Where run folders go: the server's `runs_dir`, then $JUPYTER_JOBS_RUNS, then Jupyter's
    data dir; never the system temp dir, where they would pile up unseen."""
    if override:
        return Path(override).expanduser().absolute()
    from_env = os.environ.get("JUPYTER_JOBS_RUNS")
    if from_env:
        return Path(from_env).expanduser().absolute()
    from jupyter_core.paths import jupyter_data_dir

    return Path(jupyter_data_dir()) / "jupyter_jobs" / "runs"


def _new_run_folder(root: Path, job: str) -> Path:
    """A fresh folder for one run, after removing all but the newest KEEP_RUN_FOLDERS."""
    try:
        root.mkdir(parents=True, exist_ok=True)
        prune_run_folders(root, KEEP_RUN_FOLDERS - 1)  # and the new one makes 50
        return Path(tempfile.mkdtemp(prefix=f"{time.strftime('%Y%m%dT%H%M%S')}-{job[:40]}-", dir=root))
    except OSError as err:
        raise JobError(
            f"Cannot make a run folder in {root}: {err.strerror or err}",
            hint="set $JUPYTER_JOBS_RUNS (or c.JupyterJobs.runs_dir) to a writable folder",
        ) from None


def prune_run_folders(root: Path, keep: int = KEEP_RUN_FOLDERS) -> list[Path]:
    """Keep-N rule: remove the run folders beyond the newest `keep` (by modification time). A run
    still going touches its log, so it stays among the newest unless thousands start after it."""
    folders = sorted((p for p in root.iterdir() if p.is_dir()), key=_mtime, reverse=True)
    removed = folders[keep:]
    for folder in removed:
        shutil.rmtree(folder, ignore_errors=True)
    return removed


def _mtime(folder: Path) -> float:
    """When the folder last changed, its log included (a running job writes to it)."""
    try:
        log = folder / LOG_FILE
        return max(folder.stat().st_mtime, log.stat().st_mtime if log.exists() else 0.0)
    except OSError:
        return 0.0


def _materialise(store: JobStore, record: JobRecord, folder: Path) -> None:
    """Copy the job's code out of this store (wherever it has moved), checked against its
    digest first: code changed after it was stored is never run."""
    files = store.code_files(record.code_artifact.digest)
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


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
) -> dict[str, str]:
    inherited = {key: value for key, value in os.environ.items() if key not in PARENT_RUN_VARIABLES}
    env = {
        **inherited,
        "WANDB_MODE": "offline",
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
