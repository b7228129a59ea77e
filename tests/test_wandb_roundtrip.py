"""The W&B round trip: what reaches W&B's server, through the real SDK and wandb-core.

Only the server is stood in (`tests/wandb_server.py`, on 127.0.0.1); `wandb.init`, the
artifact uploads, `wandb sync` and Launch's enqueueing are wandb's own code. Each test reads
what the server holds at the end: the artifacts W&B would list, with their bytes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from jupyter_jobs.store import JobStore

from .cases import INIT, SETUP, TRAIN
from .helpers import content_alias, execute, git, run_cli, text, write_notebook_file
from .wandb_server import WandbServer

pytestmark = pytest.mark.wandb_facing

JOB = "job-source-job_example-train.ipynb"


def folder_bytes(folder: Path, names: list[str]) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in names}


def assert_one_job_as_stored(
    server: WandbServer, record: dict, job_bytes: dict[str, bytes], code_bytes: dict[str, bytes]
) -> None:
    """W&B holds exactly one job, the stored version byte for byte, and its code artifact, and
    every artifact version that was started was committed."""
    assert server.uncommitted() == []
    (job,) = server.committed("job")
    assert (job.name, job.type) == (record["name"], "job")
    assert sorted(job.aliases) == sorted({"latest", *record["artifact_aliases"]})
    assert job.file_bytes() == job_bytes
    (code,) = server.committed("code")
    assert code.name == record["code_artifact"]["name"]
    assert record["code_artifact"]["alias"] in code.aliases
    assert code.file_bytes() == code_bytes


def create_from_cli(notebook: Path, *options: str) -> None:
    """The job stored as `jupyter jobs create` stores it, in the project job_example."""
    created = run_cli("create", str(notebook), "--project", "job_example", *options)
    assert created.returncode == 0, created.stderr


def stored(store_dir: Path) -> tuple[dict, dict[str, bytes], dict[str, bytes]]:
    """The stored job's record, its files and its code artifact's files, read from the store."""
    record = JobStore.open_for_reading(store_dir).resolve(JOB).record.to_json()
    code = record["code_artifact"]
    return record, folder_bytes(Path(record["path"]), record["files"]), folder_bytes(Path(code["path"]), code["files"])


@pytest.mark.kernel
@pytest.mark.parametrize("job_creation", [True, False], ids=["job-creation-on", "job-creation-off"])
def test_wandb_job_in_an_online_run_uploads_exactly_one_job_and_its_code(
    tmp_path: Path, kernel_env: Callable[[str], None], store_dir: Path, wandb_server: WandbServer, job_creation: bool
) -> None:
    kernel_env("train.ipynb")
    init = INIT.replace(")", f", settings=wandb.Settings(disable_job_creation={not job_creation}))", 1)
    notebook = write_notebook_file(tmp_path / "train.ipynb", SETUP, init, TRAIN, "%wandb_job", "run.finish()")

    execute(notebook)

    assert_one_job_as_stored(wandb_server, *stored(store_dir))
    assert "UpsertBucket" in wandb_server.operations()


def wandb_sync(run_dir: Path, *, job_creation: bool, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`wandb sync` as a user runs it, on a machine whose settings say whether to build jobs."""
    env = {**os.environ, "WANDB_DISABLE_JOB_CREATION": str(not job_creation).lower()}
    return subprocess.run(
        [sys.executable, "-m", "wandb", "sync", str(run_dir)],
        env=env,
        cwd=cwd,
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
    execute(write_notebook_file(tmp_path / "train.ipynb", SETUP, init, TRAIN, "%wandb_job", "run.finish()"))
    as_stored = stored(store_dir)
    (run_dir,) = Path(os.environ["WANDB_DIR"]).glob("wandb/offline-run-*")
    assert wandb_server.artifacts == {} and wandb_server.runs == {}  # offline: nothing reached W&B before the sync
    if delete_store:
        shutil.rmtree(store_dir)

    wandb_sync(run_dir, job_creation=sync_job_creation)

    assert_one_job_as_stored(wandb_server, *as_stored)


def test_publish_online_puts_the_stored_version_and_its_code_into_w_and_b(
    write_notebook: Callable[..., Path], kernel_env: Callable[[str], None], store_dir: Path, wandb_server: WandbServer
) -> None:
    notebook = write_notebook()
    create_from_cli(notebook, "--entity", "local-entity", "--no-git")
    as_stored = stored(store_dir)

    published = run_cli("publish", JOB)

    assert published.returncode == 0, published.stderr
    job = f"local-entity/job_example/{JOB}:{content_alias(as_stored[0])}"
    assert published.stdout.startswith(f"Published {job} to W&B (run ")
    assert_one_job_as_stored(wandb_server, *as_stored)
    (run,) = wandb_server.runs.values()
    assert run["jobType"] == "jupyter_jobs_publish"


def test_publish_offline_prints_the_sync_command_which_uploads_exactly_one_job(
    git_repo: Callable[..., Path],
    write_notebook: Callable[..., Path],
    kernel_env: Callable[[str], None],
    store_dir: Path,
    wandb_server: WandbServer,
) -> None:
    """Not logged in: an offline run, synced later with job creation on."""
    root = git_repo()
    notebook = write_notebook(folder=root)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "notebook")
    create_from_cli(notebook, "--entity", "local-entity", "--source", "artifact")
    as_stored = stored(store_dir)

    published = run_cli("publish", JOB, cwd=root, env={"WANDB_API_KEY": "", "WANDB_MODE": "offline"})

    assert published.returncode == 0, published.stderr
    assert wandb_server.artifacts == {}
    command = published.stdout.splitlines()[-1].split()
    assert command[:6] == ["wandb", "sync", "-p", "job_example", "-e", "local-entity"]
    shutil.rmtree(store_dir)
    wandb_sync(Path(command[6]), job_creation=True, cwd=root)
    assert_one_job_as_stored(wandb_server, *as_stored)


