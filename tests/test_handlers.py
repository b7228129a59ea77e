"""The REST API in a real jupyter_server: what a client gets back and what lands in the store.

The server runs in-process (pytest-jupyter) with the extension enabled as a user enables it;
notebooks are real files in the server's root; the store is read back from disk.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError, HTTPResponse

from jupyter_jobs.store import JobStore

from .cases import REMOTE_FORMS, REMOTE_TOKEN, commit_notebook_with_token_alias
from .helpers import (
    TRAIN_CELLS,
    commit,
    git,
    init_repo,
    notebook_json,
    run_cli_here,
    sample_outcome,
    write_notebook_file,
)
from .wandb_server import WandbServer

pytest_plugins = ("pytest_jupyter.jupyter_server",)

JOB_NAME = "job-source-job_example-train.ipynb"


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The store the server writes to, set the way users set it."""
    folder = tmp_path / "rest-store"
    monkeypatch.setenv("JUPYTER_JOBS_STORE", str(folder))
    return folder


@pytest.fixture
def train_notebook(jp_root_dir: Path) -> Path:
    path = jp_root_dir / "train.ipynb"
    path.write_text(notebook_json(*TRAIN_CELLS))
    return path


@pytest.fixture
def api(jp_fetch: Any) -> Any:
    """Call `jupyter-jobs/...` and return (status, JSON body), errors included."""

    async def call(*parts: str, method: str = "GET", body: Any = None, **kwargs: Any) -> tuple[int, Any]:
        if body is not None and not isinstance(body, (str, bytes)):
            body = json.dumps(body)
        try:
            response: HTTPResponse = await jp_fetch("jupyter-jobs", *parts, method=method, body=body, **kwargs)
        except HTTPClientError as error:
            assert error.response is not None
            response = error.response
        assert response.headers["Content-Type"].startswith("application/json")
        return response.code, json.loads(response.body)

    return call


def stored_names(store: Path) -> list[str]:
    summaries, _ = JobStore.open(store).list_jobs(limit=100, offset=0)
    return [summary.name for summary in summaries]


async def test_create_then_list_and_show(api: Any, train_notebook: Path, store: Path) -> None:
    status, record = await api("jobs", method="POST", body={"path": "train.ipynb", "project": "job_example"})

    assert status == 201, record
    assert record["name"] == JOB_NAME
    assert record["version"] == "v0"
    assert record["source_type"] == "artifact"
    assert record["input_types"]["params"]["type_map"] == {
        "learning_rate": {"wb_type": "number"},
        "epochs": {"wb_type": "number"},
    }
    stored = JobStore.open(store).resolve(JOB_NAME)
    assert stored.record.digest == record["digest"]
    assert (stored.path / "wandb-job.json").is_file()

    status, listing = await api("jobs")
    assert status == 200
    assert listing["total"] == 1
    assert listing["jobs"] == [
        {
            "name": JOB_NAME,
            "version": "v0",
            "versions": 1,
            "aliases": listing["jobs"][0]["aliases"],
            "source_type": "artifact",
            "created_at": record["created_at"],
        }
    ]
    assert "latest" in listing["jobs"][0]["aliases"]

    status, shown = await api("jobs", JOB_NAME)
    assert (status, shown) == (200, record)
    status, shown = await api("jobs", JOB_NAME, params={"ref": "v0"})
    assert (status, shown["version"]) == (200, "v0")


async def test_same_notebook_twice_is_the_same_version(api: Any, train_notebook: Path, store: Path) -> None:
    body = {"path": "train.ipynb", "project": "job_example"}
    first = await api("jobs", method="POST", body=body)
    second = await api("jobs", method="POST", body=body)

    assert first[1]["version"] == second[1]["version"] == "v0"
    assert (await api("jobs"))[1]["jobs"][0]["versions"] == 1


async def test_dry_run_writes_nothing(api: Any, train_notebook: Path, store: Path) -> None:
    status, record = await api("jobs", method="POST", body={"path": "train.ipynb", "dry_run": True})

    assert status == 201 and record["dry_run"] is True
    assert stored_names(store) == []


@pytest.mark.parametrize(
    ("method", "parts", "body"),
    [
        ("GET", ("jobs",), None),
        ("GET", ("jobs", JOB_NAME), None),
        ("POST", ("jobs",), {"path": "train.ipynb"}),
    ],
)
async def test_requests_without_a_token_are_refused(
    api: Any, train_notebook: Path, store: Path, method: str, parts: tuple[str, ...], body: Any
) -> None:
    status, reply = await api(*parts, method=method, body=body, headers={"Authorization": ""})

    assert status in (401, 403), reply
    assert stored_names(store) == []


