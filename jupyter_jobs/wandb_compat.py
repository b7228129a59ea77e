"""Everything jupyter-jobs takes from wandb's private API, and how it differs between releases.

jupyter-jobs makes the artifacts the SDK itself makes for `run.log_code()` and its job builder,
which wandb's public API refuses (`wandb.Artifact(type="job")` is reserved). So it needs a few
wandb internals; this is the one module that touches them, so that a new wandb release is
checked here and nowhere else. The public API (`wandb.init`, `wandb.run`, `run.log_artifact`,
`run.settings`) is used where it is needed.

What differs inside the supported range (see `SUPPORTED` and README "Supported versions"):

- `InternalArtifact` (`wandb.sdk.artifacts._internal_artifact`) exists in every supported
  release (wandb 0.19.11 lacks it). It also sanitises names, which the job names we make
  (already `make_artifact_name_safe`) never trigger.
- Digest algorithms arrived in wandb 0.29 (`Artifact.digest_algorithm`, xxh128 as an option).
  Before, every manifest was MD5; internal artifacts stay MD5 in every release, so a digest we
  computed ourselves (base64 MD5) is handed over only when the artifact says MD5.
- `run.settings.disable_job_creation` is True by default in every supported release (False in
  wandb 0.19.11), so wandb-core's own job builder runs only when a user turns it on;
  `declare_job_use` makes it stand down either way.
- The run's channel to wandb-core, through which the use-artifact record goes, is
  `run._backend.interface` in wandb 0.22.0 and `run._interface` from 0.22.1 on. A run started
  with `mode="disabled"` has neither, and nothing to record.
- Job inputs (`wandb.sdk.launch.inputs`: `internal._publish_job_input`, `ConfigTmpDir`,
  `files._read_config_file` / `_update_dict` / `_write_config_file`) keep their shape in every
  supported release; `watch_job_inputs` notes declarations, `apply_file_override` writes a
  config-file override as Launch does.
- wandb 0.22.0 defines pydantic models that pydantic 2.12 and later warn about
  (`UnsupportedFieldAttributeWarning`, twice) as wandb is imported; wandb 0.22.1 fixed them.
  They are about wandb's code and nothing a user can act on, so where jupyter-jobs is the one
  importing wandb they are left out (`quiet_wandb_import`): the command line's one-line errors
  and the output of a cell whose `%wandb_job` imported wandb first. A notebook's own
  `import wandb` shows them as wandb prints them.
- Launch resolves a code reference with an empty entity (`wandb-artifact:///project/...`) in
  the launching agent's entity from 0.22.1 on; 0.22.0's Launch looks it up in the entity "".
  That is the agent's wandb, not this package's: README says to name an entity for such agents.
- `TypeRegistry` (`wandb.sdk.data_types._dtypes`), `Artifact._add_local_file(..., digest=)`
  and the `UseArtifactRecord` protobuf have the same shape in every supported release;
  `wandb.proto.wandb_internal_pb2` picks the generated code that matches the installed
  protobuf (wandb pins its own protobuf range per release).

"Every supported release" was checked on 0.22.0-0.22.3 and the last release of each minor up
to 0.31.0; CI runs the W&B-facing tests on the oldest and the newest (noxfile.py).

wandb is imported inside the functions: `jupyter jobs list` must not pay for importing it.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import re
import sys
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal

from .errors import JobError

if TYPE_CHECKING:
    from wandb import Artifact, Run

    from .inputs import JobInputs

# The oldest supported release and the newest tested one: noxfile.py runs the W&B-facing tests on each.
TESTED_RELEASES = ("0.22.0", "0.31.0")


def _major_minor(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version)[:2])


OLDEST, NEWEST_TESTED = (_major_minor(release) for release in TESTED_RELEASES)
SUPPORTED = f"wandb >={OLDEST[0]}.{OLDEST[1]}"
TESTED = f"wandb {OLDEST[0]}.{OLDEST[1]} to {NEWEST_TESTED[0]}.{NEWEST_TESTED[1]}"


class UntestedWandbWarning(UserWarning):
    """The installed wandb is newer than any release jupyter-jobs was tested with."""


def check_version(version: str) -> None:
    """Refuse a wandb older than the supported range; warn (once) about one newer than tested.

    pip keeps older releases out (`wandb>=0.22` in the package's requirements); this catches an
    environment that was forced. A newer release is allowed, since most releases keep the few
    internals we use: the warning says what was tested so a failure can be traced to it.
    """
    major_minor = _major_minor(version)
    if major_minor < OLDEST:
        raise JobError(
            f"jupyter-jobs needs {SUPPORTED}, found wandb {version}",
            hint=f'pip install "wandb>={OLDEST[0]}.{OLDEST[1]}"',
        )
    if major_minor > NEWEST_TESTED and version not in _WARNED:
        _WARNED.add(version)
        warnings.warn(
            f"jupyter-jobs is tested with {TESTED}; wandb {version} is newer. If creating or logging "
            f'a job fails, pip install "wandb<{NEWEST_TESTED[0]}.{NEWEST_TESTED[1] + 1}"',
            UntestedWandbWarning,
            stacklevel=2,
        )


_WARNED: set[str] = set()


# pydantic's warnings about wandb 0.22.0's models are raised from this module of pydantic's.
PYDANTIC_SCHEMA_MODULE = r"pydantic\._internal\._generate_schema"


def ignore_wandb_model_warnings() -> None:
    """Ignore pydantic's warnings about wandb 0.22.0's models (see the module's docstring)."""
    warnings.filterwarnings("ignore", category=UserWarning, module=PYDANTIC_SCHEMA_MODULE)


def quiet_wandb_import() -> ModuleType:
    """`import wandb` without pydantic's warnings about wandb 0.22.0's models, leaving the
    process's warning filters as they were (a kernel's are the user's)."""
    with warnings.catch_warnings():
        ignore_wandb_model_warnings()
        import wandb
    return wandb


def type_json(value: Mapping[str, Any] | None) -> dict[str, Any]:
    """W&B's type-registry JSON for a config or summary, as the SDK's job builder makes it."""
    from wandb.sdk.data_types._dtypes import TypeRegistry

    return TypeRegistry.type_of(dict(value) if value is not None else None).to_json()


def internal_artifact(name: str, kind: str, metadata: Mapping[str, Any] | None = None) -> Artifact:
    """An artifact of a type the public `wandb.Artifact` refuses (`job`, `code`), as the SDK makes it."""
    try:
        from wandb.sdk.artifacts._internal_artifact import InternalArtifact
    except ImportError as error:
        raise _missing("wandb.sdk.artifacts._internal_artifact") from error
    return InternalArtifact(name, kind, metadata=dict(metadata) if metadata else None)


def add_file(artifact: Artifact, name: str, path: str, digest: str | None, *, copy: bool = False) -> None:
    """Add a file; `digest` (base64 MD5) spares wandb hashing it.

    `copy`: wandb stages a copy now ("mutable", as `run.log_code()` does), for a run that
    uploads later (offline, until `wandb sync`); otherwise it reads the file in place.
    The digest is used only for an MD5 manifest (every internal artifact, in every supported
    release); `_add_local_file` is what `add_file` calls after hashing the file itself.
    """
    policy: Literal["mutable", "immutable"] = "mutable" if copy else "immutable"
    if digest is not None and getattr(artifact, "digest_algorithm", "MANIFEST_MD5") == "MANIFEST_MD5":
        artifact._add_local_file(name, path, digest=digest, policy=policy)
    else:
        artifact.add_file(path, name=name, policy=policy)


def declare_job_use(run: Run, job_name: str) -> None:
    """Record in the run that it uses the job `job_name`: wandb-core's job builder then stands down.

    That is how runs launched from a job avoid re-creating it; the record only informs the
    builder. A disabled run has no wandb-core, hence nothing to tell.
    """
    from wandb.proto import wandb_internal_pb2 as pb

    if run.settings.mode == "disabled":
        return
    # The run's channel to wandb-core: `run._interface` from wandb 0.22.1, `run._backend.interface` in 0.22.0.
    interface: Any = run._interface if hasattr(run, "_interface") else run._backend.interface
    interface._publish_use_artifact(pb.UseArtifactRecord(type="job", name=job_name))


def current_settings() -> Any:
    """wandb's settings as they stand now (`wandb.Settings`): its settings files, then the environment.

    Read afresh (1 ms), in `wandb.setup()`'s order: its process-wide copy keeps the environment
    of the moment it was first read, and `wandb.setup()` itself would start wandb-core. wandb
    0.31 reads both settings files with `update_from_system_settings`, older releases one by one.
    """
    from wandb import env
    from wandb.sdk.wandb_settings import Settings

    settings = Settings(silent=True)
    config_dir = os.environ.get(env.CONFIG_DIR)
    system = os.path.join(config_dir, "settings") if config_dir else os.path.join("~", ".config", "wandb", "settings")
    settings.settings_system = os.path.expanduser(system)
    if hasattr(settings, "update_from_system_settings"):
        settings.update_from_system_settings()
    else:
        settings.update_from_system_config_file()
        settings.update_from_workspace_config_file()
    settings.update_from_env_vars(dict(os.environ))
    return settings


def logged_in(settings: Any) -> bool:
    """Whether wandb holds credentials for the settings' server (environment, .netrc, settings),
    found without prompting."""
    try:
        from wandb.sdk.lib.wbauth import authenticate
    except ImportError:  # releases before wandb's auth module
        from wandb.sdk.lib import apikey

        return bool(apikey.api_key(settings=settings))
    found = authenticate.authenticate_session(
        host=settings.base_url, source="jupyter jobs", prompt=False, update_session=False
    )
    return found is not None


INPUTS_MODULE = "wandb.sdk.launch.inputs.internal"
CONFIGS_DIR = "_wandb_configs"  # wandb's LAUNCH_MANAGED_CONFIGS_DIR, under the run's files
_DECLARED: dict[str, JobInputs] = {}  # run id -> what it declared (see watch_job_inputs)


def watch_job_inputs() -> None:
    """Note every job input declared from now on in this process (idempotent).

    `manage_wandb_config` / `manage_config_file` send a job-input request to wandb-core and
    keep no copy (it is not in the run's transaction log either), so each declaration is
    noted as wandb's `_publish_job_input` passes it on; declarations made before `wandb.init`
    pass there too when the run starts. A config file's content is wandb's snapshot of it (the
    `_wandb_configs/` copy wandb-core reads). wandb's module is wrapped when it is imported, not
    imported here: loading the extension must not cost the second importing it takes.
    """
    module = sys.modules.get(INPUTS_MODULE)
    if module is not None:
        _wrap(module)
    elif not any(isinstance(finder, _WrapOnImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _WrapOnImport())


def declared_inputs(run: Any) -> JobInputs | None:
    """What `run` declared (None: nothing, so the job keeps W&B's default inputs)."""
    return _DECLARED.get(run.id)


def unseen_config_files(run: Any, inputs: JobInputs | None) -> list[str]:
    """Config files wandb snapshotted for the run that were declared before the watch began."""
    folder = Path(run.settings.files_dir) / CONFIGS_DIR
    seen = {config_file.path for config_file in (inputs.files if inputs else ())}
    found = sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file())
    return [path for path in found if path not in seen]


class _WrapOnImport:
    """Wraps wandb's job-input module as soon as it is imported, then steps aside. (A finder
    on `sys.meta_path` needs only `find_spec`; importlib.abc's base class would cost every
    command, `jupyter jobs list` included, ~10 ms of imports.)"""

    def find_spec(self, name: str, path: Sequence[str] | None, target: ModuleType | None = None) -> Any:
        if name != INPUTS_MODULE:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        execute = spec.loader.exec_module

        def exec_module(module: ModuleType) -> None:
            execute(module)
            _wrap(module)

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def _wrap(module: ModuleType) -> None:
    publish = module._publish_job_input
    if getattr(publish, "_jupyter_jobs", False):
        return

    @functools.wraps(publish)
    def publish_and_note(arguments: Any, run: Any) -> None:
        publish(arguments, run)
        _note(module, arguments, run)

    publish_and_note._jupyter_jobs = True
    module._publish_job_input = publish_and_note


def _note(module: ModuleType, arguments: Any, run: Any) -> None:
    from .inputs import ConfigFile, JobInputs, Selection, check_relative_path, split_key

    selection = Selection(
        tuple(split_key(path) for path in arguments.include or ()),
        tuple(split_key(path) for path in arguments.exclude or ()),
        arguments.schema or None,
    )
    inputs = _DECLARED.get(run.id, JobInputs())
    if arguments.run_config:
        _DECLARED[run.id] = inputs.add_config(selection)
        return
    snapshot = Path(module.ConfigTmpDir().configs_dir) / arguments.file_path
    path = check_relative_path(arguments.file_path)
    _DECLARED[run.id] = inputs.add_file(ConfigFile(path, snapshot.read_bytes(), selection))


def apply_file_override(path: Path, overrides: Any) -> None:
    """Merge `overrides` into a config file as Launch's `manage_config_file` does, with its own code."""
    from wandb.sdk.launch.inputs.files import _read_config_file, _update_dict, _write_config_file

    config = _read_config_file(str(path))
    _update_dict(config, overrides)
    _write_config_file(str(path), config)


def _missing(module: str) -> JobError:
    import wandb

    return JobError(
        f"wandb {wandb.__version__} lacks {module}, which jupyter-jobs needs (tested with {TESTED})",
        hint=f'pip install "wandb>={OLDEST[0]}.{OLDEST[1]},<{NEWEST_TESTED[0]}.{NEWEST_TESTED[1] + 1}"',
    )
