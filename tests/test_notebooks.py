"""The three example notebooks, run top to bottom by a real kernel, each become the job they promise.

Each runs from a copy in a temporary folder (the git example inside a real repository with a
remote), offline, and is checked where a user would look: the local job store, the widget in
the notebook's last output, and the two artifacts in the run's transaction log.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from jupyter_jobs.store import JobStore

from . import wandb_log
from .helpers import EXAMPLE_NOTEBOOKS, commit, execute, offline_logs

pytestmark = [pytest.mark.kernel, pytest.mark.wandb_facing]

REMOTE = "https://github.com/acme/ml.git"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


@pytest.fixture
def run_example(monkeypatch: pytest.MonkeyPatch, store_dir: Path) -> Callable[[Path], list[list[dict[str, Any]]]]:
    """Execute a copy of an example where it lies, knowing its name as W&B users tell it."""

    def run(copy: Path) -> list[list[dict[str, Any]]]:
        monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parent.parent))
        monkeypatch.setenv("JUPYTER_JOBS_STORE", str(store_dir))
        monkeypatch.setenv("WANDB_NOTEBOOK_NAME", copy.name)
        return execute(copy)

    return run


def copy_example(name: str, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(EXAMPLE_NOTEBOOKS / name, folder / name))


def job_in_store(store_dir: Path, name: str) -> dict[str, Any]:
    return JobStore.open(store_dir).resolve(name).record.to_json()


def assert_types(record: dict[str, Any]) -> None:
    """Inputs are the run's config, outputs the run's summary."""
    inputs = record["input_types"]["params"]["type_map"]
    assert inputs == {"learning_rate": {"wb_type": "number"}, "epochs": {"wb_type": "number"}}
    assert {"loss", "accuracy"} <= set(record["output_types"]["params"]["type_map"])


def assert_widget_shown(outputs: list[list[dict[str, Any]]], job_name: str) -> None:
    (widget,) = [output for output in outputs[-1] if output["output_type"] == "display_data"]
    assert WIDGET_MIME in widget["data"]
    assert job_name in widget["data"]["text/plain"] and job_name in widget["data"]["text/html"]


def logged(job_name: str) -> tuple[Any, Any]:
    """The code and job artifacts of the (single) run, as `wandb sync` would upload them."""
    (log,) = offline_logs()
    code, job = wandb_log.artifacts(log.parent)
    assert (job.name, job.type) == (job_name, "job")
    assert code.type == "code"
    return code, job


def paths(artifact: Any) -> list[str]:
    return sorted(entry.path for entry in artifact.manifest.contents)


def test_canonical_example_is_a_code_artifact_job(tmp_path: Path, run_example: Callable, store_dir: Path) -> None:
    outputs = run_example(copy_example("canonical_job_example.ipynb", tmp_path))

    name = "job-source-job_example-canonical_job_example.ipynb"
    record = job_in_store(store_dir, name)
    assert record["source_type"] == "artifact"
    assert_types(record)
    assert_widget_shown(outputs, name)
    code, job = logged(name)
    assert code.name == "source-job_example-canonical_job_example.ipynb"
    assert paths(code) == ["canonical_job_example.ipynb", "canonical_job_example.py"]
    assert paths(job) == ["requirements.frozen.txt", "wandb-job.json"]


def test_git_example_passes_git_over_for_a_job_launch_can_run(
    git_repo: Callable[..., Path], run_example: Callable, store_dir: Path
) -> None:
    """In a repository with a remote the git check passes, but W&B Launch's converter would turn
    the notebook's own magics into get_ipython() calls: the job is the code artifact's, and the
    decision names the cells."""
    root = git_repo(remote=REMOTE)
    notebook = copy_example("git_job_example.ipynb", root / "notebooks")
    head = commit(root, "notebooks/git_job_example.ipynb", message="Add the example")

    outputs = run_example(notebook)

    name = "job-source-job_example-git_job_example.ipynb"
    record = job_in_store(store_dir, name)
    assert record["source_type"] == "artifact"
    git_check, artifact_check, _ = record["decision"]
    assert git_check["outcome"] == "passed"
    assert git_check["reason"].startswith(f"repository with remote {REMOTE} at commit {head[:12]}, but passed over")
    assert "cell 2, line 1: line magic %load_ext" in git_check["reason"]
    assert "cell 7, line 1: line magic %wandb_job" in git_check["reason"]
    assert artifact_check["outcome"] == "won"
    assert record["spec"]["source"]["entrypoint"] == ["python", "git_job_example.py"]
    assert_types(record)
    assert_widget_shown(outputs, name)
    code, job = logged(name)
    assert code.name == "source-job_example-git_job_example.ipynb"
    assert paths(job) == ["requirements.frozen.txt", "wandb-job.json"]


def test_image_example_is_an_image_job(tmp_path: Path, run_example: Callable, store_dir: Path) -> None:
    outputs = run_example(copy_example("image_job_example.ipynb", tmp_path))

    name = "job-wandb_job_example"
    record = job_in_store(store_dir, name)
    assert record["source_type"] == "image"
    assert record["spec"]["source"] == {"image": "wandb/job_example:v1"}
    assert "v1" in record["artifact_aliases"]
    assert_types(record)
    assert_widget_shown(outputs, name)
    _, job = logged(name)
    assert "v1" in job.aliases  # the image's tag, as W&B aliases it
    assert paths(job) == ["requirements.frozen.txt", "wandb-job.json"]