@pytest.fixture
def outside_notebook(tmp_path: Path) -> Path:
    path = tmp_path / "outside" / "secret.ipynb"
    path.parent.mkdir()
    path.write_text(notebook_json(*TRAIN_CELLS))
    return path


@pytest.mark.parametrize(
    "requested",
    ["../outside/secret.ipynb", "sub/../../outside/secret.ipynb", "ABSOLUTE", "link.ipynb", "linked-dir/secret.ipynb"],
)
async def test_paths_outside_the_root_are_refused(
    api: Any, jp_root_dir: Path, outside_notebook: Path, store: Path, requested: str
) -> None:
    (jp_root_dir / "sub").mkdir()
    (jp_root_dir / "link.ipynb").symlink_to(outside_notebook)
    (jp_root_dir / "linked-dir").symlink_to(outside_notebook.parent, target_is_directory=True)
    if requested == "ABSOLUTE":
        requested = str(outside_notebook)

    status, reply = await api("jobs", method="POST", body={"path": requested})

    assert status == 403
    assert "Refused" in reply["message"]
    assert stored_names(store) == []


async def test_absolute_path_inside_the_root_is_refused_too(api: Any, train_notebook: Path, store: Path) -> None:
    status, reply = await api("jobs", method="POST", body={"path": str(train_notebook)})

    assert status == 403
    assert "relative to the server root" in reply["message"]


async def test_symlink_that_stays_inside_the_root_is_served(api: Any, train_notebook: Path, store: Path) -> None:
    (train_notebook.parent / "alias.ipynb").symlink_to(train_notebook)

    status, record = await api("jobs", method="POST", body={"path": "alias.ipynb", "dry_run": True})

    assert status == 201, record


async def test_secret_in_an_output_blocks_until_outputs_are_stripped(api: Any, jp_root_dir: Path, store: Path) -> None:
    key = "0123456789abcdef" * 2 + "01234567"  # a W&B API key's shape: 40 hex digits
    notebook = json.loads(notebook_json(*TRAIN_CELLS))
    notebook["cells"][0]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": [f"WANDB_API_KEY={key}\n"]}]
    (jp_root_dir / "train.ipynb").write_text(json.dumps(notebook))

    status, reply = await api("jobs", method="POST", body={"path": "train.ipynb", "project": "job_example"})

    assert status == 400
    assert reply["message"].startswith("Secrets found: cell 1 output, line 1 (W&B API key)")
    assert "--strip-outputs" in reply["message"] and key not in reply["message"]
    assert stored_names(store) == []

    status, record = await api(
        "jobs", method="POST", body={"path": "train.ipynb", "project": "job_example", "strip_outputs": True}
    )

    assert status == 201, record
    copy = json.loads((Path(record["code_artifact"]["path"]) / "train.ipynb").read_text())
    assert [cell["outputs"] for cell in copy["cells"]] == [[], []]
    assert key not in "".join(path.read_text(errors="replace") for path in store.rglob("*") if path.is_file())


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        ({}, "'path' is required"),
        ({"path": 3}, "'path' must be a string"),
        ({"path": "train.ipynb", "dry_run": "yes"}, "'dry_run' must be a boolean"),
        ({"path": "train.ipynb", "allow_secrets": 1}, "'allow_secrets' must be a boolean"),
        ({"path": "train.ipynb", "strip_outputs": "yes"}, "'strip_outputs' must be a boolean"),
        ({"path": "train.ipynb", "project": ["p"]}, "'project' must be a string"),
        ({"path": "train.ipynb", "include": "*.txt"}, "'include' must be a list"),
        ({"path": "train.ipynb", "max_file_mb": "2"}, "'max_file_mb' must be a number"),
        ({"path": "train.ipynb", "script": "import os"}, "Unknown field 'script'"),
        ({"path": "train.ipynb", "source": "docker"}, "'source' must be one of auto, git, artifact, image"),
        ({"path": "notes.txt"}, "not a notebook"),
    ],
)
async def test_malformed_bodies_get_a_400_with_a_message(
    api: Any, train_notebook: Path, store: Path, body: Any, expected: str
) -> None:
    status, reply = await api("jobs", method="POST", body=body)

    assert status == 400
    assert expected in reply["message"]
    assert stored_names(store) == []


async def test_include_and_exclude_choose_what_the_job_carries(api: Any, jp_root_dir: Path, store: Path) -> None:
    """Issue 17: the imported module and the patterns' files are listed in the record, as carried."""
    (jp_root_dir / "helper.py").write_text("X = 1\n")
    (jp_root_dir / "notes").mkdir()
    (jp_root_dir / "notes" / "a.md").write_text("a\n")
    (jp_root_dir / "notes" / "b.md").write_text("b\n")
    (jp_root_dir / "train.ipynb").write_text(notebook_json("import helper"))
    body = {"path": "train.ipynb", "include": ["*.md"], "exclude": ["b.md"], "max_file_mb": 2}
    status, record = await api("jobs", method="POST", body=body)

    assert status == 201, record
    carried = {item["path"]: item["reason"] for item in record["code_artifact"]["included"]}
    assert carried == {"helper.py": "imported in cell 1", "notes/a.md": "--include *.md"}
    folder = Path(record["code_artifact"]["path"])
    assert (folder / "notes" / "a.md").read_text() == "a\n" and not (folder / "notes" / "b.md").exists()