TRAIN_SCRIPT = """\
import wandb
from jupyter_jobs import CreateRequest, create_job

run = wandb.init(project="job_example", entity="local-entity", config={"epochs": 2})
run.log({"loss": 0.5})
create_job(CreateRequest(path="train.py", project=run.project, entity=run.entity, source="artifact"), run=run)
run.finish()
"""


@pytest.mark.parametrize("online", [True, False], ids=["online", "offline-then-synced"])
def test_a_script_run_in_a_git_repository_with_job_creation_on_gives_exactly_one_job(
    git_repo: Callable[..., Path],
    kernel_env: Callable[[str], None],
    store_dir: Path,
    wandb_server: WandbServer,
    online: bool,
) -> None:
    """wandb-core would build a repo job of its own from such a run (its program is a file in a
    repository with a remote) when job creation is on: at the run's end, or at `wandb sync` by
    the syncing machine's settings."""
    root = git_repo()
    (root / "train.py").write_text(TRAIN_SCRIPT)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "script")
    mode = {"WANDB_DISABLE_JOB_CREATION": "false"} if online else {"WANDB_API_KEY": "", "WANDB_MODE": "offline"}
    env = {**os.environ, **mode}
    subprocess.run([sys.executable, "train.py"], cwd=root, env=env, check=True, capture_output=True, timeout=240)
    record = JobStore.open_for_reading(store_dir).resolve("job-source-job_example-train.py").record.to_json()
    if not online:
        (run_dir,) = Path(os.environ["WANDB_DIR"]).glob("wandb/offline-run-*")
        wandb_sync(run_dir, job_creation=True, cwd=root)

    (job,) = wandb_server.committed("job")
    assert job.name == record["name"]


