"""Log a created job's code artifact and job artifact to the active W&B run.

The run is where W&B users look for jobs: an online run uploads the two artifacts, an offline
run carries them in its transaction log to `wandb sync`. The public `wandb.Artifact(type="job")`
is refused by the SDK, so this goes through `InternalArtifact`, as the SDK's own job builder
and `run.log_code()` do; that and the other private API it needs are in `wandb_compat`.

`run.log_artifact` only queues the artifact (the upload runs in wandb-core), so publishing
never blocks the notebook on the network.

One run, one job: the SDK's job builder (wandb-core) would build its own job from the same
run when the run finishes, if job creation is on and the run has the ingredients — in
particular our code artifact, which wandb-core notices. For an offline run the settings that
count are the *syncing* machine's, read at `wandb sync` time, so what the run was started
with says nothing. wandb-core's builder stands down for a run that declares it *uses* a
complete job (that is how runs launched from a job avoid re-creating it), and on the sender
side that declaration only informs the builder. So the run always records that it uses the
job we just logged; wandb-core then builds nothing at `finish()` or `wandb sync`.

An offline run carries its own copies of the files (wandb's "mutable" policy, as
`run.log_code()` stages its files), so the store can change or go before `wandb sync`; an
online run's upload starts at once and reads the store's files in place.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import wandb

from . import wandb_compat

if TYPE_CHECKING:
    from wandb import Run

    from .core import JobResult


def publish_to_run(run: Run, result: JobResult, code_digests: Mapping[str, str] | None = None) -> list[str]:
    """Log the code artifact, then the job artifact, to `run`; the references logged.

    A version already logged to this run is not logged again: `%wandb_job` on an unchanged
    notebook then costs no artifact work at all. `code_digests` are the code files'
    `upload_digests`, when the caller has them; wandb hashes the others itself.
    """
    wandb_compat.check_version(wandb.__version__)
    record = result.record
    already = (run.id, record["name"], record["digest"])
    if already in _PUBLISHED:
        return []
    published: list[str] = []
    code = record.get("code_artifact")
    if code:
        # The job's `source.artifact` names the code by this content alias, so it must resolve.
        published += _log(
            run, code["name"], "code", Path(code["path"]), code["files"], [code["alias"]], code_digests or {}
        )
    # The content alias (the launch command's reference) and an image's tag, which wandb-core's
    # job builder adds too (even a tag like "v1" that the local store cannot hold).
    published += _log(run, record["name"], "job", Path(record["path"]), record["files"], record["artifact_aliases"], {})
    _stop_sdk_job_builder(run, record["name"])
    _PUBLISHED.add(already)
    return published


# (run id, job name, version digest) of what this process has logged.
_PUBLISHED: set[tuple[str, str, str]] = set()


def upload_digests(files: Mapping[str, bytes]) -> dict[str, str]:
    """Each file's digest as wandb records it for an MD5 artifact (base64 of the MD5), from memory.

    A caller holding the bytes can hash them on another thread, instead of wandb reading them
    back and hashing them on the notebook's thread.
    """
    return {
        name: base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode("ascii")
        for name, data in files.items()
    }


def _log(
    run: Run, name: str, kind: str, folder: Path, files: list[str], aliases: list[str], digests: Mapping[str, str]
) -> list[str]:
    """Queue one artifact on the run; its references, `name:alias`, `latest` first.

    The files are the store's own copies, which never change once written (content-addressed
    or versioned), so an online run's upload may read them in place ("immutable"); an offline
    run stages copies ("mutable") that travel with it to `wandb sync`.
    A file with a known digest (`upload_digests` of the bytes written) is added with it, as
    `add_file` does after hashing the file itself.
    """
    artifact = wandb_compat.internal_artifact(name, kind)
    for file in sorted(files):
        wandb_compat.add_file(artifact, file, str(folder / file), digests.get(file), copy=run.offline)
    run.log_artifact(artifact, aliases=aliases)
    return [f"{artifact.name}:{alias}" for alias in ["latest", *aliases]]


def _stop_sdk_job_builder(run: Run, job_name: str) -> None:
    """Keep wandb-core from building a second job for this run (see the module docstring).

    Whatever `disable_job_creation` says now: `wandb sync` reads the syncing machine's settings.
    """
    wandb_compat.declare_job_use(run, job_name)