async def test_code_outside_the_server_root_never_travels(api: Any, jp_root_dir: Path, store: Path) -> None:
    """The server's root inside a repository: the repository's `src/` lies outside it, so a job
    made over REST does not carry it (the command line, which serves no one, does)."""
    repository = jp_root_dir.parent
    git(repository, "init", "-q", "-b", "main")
    (repository / "src").mkdir()
    (repository / "src" / "private.py").write_text("TOKEN_PATH = 'x'\n")
    (jp_root_dir / "train.ipynb").write_text(notebook_json("import private"))
    status, record = await api("jobs", method="POST", body={"path": "train.ipynb"})

    assert status == 201, record
    assert record["code_artifact"]["included"] == []
    assert any(warning.startswith("cell 1 imports private, which is neither") for warning in record["warnings"])


async def test_missing_notebook_is_a_404(api: Any, store: Path) -> None:
    status, reply = await api("jobs", method="POST", body={"path": "nowhere.ipynb"})

    assert status == 404
    assert "nowhere.ipynb" in reply["message"]


async def test_a_notebook_that_is_not_python_gets_its_one_line_reason(api: Any, jp_root_dir: Path, store: Path) -> None:
    (jp_root_dir / "broken.ipynb").write_text(notebook_json("x = 1", "def broken(:\n    pass"))

    status, reply = await api("jobs", method="POST", body={"path": "broken.ipynb"})

    assert status == 400
    assert "Cell 2" in reply["message"] and "\n" not in reply["message"]
    assert stored_names(store) == []


async def test_unknown_job_is_a_404(api: Any, train_notebook: Path, store: Path) -> None:
    assert (await api("jobs", "job-nothing-here"))[0] == 404
    await api("jobs", method="POST", body={"path": "train.ipynb", "project": "job_example"})

    status, reply = await api("jobs", JOB_NAME, params={"ref": "v7"})

    assert status == 404
    assert reply["message"]


async def wait_for_run(
    api: Any, name: str, run_id: str, until: tuple[str, ...], seconds: float = 120
) -> dict[str, Any]:
    """Poll `GET runs/<id>` as the panel does until the run reaches one of `until`."""
    deadline = time.monotonic() + seconds
    while True:
        status, run = await api("jobs", name, "runs", run_id)
        assert status == 200, run
        if run["status"] in until or time.monotonic() > deadline:
            return run
        await asyncio.sleep(0.1)


async def test_run_a_job_on_the_server(api: Any, train_notebook: Path, store: Path) -> None:
    """The panel's Run: answered at once with a queued run, which then runs the job's exported
    script as `jupyter jobs run` runs it, and stays on record."""
    await api("jobs", method="POST", body={"path": "train.ipynb", "project": "job_example"})

    status, queued = await api("jobs", JOB_NAME, "runs", method="POST", body={"config": ["learning_rate=0.5"]})

    assert status == 202, queued
    assert (queued["status"], queued["exit_code"]) == ("queued", None)
    assert queued["code"] == "the exported script train.py stored with the job"
    outcome = await wait_for_run(api, JOB_NAME, queued["id"], ("finished", "failed"))
    assert outcome["status"] == "finished" and outcome["exit_code"] == 0, outcome["log_tail"]
    assert (outcome["job"], outcome["overrides"]) == (f"{JOB_NAME}:v0", {"learning_rate": 0.5})
    assert Path(outcome["workdir"]).parent == Path(os.environ["JUPYTER_JOBS_RUNS"])
    listed = (await api("jobs", JOB_NAME, "runs"))[1]["runs"]
    assert [(run["id"], run["status"]) for run in listed] == [(queued["id"], "finished")]
    refused = await api("jobs", JOB_NAME, "runs", method="POST", body={"config": ["lr=1"]})
    assert refused[0] == 400 and "no config key lr" in refused[1]["message"]
    assert (await api("jobs", JOB_NAME, "runs", method="POST", body={"config": "lr=1"}))[1]["message"] == (
        "'config' must be a list"
    )
    assert (await api("jobs", JOB_NAME, "runs", "20261129T000000000000Z-00000000"))[0] == 404
    assert (await api("jobs", JOB_NAME, "runs", "..%2Fx"))[0] == 404


