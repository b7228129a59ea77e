"""Publishing to a real (offline) wandb run: what lands in the run's transaction log.

The `.wandb` file is what `wandb sync` uploads, so reading it back is reading what W&B will
receive. Its format is wandb-core's: a 7-byte header, then LevelDB-log blocks of 32 KiB whose
chunks carry serialized `Record` protos.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import wandb
from wandb.proto import wandb_internal_pb2 as pb

from jupyter_jobs.core import CreateRequest, JobResult, create_job
from jupyter_jobs.errors import JobError
from jupyter_jobs.publish import check_wandb_version, publish_to_run

WANDB_LOG_HEADER = b":W&B"
BLOCK_SIZE = 32 * 1024
CHUNK_HEADER = struct.Struct("<IHB")  # checksum, length, chunk type
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4


def transaction_log(path: Path) -> Iterator[pb.Record]:
    """Every record of a run's `.wandb` file, in order."""
    data = path.read_bytes()
    assert data[:4] == WANDB_LOG_HEADER, f"{path} is not a W&B transaction log"
    position, pending = 7, b""
    while position + CHUNK_HEADER.size <= len(data):
        left_in_block = BLOCK_SIZE - position % BLOCK_SIZE
        if left_in_block < CHUNK_HEADER.size:
            position += left_in_block
            continue
        _, length, kind = CHUNK_HEADER.unpack_from(data, position)
        position += CHUNK_HEADER.size
        pending += data[position : position + length]
        position += length
        if kind in (FULL, LAST):
            record = pb.Record()
            record.ParseFromString(pending)
            pending = b""
            yield record


def logged_artifacts(path: Path) -> list[pb.ArtifactRecord]:
    """The artifacts a run logged, as its transaction log holds them."""
    return [record.artifact for record in transaction_log(path) if record.WhichOneof("record_type") == "artifact"]


def manifest_paths(artifact: pb.ArtifactRecord) -> list[str]:
    return sorted(entry.path for entry in artifact.manifest.contents)


def used_jobs(path: Path) -> list[str]:
    """Names of the jobs the run declared it uses (what makes wandb-core's job builder stand down)."""
    return [
        record.use_artifact.name
        for record in transaction_log(path)
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


def hand_made_result(aliases: list[str]) -> JobResult:
    """A JobResult as the core returns it, for a job whose files we choose."""
    record = {
        "name": "job-source-job_example-train.ipynb",
        "version": "v2",
        "aliases": aliases,
        "code_artifact": {"name": "source-job_example-train.ipynb", "alias": "sha-0123456789abcdef"},
    }
    code_files = {"train.py": b"print('train')\n", "train.ipynb": b"{}"}
    job_files = {"wandb-job.json": b'{"_version": "v0"}', "requirements.frozen.txt": b"wandb==0.31.0\n"}
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


def test_code_then_job_artifact_land_in_the_run(offline_run: Callable[..., wandb.sdk.wandb_run.Run]) -> None:
    run = offline_run()
    published = publish_to_run(run, hand_made_result(["latest", "v2", "sha-feedfacefeedface", "v1-tag"]))
    code, job = logged_artifacts(finished_log(run))
    assert (code.name, code.type, manifest_paths(code)) == (
        "source-job_example-train.ipynb", "code", ["train.ipynb", "train.py"])
    assert "sha-0123456789abcdef" in code.aliases
    assert (job.name, job.type, manifest_paths(job)) == (
        "job-source-job_example-train.ipynb", "job", ["requirements.frozen.txt", "wandb-job.json"])
    assert sorted(job.aliases) == ["latest", "sha-feedfacefeedface", "v1-tag"]  # the store's "v2" is W&B's to assign
    assert published == [
        "source-job_example-train.ipynb:latest",
        "source-job_example-train.ipynb:sha-0123456789abcdef",
        "job-source-job_example-train.ipynb:latest",
        "job-source-job_example-train.ipynb:sha-feedfacefeedface",
        "job-source-job_example-train.ipynb:v1-tag",
    ]


def test_sdk_job_builder_is_told_to_stand_down_when_the_user_enabled_it(
    offline_run: Callable[..., wandb.sdk.wandb_run.Run],
) -> None:
    run = offline_run(disable_job_creation=False)
    publish_to_run(run, hand_made_result(["latest"]))
    assert used_jobs(finished_log(run)) == ["job-source-job_example-train.ipynb"]


def test_nothing_extra_is_recorded_when_the_sdk_job_builder_is_off(
    offline_run: Callable[..., wandb.sdk.wandb_run.Run],
) -> None:
    run = offline_run()  # wandb 0.31's default: disable_job_creation=True
    publish_to_run(run, hand_made_result(["latest"]))
    assert used_jobs(finished_log(run)) == []


def test_create_job_with_a_run_publishes_what_it_stored(
    offline_run: Callable[..., wandb.sdk.wandb_run.Run], write_notebook: Callable[..., Path], store_dir: Path
) -> None:
    run = offline_run()
    run.log({"loss": 0.5})
    notebook = write_notebook("train.ipynb")
    result = create_job(
        CreateRequest(path=notebook, project=run.project, config=dict(run.config), summary=dict(run.summary),
                      store=store_dir),
        run=run,
    )
    code, job = logged_artifacts(finished_log(run))
    assert code.name == result.record["code_artifact"]["name"] == "source-job_example-train.ipynb"
    assert manifest_paths(code) == sorted(result.code_files) == ["train.ipynb", "train.py"]
    assert job.name == result.record["name"] == "job-source-job_example-train.ipynb"
    assert manifest_paths(job) == sorted(result.record["files"])
    spec = json.loads(result.job_files["wandb-job.json"])
    assert spec["source"]["artifact"].endswith(f"/{code.name}:{result.record['code_artifact']['alias']}")
    assert result.record["code_artifact"]["alias"] in code.aliases


@pytest.mark.parametrize("version", ["0.30.2", "0.32.0", "1.0.0"])
def test_untested_wandb_versions_are_refused_with_the_fix(version: str) -> None:
    with pytest.raises(JobError) as error:
        check_wandb_version(version)
    assert str(error.value) == (
        f"jupyter-jobs is tested with wandb >=0.31,<0.32, found wandb {version} "
        '(pip install "wandb>=0.31,<0.32")'
    )


@pytest.mark.parametrize("version", ["0.31.0", "0.31.7", "0.31.1rc2"])
def test_tested_wandb_versions_pass(version: str) -> None:
    check_wandb_version(version)
