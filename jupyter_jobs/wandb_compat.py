"""Everything jupyter-jobs takes from wandb's private API, and how it differs between releases.

jupyter-jobs makes the artifacts the SDK itself makes for `run.log_code()` and its job builder,
which wandb's public API refuses (`wandb.Artifact(type="job")` is reserved). So it needs a few
wandb internals; this is the one module that touches them, so that a new wandb release is
checked here and nowhere else. The public API (`wandb.init`, `wandb.run`, `run.log_artifact`,
`run.settings`) is used where it is needed.

What differs inside the supported range (see `SUPPORTED` and README "Supported versions"):

- `InternalArtifact` (`wandb.sdk.artifacts._internal_artifact`) exists in every supported
  release (wandb 0.19 and older lack it). It also sanitises names, which the job names we make
  (already `make_artifact_name_safe`) never trigger.
- Digest algorithms arrived in wandb 0.23-0.31 (`Artifact.digest_algorithm`, xxh128 as an
  option). Before, every manifest was MD5; internal artifacts stay MD5 in every release, so a
  digest we computed ourselves (base64 MD5) is handed over only when the artifact says MD5.
- `run.settings.disable_job_creation` is True by default in every supported release (it was
  False up to wandb 0.19), so wandb-core's own job builder runs only when a user turns it on;
  `declare_job_use` makes it stand down either way.
- A run started with `mode="disabled"` has no interface to wandb-core in 0.31 (`_interface`
  None) and a no-op one in older releases; either way nothing is recorded for it.
- `TypeRegistry` (`wandb.sdk.data_types._dtypes`) and the `UseArtifactRecord` protobuf have the
  same shape in every supported release; `wandb.proto.wandb_internal_pb2` picks the generated
  code that matches the installed protobuf (wandb pins its own protobuf range per release).

wandb is imported inside the functions: `jupyter jobs list` must not pay for importing it.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .errors import JobError

if TYPE_CHECKING:
    from wandb import Artifact, Run

# The oldest supported release, and the newest one CI tests (the nox matrix runs both).
OLDEST = (0, 22)
NEWEST_TESTED = (0, 31)
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
    major_minor = tuple(int(part) for part in re.findall(r"\d+", version)[:2])
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


def type_json(value: Mapping[str, Any] | None) -> dict[str, Any]:
    """W&B's type-registry JSON for a config or summary, as the SDK's job builder makes it."""
    from wandb.sdk.data_types._dtypes import TypeRegistry

    return TypeRegistry.type_of(dict(value) if value is not None else None).to_json()


def internal_artifact(name: str, kind: str) -> Artifact:
    """An artifact of a type the public `wandb.Artifact` refuses (`job`, `code`), as the SDK makes it."""
    try:
        from wandb.sdk.artifacts._internal_artifact import InternalArtifact
    except ImportError as error:
        raise _missing("wandb.sdk.artifacts._internal_artifact") from error
    return InternalArtifact(name, kind)


def add_file(artifact: Artifact, name: str, path: str, digest: str | None, *, copy: bool = False) -> None:
    """Add a file; `digest` (base64 MD5) spares wandb hashing it.

    `copy`: wandb stages a copy now ("mutable", as `run.log_code()` does), for a run that
    uploads later (offline, until `wandb sync`); otherwise it reads the file in place.
    The digest is used only for an MD5 manifest (every internal artifact, in every supported
    release); `_add_local_file` is what `add_file` calls after hashing the file itself.
    """
    policy = "mutable" if copy else "immutable"
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

    interface = getattr(run, "_interface", None)
    if interface is None or run.settings.mode == "disabled":
        return
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


def _missing(module: str) -> JobError:
    import wandb

    return JobError(
        f"wandb {wandb.__version__} lacks {module}, which jupyter-jobs needs (tested with {TESTED})",
        hint=f'pip install "wandb>={OLDEST[0]}.{OLDEST[1]},<{NEWEST_TESTED[0]}.{NEWEST_TESTED[1] + 1}"',
    )
