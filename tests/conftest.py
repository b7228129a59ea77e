"""Shared fixtures: real git repositories, real notebooks, an isolated store and offline wandb."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .wandb_server import API_KEY, WandbServer

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_NOTEBOOKS = REPO_ROOT / "notebooks"


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
def store_dir(tmp_path: Path) -> Path:
    return tmp_path / "store"


def notebook_json(*cells: str, language: str = "python") -> str:
    """A minimal nbformat 4.5 notebook with one code cell per source string."""
    return json.dumps(
        {
            "nbformat": 4,
            "nbformat_minor": 5,
            "metadata": {
                "kernelspec": {"name": "python3", "display_name": "Python 3", "language": language},
                "language_info": {"name": language},
            },
            "cells": [
                {
                    "cell_type": "code",
                    "id": f"c{i}",
                    "metadata": {},
                    "execution_count": None,
                    "outputs": [],
                    "source": src,
                }
                for i, src in enumerate(cells)
            ],
        },
        indent=1,
    )


TRAIN_CELLS = (
    "import wandb\nrun = wandb.init(project='job_example', config={'learning_rate': 0.01, 'epochs': 10})",
    "for epoch in range(run.config['epochs']):\n    run.log({'loss': 1.0 / (epoch + 1)})\nrun.finish()",
)


@pytest.fixture
def write_notebook(tmp_path: Path) -> Callable[..., Path]:
    def write(name: str = "train.ipynb", *cells: str, folder: Path | None = None) -> Path:
        path = (folder or tmp_path) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(notebook_json(*(cells or TRAIN_CELLS)))
        return path

    return write


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def git_repo(tmp_path: Path) -> Callable[..., Path]:
    """A real repository; `remote=None` makes one without a remote, `commit=False` one without commits."""

    def make(remote: str | None = "https://github.com/acme/ml.git", commit: bool = True, name: str = "repo") -> Path:
        root = tmp_path / name
        root.mkdir()
        git(root, "init", "-q", "-b", "main")
        if remote:
            git(root, "remote", "add", "origin", remote)
        if commit:
            (root / "README.md").write_text("# ml\n")
            git(root, "add", "README.md")
            git(root, "commit", "-q", "-m", "init")
        return root

    return make


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The real command line in a real process, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "jupyter_jobs.cli", *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT), **(env or {})},
        capture_output=True,
        text=True,
        timeout=240,
    )


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
