"""Shared fixtures: real git repositories, real notebooks, an isolated store and offline wandb."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .helpers import LAUNCH_JOB_ENTITY, REPO_ROOT, TRAIN_CELLS, init_repo, write_notebook_file
from .wandb_server import API_KEY, WandbServer


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reaches W&B's servers, a real store, or the developer's git identity."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.setenv("WANDB_DIR", str(home))
    monkeypatch.setenv("WANDB_CONFIG_DIR", str(home / "wandb-config"))  # no settings files of the machine's
    monkeypatch.setenv("JUPYTER_JOBS_STORE", str(home / "store"))
    monkeypatch.setenv("JUPYTER_JOBS_RUNS", str(home / "runs"))  # run folders, kept out of the real data dir
    # WANDB_SERVICE: left by a run an earlier test started in this process; children would attach to it.
    for name in (
        "WANDB_DOCKER",
        "WANDB_ENTITY",
        "WANDB_API_KEY",
        "WANDB_NOTEBOOK_NAME",
        "JPY_SESSION_NAME",
        "WANDB_SERVICE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Test")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "test@example.com")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Test")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "test@example.com")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / "gitconfig"))


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    """pytest-jupyter's in-process server (test_handlers, test_fuzz) with the extension enabled
    as a user enables it."""
    return {"ServerApp": {"jpserver_extensions": {"jupyter_jobs": True}}}


@pytest.fixture
def launch_job_entity(monkeypatch: pytest.MonkeyPatch) -> str | None:
    """`LAUNCH_JOB_ENTITY` for the jobs a test makes (command line and kernels: `WANDB_ENTITY`)."""
    if LAUNCH_JOB_ENTITY:
        monkeypatch.setenv("WANDB_ENTITY", LAUNCH_JOB_ENTITY)
    return LAUNCH_JOB_ENTITY


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def write_notebook(tmp_path: Path) -> Callable[..., Path]:
    def write(name: str = "train.ipynb", *cells: str, folder: Path | None = None) -> Path:
        return write_notebook_file((folder or tmp_path) / name, *(cells or TRAIN_CELLS))

    return write


@pytest.fixture
def git_repo(tmp_path: Path) -> Callable[..., Path]:
    """A real repository; `remote=None` makes one without a remote, `commit=False` one without commits."""

    def make(remote: str | None = "https://github.com/acme/ml.git", commit: bool = True, name: str = "repo") -> Path:
        return init_repo(tmp_path / name, remote, commit)

    return make


@pytest.fixture
def kernel_env(monkeypatch: pytest.MonkeyPatch, store_dir: Path) -> Callable[[str], None]:
    """Kernels import this checkout, use the test's store, and know their notebook by name."""
    monkeypatch.setenv("PYTHONPATH", str(REPO_ROOT))
    monkeypatch.setenv("JUPYTER_JOBS_STORE", str(store_dir))

    def name_notebook(name: str) -> None:
        monkeypatch.setenv("WANDB_NOTEBOOK_NAME", name)

    return name_notebook


@pytest.fixture
def wandb_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[WandbServer]:
    """The W&B server stand-in on 127.0.0.1, which this process and its children are logged in to.

    wandb reads the environment once per process (`wandb.setup()`), so a run started in this
    process before would keep its server: wandb is torn down before (to read the stand-in's)
    and after (so that no later test inherits a server that is gone).
    """
    import wandb

    wandb.teardown()
    with WandbServer() as server:
        monkeypatch.setenv("WANDB_BASE_URL", server.url)
        monkeypatch.setenv("WANDB_API_KEY", API_KEY)
        monkeypatch.delenv("WANDB_MODE", raising=False)
        yield server
        wandb.teardown()
