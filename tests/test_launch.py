"""W&B Launch's own code is the judge: it loads our jobs, builds their context and runs them.

Every job is made from the store, offline, with no entity (on wandb 0.22.0 with the agent's:
`helpers.LAUNCH_JOB_ENTITY`), and reaches W&B as a user without a login gets it there:
`jupyter jobs publish` (an offline run) and the `wandb sync` command it prints, run logged in.
A Launch agent (tests/launch_agent.py, a process of its own) then calls wandb.sdk.launch as
`wandb launch` does: `construct_launch_spec` → `LaunchProject.from_spec` →
`fetch_and_validate_project` (→ `wandb.apis.public.Job`, the downloads, the git fetch, the
notebook conversion) → `BuildContextManager` → `LocalProcessRunner`.

Stood in, and only at the network boundary:
- W&B's server: tests/wandb_server.py on 127.0.0.1, reached through `WANDB_BASE_URL`, which
  keeps what `wandb sync` uploads and answers the SDK's GraphQL and downloads. Its logged-in
  user's entity is the agent's: the sync and Launch fill the empty entity with it;
- github.com: a real `git daemon` on 127.0.0.1 serving a bare copy of the test repository,
  reached through git's own `url.<base>.insteadOf` in the agent's git configuration, so Launch
  fetches the remote URL the job records.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_jobs.store import JobStore

from .cases import LAYOUTS, Layout
from .helpers import (
    AGENT_ENTITY,
    AGENT_GIT_CONFIG,
    EXAMPLE_NOTEBOOKS,
    LAUNCH_JOB_ENTITY,
    agent_env,
    content_alias,
    execute,
    free_port,
    git,
    launch,
    offline_logs,
    port_answers,
    published,
    run_cli,
    wait_until,
)
from .wandb_server import WandbServer

pytestmark = pytest.mark.wandb_facing

PROJECT = "job_example"
REMOTE = "https://github.com/acme/ml.git"


@pytest.fixture(autouse=True)
def _job_entity(launch_job_entity: str | None) -> None:
    """Every job made here has `LAUNCH_JOB_ENTITY` (command line and kernels)."""


@pytest.fixture
def server() -> Iterator[WandbServer]:
    with WandbServer(entity=AGENT_ENTITY) as running:
        yield running


@pytest.fixture
def github(tmp_path: Path) -> Iterator[Callable[[Path], None]]:
    """Serve the repository given to `serve(repo)` as https://github.com/acme/ml.git, to the agent.

    A real `git daemon` on 127.0.0.1; git's `url.<base>.insteadOf`, in the agent's own global git
    configuration, sends github.com/acme to it.
    """
    base = tmp_path / "served"
    base.mkdir()
    port = free_port()
    daemon = subprocess.Popen(
        ["git", "daemon", "--export-all", f"--base-path={base}", "--listen=127.0.0.1", f"--port={port}", str(base)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # Only the agent's git sees the rule: the job records the remote the user's clone has.
    agent_config = str(tmp_path / AGENT_GIT_CONFIG)
    git(
        tmp_path, "config", "--file", agent_config, f"url.git://127.0.0.1:{port}/.insteadOf", "https://github.com/acme/"
    )

    def serve(repo: Path) -> None:
        bare = base / "ml.git"
        subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(bare)], check=True)
        wait_until(lambda: port_answers(port), "the git daemon answered", seconds=10, every=0.05)

    yield serve
    daemon.terminate()
    daemon.wait(timeout=10)


def create(path: Path, store: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    """A job made on the command line, offline, with no entity (`LAUNCH_JOB_ENTITY`); its record."""
    result = run_cli("create", str(path), "--project", PROJECT, "--store", str(store), "--json", env=env)
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["entity"] == LAUNCH_JOB_ENTITY
    return record


def python_files(seen: dict[str, Any]) -> dict[str, str]:
    folder = Path(seen["project_dir"])
    return {name: (folder / name).read_text() for name in seen["files"] if name.endswith(".py")}


def run_config(server: WandbServer, run_id: str) -> dict[str, Any]:
    """The config the launched run sent to W&B (its last `UpsertBucket` with a config)."""
    upserts = [c.variables for c in server.calls if c.operation == "UpsertBucket" and c.variables.get("name") == run_id]
    config = json.loads([u["config"] for u in upserts if u.get("config")][-1])
    return {key: value["value"] for key, value in config.items() if not key.startswith("_")}


def assert_fetched_in_agents_entity(server: WandbServer, *names: str) -> None:
    """Each artifact was looked up in the agent's entity: the empty entity was filled by Launch."""
    asked = {  # wandb 0.31 asks for the collection membership, 0.22 (no server features) for the artifact
        (c.variables.get("entity") or c.variables["entityName"], c.variables["name"])
        for c in server.calls
        if c.operation in ("ArtifactMembershipByName", "ArtifactByName")
    }
    for name in names:
        assert (AGENT_ENTITY, name) in asked, asked