async def test_override_of_the_wrong_type_is_refused_before_anything_runs(
    api: Any, train_notebook: Path, store: Path
) -> None:
    await api("jobs", method="POST", body={"path": "train.ipynb", "project": "job_example"})

    status, reply = await api("jobs", JOB_NAME, "runs", method="POST", body={"config": ["learning_rate=abc"]})

    assert status == 400 and "\n" not in reply["message"]
    assert reply["message"].startswith('config key learning_rate="abc" breaks'), reply["message"]
    assert "is not of type 'number'" in reply["message"]
    assert (await api("jobs", JOB_NAME, "runs"))[1]["runs"] == []
    assert not Path(os.environ["JUPYTER_JOBS_RUNS"]).exists() or not any(
        Path(os.environ["JUPYTER_JOBS_RUNS"]).iterdir()
    )


async def test_a_failed_run_shows_its_error_and_last_lines(api: Any, jp_root_dir: Path, store: Path) -> None:
    (jp_root_dir / "crash.ipynb").write_text(notebook_json("print('loading data')", "raise ValueError('bad shard 7')"))
    await api("jobs", method="POST", body={"path": "crash.ipynb", "name": "crash"})

    run_id = (await api("jobs", "crash", "runs", method="POST", body={}))[1]["id"]
    run = await wait_for_run(api, "crash", run_id, ("finished", "failed"))

    assert (run["status"], run["exit_code"]) == ("failed", 1)
    assert run["error"] == "exit code 1: ValueError: bad shard 7"
    assert "loading data" in run["log_tail"] and run["log_tail"][-1] == "ValueError: bad shard 7"


async def test_compare_two_versions(api: Any, train_notebook: Path, store: Path) -> None:
    await api("jobs", method="POST", body={"path": "train.ipynb", "project": "job_example"})
    assert (await api("jobs", JOB_NAME, "compare"))[0] == 404  # one version: nothing before it
    train_notebook.write_text(notebook_json(TRAIN_CELLS[0].replace("0.01", "0.02"), TRAIN_CELLS[1]))
    await api("jobs", method="POST", body={"path": "train.ipynb", "project": "job_example"})

    status, reply = await api("jobs", JOB_NAME, "compare")

    assert status == 200
    assert (reply["before"], reply["after"]) == (f"{JOB_NAME}:v0", f"{JOB_NAME}:v1")
    inputs = next(change["diff"] for change in reply["changes"] if change["part"] == "inputs")
    assert "+learning_rate: number = 0.02" in inputs.splitlines()
    same = (await api("jobs", JOB_NAME, "compare", params={"ref": "v1", "before": "latest"}))[1]
    assert same["changes"] == []
    assert (await api("jobs", JOB_NAME, "compare", params={"before": "v9"}))[0] == 404


async def test_local_runs_of_a_job(api: Any, train_notebook: Path, store: Path) -> None:
    """`jupyter jobs run` records each run; the panel reads them back here, newest first."""
    await api("jobs", method="POST", body={"path": "train.ipynb", "project": "job_example"})
    assert await api("jobs", JOB_NAME, "runs") == (200, {"job": JOB_NAME, "runs": []})
    opened = JobStore.open(store)
    runs = [sample_outcome(exit_code, job=f"{JOB_NAME}:v0") for exit_code in (0, 2)]
    for run in runs:
        opened.record_run(JOB_NAME, run)

    status, reply = await api("jobs", JOB_NAME, "runs", params={"limit": "1"})

    assert status == 200
    assert reply == {"job": JOB_NAME, "runs": [runs[1].to_json()]}
    assert (await api("jobs", "job-nothing-here", "runs"))[0] == 404
    assert (await api("jobs", JOB_NAME, "runs", params={"limit": "0"}))[0] == 400


@pytest.mark.parametrize(("remote", "expected"), REMOTE_FORMS)
async def test_remote_tokens_reach_no_reply(
    api: Any, jp_root_dir: Path, store: Path, remote: str, expected: str
) -> None:
    commit_notebook_with_token_alias(init_repo(jp_root_dir / "repo", remote, committed=False))

    created = await api("jobs", method="POST", body={"path": "repo/train.ipynb", "entity": "acme"})
    replies = [created, await api("jobs"), await api("jobs", created[1]["name"])]

    assert created[0] == 201 and (created[1]["git"]["remote"] if created[1]["git"] else None) == expected
    assert not [reply for reply in replies if REMOTE_TOKEN in json.dumps(reply)]
    assert not [p for p in store.rglob("*") if p.is_file() and REMOTE_TOKEN.encode() in p.read_bytes()]


