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

import shlex
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import wandb

from . import wandb_compat
from .entity import resolve_entity
from .errors import JobError
from .inputs import check_config_overrides

if TYPE_CHECKING:
    from wandb import Run

    from .core import JobResult
    from .models import JobRecord
    from .store import JobStore


def publish_to_run(run: Run, result: JobResult, code_digests: Mapping[str, str] | None = None) -> list[str]:
    """Log the code artifact, then the job artifact, to `run`; the references logged.

    A version already logged to this run is not logged again: `%wandb_job` on an unchanged
    notebook then costs no artifact work at all. `code_digests` are the code files'
    `digest.upload_digests`, when the caller has them; wandb hashes the others itself.
    """
    wandb_compat.check_version(wandb.__version__)
    record = result.record
    already = (run.id, record.name, record.digest)
    if already in _PUBLISHED:
        return []
    code = record.code_artifact
    # The job's `source.artifact` names the code by this content alias, so it must resolve.
    published = _log(run, code.name, "code", Path(code.path or ""), code.files, [code.alias], code_digests or {})
    # The content alias (the launch command's reference) and an image's tag, which wandb-core's
    # job builder adds too (even a tag like "v1" that the local store cannot hold).
    published += _log(
        run, record.name, "job", Path(record.path or ""), record.files, record.artifact_aliases, {}, record.metadata
    )
    _stop_sdk_job_builder(run, record.name)
    _PUBLISHED.add(already)
    return published


# (run id, job name, version digest) of what this process has logged.
_PUBLISHED: set[tuple[str, str, str]] = set()


def _log(
    run: Run,
    name: str,
    kind: str,
    folder: Path,
    files: list[str],
    aliases: list[str],
    digests: Mapping[str, str],
    metadata: Mapping[str, Any] | None = None,
) -> list[str]:
    """Queue one artifact on the run; its references, `name:alias`, `latest` first.

    The files are the store's own copies, which never change once written (content-addressed
    or versioned), so an online run's upload may read them in place ("immutable"); an offline
    run stages copies ("mutable") that travel with it to `wandb sync`.
    `metadata` is the job's declared inputs in wandb-core's shape (see inputs.py).
    A file with a known digest (`digest.upload_digests` of the bytes written) is added with it, as
    `add_file` does after hashing the file itself.
    """
    artifact = wandb_compat.internal_artifact(name, kind, metadata)
    for file in sorted(files):
        wandb_compat.add_file(artifact, file, str(folder / file), digests.get(file), copy=run.offline)
    run.log_artifact(artifact, aliases=aliases)
    return [f"{artifact.name}:{alias}" for alias in ["latest", *aliases]]


def _stop_sdk_job_builder(run: Run, job_name: str) -> None:
    """Keep wandb-core from building a second job for this run (see the module docstring).

    Whatever `disable_job_creation` says now: `wandb sync` reads the syncing machine's settings.
    """
    wandb_compat.declare_job_use(run, job_name)


PUBLISH_JOB_TYPE = "jupyter_jobs_publish"  # the job type of the run that publishing starts


@dataclass(frozen=True)
class Published:
    """Where a stored version went: the run that carried it, and how to finish an offline one."""

    job: str  # entity/project/name:content-alias, or project/name:alias with no entity known
    run_id: str
    online: bool
    references: tuple[str, ...]  # the artifact references logged
    sync_command: str | None  # offline: the command that uploads the run

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "summary": self.summary()}

    def summary(self) -> str:
        if self.online:
            return f"Published {self.job} to W&B (run {self.run_id})."
        return (
            f"Not logged in to W&B: {self.job} is in the offline run {self.run_id}. "
            f"Upload it with:\n  {self.sync_command}"
        )


def publish_stored(store: JobStore, ref: str, *, entity: str | None = None, project: str | None = None) -> Published:
    """Put a stored job version and its code into W&B through a run started for it.

    As `wandb job create` does with its hidden run: online when wandb holds credentials,
    otherwise an offline run whose `wandb sync` command is returned. The code is checked
    against its digest first, so a store changed by hand never reaches W&B.
    """
    stored = store.resolve(ref)
    record = stored.record  # its folders are this store's, wherever it has moved
    entity, project = _target(record, entity, project)
    online = _online()
    run = wandb.init(
        project=project,
        entity=entity,
        job_type=PUBLISH_JOB_TYPE,
        mode="online" if online else "offline",
        reinit="create_new",  # a notebook's own active run stays as it is
        settings=wandb.Settings(silent=True, console="off", disable_job_creation=True, save_code=False),
    )
    try:
        from .core import JobResult

        references = publish_to_run(run, JobResult(record, False, stored, {}, {}))
        entity = entity or run.entity or None
    finally:
        run.finish()
    job = "/".join(part for part in (entity, project, f"{record.name}:{record.content_alias}") if part)
    sync = None if online else _sync_command(run.settings.sync_dir, entity, project)
    return Published(job, run.id, online, tuple(references), sync)


