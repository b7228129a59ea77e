"""The typed records every surface shares: the job record, list rows, run outcomes, comparisons
and the request to create a job.

They are msgspec Structs so that one definition gives the Python type, the JSON the store
keeps, the JSON the REST API and the kernel send, and (through `tools/ts_types.py`) the
panel's TypeScript types; a test fails when `js/src/types.ts` drifts from this module. A
record is built in one place (`core.create_job`), timestamps come from one clock (`utc_now`),
and requests from every surface go through one builder (`build_request`).

This module sits at the bottom of the package: it imports only the standard library, msgspec
and `errors`, so that every other module may import it.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

import msgspec

from .errors import JobError

if TYPE_CHECKING:
    from .inputs import JobInputs

SourceChoice = Literal["auto", "git", "artifact", "image"]
SourceType = Literal["repo", "artifact", "image"]
CheckName = Literal["git", "artifact", "image"]
CheckOutcome = Literal["won", "passed", "failed", "skipped"]
NameRole = Literal["prefix", "remote", "separator", "path", "artifact", "image", "user"]

#: The `--source` choices of every surface, W&B's order after "auto".
SOURCE_CHOICES: tuple[SourceChoice, ...] = ("auto", "git", "artifact", "image")
DEFAULT_PROJECT = "uncategorized"
#: MIME type of a job record in a display bundle: the panel reads it from its kernel call, and the
#: lab extension renders it in saved notebooks, where no widget model survives a reopen.
RESULT_MIME = "application/vnd.jupyter-jobs.result+json"

#: W&B type-registry JSON, e.g. `{"wb_type": "number"}` (the panel's `IWBType`).
WBType = Annotated[dict[str, Any], msgspec.Meta(title="WBType")]


def utc_now() -> str:
    """The one clock of the records: ISO 8601 UTC with milliseconds and a Z,
    e.g. 2026-11-24T10:48:14.123Z (creation, storage and local runs alike)."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Record(msgspec.Struct, frozen=True):
    """Base of the records: JSON out as the wire and the store carry it."""

    def to_json(self) -> dict[str, Any]:
        """The plain-JSON form (what the store, REST, the kernel's MIME output and `--json` carry)."""
        return msgspec.to_builtins(self)  # type: ignore[no-any-return]


# ----------------------------------------------------------------------------- the job record


class SourceCheck(Record, frozen=True):
    """One of W&B's three source checks and what came of it."""

    check: CheckName
    outcome: CheckOutcome
    reason: str


class NamePart(Record, frozen=True):
    """A piece of the raw name before sanitising, with what it stands for."""

    text: str
    role: NameRole


class Naming(Record, frozen=True):
    """How the job's name was composed, for the widget and the panel to explain it."""

    rule: str
    parts: list[NamePart]
    sanitised: bool
    truncated: bool


class IncludedFile(Record, frozen=True):
    """A local module or file the code artifact carries beside the script, and why."""

    path: str
    size: int
    reason: str


class CodeArtifact(Record, frozen=True):
    """The code artifact (exported script + notebook copy); `path` is its store folder."""

    name: str
    digest: str
    alias: str  # "sha-<digest prefix>": the version the job's `source.artifact` names
    files: list[str]
    entrypoint: str  # the script's file name inside the artifact
    included: list[IncludedFile] = msgspec.field(default_factory=list)  # local modules and files carried
    path: str | None = None  # None for a dry run, which stores nothing


class GitSource(Record, frozen=True):
    """Where a git-sourced job's code is: remote (credentials stripped) and commit."""

    remote: str
    commit: str
    entrypoint: str  # the notebook's path relative to the repository root
    root: str


class Rewrite(Record, frozen=True):
    """One notebook line the exported script holds in another form."""

    cell: int
    line: int
    kind: str
    original: str
    replacement: str