def changes_on_both_sides_of_the_root(root: Path, outside: str) -> Path:
    """The server's root as a folder of a repository whose commit holds the training notebook and
    private.env outside the root; then private.env becomes `outside` and helper.py is added
    inside the root. The notebook."""
    repo = init_repo(root.parent, committed=False)
    notebook = write_notebook_file(root / "train.ipynb", *TRAIN_CELLS)
    (repo / "private.env").write_text("HOST=db\n")
    commit(repo, message="init")
    (repo / "private.env").write_text(outside)
    (root / "helper.py").write_text("x = 1\n")
    git(repo, "add", str(root / "helper.py"))
    return notebook


async def test_diff_patch_holds_only_changes_inside_the_root(api: Any, jp_root_dir: Path, store: Path) -> None:
    """A server whose root is a folder of a repository: changes elsewhere in it stay out."""
    changes_on_both_sides_of_the_root(jp_root_dir, "HOST=db\nPASSWORD=outside-the-root-1234\n")

    status, record = await api("jobs", method="POST", body={"path": "train.ipynb", "entity": "acme"})

    assert status == 201, record
    patch = (Path(record["path"]) / "diff.patch").read_text()
    assert "helper.py" in patch and "private.env" not in patch
    assert any("outside the server's root are left out of diff.patch" in w for w in record["warnings"])
    assert not [p for p in store.rglob("*") if p.is_file() and b"outside-the-root" in p.read_bytes()]


@pytest.mark.parametrize("params", [{"limit": "many"}, {"limit": "0"}, {"offset": "-1"}])
async def test_bad_paging_is_a_400(api: Any, store: Path, params: dict[str, str]) -> None:
    status, reply = await api("jobs", params=params)

    assert status == 400
    assert reply["message"]


class TestConfiguredStore:
    """`c.JupyterJobs.store` in the server's config wins over $JUPYTER_JOBS_STORE."""

    @pytest.fixture
    def jp_server_config(self, tmp_path: Path) -> dict[str, Any]:
        return {
            "ServerApp": {"jpserver_extensions": {"jupyter_jobs": True}},
            "JupyterJobs": {"store": str(tmp_path / "configured-store")},
        }

    async def test_jobs_go_to_the_configured_store(
        self, api: Any, train_notebook: Path, store: Path, tmp_path: Path
    ) -> None:
        status, record = await api("jobs", method="POST", body={"path": "train.ipynb", "project": "job_example"})

        assert status == 201, record
        assert stored_names(tmp_path / "configured-store") == [JOB_NAME]
        assert stored_names(store) == []
        assert (await api("jobs"))[1]["total"] == 1


async def test_publish_and_launch_a_version_to_w_and_b(
    api: Any, train_notebook: Path, store: Path, wandb_server: WandbServer
) -> None:
    """The panel's Publish and Launch: the version reaches the W&B server, then its Launch queue."""
    await api("jobs", method="POST", body={"path": "train.ipynb", "project": "job_example", "entity": "local-entity"})
    wandb_server.add_queue("gpu")

    status, published = await api("jobs", JOB_NAME, "publish", method="POST", body={}, request_timeout=240)
    assert status == 201, published
    assert published["summary"].startswith("Published ")  # the panel shows it as it is
    assert published["online"] and published["job"].startswith(f"local-entity/job_example/{JOB_NAME}:sha-")
    assert published["summary"] == f"Published {published['job']} to W&B (run {published['run_id']})."
    assert [a.name for a in wandb_server.committed()] == ["source-job_example-train.ipynb", JOB_NAME]

    body = {"queue": "gpu", "config": ["learning_rate=0.5"]}
    status, launched = await api("jobs", JOB_NAME, "launch", method="POST", body=body, request_timeout=240)
    assert status == 201, launched
    assert launched["published"] is None  # W&B had this version already
    (item,) = wandb_server.queue_items
    assert (item["id"], item["spec"]["job"]) == (launched["item_id"], published["job"])
    assert item["spec"]["overrides"]["run_config"] == {"learning_rate": 0.5}
    refused = await api("jobs", JOB_NAME, "launch", method="POST", body={"config": []})
    assert refused == (400, {"message": "'queue' is required"})


class TestRunsTurnedOff:
    """`c.JupyterJobs.allow_runs = False`: the server lists and shows jobs but runs none."""

    @pytest.fixture
    def jp_server_config(self) -> dict[str, Any]:
        return {"ServerApp": {"jpserver_extensions": {"jupyter_jobs": True}}, "JupyterJobs": {"allow_runs": False}}

    async def test_a_run_is_refused_with_a_403(self, api: Any, train_notebook: Path, store: Path) -> None:
        assert (await api("jobs", method="POST", body={"path": "train.ipynb", "project": "job_example"}))[0] == 201

        status, reply = await api("jobs", JOB_NAME, "runs", method="POST", body={})

        assert status == 403 and "turned off" in reply["message"]
        assert (await api("jobs", JOB_NAME, "runs"))[1]["runs"] == []


SLOW_CELLS = (
    "import time",
    "print('started', flush=True)\ntime.sleep(float(__import__('os').environ.get('SLOW', '60')))",
)


