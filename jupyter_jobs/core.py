"""The one function that creates a job; every surface (CLI, magic, panel, REST) calls it.

`create_job` exports the notebook, checks it for secrets, decides the source as W&B would,
names the job, builds the job artifact's files, stores the version in the local store and,
given an active run, logs the code and job artifacts to it. It returns a `JobResult` whose
`record` is the `JobRecord` every surface shows, built here and nowhere else.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from . import jobspec, naming
from .digest import content_digest, digest_of_hashes, file_hashes, upload_digests
from .entity import NO_ENTITY_WARNING, reference, resolve_entity
from .errors import JobError, NotFound
from .inputs import input_rows
from .models import (
    DEFAULT_PROJECT,
    CodeArtifact,
    CreateRequest,
    GitSource,
    IncludedFile,
    JobRecord,
    Rewrite,
    SourceChoice,
    utc_now,
)
from .source import SourceDecision, check_sources, choose_source

if TYPE_CHECKING:
    from .export import ExportResult
    from .inputs import JobInputs
    from .local_code import Included, Limits, LocalCode
    from .store import JobStore, StoredJob

__all__ = ["CreateRequest", "JobResult", "create_job"]

# The code-only hash of notebook copies, by the copy's sha256; least recently used first.
_CODE_ONLY_HASHES: dict[str, str] = {}
_CODE_ONLY_HASHES_MAX = 64


@dataclass(frozen=True)
class JobResult:
    record: JobRecord
    created: bool
    stored: StoredJob | None
    code_files: dict[str, bytes] = field(repr=False)
    job_files: dict[str, bytes] = field(repr=False)
    published: tuple[str, ...] = ()  # artifact references logged to the run; empty if it had them


@dataclass(frozen=True)
class _CodeArtifact:
    name: str
    digest: str
    files: dict[str, bytes]
    hashes: dict[str, str]  # each file's sha256, hashed once and handed to the store
    script_name: str
    included: tuple[Included, ...]  # the local modules and files beside the script, and why
    identity: str  # the digest with the notebook copy counted without its outputs

    @property
    def alias(self) -> str:
        """A version alias derived from the code, so the job's reference is exact offline. It
        ignores the notebook's outputs: the job refers to it, and outputs alone must not make a
        new job version (the code folder itself is named by all its bytes, outputs included)."""
        return f"sha-{self.identity[:16]}"


def create_job(request: CreateRequest, run: Any = None) -> JobResult:
    """Create (or find) the job version for a notebook or script, and publish it to `run`."""
    from .export import export_text, read_source_bytes
    from .local_code import collect

    path = _existing_file(request.path)
    image = request.image or os.environ.get("WANDB_DOCKER")
    project = request.project or DEFAULT_PROJECT
    entity = resolve_entity(request.entity, ask_server=not getattr(run, "offline", False))
    # git runs in its own processes: ask it while this thread does all that does not depend on it.
    with ThreadPoolExecutor(max_workers=2) as pool:
        checking = pool.submit(
            check_sources,
            path,
            no_git=request.no_git,
            image=image,
            diff_root=Path(request.diff_root) if request.diff_root else None,
        )
        saved = read_source_bytes(path)
        export = export_text(saved, path.name)
        notebook = _notebook_copy(saved, export, request.strip_outputs)
        # hashlib releases the GIL: a notebook copy with large outputs is hashed during the scan.
        hashing = pool.submit(file_hashes, {path.name: notebook} if notebook is not None else {})
        local = collect(export, path, f"{path.stem}.py", _limits(request))
        # Declared config files are uploaded too: scanned like the files the script reads.
        carried = {**local.files, **{f.path: f.content for f in (request.inputs.files if request.inputs else ())}}
        warnings = _secret_warnings(export, notebook, carried, request.allow_secrets, exported=notebook is saved)
        code = _code_artifact(project, path, export, notebook, hashing.result(), local, request.inputs)
        # Writing and fsyncing a large notebook copy releases the GIL: the store takes it while
        # this thread does the rest (the code's content no longer depends on anything below).
        storing = None if request.dry_run else pool.submit(_put_code, request.store, code, run is not None)
        config = dict(request.config) if request.config is not None else (jobspec.infer_config(export.script) or {})
        # W&B's converter matters only if the git source can win: skip it when git has said no already.
        early = checking.result() if checking.done() else None
        hazards = _launch_hazards(export, request.source) if early is None or early.git is not None else []
        candidates = checking.result()
        hazards = hazards if candidates.git is not None else []
        decision = choose_source(candidates, choice=request.source, launch_hazards=hazards)
        stored_code = storing.result() if storing is not None else None
    job_name, source = _name_and_source(decision, code, path, export, entity, project, request.name)
    # A summary's key order is the order metrics arrived in; sorted, the same outputs give the same version.
    summary = dict(sorted((request.summary or {}).items()))
    output_types = jobspec.type_json(summary)
    # Declared inputs go to the artifact's metadata; wandb-job.json then types no config (wandb-core's way).
    spec_inputs = jobspec.type_json({} if request.inputs else config)
    spec = jobspec.build_spec(decision.source_type, source, spec_inputs, output_types)
    job_files = _job_files(spec, export, decision)
    if decision.git is not None and decision.git.diff:
        warnings += _diff_secret_warnings(decision.git.diff, request.allow_secrets)
    metadata = _metadata(request.inputs, config, output_types)
    warnings += list(request.warnings) + list(decision.warnings)
    warnings += _forced_git_warnings(hazards) if decision.git is not None else []
    warnings += _uncommitted_warnings(decision, local)
    warnings += list(export.warnings) + list(local.warnings)
    if decision.source_type == "artifact" and not entity:
        warnings.append(NO_ENTITY_WARNING)
    facts = _Facts(project, entity, decision, job_name, spec, job_files, code, export, config, warnings, metadata)
    return _store_and_publish(request, facts, run, stored_code)


def _existing_file(path: str | Path) -> Path:
    path = Path(path).expanduser()
    if not path.is_file():
        raise NotFound(f"{path} does not exist or is not a file", hint="save the notebook and give its path")
    return path.resolve()


def _notebook_copy(source: bytes, export: ExportResult, strip_outputs: bool) -> bytes | None:
    """The original notebook travels in the code artifact, byte for byte (the bytes read, not a
    re-encoded text of them), optionally without its outputs."""
    if not export.is_notebook:
        return None
    if not strip_outputs:
        return source
    from .notebook.strip import without_outputs

    return without_outputs(source)  # the export has read `source` strictly


def _uncommitted_warnings(decision: SourceDecision, local: LocalCode) -> list[str]:
    """A git job runs a clone of the commit: local code the notebook needs must be in it."""
    if decision.git is None or not local.sources:
        return []
    from .source import uncommitted

    inside = [file for file in local.sources if file.resolve().is_relative_to(decision.git.root)]
    return [
        f"{path} is not committed, so the git job's clone lacks it (commit it, or use --source artifact)"
        for path in uncommitted(decision.git.root, inside)
    ]


def _limits(request: CreateRequest) -> Limits:
    from .local_code import MB, Limits

    if not request.max_file_mb > 0:
        raise JobError(f"--max-file-mb {request.max_file_mb} is not a size", hint="give a number of MB above 0, e.g. 5")
    within = Path(request.diff_root) if request.diff_root else None
    return Limits(tuple(request.include), tuple(request.exclude), int(request.max_file_mb * MB), within)


def _secret_warnings(
    export: ExportResult, notebook: bytes | None, local: Mapping[str, bytes], allow: bool, *, exported: bool
) -> list[str]:
    """Scan what would be uploaded (the notebook copy as it will travel, the files carried beside
    the script); block unless allowed. `exported`: the copy is the bytes the export read, whose
    outputs it has located."""
    from .secrets import blocking_error, scan, scan_files

    findings = scan(export, notebook, exported=exported) + scan_files(local)
    if findings and not allow:
        raise blocking_error(findings)
    return [f"secret allowed by --allow-secrets: {finding.describe()}" for finding in findings]


def _diff_secret_warnings(diff: str, allow: bool) -> list[str]:
    """diff.patch travels with a git job: the changes it adds are scanned like the code."""
    from .secrets import blocking_error, scan_diff

    findings = scan_diff(diff)
    if findings and not allow:
        raise blocking_error(findings)
    return [f"secret allowed by --allow-secrets: {finding.describe()}" for finding in findings]


def _code_artifact(
    project: str,
    path: Path,
    export: ExportResult,
    notebook: bytes | None,
    notebook_hashes: dict[str, str],
    local: LocalCode,
    inputs: JobInputs | None,
) -> _CodeArtifact:
    """The code artifact's files: the script, the notebook copy (`notebook_hashes` holds its
    sha256, if there is one) and the local modules and files the script needs. All count in the
    digest, so a change to a local module makes a new code artifact and a new job version.
    Declared config files travel at their relative paths as wandb snapshotted them (over a copy
    the script's reads brought along)."""
    script_name = f"{path.stem}.py"
    files = {**local.files, script_name: export.script.encode()}
    for config_file in inputs.files if inputs else ():
        if config_file.path in (script_name, path.name):
            raise JobError(f"The config file {config_file.path} has the name of the job's code", hint="rename it")
        files[config_file.path] = config_file.content
    hashes = {**file_hashes(files), **notebook_hashes}
    identity = dict(hashes)
    if notebook is not None:
        files[path.name] = notebook
        identity[path.name] = _code_only_hash(notebook, notebook_hashes[path.name])
    name = naming.code_artifact_name(project, path.name)
    return _CodeArtifact(
        name, digest_of_hashes(hashes), files, hashes, script_name, local.included, digest_of_hashes(identity)
    )


def _code_only_hash(notebook: bytes, sha256: str) -> str:
    """The sha256 of the notebook copy without outputs and execution counts: what decides the
    job's version, so re-running a cell (new outputs, same code) finds the version there is.
    Remembered by the copy's own sha256 (`sha256`, hashed already): a warm kernel's repeated
    `%wandb_job` on an unchanged notebook does not strip it again."""
    import hashlib

    from .notebook.strip import without_outputs

    found = _CODE_ONLY_HASHES.pop(sha256, None) or hashlib.sha256(without_outputs(notebook)).hexdigest()
    if len(_CODE_ONLY_HASHES) >= _CODE_ONLY_HASHES_MAX:  # drop the least recently used
        _CODE_ONLY_HASHES.pop(next(iter(_CODE_ONLY_HASHES), sha256), None)
    _CODE_ONLY_HASHES[sha256] = found  # re-inserted: now the most recently used
    return found


def _name_and_source(
    decision: SourceDecision,
    code: _CodeArtifact,
    path: Path,
    export: ExportResult,
    entity: str | None,
    project: str,
    user_name: str | None,
) -> tuple[naming.JobName, dict[str, Any]]:
    """Name and `source` dict per source type, keys in the SDK's order."""
    if decision.git is not None:
        git = decision.git
        source = {
            "git": {"remote": git.remote, "commit": git.commit},
            "entrypoint": jobspec.entrypoint(git.entrypoint),
            "notebook": export.is_notebook,
        }
        return naming.git_job_name(git.remote, git.entrypoint, user_name), source
    if decision.image is not None:
        return naming.image_job_name(decision.image, user_name), {"image": decision.image}
    code_reference = reference(entity, project, code.name, code.alias)
    source = {"entrypoint": jobspec.entrypoint(code.script_name), "notebook": False, "artifact": code_reference}
    return naming.artifact_job_name(code.name, user_name), source


def _metadata(
    inputs: JobInputs | None, config: Mapping[str, Any], output_types: dict[str, Any]
) -> dict[str, Any] | None:
    """The job artifact's metadata when the run declared inputs (None otherwise, as W&B leaves it)."""
    if inputs is None:
        return None
    from .inputs import job_metadata

    return job_metadata(inputs, config, output_types)


def _config_file_values(inputs: JobInputs | None) -> dict[str, Any]:
    """The declared config files' input values, by path: what the widget and panel show as defaults."""
    from .inputs import file_values

    return _jsonable(file_values(inputs)) if inputs else {}


def _job_files(spec: Mapping[str, Any], export: ExportResult, decision: SourceDecision) -> dict[str, bytes]:
    files = {
        jobspec.JOB_FILE: jobspec.spec_bytes(spec),
        jobspec.REQUIREMENTS_FILE: jobspec.frozen_requirements(export.requirements).encode(),
    }
    if decision.git is not None and decision.git.diff:
        files[jobspec.DIFF_FILE] = decision.git.diff.encode()
    return files


def _launch_hazards(export: ExportResult, choice: SourceChoice) -> list[str]:
    """What W&B Launch's converter breaks on in a notebook that may become a git job."""
    if not export.is_notebook or choice not in ("auto", "git"):
        return []
    from .export import launch_converter_hazards

    return launch_converter_hazards(export)


def _forced_git_warnings(hazards: list[str]) -> list[str]:
    """A forced git job runs the committed notebook through W&B Launch's converter: say what breaks."""
    return [f"{hazard} — W&B Launch's converter breaks on it; consider --source artifact" for hazard in hazards]


@dataclass(frozen=True)
class _Facts:
    """Everything `create_job` found out, from which the one record is built."""

    project: str
    entity: str | None
    decision: SourceDecision
    job_name: naming.JobName
    spec: dict[str, Any]
    job_files: dict[str, bytes]
    code: _CodeArtifact
    export: ExportResult
    config: Mapping[str, Any]
    warnings: list[str]
    metadata: dict[str, Any] | None  # the declared job inputs in wandb-core's shape (inputs.py), if any

    @property
    def stored_files(self) -> dict[str, bytes]:
        """The job's files as the store keeps them: with the artifact's metadata beside them, so
        declaring other inputs makes a new version."""
        if self.metadata is None:
            return self.job_files
        from .inputs import METADATA_FILE, metadata_bytes

        return {**self.job_files, METADATA_FILE: metadata_bytes(self.metadata)}


def _record(
    request: CreateRequest, facts: _Facts, *, version: str, aliases: list[str], code_path: str | None, **stored: Any
) -> JobRecord:
    """The one place a job record is built; the store later fills in where and when it keeps
    it (`JobRecord.stored_as`), a dry run gets `stored` here (`path`, `would_create`)."""
    decision, spec, code = facts.decision, facts.spec, facts.code
    digest = content_digest(facts.stored_files)
    content_alias = f"sha-{digest[:16]}"
    # `wandb launch --job` takes only `<entity>/<project>/<name>:<alias>`: with no entity known
    # (see entity.py) the command shows where the user's goes. What the user typed (entity,
    # project) is shell-quoted: the commands are there to be copied into a shell.
    in_project = f"{facts.project}/{facts.job_name.name}:{content_alias}"
    job = shlex.quote(f"{facts.entity}/{in_project}") if facts.entity else f"<entity>/{shlex.quote(in_project)}"
    record = JobRecord(
        name=facts.job_name.name,
        version=version,
        aliases=aliases,
        digest=digest,
        created_at=utc_now(),
        path=stored.get("path"),
        would_create=stored.get("would_create"),
        source_type=decision.source_type,
        decision=list(decision.checks),
        naming=facts.job_name.describe(),
        spec=spec,
        files=sorted(facts.job_files),
        code_artifact=CodeArtifact(
            name=code.name,
            digest=code.digest,
            alias=code.alias,
            files=sorted(code.files),
            entrypoint=code.script_name,
            included=[IncludedFile(path=i.path, size=i.size, reason=i.reason) for i in code.included],
            path=code_path,
        ),
        git=_git_source(decision),
        image=decision.image,
        entrypoint=spec["source"].get("entrypoint"),
        runtime=spec["runtime"],
        input_types=spec["input_types"],
        output_types=spec["output_types"],
        config=_jsonable(facts.config),
        requirements=list(facts.export.requirements),
        warnings=list(dict.fromkeys(facts.warnings)),
        rewrites=[Rewrite(r.cell, r.line, r.kind, r.original, r.replacement) for r in facts.export.rewrites],
        project=facts.project,
        entity=facts.entity,
        notebook=str(request.path),
        dry_run=request.dry_run,
        metadata=facts.metadata,
        config_files=_config_file_values(request.inputs),
        # An image's tag, which wandb-core's job builder adds too, and the content alias that
        # commands name the version by (W&B and the store both carry it).
        artifact_aliases=[*facts.job_name.aliases, content_alias],
        launch_command=f"wandb launch --job {job} --queue <queue>",
        run_command=f"jupyter jobs run {shlex.quote(facts.job_name.name + ':' + content_alias)}",
    )
    # Every key a launch may override, typed, with its default and rule: the panel's Run form.
    return msgspec.structs.replace(record, inputs=[row.to_json() for row in input_rows(record)])


def _git_source(decision: SourceDecision) -> GitSource | None:
    git = decision.git
    if git is None:
        return None
    return GitSource(remote=git.remote, commit=git.commit, entrypoint=git.entrypoint, root=str(git.root))


def _jsonable(config: Mapping[str, Any]) -> dict[str, Any]:
    """Config values as JSON can hold them (the run's config may hold arbitrary objects)."""
    import json

    jsonable: dict[str, Any] = json.loads(json.dumps(dict(config), default=repr))
    return jsonable


def _put_code(location: str | Path | None, code: _CodeArtifact, for_run: bool) -> _StoredCode:
    """Put the code artifact in the store; for a run, with wandb's digests of code new to it.

    New code means a new version to log, whose files wandb would otherwise read back and hash
    on the notebook's thread; this runs on a worker, beside the rest of `create_job`.
    """
    from .store import JobStore

    store = JobStore.open(location)
    new = not store.has_code_artifact(code.digest)
    _, folder = store.put_code_artifact(code.files, code.hashes)
    if not (for_run and new):
        return _StoredCode(store, folder, {})
    return _StoredCode(store, folder, upload_digests(code.files))


@dataclass(frozen=True)
class _StoredCode:
    store: JobStore
    folder: Path
    upload_digests: dict[str, str]  # file name -> wandb's digest, for the files hashed already


def _store_and_publish(request: CreateRequest, facts: _Facts, run: Any, stored_code: _StoredCode | None) -> JobResult:
    from .store import VERSION_PATTERN, JobStore

    name, job_files, code_files = facts.job_name.name, facts.job_files, facts.code.files
    # An image tag such as "v1" would shadow the store's own version labels: W&B gets it, the store does not.
    aliases = [alias for alias in facts.job_name.aliases if not VERSION_PATTERN.fullmatch(alias)]
    aliases.append(f"sha-{content_digest(facts.stored_files)[:16]}")
    if stored_code is None:  # a dry run: the store is only read (a missing one reads as empty)
        version, would_create = JobStore.open_for_reading(request.store).preview(name, facts.stored_files)
        record = _record(
            request, facts, version=version, aliases=["latest", *aliases], code_path=None, would_create=would_create
        )
        return JobResult(record, False, None, code_files, job_files)
    # The store numbers the version and sets its aliases, folder and time.
    record = _record(request, facts, version="", aliases=[], code_path=str(stored_code.folder))
    stored, created = stored_code.store.add_version(name, facts.stored_files, record, aliases)
    result = JobResult(stored.record, created, stored, code_files, job_files)
    if run is None:
        return result
    from .publish import publish_to_run

    return replace(result, published=tuple(publish_to_run(run, result, stored_code.upload_digests)))
