"""What changed between two stored job versions: the code, the source, the entrypoint, the
runtime, the inputs and outputs, and the requirements.

SPEC §3 asks the store to let the surfaces "list, show, compare and run jobs with no network".
Each part is a few plain lines of text compared with difflib's unified diff, so the command
line prints the changes as they are and the panel colours their `+` and `-` lines.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from difflib import unified_diff
from pathlib import Path
from typing import Any

from .errors import NotFound
from .inputs import input_line, input_rows
from .jobspec import REQUIREMENTS_FILE
from .models import Change, Comparison, type_rows
from .store import MANIFEST_FILE, JobStore, StoredJob

PARTS = ("source", "entrypoint", "runtime", "inputs", "outputs", "requirements", "script", "files")


def compare_jobs(store: JobStore, ref: str, before: str | None = None) -> Comparison:
    """The changes from `before` (a ref, default: the version before `ref`'s) to `ref`."""
    after = store.resolve(ref)
    older = store.resolve(before) if before is not None else _previous(store, after)
    changes = []
    for part in PARTS:
        old_lines, new_lines = _lines(older, part), _lines(after, part)
        if old_lines != new_lines:
            diff = unified_diff(old_lines, new_lines, f"{_label(older)} {part}", f"{_label(after)} {part}", lineterm="")
            changes.append(Change(part=part, diff="\n".join(diff)))
    changes += _changed_files(older, after)
    return Comparison(before=_label(older), after=_label(after), changes=changes)


def _previous(store: JobStore, stored: StoredJob) -> StoredJob:
    """The newest version older than `stored` (numbers can have gaps after `check --repair`)."""
    for candidate in store.versions(stored.name):
        if candidate.version < stored.version:
            return candidate
    raise NotFound(
        f"{_label(stored)} is the first version of its job: there is nothing before it",
        hint="name the version to compare it with",
    )


def _label(stored: StoredJob) -> str:
    return f"{stored.name}:{stored.label}"


def _lines(stored: StoredJob, part: str) -> list[str]:
    """A part of a stored version as lines of text."""
    record = stored.record
    if part == "source":
        return [f"{record.source_type}: {record.source_details()}"]
    if part == "entrypoint":
        return [" ".join(record.entrypoint or [])]
    if part == "runtime":
        return [f"Python {record.runtime}"]
    if part == "inputs":
        return [input_line(row) for row in input_rows(record)]
    if part == "outputs":
        return _type_lines(record.output_types)
    if part == "requirements":
        return _file_lines(stored.path / REQUIREMENTS_FILE)
    if part == "files":
        return [f"{path}  {size} bytes  sha256 {sha[:12]}" for path, (sha, size) in _included(stored).items()]
    code = record.code_artifact
    return _file_lines(Path(code.path) / code.entrypoint) if code.path else []


def _included(stored: StoredJob) -> dict[str, tuple[str, int]]:
    """The files carried beside the script (local modules, configs): path -> (sha256, size)."""
    code = stored.record.code_artifact
    if not code.path:
        return {}
    try:
        manifest = json.loads((Path(code.path) / MANIFEST_FILE).read_bytes())["files"]
    except (OSError, ValueError, KeyError):
        manifest = {}
    return {item.path: (manifest.get(item.path, {}).get("sha256", "?"), item.size) for item in code.included}


def _changed_files(older: StoredJob, after: StoredJob) -> list[Change]:
    """One change per carried text file whose content differs, as its unified diff (`file helper.py`)."""
    old, new = _included(older), _included(after)
    changes = []
    for path in sorted(old.keys() | new.keys()):
        if old.get(path, ("",))[0] == new.get(path, ("",))[0]:
            continue
        before, now = (
            _carried_lines(older, path if path in old else None),
            _carried_lines(after, path if path in new else None),
        )
        if before is None or now is None:  # binary: the `files` part shows that it changed
            continue
        diff = unified_diff(before, now, f"{_label(older)} {path}", f"{_label(after)} {path}", lineterm="")
        changes.append(Change(part=f"file {path}", diff="\n".join(diff)))
    return changes


def _carried_lines(stored: StoredJob, path: str | None) -> list[str] | None:
    """A carried file's lines ([] when this version does not carry it), None when it is not text."""
    if path is None:
        return []
    try:
        return (Path(stored.record.code_artifact.path or "") / path).read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        return None
    except OSError:
        return [f"({path} is missing from the store: jupyter jobs check --repair)"]


def _type_lines(types: Mapping[str, Any] | None) -> list[str]:
    """`key: type` per output."""
    return [f"{key}: {kind}" for key, kind in type_rows(types or {})]


def _file_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return [f"({path.name} is missing from the store: jupyter jobs check --repair)"]