class TestRunLifecycle:
    """Runs go on in the server: queued behind `max_runs`, running, then ended, stopped by the
    run timeout or cancelled; each state is on record while the run goes on."""

    @pytest.fixture
    def jp_server_config(self) -> dict[str, Any]:
        settings = {"run_timeout": 3.0, "max_runs": 1}
        return {"ServerApp": {"jpserver_extensions": {"jupyter_jobs": True}}, "JupyterJobs": settings}

    async def test_queued_running_then_stopped_by_the_timeout(self, api: Any, jp_root_dir: Path, store: Path) -> None:
        (jp_root_dir / "slow.ipynb").write_text(notebook_json(*SLOW_CELLS))
        assert (await api("jobs", method="POST", body={"path": "slow.ipynb", "name": "slow"}))[0] == 201

        first = (await api("jobs", "slow", "runs", method="POST", body={}))[1]
        second = (await api("jobs", "slow", "runs", method="POST", body={}))[1]

        running = await wait_for_run(api, "slow", first["id"], ("running",))
        assert running["status"] == "running"
        assert (await api("jobs", "slow", "runs", second["id"]))[1]["status"] == "queued"  # one slot
        ended = await wait_for_run(api, "slow", first["id"], ("finished", "failed", "cancelled"), 60)
        assert ended["status"] == "failed" and ended["error"] == "stopped after the run timeout of 3 s"
        assert 3 <= ended["seconds"] < 15 and ended["log_tail"][0] == "started"
        assert (await wait_for_run(api, "slow", second["id"], ("running",)))["status"] == "running"

    async def test_cancel_a_running_and_a_queued_run(self, api: Any, jp_root_dir: Path, store: Path) -> None:
        (jp_root_dir / "slow.ipynb").write_text(notebook_json(*SLOW_CELLS))
        assert (await api("jobs", method="POST", body={"path": "slow.ipynb", "name": "slow"}))[0] == 201
        first = (await api("jobs", "slow", "runs", method="POST", body={}))[1]
        second = (await api("jobs", "slow", "runs", method="POST", body={}))[1]
        await wait_for_run(api, "slow", first["id"], ("running",))

        queued = await api("jobs", "slow", "runs", second["id"], method="DELETE")
        running = await api("jobs", "slow", "runs", first["id"], method="DELETE")

        assert queued[0] == 200 and queued[1]["status"] == "cancelled" and queued[1]["error"] == "cancelled on request"
        assert running[0] == 200 and running[1]["status"] == "cancelled" and running[1]["seconds"] < 3
        listed = (await api("jobs", "slow", "runs"))[1]["runs"]
        assert [run["status"] for run in listed] == ["cancelled", "cancelled"]
        again = await api("jobs", "slow", "runs", first["id"], method="DELETE")
        assert again[1]["status"] == "cancelled"  # cancelling an ended run changes nothing


