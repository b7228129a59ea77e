"""The W&B round trip: what reaches W&B's server, through the real SDK and wandb-core.

Only the server is stood in (`tests/wandb_server.py`, on 127.0.0.1); `wandb.init`, the
artifact uploads, `wandb sync` and Launch's enqueueing are wandb's own code. Each test reads
what the server holds at the end: the artifacts W&B would list, with their bytes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from jupyter_jobs.store import JobStore

from .test_magic import INIT, SETUP, TRAIN, execute, write
from .wandb_server import WandbServer

JOB = "job-source-job_example-train.ipynb"
CODE = "source-job_example-train.ipynb"


def folder_bytes(folder: Path, names: list[str]) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in names}


def assert_one_job_as_stored(server: WandbServer, record: dict, code_bytes: dict[str, bytes]) -> None:
    """W&B holds exactly one job, the stored version byte for byte, and its code artifact."""
    (job,) = server.committed("job")
    assert (job.name, job.type) == (record["name"], "job")
    assert sorted(job.aliases) == sorted({"latest", *record["artifact_aliases"]})
    assert job.file_bytes() == folder_bytes(Path(record["path"]), record["files"])
    (code,) = server.committed("code")
    assert code.name == record["code_artifact"]["name"]
    assert record["code_artifact"]["alias"] in code.aliases
    assert code.file_bytes() == code_bytes


def stored(store_dir: Path) -> tuple[dict, dict[str, bytes]]:
    """The stored job's record and its code artifact's files, read from the store."""
    record = JobStore.open_for_reading(store_dir).resolve(JOB).record
    code = record["code_artifact"]
    return record, folder_bytes(Path(code["path"]), code["files"])


@pytest.mark.kernel
@pytest.mark.parametrize("job_creation", [True, False], ids=["job-creation-on", "job-creation-off"])
def test_wandb_job_in_an_online_run_uploads_exactly_one_job_and_its_code(
    tmp_path: Path, kernel_env: Callable[[str], None], store_dir: Path, wandb_server: WandbServer, job_creation: bool
) -> None:
    kernel_env("train.ipynb")
    init = INIT.replace(")", f", settings=wandb.Settings(disable_job_creation={not job_creation}))", 1)
    notebook = write(tmp_path / "train.ipynb", SETUP, init, TRAIN, "%wandb_job", "run.finish()")

    execute(notebook)

    assert_one_job_as_stored(wandb_server, *stored(store_dir))
    assert "UpsertBucket" in wandb_server.operations()


def wandb_sync(run_dir: Path, *, job_creation: bool) -> subprocess.CompletedProcess[str]:
    """`wandb sync` as a user runs it, on a machine whose settings say whether to build jobs."""
    env = {**os.environ, "WANDB_DISABLE_JOB_CREATION": str(not job_creation).lower()}
    return subprocess.run(
        [sys.executable, "-m", "wandb", "sync", str(run_dir)],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=True,
    )


@pytest.mark.kernel
@pytest.mark.parametrize(
    ("run_job_creation", "sync_job_creation", "delete_store"),
    [(False, False, False), (False, True, True), (True, True, False)],
    ids=["plain", "synced-with-job-creation-store-deleted", "job-creation-everywhere"],
)
def test_wandb_sync_of_an_offline_run_uploads_exactly_one_job_and_its_code(
    tmp_path: Path,
    kernel_env: Callable[[str], None],
    store_dir: Path,
    wandb_server: WandbServer,
    run_job_creation: bool,
    sync_job_creation: bool,
    delete_store: bool,
) -> None:
    kernel_env("train.ipynb")
    settings = f"settings=wandb.Settings(mode='offline', disable_job_creation={not run_job_creation})"
    init = INIT.replace(")", f", {settings})", 1)
    execute(write(tmp_path / "train.ipynb", SETUP, init, TRAIN, "%wandb_job", "run.finish()"))
    record, code_bytes = stored(store_dir)
    (run_dir,) = Path(os.environ["WANDB_DIR"]).glob("wandb/offline-run-*")
    assert wandb_server.artifacts == {} and wandb_server.runs == {}  # offline: nothing reached W&B before the sync
    if delete_store:
        saved = folder_bytes(Path(record["path"]), record["files"])
        shutil.rmtree(store_dir)
        record = {**record, "path": str(tmp_path / "saved")}
        Path(record["path"]).mkdir()
        for name, data in saved.items():
            (Path(record["path"]) / name).write_bytes(data)

    wandb_sync(run_dir, job_creation=sync_job_creation)

    assert_one_job_as_stored(wandb_server, record, code_bytes)
