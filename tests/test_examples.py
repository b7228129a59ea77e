"""The example notebooks become jobs on the command line, and their exported scripts really run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import wandb

from . import wandb_log
from .helpers import EXAMPLE_NOTEBOOKS, export_file, run_cli

pytestmark = pytest.mark.wandb_facing

NOTEBOOKS = sorted(EXAMPLE_NOTEBOOKS.glob("*.ipynb"))


def test_there_are_three_examples() -> None:
    assert [p.name for p in NOTEBOOKS] == [
        "canonical_job_example.ipynb",
        "git_job_example.ipynb",
        "image_job_example.ipynb",
    ]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_exported_script_runs_under_plain_python(notebook: Path, tmp_path: Path) -> None:
    script = tmp_path / f"{notebook.stem}.py"
    script.write_text(export_file(notebook).script)
    env = {**os.environ, "WANDB_MODE": "offline", "WANDB_DIR": str(tmp_path), "PYTHONPATH": ""}
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stderr[-2000:]
    run_dir = next((tmp_path / "wandb").glob("offline-run-*"))
    assert wandb_log.config(run_dir)["learning_rate"] == 0.01
    assert wandb_log.exit_code(run_dir) == 0


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_command_line_job_from_each_example(notebook: Path, store_dir: Path) -> None:
    result = run_cli(
        "create", str(notebook), "--project", "job_example", "--no-git", "--store", str(store_dir), "--json"
    )
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["name"] == f"job-source-job_example-{notebook.name}"
    spec = json.loads(Path(record["path"], "wandb-job.json").read_text())
    assert spec["_version"] == "v0" and spec["source_type"] == "artifact"
    assert set(spec) == {"_version", "source_type", "source", "input_types", "output_types", "runtime"}
    assert spec["input_types"]["params"]["type_map"]["learning_rate"] == {"wb_type": "number"}
    assert spec["source"]["entrypoint"] == ["python", f"{notebook.stem}.py"]
    # No entity known: the empty form, which W&B Launch fills with its agent's entity.
    assert spec["source"]["artifact"].startswith("wandb-artifact:///job_example/source-job_example-")


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_round_trip_with_an_override(notebook: Path, store_dir: Path, tmp_path: Path) -> None:
    """Create the job, run it locally with learning_rate=0.1: the new run's config has it."""
    created = json.loads(run_cli("create", str(notebook), "--no-git", "--store", str(store_dir), "--json").stdout)
    ran = run_cli(
        "run",
        f"{created['name']}:{created['version']}",
        "--config",
        "learning_rate=0.1",
        "--workdir",
        str(tmp_path / "work"),
        "--store",
        str(store_dir),
        "--json",
    )
    outcome = json.loads(ran.stdout)
    assert ran.returncode == 0 and outcome["exit_code"] == 0, Path(outcome["log"]).read_text()[-2000:]
    run_dir = Path(outcome["run_dir"])
    assert wandb_log.config(run_dir)["learning_rate"] == 0.1
    assert wandb_log.config(run_dir)["epochs"] == 10
    assert wandb_log.exit_code(run_dir) == 0


def test_a_local_run_is_its_own_run_inside_a_process_with_a_wandb_run(store_dir: Path, tmp_path: Path) -> None:
    """`%wandb_job --run` runs in a kernel whose wandb run exported WANDB_SERVICE: the job must
    not attach to that kernel's wandb-core, but write its own offline run, as under Launch."""
    notebook = NOTEBOOKS[0]
    created = json.loads(run_cli("create", str(notebook), "--no-git", "--store", str(store_dir), "--json").stdout)
    wandb.teardown()  # a fresh wandb-core, which exports WANDB_SERVICE as it starts
    run = wandb.init(project="parent", mode="offline", dir=str(tmp_path))
    try:
        assert os.environ.get("WANDB_SERVICE")
        ran = run_cli("run", created["name"], "--config", "epochs=3", "--store", str(store_dir), "--json")
    finally:
        run.finish()
    outcome = json.loads(ran.stdout)
    assert outcome["exit_code"] == 0, Path(outcome["log"]).read_text()[-2000:]
    assert wandb_log.config(Path(outcome["run_dir"]))["epochs"] == 3