class TestRunsUnderLoad:
    """Issue 15: runs hold no thread of the server's request pool, so many concurrent runs of a
    slow job leave listing and showing fast."""

    @pytest.fixture
    def jp_server_config(self) -> dict[str, Any]:
        return {"ServerApp": {"jpserver_extensions": {"jupyter_jobs": True}}, "JupyterJobs": {"max_runs": 8}}

    async def test_listing_stays_fast_while_many_runs_go_on(
        self, api: Any, jp_root_dir: Path, store: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("SLOW", "8")  # the server's runs inherit its environment
        (jp_root_dir / "slow.ipynb").write_text(notebook_json(*SLOW_CELLS))
        assert (await api("jobs", method="POST", body={"path": "slow.ipynb", "name": "slow"}))[0] == 201

        started = await asyncio.gather(*(api("jobs", "slow", "runs", method="POST", body={}) for _ in range(24)))
        assert {status for status, _ in started} == {202}
        await wait_for_run(api, "slow", started[0][1]["id"], ("running",))
        timings = []
        for _ in range(30):
            begin = time.perf_counter()
            listed, shown = await asyncio.gather(api("jobs"), api("jobs", "slow"))
            timings.append(time.perf_counter() - begin)
            assert listed[0] == 200 and shown[0] == 200
            await asyncio.sleep(0.1)
        runs = (await api("jobs", "slow", "runs", params={"limit": "100"}))[1]["runs"]
        print(
            f"list+show under 24 runs: median {statistics.median(timings) * 1000:.0f} ms, "
            f"max {max(timings) * 1000:.0f} ms"
        )

        assert sum(run["status"] == "running" for run in runs) == 8  # the rest wait, queued
        assert statistics.median(timings) < 0.1 and max(timings) < 0.5
        await asyncio.gather(*(api("jobs", "slow", "runs", reply["id"], method="DELETE") for _, reply in started))


async def test_delete_a_version_then_the_job(api: Any, train_notebook: Path, store: Path) -> None:
    await api("jobs", method="POST", body={"path": "train.ipynb", "project": "job_example"})
    train_notebook.write_text(notebook_json(TRAIN_CELLS[0].replace("0.01", "0.02"), TRAIN_CELLS[1]))
    await api("jobs", method="POST", body={"path": "train.ipynb", "project": "job_example"})

    assert await api("jobs", JOB_NAME, method="DELETE", params={"ref": "v1"}) == (200, {"deleted": [f"{JOB_NAME}:v1"]})

    status, latest = await api("jobs", JOB_NAME)
    assert status == 200 and latest["version"] == "v0" and "latest" in latest["aliases"]
    assert (await api("jobs", JOB_NAME, params={"ref": "v1"}))[0] == 404
    assert await api("jobs", JOB_NAME, method="DELETE") == (200, {"deleted": [f"{JOB_NAME}:v0"]})
    assert stored_names(store) == [] and not (store / "jobs" / JOB_NAME / "v0").exists()
    status, reply = await api("jobs", JOB_NAME, method="DELETE")
    assert status == 404 and reply["message"].startswith(f"No job named '{JOB_NAME}'")
    await api("jobs", method="POST", body={"path": "train.ipynb", "project": "job_example"})
    assert (await api("jobs", JOB_NAME, method="DELETE", params={"ref": ""}))[0] == 400  # not the whole job
    assert stored_names(store) == [JOB_NAME]


async def test_search_lists_the_jobs_whose_name_holds_the_text(api: Any, jp_root_dir: Path, store: Path) -> None:
    for name in ("train.ipynb", "Evaluate.ipynb"):
        (jp_root_dir / name).write_text(notebook_json(*TRAIN_CELLS))
        await api("jobs", method="POST", body={"path": name, "project": "job_example"})

    status, found = await api("jobs", params={"search": "EVAL"})

    assert status == 200 and found["total"] == 1
    assert [job["name"] for job in found["jobs"]] == ["job-source-job_example-Evaluate.ipynb"]
    assert (await api("jobs", params={"search": "nothing-like-it"}))[1] == {"jobs": [], "total": 0}
    assert (await api("jobs", params={"search": ""}))[1]["total"] == 2


async def test_versions_of_a_job_newest_first_with_aliases(api: Any, train_notebook: Path, store: Path) -> None:
    await api("jobs", method="POST", body={"path": "train.ipynb", "project": "job_example"})
    train_notebook.write_text(notebook_json(TRAIN_CELLS[0].replace("0.01", "0.02"), TRAIN_CELLS[1]))
    await api("jobs", method="POST", body={"path": "train.ipynb", "project": "job_example"})

    status, reply = await api("jobs", JOB_NAME, "versions")

    assert status == 200 and reply["total"] == 2
    assert [row["version"] for row in reply["jobs"]] == ["v1", "v0"]
    assert "latest" in reply["jobs"][0]["aliases"] and "latest" not in reply["jobs"][1]["aliases"]
    assert (await api("jobs", "job-nope", "versions"))[0] == 404


async def test_a_versions_files_read_as_text(api: Any, jp_root_dir: Path, train_notebook: Path, store: Path) -> None:
    """Issue 13: the frozen requirements, the exported script and the carried files of any version
    can be read; a binary file is named with its size, not sent."""
    (jp_root_dir / "weights.bin").write_bytes(b"\x00\x01\x02" * 100)
    body = {"path": "train.ipynb", "project": "job_example", "include": ["weights.bin"]}
    assert (await api("jobs", method="POST", body=body))[0] == 201
    train_notebook.write_text(notebook_json(TRAIN_CELLS[0].replace("0.01", "0.02"), TRAIN_CELLS[1]))
    status, latest = await api("jobs", method="POST", body=body)
    assert status == 201 and latest["version"] == "v1"
    folder = Path(latest["path"])

    status, frozen = await api("jobs", JOB_NAME, "files", "requirements.frozen.txt")
    assert status == 200
    assert frozen == {
        "job": f"{JOB_NAME}:v1",
        "path": "requirements.frozen.txt",
        "size": (folder / "requirements.frozen.txt").stat().st_size,
        "text": (folder / "requirements.frozen.txt").read_text(),
    }
    assert "wandb==" in frozen["text"]
    status, spec = await api("jobs", JOB_NAME, "files", "wandb-job.json", params={"ref": "v1"})
    assert status == 200 and json.loads(spec["text"]) == latest["spec"]
    script = latest["code_artifact"]["entrypoint"]
    assert "0.02" in (await api("jobs", JOB_NAME, "files", script))[1]["text"]
    status, old = await api("jobs", JOB_NAME, "files", script, params={"ref": "v0"})
    assert status == 200 and old["job"] == f"{JOB_NAME}:v0" and "0.01" in old["text"] and "0.02" not in old["text"]
    status, weights = await api("jobs", JOB_NAME, "files", "weights.bin")
    assert (status, weights["size"], weights["text"]) == (200, 300, None)


async def test_a_file_over_the_size_limit_is_refused_with_its_size(
    api: Any, jp_root_dir: Path, train_notebook: Path, store: Path
) -> None:
    (jp_root_dir / "big.txt").write_text("x" * (1024 * 1024 + 1))
    body = {"path": "train.ipynb", "include": ["big.txt"], "max_file_mb": 2}
    assert (await api("jobs", method="POST", body=body))[0] == 201

    status, reply = await api("jobs", JOB_NAME.replace("job_example", "uncategorized"), "files", "big.txt")

    assert status == 400
    assert reply["message"].startswith("big.txt of job-source-uncategorized-train.ipynb:v0 is 1,048,577 bytes, over")


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("..%2F..%2Findex.sqlite", "'..' may not leave"),
        ("../../index.sqlite", "'..' may not leave"),
        ("v0%2F..%2F..%2Fv0%2Frecord.json", "'..' may not leave"),
        ("%2Fetc%2Fpasswd", "relative to the version's folder"),
        ("C:%5Cwindows%5Cwin.ini", "relative to the version's folder"),
        ("..%5C..%5Cindex.sqlite", "'..' may not leave"),
    ],
)
async def test_paths_leading_out_of_the_version_are_refused(
    api: Any,
    http_server_client: Any,
    jp_auth_header: dict,
    jp_base_url: str,
    train_notebook: Path,
    store: Path,
    path: str,
    words: str,
) -> None:
    """The path is sent as a client may send it (escaped once, not normalised), and refused."""
    assert (await api("jobs", method="POST", body={"path": "train.ipynb", "project": "job_example"}))[0] == 201
    url = f"{jp_base_url.rstrip('/')}/jupyter-jobs/jobs/{JOB_NAME}/files/{path}"

    response = await http_server_client.fetch(url, headers=jp_auth_header, raise_error=False)
    status, reply = response.code, json.loads(response.body)

    assert status == 403, reply
    assert reply["message"].startswith("Refused") and words in reply["message"]