# ------------------------------------------------------------------ artifact jobs


def in_repository(root: Path, name: str) -> Path:
    """The example committed in a repository whose remote Launch can fetch."""
    git(root, "init", "-q", "-b", "main")
    git(root, "remote", "add", "origin", REMOTE)
    notebook = Path(shutil.copy(EXAMPLE_NOTEBOOKS / name, root / "notebooks" / name))
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "Add the example")
    return notebook


def sync(server: WandbServer, run_dir: Path, tmp_path: Path) -> None:
    """`wandb sync -p job_example RUN_DIR`, logged in: the entity is the syncing user's."""
    command = ["wandb", "sync", "-p", PROJECT, str(run_dir)]
    done = subprocess.run(command, env=agent_env(server, tmp_path), capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    assert server.uncommitted() == []


def assert_launch_ran_the_artifact_job(
    server: WandbServer, seen: dict[str, Any], record: dict[str, Any], job: str, notebook: Path
) -> None:
    """Launch found the code in its own entity, built it and ran it with the override."""
    script = f"{notebook.stem}.py"
    assert seen["source_type"] == "artifact" and seen["entity"] == AGENT_ENTITY
    code = record["code_artifact"]
    assert seen["source_info"]["artifact_string"] == f"{AGENT_ENTITY}/{PROJECT}/{code['name']}:{code['alias']}"
    job_alias = job.rsplit(":", 1)[1]
    assert_fetched_in_agents_entity(server, f"{record['name']}:{job_alias}", f"{code['name']}:{code['alias']}")
    assert set(seen["files"]) == {script, notebook.name, "requirements.frozen.txt"}
    assert seen["entrypoint"] == ["python", script]
    assert f'ENTRYPOINT ["python", "{script}"]' in seen["dockerfile"]
    assert not any("get_ipython" in text for text in python_files(seen).values())
    assert seen["exit_code"] == 0, seen["log"][-3000:]
    config = run_config(server, seen["run_id"])
    assert config["learning_rate"] == 0.1 and config["epochs"] == 10  # WANDB_CONFIG, from Launch's override


@pytest.mark.parametrize("example", ["canonical_job_example.ipynb", "git_job_example.ipynb"])
def test_an_artifact_job_is_loaded_built_and_run_by_launch(
    example: str, server: WandbServer, store_dir: Path, tmp_path: Path
) -> None:
    """The code-artifact example, and the git example in its repository (auto mode passes git
    over), made on the command line: Launch fetches the code, builds it and runs it."""
    (tmp_path / "repo" / "notebooks").mkdir(parents=True)
    if example == "git_job_example.ipynb":
        notebook = in_repository(tmp_path / "repo", example)
    else:
        notebook = Path(shutil.copy(EXAMPLE_NOTEBOOKS / example, tmp_path / example))
    record = create(notebook, store_dir)
    assert record["spec"]["source"]["artifact"].startswith(f"wandb-artifact://{LAUNCH_JOB_ENTITY or ''}/{PROJECT}/")
    if example == "git_job_example.ipynb":
        assert record["decision"][0]["outcome"] == "passed" and "passed over" in record["decision"][0]["reason"]
    job = published(server, store_dir, record, tmp_path)

    seen = launch(server, job, tmp_path, config={"learning_rate": 0.1}, run=True)

    assert_launch_ran_the_artifact_job(server, seen, record, job, notebook)


@pytest.mark.kernel
def test_the_git_example_run_in_its_repository_gives_a_job_launch_runs_without_ipython(
    kernel_env: Callable[[str], None], server: WandbServer, store_dir: Path, tmp_path: Path
) -> None:
    """Issue 11's finding: `%wandb_job` in a repository with a remote. The notebook runs top to
    bottom in a real kernel, offline; its run is synced; Launch runs the job it carries."""
    (tmp_path / "repo" / "notebooks").mkdir(parents=True)
    notebook = in_repository(tmp_path / "repo", "git_job_example.ipynb")
    kernel_env(notebook.name)
    execute(notebook)
    (log,) = offline_logs()
    sync(server, log.parent, tmp_path)
    record = (
        JobStore.open_for_reading(store_dir).resolve("job-source-job_example-git_job_example.ipynb").record.to_json()
    )
    assert record["entity"] == LAUNCH_JOB_ENTITY and record["source_type"] == "artifact"
    job = f"{AGENT_ENTITY}/{PROJECT}/{record['name']}:{content_alias(record)}"

    seen = launch(server, job, tmp_path, config={"learning_rate": 0.1}, run=True)

    assert_launch_ran_the_artifact_job(server, seen, record, job, notebook)


# ------------------------------------------------------------------ a git job


def test_a_repo_job_made_from_a_notebook_is_fetched_converted_and_run_by_launch(
    github: Callable[[Path], None],
    write_notebook: Callable[..., Path],
    server: WandbServer,
    store_dir: Path,
    tmp_path: Path,
) -> None:
    """A notebook with no IPython syntax keeps W&B's git job: Launch fetches the recorded commit
    from the remote, converts the notebook with its own nbconvert step, and runs the script."""
    root = tmp_path / "ml"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "remote", "add", "origin", REMOTE)
    notebook = write_notebook("notebooks/train.ipynb", folder=root)
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "A notebook")
    github(root)
    record = create(notebook, store_dir)
    assert record["source_type"] == "repo"
    job = published(server, store_dir, record, tmp_path)

    seen = launch(server, job, tmp_path, config={"learning_rate": 0.2}, run=True)

    assert seen["source_type"] == "repo"
    assert seen["source_info"]["git_remote"] == REMOTE
    assert seen["source_info"]["git_commit"] == git(root, "rev-parse", "HEAD")
    assert {"notebooks/train.ipynb", "notebooks/train.py", "requirements.frozen.txt"} <= set(seen["files"])
    assert seen["entrypoint"] == ["python", "notebooks/train.py"]
    assert not any("get_ipython" in text for text in python_files(seen).values())
    assert seen["exit_code"] == 0, seen["log"][-3000:]
    assert run_config(server, seen["run_id"])["learning_rate"] == 0.2