def test_launch_publishes_then_enqueues_through_w_and_b_launch(
    write_notebook: Callable[..., Path], kernel_env: Callable[[str], None], store_dir: Path, wandb_server: WandbServer
) -> None:
    notebook = write_notebook()
    create_from_cli(notebook, "--entity", "local-entity", "--no-git")
    as_stored = stored(store_dir)
    wandb_server.add_queue("gpu")

    launched = run_cli("launch", JOB, "--queue", "gpu", "--config", "learning_rate=0.1", "--json")

    assert launched.returncode == 0, launched.stderr
    assert_one_job_as_stored(wandb_server, *as_stored)
    job = f"local-entity/job_example/{JOB}:{content_alias(as_stored[0])}"
    (item,) = wandb_server.queue_items
    assert (item["queue"], item["spec"]["job"]) == ("gpu", job)
    assert item["spec"]["overrides"]["run_config"] == {"learning_rate": 0.1}
    assert json.loads(launched.stdout)["item_id"] == item["id"]
    operations = wandb_server.operations()  # published (a run, its artifacts), then enqueued
    assert operations.index("CommitArtifact") < operations.index("pushToRunQueueByName")


def test_launch_to_a_queue_that_does_not_exist_is_one_line(
    write_notebook: Callable[..., Path], kernel_env: Callable[[str], None], wandb_server: WandbServer
) -> None:
    notebook = write_notebook()
    create_from_cli(notebook, "--entity", "local-entity")

    launched = run_cli("launch", JOB, "--queue", "nowhere")

    assert launched.returncode == 1
    assert launched.stderr.startswith(f"error: W&B Launch did not take local-entity/job_example/{JOB}:sha-")
    assert len(launched.stderr.splitlines()) == 1 and wandb_server.queue_items == []
    unknown = run_cli("launch", JOB, "--queue", "nowhere", "--config", "lr=0.1")
    assert unknown.stderr.startswith("error: The job has no config key lr (known keys: epochs, learning_rate)")


def test_launch_needs_w_and_b(write_notebook: Callable[..., Path], kernel_env: Callable[[str], None]) -> None:
    notebook = write_notebook()
    create_from_cli(notebook)

    launched = run_cli("launch", JOB, "--queue", "gpu", env={"WANDB_MODE": "offline"})

    assert (launched.returncode, launched.stderr.splitlines()) == (
        1,
        [
            "error: Launching needs W&B: wandb is offline or not logged in (run `wandb login` (and unset "
            "WANDB_MODE=offline); `jupyter jobs run` runs it on this machine)"
        ],
    )


@pytest.mark.kernel
def test_publish_from_the_magic_leaves_the_notebooks_run_alone(
    tmp_path: Path, kernel_env: Callable[[str], None], store_dir: Path, wandb_server: WandbServer
) -> None:
    kernel_env("train.ipynb")
    init = INIT.replace(")", ", mode='offline')", 1)
    cells = (SETUP, init, "%wandb_job", f"%wandb_job --publish {JOB}", "print('still active:', wandb.run.id == run.id)")

    outputs = execute(write_notebook_file(tmp_path / "train.ipynb", *cells))

    assert text(outputs[3]).startswith(f"Published local-entity/job_example/{JOB}:sha-")
    assert text(outputs[4]) == "still active: True\n"
    assert_one_job_as_stored(wandb_server, *stored(store_dir))


def test_publish_to_another_project_than_the_code_reference_names_is_refused(
    write_notebook: Callable[..., Path], kernel_env: Callable[[str], None], wandb_server: WandbServer
) -> None:
    create_from_cli(write_notebook(), "--entity", "local-entity", "--no-git")

    published = run_cli("publish", JOB, "--project", "elsewhere")

    assert (published.returncode, published.stderr.splitlines()) == (
        1,
        [
            f"error: {JOB} refers to its code in local-entity/job_example, not in local-entity/elsewhere "
            "(publish it to local-entity/job_example, or create the job again with --project elsewhere "
            "--entity local-entity)"
        ],
    )
    assert wandb_server.runs == {} and wandb_server.artifacts == {}