async def test_a_stored_file_linked_out_of_the_store_is_refused(
    api: Any, train_notebook: Path, store: Path, tmp_path: Path
) -> None:
    """A store tampered with: a listed file that is a symlink to a file elsewhere is not followed."""
    status, record = await api("jobs", method="POST", body={"path": "train.ipynb", "project": "job_example"})
    secret = tmp_path / "elsewhere.txt"
    secret.write_text("not the job's\n")
    frozen = Path(record["path"]) / "requirements.frozen.txt"
    frozen.unlink()
    frozen.symlink_to(secret)

    status, reply = await api("jobs", JOB_NAME, "files", "requirements.frozen.txt")

    assert status == 403 and "resolves outside the folder" in reply["message"]
    assert "not the job's" not in json.dumps(reply)


async def test_unknown_job_version_or_file_is_a_404(api: Any, train_notebook: Path, store: Path) -> None:
    assert (await api("jobs", method="POST", body={"path": "train.ipynb", "project": "job_example"}))[0] == 201

    for parts, params in [
        (("jobs", "job-nope", "files", "requirements.frozen.txt"), {}),
        (("jobs", JOB_NAME, "files", "requirements.frozen.txt"), {"ref": "v7"}),
        (("jobs", JOB_NAME, "files", "nope.txt"), {}),
        (("jobs", JOB_NAME, "files", "record.json"), {}),  # in the folder, but not one of the job's files
    ]:
        status, reply = await api(*parts, params=params)
        assert status == 404, (parts, reply)
        assert "\n" not in reply["message"]


async def test_a_diff_patch_made_outside_rest_is_read_only_inside_the_root(
    api: Any, jp_root_dir: Path, store: Path
) -> None:
    """A git job made from the command line keeps the whole repository's changes in its
    diff.patch; read over REST, the file holds only the changes inside the server's root."""
    notebook = changes_on_both_sides_of_the_root(jp_root_dir, "HOST=db-outside-the-root\n")
    made = run_cli_here("create", str(notebook), "--source", "git", "--entity", "acme", "--json")
    assert made.returncode == 0, made.stderr
    name = json.loads(made.stdout)["name"]
    assert "db-outside-the-root" in (Path(json.loads(made.stdout)["path"]) / "diff.patch").read_text()

    status, reply = await api("jobs", name, "files", "diff.patch")

    assert status == 200, reply
    assert "helper.py" in reply["text"] and "private.env" not in reply["text"]
    assert reply["size"] == len(reply["text"].encode())
