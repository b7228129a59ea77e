"""Our jobs against the SDK's own job builder, fed the same run facts.

`wandb.sdk.internal.job_builder.JobBuilder` is what W&B runs at `finish()`; we give it the
facts of the same run (config, summary, program path, git remote/commit, code artifact name,
docker image) and compare its `wandb-job.json`, name and aliases with ours key by key.
Only the code artifact's reference differs by nature: the SDK's holds the server id of the
logged artifact (`wandb-artifact://_id/<id>`), which offline does not exist.
"""

from __future__ import annotations

import inspect
import json
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from wandb.sdk.internal.job_builder import JobBuilder

from jupyter_jobs import jobspec
from jupyter_jobs.core import CreateRequest, create_job

from .helpers import commit

pytestmark = pytest.mark.wandb_facing

CONFIG = {"learning_rate": 0.01, "epochs": 10, "layers": [64, 32], "optimizer": {"name": "adam", "beta": 0.9}}
SUMMARY = {"loss": 0.25, "accuracy": 0.9, "best_epoch": 7}  # the SDK is given it sorted, as we type it


def sdk_build(files_dir: Path, metadata: dict[str, Any], requirements: bytes, **settings: Any) -> Any:
    """Run the SDK's job builder on a run's files dir, as the SDK does at the end of a run."""
    files_dir.mkdir(parents=True, exist_ok=True)
    (files_dir / "requirements.txt").write_bytes(requirements)
    (files_dir / "wandb-metadata.json").write_text(json.dumps(metadata))
    run_settings = types.SimpleNamespace(
        disable_job_creation=False,
        x_disable_machine_info=False,
        job_source=None,
        job_name=None,
        _jupyter=False,
        _colab=False,
        x_jupyter_root=None,
        files_dir=str(files_dir),
    )
    vars(run_settings).update(settings)
    # wandb 0.22.0 and 0.22.1 read the files dir from the settings; later releases take it as an argument.
    if "files_dir" in inspect.signature(JobBuilder).parameters:
        builder = JobBuilder(run_settings, files_dir=str(files_dir))  # type: ignore[arg-type]
    else:
        builder = JobBuilder(run_settings)  # type: ignore[arg-type]
    builder.set_config(CONFIG)
    builder.set_summary(dict(sorted(SUMMARY.items())))
    return builder


def built_files(artifact: Any) -> dict[str, bytes]:
    return {name: Path(entry.local_path).read_bytes() for name, entry in artifact.manifest.entries.items()}


def ours(path: Path, store: Path, **request: Any):
    return create_job(
        CreateRequest(path=path, project="job_example", config=CONFIG, summary=SUMMARY, store=store, **request)
    )


def assert_python_entrypoint(sdk_spec: dict[str, Any], our_spec: dict[str, Any]) -> None:
    """The SDK writes the creating interpreter's name; ours is `python` from every surface."""
    assert sdk_spec["source"]["entrypoint"][0] == Path(sys.executable).name
    assert our_spec["source"]["entrypoint"][0] == "python"
    sdk_spec["source"]["entrypoint"][0] = "python"


def test_code_artifact_job_matches_the_sdk(write_notebook, store_dir: Path, tmp_path: Path) -> None:
    path = write_notebook("canonical_job_example.ipynb")
    result = ours(path, store_dir, entity="acme")
    code = result.record.code_artifact.to_json()
    builder = sdk_build(
        tmp_path / "files",
        {"python": result.record.runtime, "codePathLocal": code["entrypoint"], "codePath": code["entrypoint"]},
        result.job_files["requirements.frozen.txt"],
    )
    builder._logged_code_artifact = {"id": "QXJ0aWZhY3Q6MQ==", "name": code["name"]}
    artifact = builder.build(api=None)
    theirs = built_files(artifact)
    sdk_spec, our_spec = json.loads(theirs["wandb-job.json"]), json.loads(result.job_files["wandb-job.json"])
    assert sdk_spec["source"].pop("artifact") == "wandb-artifact://_id/QXJ0aWZhY3Q6MQ=="
    assert our_spec["source"].pop("artifact") == f"wandb-artifact://acme/job_example/{code['name']}:{code['alias']}"
    assert_python_entrypoint(sdk_spec, our_spec)
    assert our_spec == sdk_spec
    assert list(our_spec) == list(sdk_spec) and list(our_spec["source"]) == list(sdk_spec["source"])
    assert artifact.name == result.record.name == "job-source-job_example-canonical_job_example.ipynb"
    assert artifact.type == "job"
    assert set(theirs) == set(result.job_files)
    assert theirs["requirements.frozen.txt"] == result.job_files["requirements.frozen.txt"]


def test_git_job_matches_the_sdk(git_repo, write_notebook, store_dir: Path, tmp_path: Path, monkeypatch) -> None:
    repo = git_repo(remote="https://user:tok3n@github.com/acme/ml.git")
    path = write_notebook("nb/train.ipynb", folder=repo)
    head = commit(repo, message="notebook")
    path.write_text(path.read_text().replace("0.01", "0.05"))  # dirty: diff.patch travels too
    result = ours(path, store_dir)
    monkeypatch.chdir(path.parent)  # the SDK looks for the notebook in the kernel's cwd
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "diff.patch").write_bytes(result.job_files["diff.patch"])
    builder = sdk_build(
        tmp_path / "files",
        {
            "python": result.record.runtime,
            # the remote as we record it: all user info goes (the SDK would keep `user:@`)
            "git": {"remote": "https://github.com/acme/ml.git", "commit": head},
            "root": str(repo),
            "program": "nb/train.ipynb",
        },
        result.job_files["requirements.frozen.txt"],
        _jupyter=True,
        x_jupyter_root=str(repo),
    )
    artifact = builder.build(api=None)
    theirs = built_files(artifact)
    sdk_spec, our_spec = json.loads(theirs["wandb-job.json"]), json.loads(result.job_files["wandb-job.json"])
    assert_python_entrypoint(sdk_spec, our_spec)
    assert jobspec.spec_bytes(sdk_spec) == result.job_files["wandb-job.json"]  # byte for byte
    assert artifact.name == result.record.name
    assert set(theirs) == set(result.job_files) == {"wandb-job.json", "requirements.frozen.txt", "diff.patch"}
    assert "tok3n" not in result.job_files["wandb-job.json"].decode()


@pytest.mark.parametrize("image", ["wandb/job_example:v1", "ghcr.io/acme/trainer"])
def test_image_job_matches_the_sdk(write_notebook, store_dir: Path, tmp_path: Path, image: str) -> None:
    result = ours(write_notebook(), store_dir, image=image)
    builder = sdk_build(
        tmp_path / "files",
        {"python": result.record.runtime, "docker": image},
        result.job_files["requirements.frozen.txt"],
    )
    artifact = builder.build(api=None)
    assert built_files(artifact)["wandb-job.json"] == result.job_files["wandb-job.json"]
    assert artifact.name == result.record.name
    assert [a for a in result.record.artifact_aliases if not a.startswith("sha-")] == builder._aliases


def test_user_name_matches_the_sdks_job_name_setting(write_notebook, store_dir: Path, tmp_path: Path) -> None:
    result = ours(write_notebook(), store_dir, image="wandb/x:v2", name="my-trainer")
    builder = sdk_build(
        tmp_path / "files",
        {"python": result.record.runtime, "docker": "wandb/x:v2"},
        result.job_files["requirements.frozen.txt"],
        job_name="my-trainer",
    )
    assert builder.build(api=None).name == result.record.name == "my-trainer"