# ------------------------------------------------------------------ an image job


def test_the_image_example_is_accepted_by_launch(server: WandbServer, store_dir: Path, tmp_path: Path) -> None:
    """Launch runs an image job's image (with docker, absent here): loading it must give that image."""
    notebook = Path(shutil.copy(EXAMPLE_NOTEBOOKS / "image_job_example.ipynb", tmp_path / "image_job_example.ipynb"))
    record = create(notebook, store_dir, env={"WANDB_DOCKER": "wandb/job_example:v1"})
    job = published(server, store_dir, record, tmp_path)

    seen = launch(server, job, tmp_path, resource="local-container")

    assert seen["docker_image"] == "wandb/job_example:v1"
    assert "entrypoint" not in seen
    assert seen["files"] == []  # nothing to fetch: the code is in the image


# ------------------------------------------------------------------ jobs that carry their local code (issue 17)


@pytest.mark.parametrize("layout", LAYOUTS.values(), ids=LAYOUTS.keys())
def test_jobs_carrying_local_code_are_loaded_and_run_by_launch(
    layout: Layout, server: WandbServer, store_dir: Path, tmp_path: Path
) -> None:
    """The code Launch downloads holds the notebook's modules and files at the paths the entry
    point imports and reads them from, and the entry point runs with Launch's override."""
    path = layout.lay_out(tmp_path / "project")
    created = run_cli(
        "create", str(path), "--project", PROJECT, "--store", str(store_dir), "--json", *layout.create_args
    )
    assert created.returncode == 0, created.stderr
    job = published(server, store_dir, json.loads(created.stdout), tmp_path)

    seen = launch(server, job, tmp_path, config={"factor": layout.factor}, run=True)

    assert set(layout.included) <= set(seen["files"])
    assert seen["exit_code"] == 0, seen["log"][-3000:]
    assert layout.printed in seen["log"].replace("\r", "")  # the log comes through a terminal
    assert run_config(server, seen["run_id"])["factor"] == layout.factor