class JobRecord(Record, frozen=True, kw_only=True):
    """What was created and why: the one description of a job version every surface shows.

    `core.create_job` builds it; the store keeps it and fills in where and when it stored it
    (`stored_as`). A dry run's record says which version the content would get and whether
    that version is new (`would_create`).
    """

    name: str
    version: str  # "v3"
    aliases: list[str]
    digest: str  # sha256 over the job artifact's files
    created_at: str  # `utc_now()`
    path: str | None  # the version's store folder; None for a dry run
    source_type: SourceType
    decision: list[SourceCheck]
    naming: Naming
    spec: dict[str, Any]  # the wandb-job.json content
    files: list[str]  # the job artifact's files
    code_artifact: CodeArtifact
    git: GitSource | None
    image: str | None
    entrypoint: list[str] | None
    runtime: str
    input_types: WBType
    output_types: WBType
    config: dict[str, Any]
    requirements: list[str]
    warnings: list[str]
    rewrites: list[Rewrite]
    project: str
    entity: str | None
    notebook: str
    dry_run: bool
    would_create: bool | None = None  # dry runs only: whether the content would be a new version
    metadata: dict[str, Any] | None = None  # the job artifact's metadata: declared inputs (inputs.py), if any
    config_files: dict[str, Any] | None = None  # declared config files' input values, by path
    # Every key a launch may override (inputs.InputRow.to_json): the panel's Run form is made from it.
    inputs: list[dict[str, Any]] | None = None
    artifact_aliases: list[str]  # what the job artifact gets on W&B (content alias, image tag)
    launch_command: str
    run_command: str

    @property
    def ref(self) -> str:
        """`name:vN`, as W&B and every command write it."""
        return f"{self.name}:{self.version}"

    @property
    def content_alias(self) -> str:
        """The version's content alias (`sha-...`), which names it the same in the store and in W&B."""
        return next(alias for alias in self.artifact_aliases if alias.startswith("sha-"))

    def stored_as(
        self,
        *,
        name: str,
        version: int,
        aliases: list[str],
        digest: str,
        path: str,
        created_at: str,
        code_path: str | None = None,
    ) -> JobRecord:
        """The record as the store keeps version `version` of job `name` (with its code in
        `code_path`, when given)."""
        code = self.code_artifact if code_path is None else msgspec.structs.replace(self.code_artifact, path=code_path)
        return msgspec.structs.replace(
            self,
            name=name,
            code_artifact=code,
            version=f"v{version}",
            aliases=aliases,
            digest=digest,
            path=path,
            created_at=created_at,
            would_create=None,
        )

    def source_details(self) -> str:
        """One line saying where the code comes from (text views and `compare`)."""
        if self.source_type == "repo" and self.git is not None:
            return f"git {self.git.remote} @ {self.git.commit[:12]}, entrypoint {self.git.entrypoint}"
        if self.source_type == "image":
            return f"image {self.image}"
        code = self.code_artifact
        return f"code artifact {code.name} (sha256 {code.digest[:12]}): {', '.join(code.files)}"


def decode_record(data: bytes | str) -> JobRecord:
    """A record from its JSON (the store's index row or record.json)."""
    return msgspec.json.decode(data, type=JobRecord)


def encode(value: Any) -> bytes:
    """Compact JSON of a record (or of anything JSON holds), as the store's index keeps it."""
    return msgspec.json.encode(value)


# ----------------------------------------------------------------------------- W&B types


