"""Publishing to a real (offline) wandb run: what lands in the run's transaction log.

The `.wandb` file is what `wandb sync` uploads, so reading it back is reading what W&B will
receive.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import wandb
from wandb.proto import wandb_internal_pb2 as pb

from jupyter_jobs.core import CreateRequest, JobResult, create_job
from jupyter_jobs.models import CodeArtifact
from jupyter_jobs.publish import publish_to_run

from . import wandb_log
from .helpers import sample_record

pytestmark = pytest.mark.wandb_facing


def logged_artifacts(path: Path) -> list[pb.ArtifactRecord]:
    """The artifacts a run logged, as its transaction log holds them."""
    return [record.artifact for record in wandb_log.records(path) if record.WhichOneof("record_type") == "artifact"]


def manifest_paths(artifact: pb.ArtifactRecord) -> list[str]:
    return sorted(entry.path for entry in artifact.manifest.contents)


def used_jobs(path: Path) -> list[str]:
    """Names of the jobs the run declared it uses (what makes wandb-core's job builder stand down)."""
    return [
        record.use_artifact.name
        for record in wandb_log.records(path)
        if record.WhichOneof("record_type") == "use_artifact" and record.use_artifact.type == "job"
    ]


def finished_log(run: wandb.sdk.wandb_run.Run) -> Path:
    """Finish the run and wait until wandb-core has written its transaction log out.

    `run.finish()` returns before wandb-core's writer has flushed an offline run's log;
    `wandb.teardown()` waits for wandb-core to shut down, which closes the file.
    """
    run.finish()
    wandb.teardown()
    return Path(run.settings.sync_file)


def hand_made_result(artifact_aliases: list[str], folder: Path) -> JobResult:
    """A JobResult as the core returns it, for a job whose files we choose, stored in `folder`."""
    code_files = {"train.py": b"print('train')\n", "train.ipynb": b"{}"}
    job_files = {"wandb-job.json": b'{"_version": "v0"}', "requirements.frozen.txt": b"wandb==0.31.0\n"}
    for sub, files in (("code", code_files), ("job", job_files)):
        (folder / sub).mkdir(parents=True, exist_ok=True)
        for name, content in files.items():
            (folder / sub / name).write_bytes(content)
    record = sample_record(
        name="job-source-job_example-train.ipynb",
        version="v2",
        digest="feedface" * 8,
        path=str(folder / "job"),
        files=sorted(job_files),
        aliases=["latest", "sha-feedfacefeedface"],
        artifact_aliases=artifact_aliases,
        code_artifact=CodeArtifact(
            name="source-job_example-train.ipynb",
            digest="0123456789abcdef" * 4,
            alias="sha-0123456789abcdef",
            path=str(folder / "code"),
            files=sorted(code_files),
            entrypoint="train.py",
        ),
    )
    return JobResult(record, True, None, code_files, job_files)


@pytest.fixture
def offline_run(tmp_path: Path) -> Callable[..., wandb.sdk.wandb_run.Run]:
    runs: list[wandb.sdk.wandb_run.Run] = []

    def start(**settings: object) -> wandb.sdk.wandb_run.Run:
        run = wandb.init(project="job_example", dir=tmp_path, mode="offline", settings=wandb.Settings(**settings))
        runs.append(run)
        return run

    yield start
    for run in runs:
        run.finish()
    wandb.teardown()


def test_code_then_job_artifact_land_in_the_run(
    offline_run: Callable[..., wandb.sdk.wandb_run.Run], tmp_path: Path
) -> None:
    run = offline_run()
    published = publish_to_run(run, hand_made_result(["sha-feedfacefeedface", "v1"], tmp_path))  # v1: an image tag
    code, job = logged_artifacts(finished_log(run))
    assert (code.name, code.type, manifest_paths(code)) == (
        "source-job_example-train.ipynb",
        "code",
        ["train.ipynb", "train.py"],
    )
    assert "sha-0123456789abcdef" in code.aliases
    assert (job.name, job.type, manifest_paths(job)) == (
        "job-source-job_example-train.ipynb",
        "job",
        ["requirements.frozen.txt", "wandb-job.json"],
    )
    assert sorted(job.aliases) == ["latest", "sha-feedfacefeedface", "v1"]
    assert published == [
        "source-job_example-train.ipynb:latest",
        "source-job_example-train.ipynb:sha-0123456789abcdef",
        "job-source-job_example-train.ipynb:latest",
        "job-source-job_example-train.ipynb:sha-feedfacefeedface",
        "job-source-job_example-train.ipynb:v1",
    ]


@pytest.mark.parametrize("job_creation", [True, False], ids=["job-creation-on", "job-creation-off"])
def test_sdk_job_builder_is_told_to_stand_down_whatever_the_run_says(
    offline_run: Callable[..., wandb.sdk.wandb_run.Run], tmp_path: Path, job_creation: bool
) -> None:
    """`wandb sync` reads the syncing machine's settings, so the record is there either way."""
    run = offline_run(disable_job_creation=not job_creation)
    publish_to_run(run, hand_made_result([], tmp_path))
    assert used_jobs(finished_log(run)) == ["job-source-job_example-train.ipynb"]


def test_an_offline_run_carries_its_own_copies_of_the_files(
    offline_run: Callable[..., wandb.sdk.wandb_run.Run], tmp_path: Path
) -> None:
    run = offline_run()
    publish_to_run(run, hand_made_result([], tmp_path / "store"))
    for artifact in logged_artifacts(finished_log(run)):
        for entry in artifact.manifest.contents:
            assert entry.local_path and not Path(entry.local_path).is_relative_to(tmp_path / "store")
            assert Path(entry.local_path).is_file()


def test_a_disabled_run_takes_the_job_without_complaint(tmp_path: Path) -> None:
    run = wandb.init(
        project="job_example", dir=tmp_path, mode="disabled", settings=wandb.Settings(disable_job_creation=False)
    )
    try:
        published = publish_to_run(run, hand_made_result([], tmp_path))
    finally:
        run.finish()
    assert published[-1] == "job-source-job_example-train.ipynb:latest"


def test_a_version_is_logged_to_a_run_once(offline_run: Callable[..., wandb.sdk.wandb_run.Run], tmp_path: Path) -> None:
    run = offline_run()
    first = publish_to_run(run, hand_made_result([], tmp_path))
    again = publish_to_run(run, hand_made_result([], tmp_path))
    assert first and again == []
    assert [a.type for a in logged_artifacts(finished_log(run))] == ["code", "job"]


def test_create_job_with_a_run_publishes_what_it_stored(
    offline_run: Callable[..., wandb.sdk.wandb_run.Run], write_notebook: Callable[..., Path], store_dir: Path
) -> None:
    run = offline_run()
    run.log({"loss": 0.5})
    notebook = write_notebook("train.ipynb")
    result = create_job(
        CreateRequest(
            path=notebook, project=run.project, config=dict(run.config), summary=dict(run.summary), store=store_dir
        ),
        run=run,
    )
    code, job = logged_artifacts(finished_log(run))
    assert code.name == result.record.code_artifact.name == "source-job_example-train.ipynb"
    assert manifest_paths(code) == sorted(result.code_files) == ["train.ipynb", "train.py"]
    assert job.name == result.record.name == "job-source-job_example-train.ipynb"
    assert manifest_paths(job) == sorted(result.record.files)
    spec = json.loads(result.job_files["wandb-job.json"])
    assert spec["source"]["artifact"].endswith(f"/{code.name}:{result.record.code_artifact.alias}")
    assert result.record.code_artifact.alias in code.aliases


def test_code_digests_hashed_from_memory_are_the_ones_wandb_computes_from_the_files(
    offline_run: Callable[..., wandb.sdk.wandb_run.Run], write_notebook: Callable[..., Path], store_dir: Path
) -> None:
    from wandb.sdk.lib.hashutil import md5_file_b64

    run = offline_run()
    result = create_job(
        CreateRequest(path=write_notebook("train.ipynb"), project=run.project, store=store_dir), run=run
    )
    code, job = logged_artifacts(finished_log(run))
    code_dir, job_dir = Path(result.record.code_artifact.path), Path(result.record.path)
    for artifact, folder in ((code, code_dir), (job, job_dir)):
        assert {entry.path: entry.digest for entry in artifact.manifest.contents} == {
            entry.path: md5_file_b64(folder / entry.path) for entry in artifact.manifest.contents
        }
