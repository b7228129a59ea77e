"""W&B's naming conventions for code artifacts and jobs, reproduced exactly.

The SDK composes a job name from its source and then sanitises it with
`wandb.util.make_artifact_name_safe`; a name that differs by one character is a different job
in W&B, so the rules here are W&B's, not ours. Besides the name we keep its parts (prefix,
remote, path, ...) so the widget and the panel can show why the name came out as it did.
This module is on the command line's fast path: standard library (and msgspec) only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .errors import JobError
from .models import NamePart, Naming

MAX_NAME_LENGTH = 128
_UNSAFE_CHARS = re.compile(r"[^a-zA-Z0-9_\-.]")
_TAG = re.compile(r"[a-zA-Z0-9_\-.]+")


@dataclass(frozen=True)
class JobName:
    """A sanitised job name and how it was composed."""

    name: str
    rule: str
    parts: tuple[NamePart, ...]
    aliases: tuple[str, ...] = field(default=())

    def describe(self) -> Naming:
        """The rule and the parts, for the record: what the widget and the panel explain."""
        raw = "".join(p.text for p in self.parts)
        return Naming(
            rule=self.rule,
            parts=list(self.parts),
            sanitised=_UNSAFE_CHARS.sub("_", raw) != raw,
            truncated=len(_UNSAFE_CHARS.sub("_", raw)) > MAX_NAME_LENGTH,
        )


def make_safe(name: str) -> str:
    """`wandb.util.make_artifact_name_safe`: unsafe chars → `_`, long names keep 63..63."""
    cleaned = _UNSAFE_CHARS.sub("_", name)
    if len(cleaned) <= MAX_NAME_LENGTH:
        return cleaned
    return f"{cleaned[:63]}..{cleaned[-63:]}"


def code_artifact_name(project: str, notebook_path: str) -> str:
    """`source-<project>-<notebook path>` sanitised, as `run.log_code()` names it."""
    return make_safe(f"source-{project}-{notebook_path}")


def git_job_name(remote: str, program_path: str, user_name: str | None = None) -> JobName:
    """`job-<remote>_<path>`: the SDK joins remote and path with `_` before sanitising.

    `remote` is the one `source` found, its credentials already stripped there."""
    parts = (
        NamePart("job-", "prefix"),
        NamePart(remote, "remote"),
        NamePart("_", "separator"),
        NamePart(program_path, "path"),
    )
    return _finish("job-<git-remote-url>-<path-to-script>", parts, user_name)


def artifact_job_name(code_artifact: str, user_name: str | None = None) -> JobName:
    """`job-<code-artifact-name>` (the artifact name without any `:alias`)."""
    base = code_artifact.split(":")[0]
    parts = (NamePart("job-", "prefix"), NamePart(base, "artifact"))
    return _finish("job-<code-artifact-name>", parts, user_name)


def image_job_name(image: str, user_name: str | None = None) -> JobName:
    """`job-<image-name>`; a well-formed `:tag` is removed and becomes a version alias."""
    raw_name, aliases = image, tuple[str, ...]()
    if ":" in image:
        tag = image.split(":")[-1]
        if _TAG.fullmatch(tag):
            raw_name, aliases = image.replace(f":{tag}", ""), (tag,)
    parts = (NamePart("job-", "prefix"), NamePart(raw_name, "image"))
    return _finish("job-<image-name>", parts, user_name, aliases)


def _finish(rule: str, parts: tuple[NamePart, ...], user_name: str | None, aliases: tuple[str, ...] = ()) -> JobName:
    if user_name is not None:
        return JobName(validate_user_name(user_name), "the name you gave", (NamePart(user_name, "user"),), aliases)
    name = make_safe("".join(p.text for p in parts))
    return JobName(name, rule, parts, aliases)


def validate_user_name(name: str) -> str:
    """A user-given name wins, sanitised as W&B would, but must keep some meaning."""
    safe = make_safe(name.strip())
    if not safe.strip("_.-") or safe in {".", ".."}:
        raise JobError(
            f"The job name {name!r} has no usable characters",
            hint="use letters, digits, '_', '-' or '.'",
        )
    return safe