def type_rows(types: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """(dotted key, type label) rows of a W&B typedDict JSON; nested dicts flattened as `a.b`,
    an empty nested dict kept as its own `dict` row. `js/src/wbtypes.ts` does the same, and
    both are tested on `tests/wb_type_cases.json`."""
    if not types or types.get("wb_type") != "typedDict":
        return []
    rows: list[tuple[str, str]] = []
    for key, sub in (types.get("params") or {}).get("type_map", {}).items():
        nested = [(f"{key}.{inner}", kind) for inner, kind in type_rows(sub)]
        rows += nested or [(key, type_label(sub))]
    return rows


def type_label(wb_type: Mapping[str, Any] | None) -> str:
    """A short, Python-ish label for a W&B type: `number`, `list[string]`, `None`, `dict`."""
    if not wb_type:
        return "unknown"
    params = wb_type.get("params") or {}
    kind = wb_type.get("wb_type")
    if kind == "typedDict":
        return "dict"
    if kind == "list":
        return f"list[{type_label(params.get('element_type'))}]"
    if kind == "union":
        return " | ".join(type_label(t) for t in params.get("allowed_types", []))
    if kind == "none":
        return "None"
    return str(kind) if kind else "unknown"


# ----------------------------------------------------------------------------- list, runs, compare


class JobSummary(Record, frozen=True):
    """One row per job for list views: its latest version and how many it has."""

    name: str
    version: str  # the latest version, "v3"
    versions: int
    aliases: list[str]
    source_type: str
    created_at: str


class JobList(Record, frozen=True):
    """One page of the store's jobs, newest first, and how many there are."""

    jobs: list[JobSummary]
    total: int


RunStatus = Literal["queued", "running", "finished", "failed", "cancelled"]


class RunOutcome(Record, frozen=True):
    """One local run of a job version (`jupyter jobs run`, or `POST runs` on the server), as the
    store keeps it; a server run is rewritten as it goes from queued to running to its end."""

    job: str  # "name:vN"
    exit_code: int | None  # None until the process has ended
    started_at: str  # `utc_now()`
    seconds: float
    overrides: dict[str, Any]
    workdir: str
    log: str
    run_dir: str | None
    not_recorded: str | None = None  # why the store could not keep the run (a read-only store)
    file_overrides: dict[str, Any] = msgspec.field(default_factory=dict)  # config file path -> nested overrides
    id: str = ""  # the run's id in the store (`GET jobs/<name>/runs/<id>`)
    status: RunStatus = "finished"
    error: str | None = None  # why a failed or cancelled run ended, in one line
    log_tail: list[str] = msgspec.field(default_factory=list)  # the log's last lines (failed runs; live on GET)
    code: str = ""  # what ran: the exported script, and what Launch would run instead

    def summary(self) -> str:
        """How the run ended, where its output is, in a few lines."""
        status = self.status if self.exit_code in (0, None) else f"{self.status} with exit code {self.exit_code}"
        lines = [f"{self.job} {status} in {self.seconds:.1f} s.", f"Output: {self.log}"]
        if self.error:
            lines.append(f"Error: {self.error}")
        if self.code:
            lines.append(f"Ran: {self.code}")
        if self.run_dir:
            lines.append(f"Offline W&B run: {self.run_dir} (upload it with `wandb sync {shlex.quote(self.run_dir)}`)")
        if self.not_recorded:
            lines.append(f"Not recorded in the store: {self.not_recorded}")
        return "\n".join(lines)


class JobRuns(Record, frozen=True):
    """A job's local runs, newest first."""

    job: str
    runs: list[RunOutcome]


class Change(Record, frozen=True):
    """One part that differs, as a unified diff from the older version to the newer."""

    part: str
    diff: str


class Comparison(Record, frozen=True):
    """What changed between two versions of a job."""

    before: str  # "name:vN"
    after: str
    changes: list[Change]  # in `compare.PARTS` order; empty when the versions agree


class StoredFile(Record, frozen=True):
    """One file of a stored version as the panel shows it: its text, or none for a binary file
    (the panel then says "binary, N bytes")."""

    job: str  # "name:vN"
    path: str  # relative to its folder, as the record lists it
    size: int  # bytes
    text: str | None


# ----------------------------------------------------------------------------- requests


class CreateOptions(Record, frozen=True, forbid_unknown_fields=True):
    """What a user may ask for when creating a job, on every surface: the REST `POST jobs`
    body, the panel's kernel call, `jupyter jobs create` and `%wandb_job` flags."""

    path: str
    project: str | None = None  # default: the run's, else "uncategorized"
    entity: str | None = None  # default: the run's, else $WANDB_ENTITY
    source: SourceChoice = "auto"
    name: str | None = None  # a user-given job name wins over W&B's naming rule
    no_git: bool = False  # same effect as wandb.Settings(disable_git=True)
    image: str | None = None  # default: $WANDB_DOCKER
    dry_run: bool = False  # compute everything, write nothing
    allow_secrets: bool = False
    strip_outputs: bool = False  # store the notebook copy without outputs
    include: list[str] = msgspec.field(default_factory=list)  # gitignore-style patterns of more files to carry
    exclude: list[str] = msgspec.field(default_factory=list)  # patterns of files never to carry
    max_file_mb: float = 1.0  # the largest file read by the code that the job carries on its own


class CreateRequest(CreateOptions, frozen=True):
    """The options plus what only the caller knows: the run's config and summary, the store,
    and warnings the core cannot see (cells run but not saved)."""

    config: dict[str, Any] | None = None  # the run's config (None: inferred from wandb.init(config=...))
    summary: dict[str, Any] | None = None  # the run's summary
    store: str | None = None  # store location override
    diff_root: str | None = None  # only changes and carried files inside it travel (REST: the server's root)
    inputs: JobInputs | None = None  # declared job inputs (manage_wandb_config / manage_config_file)
    warnings: list[str] = msgspec.field(default_factory=list)


CREATE_OPTION_NAMES: tuple[str, ...] = CreateOptions.__struct_fields__


class RunRequest(Record, frozen=True, forbid_unknown_fields=True):
    """What `POST jobs/<name>/runs` takes: the version or alias to run, `KEY=VALUE` overrides
    and `PATH:KEY=VALUE` overrides of declared config files."""

    ref: str | None = None
    config: list[str] = msgspec.field(default_factory=list)
    files: list[str] = msgspec.field(default_factory=list)


class PublishRequest(Record, frozen=True, forbid_unknown_fields=True):
    """What `POST jobs/<name>/publish` takes: the version, and where in W&B it goes."""

    ref: str | None = None
    entity: str | None = None
    project: str | None = None


class LaunchRequest(PublishRequest, frozen=True, kw_only=True):
    """What `POST jobs/<name>/launch` takes: also the W&B Launch queue and config overrides."""

    queue: str
    config: list[str] = msgspec.field(default_factory=list)


def build_request(options: Mapping[str, Any], **context: Any) -> CreateRequest:
    """The one way a surface turns the user's options into a `CreateRequest`.

    `options` holds the user's `CreateOptions` fields (a JSON body, or parsed flags with None
    for "not given", which means the default); any other key, a wrong type or an unknown
    source is a one-line `JobError`. `context` adds what the surface knows (config, summary,
    store, warnings).
    """
    given = {key: value for key, value in options.items() if value is not None}
    checked = checked_as(given, CreateOptions, hint=_OPTIONS_HINT)
    extra = {key: value for key, value in context.items() if value is not None}
    return CreateRequest(**msgspec.structs.asdict(checked), **extra)


def options_in(values: Mapping[str, Any]) -> dict[str, Any]:
    """The `CreateOptions` fields among parsed flags (argparse or magic_arguments), which also
    hold flags of other commands."""
    return {key: values[key] for key in CREATE_OPTION_NAMES if key in values}


def json_object(raw: bytes | str) -> dict[str, Any]:
    """A request body (REST, or the panel's kernel call) that must be one JSON object of
    real Unicode text."""
    try:
        value = json.loads(raw or b"")
        text_ok = encodable(value)
    except (ValueError, UnicodeDecodeError):
        raise JobError("The request body is not valid JSON.") from None
    except RecursionError:
        raise JobError("The request body is nested too deeply.") from None
    if not isinstance(value, dict):
        raise JobError("The request body must be a JSON object.")
    if not text_ok:
        raise JobError("The request body holds text that is not Unicode (a lone surrogate).")
    return value


def encodable(value: object) -> bool:
    """Whether every string in a JSON value is real Unicode (JSON lets `\\ud800` through)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, dict):
        return all(encodable(key) and encodable(item) for key, item in value.items())
    if isinstance(value, list):
        return all(encodable(item) for item in value)
    return True


def checked_as(value: Mapping[str, Any], kind: type[_S], hint: str | None = None) -> _S:
    """`value` as the Struct `kind`, or a one-line `JobError` naming the field that is wrong."""
    try:
        return msgspec.convert(value, kind)
    except msgspec.ValidationError as err:
        raise JobError(_readable(err), hint=hint) from None


_S = TypeVar("_S", bound=msgspec.Struct)
_OPTIONS_HINT = f"options are {', '.join(CREATE_OPTION_NAMES)}; source is one of {', '.join(SOURCE_CHOICES)}"
_CHOICES = {"source": SOURCE_CHOICES}
_KINDS = {"str": "a string", "bool": "a boolean", "int": "an integer", "float": "a number", "array": "a list"}


def _readable(err: msgspec.ValidationError) -> str:
    r"""msgspec's `Expected \`bool\`, got \`str\` - at \`$.dry_run\``, said plainly."""
    message, _, where = str(err).partition(" - at ")
    field = where.strip("`").removeprefix("$.")
    named = re.fullmatch(r"Object (missing required|contains unknown) field `(.+)`", message)
    if named:
        return f"'{named[2]}' is required" if named[1] == "missing required" else f"Unknown field '{named[2]}'"
    if message.startswith("Invalid enum value") and field in _CHOICES:
        return f"'{field}' must be one of {', '.join(_CHOICES[field])}"
    expected = re.match(r"Expected `(\w+)", message)
    if expected and field:
        return f"'{field}' must be {_KINDS.get(expected[1], expected[1])}"
    return f"'{field}': {message}" if field else message