def _online() -> bool:
    """Whether wandb would talk to its server now: not set offline, and holding credentials."""
    settings = wandb_compat.current_settings()
    return settings.mode not in ("offline", "dryrun", "disabled") and wandb_compat.logged_in(settings)


def _target(record: JobRecord, entity: str | None, project: str | None) -> tuple[str | None, str]:
    """The entity and project to publish to; an artifact job's code reference fixes them.

    The job names its code as `wandb-artifact://<entity>/<project>/...`, so the code must land
    there: another project (or another entity, when the reference names one) would leave the
    job pointing at code that is not where it says.
    """
    project = project or record.project
    entity = entity or record.entity or resolve_entity(None)
    source = record.spec.get("source", {})
    reference = source.get("artifact", "") if isinstance(source, dict) else ""
    if reference.startswith("wandb-artifact://"):
        ref_entity, ref_project = reference.removeprefix("wandb-artifact://").split("/")[:2]
        if ref_project != project or (ref_entity and entity and ref_entity != entity):
            where = f"{ref_entity or '<any entity>'}/{ref_project}"
            raise JobError(
                f"{record.name} refers to its code in {where}, not in {entity or '<entity>'}/{project}",
                hint=f"publish it to {where}, or create the job again with --project {project}"
                + (f" --entity {entity}" if entity else ""),
            )
        entity = entity or ref_entity or None
    return entity, project


def _sync_command(sync_dir: str, entity: str | None, project: str) -> str:
    """`wandb sync` with the entity and project the job's references name (they must agree)."""
    parts = ["wandb", "sync", "-p", project, *(["-e", entity] if entity else []), sync_dir]
    return " ".join(shlex.quote(part) for part in parts)


@dataclass(frozen=True)
class Launched:
    """A job version put on a W&B Launch queue."""

    job: str  # entity/project/name:content-alias
    queue: str
    item_id: str  # the run queue item W&B made
    overrides: dict[str, Any]
    published: Published | None  # the publication this launch needed, if any

    def to_json(self) -> dict[str, Any]:
        published = self.published.to_json() if self.published else None
        return {**asdict(self), "published": published, "summary": self.summary()}

    def summary(self) -> str:
        lines = [self.published.summary()] if self.published else []
        lines.append(f"Queued {self.job} on the W&B Launch queue {self.queue} (item {self.item_id}).")
        return "\n".join(lines)


def launch_stored(
    store: JobStore,
    ref: str,
    queue: str,
    overrides: Mapping[str, Any],
    *,
    entity: str | None = None,
    project: str | None = None,
) -> Launched:
    """Enqueue a stored version on a W&B Launch queue, as `wandb launch --job ... --queue` does.

    The version is published first unless W&B has it (by its content alias). Config
    overrides travel as Launch's own `overrides.run_config`, which the agent hands the run.
    """
    if not _online():
        raise JobError(
            "Launching needs W&B: wandb is offline or not logged in",
            hint="run `wandb login` (and unset WANDB_MODE=offline); `jupyter jobs run` runs it on this machine",
        )
    stored = store.resolve(ref)
    check_config_overrides(stored.record, overrides)
    entity, project = _target(stored.record, entity, project)
    published = None
    job = f"{entity}/{project}/{stored.record.name}:{stored.record.content_alias}" if entity else None
    if job is None or not _w_and_b_has(job):
        published = publish_stored(store, ref, entity=entity, project=project)
        job = published.job
    from wandb.sdk.launch import launch_add
    from wandb.sdk.launch.errors import LaunchError

    config = {"overrides": {"run_config": dict(overrides)}} if overrides else None
    try:
        queued = launch_add(job=job, queue_name=queue, config=config, entity=entity, project=project)
    except (LaunchError, wandb.errors.CommError) as err:
        raise JobError(
            f"W&B Launch did not take {job} on the queue {queue}: {_first_line(err)}",
            hint=f"check that the queue {queue} exists for {entity or 'your entity'} (wandb launch-agent lists it)",
        ) from None
    return Launched(job, queue, str(queued.id), dict(overrides), published)


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def _w_and_b_has(job: str) -> bool:
    """Whether W&B already holds this job version."""
    try:
        wandb.Api().artifact(job, type="job")
    except wandb.errors.CommError:
        return False
    return True
