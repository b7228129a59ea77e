"""The local job store: every job version with its files, in a folder plus an SQLite index.

The panel, the widget and the command line list, show and run jobs from here with no network,
so the store must stay consistent when two kernels create the same job at once, when a writer
is killed halfway, and when the disk is read-only or full. Layout (docs/ARCHITECTURE.md):

    <root>/index.sqlite       versions, aliases and a one-row-per-name `jobs` summary
    <root>/jobs/<name>/v<N>/  the job's files + record.json
    <root>/code/<digest>/     code artifact files + .manifest.json, content-addressed
    <root>/runs/<name>/       one JSON file per local run of the job (`jupyter jobs run`)
    <root>/tmp/               staging dirs, renamed into place inside the index transaction

Readers only trust the index. A writer stages all files under tmp/, fsyncs them, then inside one
`BEGIN IMMEDIATE` transaction picks the version number, renames the staging dir into place and
commits the index rows. A writer killed at any point leaves at most a staging dir or a version
folder without an index row: invisible to readers, reused by the next writer, reported and
removed by `check`.

This module is on the CLI's fast path, so it imports only the standard library at module level.
"""

from __future__ import annotations

import difflib
import errno
import json
import os
import re
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any

import msgspec

from .digest import content_digest, digest_of_hashes, file_hashes
from .errors import Forbidden, JobError, NotFound, StoreUnavailable
from .models import JobRecord, JobSummary, RunOutcome, StoredFile, decode_record, encodable, encode, utc_now

try:
    import fcntl
except ImportError:  # Windows has no flock: the store can be read there, not written
    fcntl = None  # type: ignore[assignment]

SCHEMA_VERSION = 1
BUSY_TIMEOUT_SECONDS = 60.0
RECORD_FILE = "record.json"
MANIFEST_FILE = ".manifest.json"
LOCK_FILE = ".lock"
NAME_PATTERN = re.compile(r"[A-Za-z0-9_.-]{1,128}")
RUN_ID_PATTERN = re.compile(r"[0-9]{8}T[0-9]{12}Z-[0-9a-f]{8}")
VERSION_PATTERN = re.compile(r"v(\d+)")
STORE_HINT = "choose another with --store or JUPYTER_JOBS_STORE"
REPAIR_HINT = "run `jupyter jobs check --repair` to rebuild it from the version folders"
# SQLite's integers: a version number, limit or offset beyond them names nothing in the index.
MAX_INTEGER = 2**63 - 1
# A disk that is full, as opposed to one that refuses writes.
FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
# How long code no version uses is kept: a create stores its code seconds before its version.
UNUSED_CODE_GRACE_SECONDS = 3600.0
DIGEST_PATTERN = re.compile(r"[0-9a-f]{64}")
# The largest stored file `version_file` hands out: the panel shows it whole, as text.
FILE_SIZE_LIMIT = 1024 * 1024
# Errors that mean "this disk will not take our writes", as opposed to bugs of ours
# (EEXIST/ENOTDIR: the store path or one of its parents is a regular file).
UNWRITABLE_ERRNOS = {
    errno.EROFS,
    errno.ENOSPC,
    errno.EDQUOT,
    errno.EACCES,
    errno.EPERM,
    errno.ENOTDIR,
    errno.EFBIG,
    errno.EEXIST,
}
UNWRITABLE_SQLITE_WORDS = ("readonly", "disk is full", "unable to open", "disk i/o")
# SQLite's words for an index file that is not (or no longer) a whole index of ours.
DAMAGED_SQLITE_WORDS = ("not a database", "malformed", "no such table", "no such column")

SCHEMA = """
CREATE TABLE IF NOT EXISTS versions (
    name TEXT NOT NULL, version INTEGER NOT NULL, digest TEXT NOT NULL,
    created_at TEXT NOT NULL, record_json TEXT NOT NULL,
    PRIMARY KEY (name, version));
CREATE UNIQUE INDEX IF NOT EXISTS versions_by_digest ON versions (name, digest);
CREATE TABLE IF NOT EXISTS aliases (
    name TEXT NOT NULL, alias TEXT NOT NULL, version INTEGER NOT NULL,
    PRIMARY KEY (name, alias));
CREATE INDEX IF NOT EXISTS aliases_by_version ON aliases (name, version);
CREATE TABLE IF NOT EXISTS jobs (
    name TEXT PRIMARY KEY, latest_version INTEGER, versions INTEGER NOT NULL,
    next_version INTEGER NOT NULL, source_type TEXT NOT NULL, created_at TEXT NOT NULL,
    touched INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS jobs_by_touch ON jobs (touched);
"""


@dataclass(frozen=True)
class StoredJob:
    """One version of a job as the index knows it; `record` is what surfaces display."""

    name: str
    version: int
    digest: str
    aliases: tuple[str, ...]
    created_at: str
    path: Path
    record: JobRecord

    @property
    def label(self) -> str:
        """The version as W&B writes it: "v3"."""
        return f"v{self.version}"


class JobStore:
    """A job store rooted at `root`; cheap to open, holds no connection between calls."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._index = root / "index.sqlite"
        self._jobs = root / "jobs"
        self._code = root / "code"
        self._tmp = root / "tmp"
        self._runs = root / "runs"
        self._read_only = False

    @classmethod
    def open(cls, override: str | Path | None = None) -> JobStore:
        """Open (creating if needed) the store: `override` > $JUPYTER_JOBS_STORE > data dir."""
        store = cls(store_location(override))
        with store._store_errors():
            store._make_layout()
            store._ensure_index()
        return store

    @classmethod
    def open_for_reading(cls, override: str | Path | None = None) -> JobStore:
        """Open the store to list, show and run its jobs, also where it cannot be written: a
        team's store on a read-only mount, say. Nothing is ever created: a store that does not
        exist yet reads as an empty one."""
        store = cls(store_location(override))
        store._refuse_a_file()
        store._read_only = not (os.access(store.root, os.W_OK) and os.access(store._index, os.W_OK))
        with store._store_errors():
            store._refuse_lost_index()
            store._check_schema()
        return store

    def _make_layout(self) -> None:
        """The store's folders and lock file, made where missing."""
        for folder in (self.root, self._jobs, self._code, self._tmp):
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except FileNotFoundError as err:  # a place where no folder can be made, like /proc/x
                raise self._unwritable(f"cannot make {folder}: {err.strerror}") from err
        # SQLite says only "unable to open database file" on a read-only disk; opening our
        # lock file for writing fails first, with the real reason (EROFS, EACCES...).
        os.close(os.open(self._tmp / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644))

    def _refuse_a_file(self) -> None:
        """A store path that names a file (or passes through one) is a mistake, not an empty store."""
        with self._store_errors():
            if self.root.exists() and not self.root.is_dir():
                raise JobError(f"{self.root} is a file, not a job store", hint=STORE_HINT)

    @classmethod
    def open_for_check(cls, override: str | Path | None = None) -> JobStore:
        """Open the store for `check`, whatever state its index is in: `check` is what says
        that an index is lost or damaged, and `check --repair` what rebuilds it."""
        store = cls(store_location(override))
        store._refuse_a_file()
        try:
            with store._store_errors():
                store._make_layout()
        except JobError:
            if not store.root.is_dir():
                raise
            store._read_only = True  # a read-only store is checked, not repaired
        return store

    # ----------------------------------------------------------------------------- writes

    def has_code_artifact(self, digest: str) -> bool:
        """Whether code with this content digest is stored (a `put_code_artifact` would be a stat)."""
        return (self._code / digest).is_dir()

    def put_code_artifact(
        self, files: Mapping[str, bytes], hashes: Mapping[str, str] | None = None
    ) -> tuple[str, Path]:
        """Store code files under code/<digest>/ once; a later equal put costs one stat.

        `hashes` are the files' sha256s (`file_hashes`) when the caller already has them.
        """
        _validate_files(files, reserved=MANIFEST_FILE)
        if hashes is None:
            hashes = file_hashes(files)
        elif hashes.keys() != files.keys():
            raise ValueError(f"hashes name {sorted(hashes)}, the files are {sorted(files)}")
        digest = digest_of_hashes(hashes)
        folder = self._code / digest
        with self._store_errors(), self._staging_lock(exclusive=False):
            if folder.is_dir():
                os.utime(folder)  # stored again just now: `prune_unused_code` leaves it be
                return digest, folder
            manifest = {
                "digest": digest,
                "files": {name: {"sha256": hashes[name], "size": len(data)} for name, data in sorted(files.items())},
            }
            staging = self._stage({**files, MANIFEST_FILE: _json_bytes(manifest)})
            try:
                os.rename(staging, folder)
                _fsync_dir(self._code)
            except OSError as err:
                # Another writer renamed the same content into place first: theirs is as good.
                if err.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                    raise
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        return digest, folder

    def add_version(
        self, name: str, files: Mapping[str, bytes], record: JobRecord, aliases: Sequence[str] = ()
    ) -> tuple[StoredJob, bool]:
        """Store `files` as the next version of `name`, or reuse the version with that digest.

        Returns the version and whether it was created. Either way `latest` and the given
        aliases now point at it.
        """
        _validate_name(name)
        _validate_files(files, reserved=RECORD_FILE)
        wanted_aliases = _validated_aliases(aliases)
        digest = content_digest(files)
        if self._version_with_digest(name, digest) is not None:
            return self._reuse(name, digest, wanted_aliases), False
        with self._store_errors(), self._staging_lock(exclusive=False):
            staging = self._stage(files)
            try:
                return self._commit_new_version(name, digest, staging, record, wanted_aliases)
            finally:
                shutil.rmtree(staging, ignore_errors=True)

    def _reuse(self, name: str, digest: str, wanted_aliases: list[str]) -> StoredJob:
        """Move `latest` and the wanted aliases to the existing version with this digest."""
        with self._store_errors(), self._write_transaction() as conn:
            version = _version_by_digest(conn, name, digest)
            if version is None:  # removed by a concurrent `check --repair`
                raise JobError(f"Job '{name}' changed while it was being saved", hint="run the command again")
            _point_aliases(conn, name, version, wanted_aliases)
            _touch_summary(conn, name, version, created=False)
            return self._load(conn, name, version)

    def _commit_new_version(
        self, name: str, digest: str, staging: Path, record: JobRecord, wanted_aliases: list[str]
    ) -> tuple[StoredJob, bool]:
        """Under the write lock: pick the number, rename the staged files into place, index."""
        with self._write_transaction() as conn:
            existing = _version_by_digest(conn, name, digest)
            if existing is not None:  # a concurrent writer stored the same content first
                _point_aliases(conn, name, existing, wanted_aliases)
                _touch_summary(conn, name, existing, created=False)
                return self._load(conn, name, existing), False
            version = _next_version(conn, name)
            created_at = utc_now()
            target = self._version_dir(name, version)
            # Aliases move, so the index holds the current ones and the stored record none.
            stored_record = record.stored_as(
                name=name, version=version, aliases=[], digest=digest, path=str(target), created_at=created_at
            )
            _write_file(staging / RECORD_FILE, _json_bytes(stored_record.to_json()))
            _fsync_dir(staging)
            conn.execute(
                "INSERT INTO versions VALUES (?, ?, ?, ?, ?)",
                (name, version, digest, created_at, encode(stored_record).decode()),
            )
            _point_aliases(conn, name, version, wanted_aliases)
            _touch_summary(conn, name, version, created=True)
            self._move_into_place(staging, target)
            try:
                conn.execute("COMMIT")
            except BaseException:
                self._discard(target)
                raise
            return self._load(conn, name, version), True

    def _move_into_place(self, staging: Path, target: Path) -> None:
        """Rename staging to target, first clearing a folder a killed writer left there."""
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            self._discard(target)
        os.rename(staging, target)
        _fsync_dir(target.parent)

    def _stage(self, files: Mapping[str, bytes]) -> Path:
        """Write files into a fresh dir under tmp/ and fsync them; invisible until renamed."""
        staging = Path(tempfile.mkdtemp(prefix="stage-", dir=self._tmp))
        try:
            for relative, data in files.items():
                destination = staging / relative
                destination.parent.mkdir(parents=True, exist_ok=True)
                _write_file(destination, data)
            _fsync_dir(staging)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return staging

    def _discard(self, folder: Path) -> None:
        """Remove a folder by first renaming it under tmp/, so a kill leaves only tmp/ debris."""
        trash = Path(tempfile.mkdtemp(prefix="trash-", dir=self._tmp))
        os.rename(folder, trash / "x")
        shutil.rmtree(trash)

    def record_run(self, name: str, run: RunOutcome) -> Path:
        """Keep what a local run of job `name` did, as one JSON file under runs/<name>/ named
        by its id (when it started); staged under tmp/ and renamed into place, like a version,
        so a run recorded again as it goes (queued, running, ended) is always read whole."""
        _validate_name(name)
        file_name = f"{_checked_run_id(run.id) if run.id else new_run_id()}.json"
        with self._store_errors(), self._staging_lock(exclusive=False):
            staging = self._stage({file_name: _json_bytes(run.to_json())})
            folder = self._runs / name
            folder.mkdir(parents=True, exist_ok=True)
            os.rename(staging / file_name, folder / file_name)
            _fsync_dir(folder)
            shutil.rmtree(staging)
        return folder / file_name

    # ----------------------------------------------------------------------------- reads

    def runs(self, name: str, limit: int = 10) -> list[RunOutcome]:
        """The newest `limit` local runs of job `name`, newest first; an unknown job is an error."""
        _validate_name(name)
        with self._read_connection() as conn:
            self._require_job(conn, name)
        folder = self._runs / name
        newest = sorted(folder.glob("*.json"), reverse=True)[:limit] if folder.is_dir() else []
        runs = []
        for path in newest:
            try:
                runs.append(msgspec.json.decode(path.read_bytes(), type=RunOutcome))
            except (OSError, msgspec.DecodeError):  # files land whole, so only a damaged disk gets here
                raise JobError(
                    f"The record of a run of {name} is damaged: {path}",
                    hint="`jupyter jobs check --repair` removes it",
                ) from None
        return runs

    def run(self, name: str, run_id: str) -> RunOutcome:
        """One run of job `name` by its id."""
        _validate_name(name)
        path = self._runs / name / f"{_checked_run_id(run_id)}.json"
        try:
            return msgspec.json.decode(path.read_bytes(), type=RunOutcome)
        except FileNotFoundError:
            raise NotFound(f"{name} has no run {run_id}", hint=f"`jupyter jobs runs {name}` lists them") from None
        except (OSError, msgspec.DecodeError):
            raise JobError(f"The record of run {run_id} of {name} is damaged: {path}") from None

    def preview(self, name: str, files: Mapping[str, bytes]) -> tuple[str, bool]:
        """For --dry-run: the version label this content would get, and whether it is new."""
        _validate_name(name)
        _validate_files(files, reserved=RECORD_FILE)
        with self._read_connection() as conn:
            existing = _version_by_digest(conn, name, content_digest(files))
            if existing is not None:
                return f"v{existing}", False
            return f"v{_next_version(conn, name)}", True

    def delete(self, ref: str) -> list[str]:
        """Delete a whole job ("name") or one version ("name:v2", "name:<alias>"); returns the
        deleted versions ("name:vN"), oldest first.

        One index transaction, like a write: the folders (and a whole job's runs) are renamed
        under tmp/ before the commit, so a kill leaves at most indexed versions without
        folders, which `check --repair` drops (finishing the delete), never a whole version
        folder without its row, which it would index again. `latest` falls back to the newest
        version left, and version numbers are never reused.
        """
        name, selector = _parse_ref(ref)
        with self._store_errors(), self._staging_lock(exclusive=False), self._write_transaction() as conn:
            self._require_job(conn, name)
            versions = (
                [self._select_version(conn, name, selector)]
                if ":" in ref
                else [row[0] for row in conn.execute("SELECT version FROM versions WHERE name = ?", (name,))]
            )
            folders = {self._version_dir(name, version): version for version in sorted(versions)}
            if ":" not in ref:
                folders[self._runs / name] = -1
            trash = Path(tempfile.mkdtemp(prefix="trash-", dir=self._tmp))
            moved: list[Path] = []
            try:
                for folder in folders:
                    if folder.exists():
                        os.rename(folder, trash / str(len(moved)))
                        moved.append(folder)
                for version in versions:
                    conn.execute("DELETE FROM versions WHERE name = ? AND version = ?", (name, version))
                _rebuild_summary(conn, name)
                conn.execute("COMMIT")
            except BaseException:
                for index, folder in enumerate(moved):
                    os.rename(trash / str(index), folder)
                trash.rmdir()
                raise
            shutil.rmtree(trash, ignore_errors=True)
        return [f"{name}:v{version}" for version in sorted(versions)]

    def resolve(self, ref: str) -> StoredJob:
        """Find "name", "name:latest", "name:v3" or "name:<alias>"; unknown → JobError."""
        name, selector = _parse_ref(ref)
        with self._read_connection() as conn:
            self._require_job(conn, name)
            version = self._select_version(conn, name, selector)
            return self._load(conn, name, version)

    def list_jobs(self, limit: int = 50, offset: int = 0, search: str = "") -> tuple[list[JobSummary], int]:
        """One page of jobs and the number of jobs, read from the `jobs` summary table only;
        with `search`, only the jobs whose name holds it (any case).

        Newest first: the job whose `latest` moved most recently (a new version, or reuse of an
        old one when the user went back to earlier code) comes first. `created_at` is the
        latest version's.
        """
        if not (0 <= limit <= MAX_INTEGER and 0 <= offset <= MAX_INTEGER):
            raise JobError(f"limit and offset must be from 0 to {MAX_INTEGER} (got {limit}, {offset})")
        with self._read_connection() as conn:
            conn.execute("BEGIN")  # one snapshot for the page and the total
            rows = conn.execute(
                "SELECT j.name, j.latest_version, j.versions, j.source_type, j.created_at,"
                " (SELECT group_concat(alias, ',') FROM (SELECT alias FROM aliases a"
                "   WHERE a.name = j.name AND a.version = j.latest_version ORDER BY alias))"
                " FROM jobs j WHERE j.versions > 0 AND instr(lower(j.name), lower(?)) > 0"
                " ORDER BY j.touched DESC LIMIT ? OFFSET ?",
                (search, limit, offset),
            ).fetchall()
            total = conn.execute(
                "SELECT count(*) FROM jobs WHERE versions > 0 AND instr(lower(name), lower(?)) > 0", (search,)
            ).fetchone()[0]
            conn.execute("COMMIT")
        return [
            JobSummary(
                name=name,
                version=f"v{latest}",
                versions=count,
                aliases=aliases.split(",") if aliases else [],
                source_type=source_type,
                created_at=created_at,
            )
            for name, latest, count, source_type, created_at, aliases in rows
        ], total

    def versions(self, name: str) -> list[StoredJob]:
        """All versions of a job, newest first."""
        _validate_name(name)
        with self._read_connection() as conn:
            self._require_job(conn, name)
            numbers = [
                row[0]
                for row in conn.execute("SELECT version FROM versions WHERE name = ? ORDER BY version DESC", (name,))
            ]
            return [self._load(conn, name, number) for number in numbers]

    def version_file(self, ref: str, path: str, within: Path | None = None) -> StoredFile:
        """One file of a stored version, to read (the panel's file links): the job artifact's
        (wandb-job.json, requirements.frozen.txt, diff.patch) or its code artifact's (script,
        notebook copy, carried files). Only a file the record lists is served, and only from
        inside its own folder: `..`, absolute paths and symlinks leading out are refused.
        `within` (over REST: the server's root) keeps a git job's diff.patch to the changes
        inside it, as a create over REST collects it, whatever surface made the job."""
        relative = _file_path(path)
        stored = self.resolve(ref)
        record, job = stored.record, f"{stored.name}:{stored.label}"
        if relative in record.files:
            folder = stored.path
        elif relative in record.code_artifact.files and DIGEST_PATTERN.fullmatch(record.code_artifact.digest):
            folder = self._code_dir(record.code_artifact.digest)
        else:
            raise NotFound(f"{job} has no file {relative!r}", hint="its details list the files it has")
        try:
            real = (folder / relative).resolve()
            if not real.is_relative_to(folder.resolve()):
                raise Forbidden(f"Refused {relative!r}: it resolves outside the folder of {job} in the job store.")
            size = real.stat().st_size
            if size > FILE_SIZE_LIMIT:
                raise JobError(
                    f"{relative} of {job} is {size:,} bytes, over the {FILE_SIZE_LIMIT:,} shown here",
                    hint=f"read it on the server in {real.parent}",
                )
            data = real.read_bytes()
        except FileNotFoundError:
            raise NotFound(f"{relative} of {job} is missing from the job store", hint=REPAIR_HINT) from None
        except OSError as err:
            raise JobError(f"{relative} of {job} cannot be read: {err.strerror or err}") from None
        if relative == "diff.patch" and within is not None and record.git is not None:
            from .source import diff_within

            data = diff_within(data.decode("utf-8", "replace"), Path(record.git.root), within).encode()
            size = len(data)
        return StoredFile(job=job, path=relative, size=size, text=_text_or_none(data))

    def _select_version(self, conn: sqlite3.Connection, name: str, selector: str) -> int:
        """Turn "v3" or an alias into a version number that exists, or explain what does."""
        match = VERSION_PATTERN.fullmatch(selector)
        if match:
            version = min(int(match.group(1)), MAX_INTEGER)
            if conn.execute("SELECT 1 FROM versions WHERE name = ? AND version = ?", (name, version)).fetchone():
                return version
            latest = _alias_target(conn, name, "latest")
            raise NotFound(f"Job '{name}' has no version {selector}", hint=f"its latest version is v{latest}")
        aliased = _alias_target(conn, name, selector)
        if aliased is None:
            known = [row[0] for row in conn.execute("SELECT alias FROM aliases WHERE name = ? ORDER BY alias", (name,))]
            raise NotFound(f"Job '{name}' has no alias '{selector}'", hint=f"its aliases are: {', '.join(known)}")
        return aliased

    def _require_job(self, conn: sqlite3.Connection, name: str) -> None:
        """Raise a JobError naming similar jobs when `name` has no versions."""
        if conn.execute("SELECT 1 FROM jobs WHERE name = ? AND versions > 0", (name,)).fetchone():
            return
        names = [row[0] for row in conn.execute("SELECT name FROM jobs WHERE versions > 0")]
        close = difflib.get_close_matches(name, names, n=3)
        hint = (
            f"did you mean {' or '.join(repr(c) for c in close)}?"
            if close
            else "`jupyter jobs list` shows the jobs it holds"
        )
        raise NotFound(f"No job named '{name}' in the job store at {self.root}", hint=hint)

    def _load(self, conn: sqlite3.Connection, name: str, version: int) -> StoredJob:
        """Build a StoredJob from its index row, with the current aliases and folder."""
        digest, created_at, record_json = conn.execute(
            "SELECT digest, created_at, record_json FROM versions WHERE name = ? AND version = ?", (name, version)
        ).fetchone()
        aliases = tuple(
            row[0]
            for row in conn.execute(
                "SELECT alias FROM aliases WHERE name = ? AND version = ? ORDER BY alias", (name, version)
            )
        )
        path = self._version_dir(name, version)
        stored = decode_record(record_json)
        code_digest = stored.code_artifact.digest
        # Computed from the root, like the version's folder, so a moved store keeps working.
        code_path = str(self._code_dir(code_digest)) if DIGEST_PATTERN.fullmatch(code_digest) else None
        record = stored.stored_as(
            name=name,
            version=version,
            aliases=list(aliases),
            digest=digest,
            path=str(path),
            created_at=created_at,
            code_path=code_path,
        )
        return StoredJob(name, version, digest, aliases, created_at, path, record)

    def _version_with_digest(self, name: str, digest: str) -> int | None:
        """Lock-free look-up that lets an unchanged job skip staging its files."""
        with self._read_connection() as conn:
            return _version_by_digest(conn, name, digest)

    # ----------------------------------------------------------------------------- check

    def check(self, repair: bool = False) -> list[str]:
        """List what is inconsistent (one line each); with `repair`, fix it.

        Holds the staging lock exclusively and the index write lock, so no writer is midway
        and everything found is really left over.
        """
        if self._read_only and repair:
            raise self._unwritable("it is read-only, so it can be checked but not repaired")
        with self._store_errors(), self._check_lock():
            problems = self._check_staging(repair)
            damage = self._index_damage()
            if damage is not None:
                problems.append(f"index.sqlite: {damage}")
            if (damage is not None and repair) or (damage is None and not self._index.exists() and not self._read_only):
                self._replace_index()
            with self._check_transaction(damage is not None and not repair) as conn:
                problems += (
                    self._check_versions(conn, repair)
                    + self._check_orphans(conn, repair)
                    + _check_summaries(conn, repair)
                    + self._check_code(repair)
                    + self._check_code_needed(conn)
                    + self._check_runs(repair)
                )
        return problems

    def unused_code(self) -> list[str]:
        """Code folders that no version uses (`code/<digest>`): reported, never removed, since a
        create in progress stores its code before its version. None can be told while the
        index is damaged."""
        if self._index_damage() is not None or not self._index.exists():
            return []
        with self._read_connection() as conn:
            used = set(_code_digests(conn))
        return [f"code/{p.name}" for p in sorted(self._code.iterdir()) if p.name not in used]

    def prune_unused_code(self, older_than: float = UNUSED_CODE_GRACE_SECONDS) -> list[str]:
        """Remove the code folders no version uses that were last stored over `older_than`
        seconds ago, and say which. A create stores its code moments before its version, and
        storing code again touches its folder, so only leftovers go: the copies of creates that
        changed nothing but outputs, and the code of deleted versions. Holds the staging lock
        alone, as `check` does, so no code is being stored meanwhile."""
        removed = []
        with self._store_errors(), self._check_lock():
            cutoff = time.time() - older_than
            for unused in self.unused_code():
                folder = self.root / unused
                if folder.stat().st_mtime < cutoff:
                    _remove(folder)
                    removed.append(unused)
        return removed

    def _index_damage(self) -> str | None:
        """Why the index cannot be trusted (lost, empty, not SQLite, failing its integrity
        check), or None when it is whole."""
        if not self._index.exists():
            return "lost: the versions are in their folders only" if any(self._version_folders()) else None
        try:
            with self._connect() as conn:
                found = conn.execute("PRAGMA user_version").fetchone()[0]
                verdict = [row[0] for row in conn.execute("PRAGMA quick_check")]
                if found == SCHEMA_VERSION and verdict == ["ok"]:
                    for table in ("versions", "aliases", "jobs"):
                        conn.execute(f"SELECT * FROM {table} LIMIT 0")
        except sqlite3.DatabaseError as err:
            if not any(word in str(err).lower() for word in DAMAGED_SQLITE_WORDS):
                raise
            return f"damaged ({err})"
        if found == 0:
            return "empty or damaged"
        if found != SCHEMA_VERSION:  # another jupyter-jobs' index: not ours to rebuild
            self._check_schema()
        return None if verdict == ["ok"] else f"damaged ({'; '.join(verdict[:3])})"

    def _replace_index(self) -> None:
        """Put a new empty index in place of a damaged one (kept beside it for a post-mortem);
        `_check_orphans` then indexes every whole version folder again."""
        for suffix in ("", "-wal", "-shm"):
            damaged = self._index.with_name(self._index.name + suffix)
            if damaged.exists():
                os.replace(damaged, self._index.with_name(f"{self._index.name}.damaged{suffix}"))
        self._build_index()

    @contextmanager
    def _check_transaction(self, index_unusable: bool) -> Iterator[sqlite3.Connection]:
        """The index under its write lock; when it is damaged and is not being repaired, an empty
        stand-in, against which every version folder reads as one the index lacks."""
        if not index_unusable and self._read_only:
            with self._connect() as conn:
                yield conn
            return
        if not index_unusable:
            with self._write_transaction() as conn:
                yield conn
            return
        conn = sqlite3.connect(":memory:", isolation_level=None)
        try:
            conn.executescript(SCHEMA)
            yield conn
        finally:
            conn.close()

    @contextmanager
    def _check_lock(self) -> Iterator[None]:
        """The staging lock, alone: no writer is midway while `check` looks. A read-only store
        has no writers, and its lock file cannot be opened for writing."""
        if self._read_only:
            yield
            return
        with self._staging_lock(exclusive=True):
            yield

    def _check_staging(self, repair: bool) -> list[str]:
        """Anything in tmp/ while we hold the exclusive staging lock was left by a killed writer."""
        leftovers = sorted(p for p in self._tmp.iterdir() if p.name != LOCK_FILE) if self._tmp.is_dir() else []
        if repair:
            for leftover in leftovers:
                _remove(leftover)
        return [f"tmp/{p.name}: left by an interrupted write" for p in leftovers]

    def _check_versions(self, conn: sqlite3.Connection, repair: bool) -> list[str]:
        """Indexed versions whose folder is gone or whose files no longer match the digest."""
        problems = []
        rows = conn.execute("SELECT name, version, digest, record_json FROM versions ORDER BY name, version").fetchall()
        for name, version, digest, record_json in rows:
            folder = self._version_dir(name, version)
            problem = _version_problem(folder, digest)
            if problem:
                problems.append(f"{name}:v{version}: {problem}")
                if repair:
                    self._drop_version(conn, name, version, folder)
            elif _unreadable_json(folder / RECORD_FILE):
                problems.append(f"{name}:v{version}: {RECORD_FILE} is missing or unreadable")
                if repair:
                    self._rewrite_record(folder / RECORD_FILE, record_json)
        return problems

    def _rewrite_record(self, path: Path, record_json: str) -> None:
        """Replace record.json atomically, staging the new file under tmp/ (never in the
        version folder, where a leftover would break the digest)."""
        staged = self._stage({RECORD_FILE: _json_bytes(json.loads(record_json))})
        os.replace(staged / RECORD_FILE, path)
        _fsync_dir(path.parent)
        shutil.rmtree(staged)

    def _drop_version(self, conn: sqlite3.Connection, name: str, version: int, folder: Path) -> None:
        """Forget a broken version; its aliases go, `latest` falls back to the newest left."""
        conn.execute("DELETE FROM versions WHERE name = ? AND version = ?", (name, version))
        conn.execute("DELETE FROM aliases WHERE name = ? AND version = ?", (name, version))
        if folder.exists():
            self._discard(folder)

    def _check_orphans(self, conn: sqlite3.Connection, repair: bool) -> list[str]:
        """Version folders without an index row: a writer killed between rename and commit, or
        an index that was lost. A whole version (its record.json names it and matches its
        files) is indexed again; only a partial folder is removed."""
        indexed = set(conn.execute("SELECT name, version FROM versions").fetchall())
        problems = []
        for name, version, folder in self._version_folders():
            if (name, version) in indexed:
                continue
            record = _whole_version_record(folder, name, version)
            if record is not None and _version_by_digest(conn, name, record.digest) is None:
                problems.append(
                    f"jobs/{name}/{folder.name}: a whole version the index lacks (a lost index or an interrupted"
                    " write): indexed again"
                )
                if repair:
                    _index_version(conn, name, version, record)
                continue
            problems.append(f"jobs/{name}/{folder.name}: folder without an index row (left by an interrupted write)")
            if repair:
                self._discard(folder)
        return problems

    def _check_runs(self, repair: bool) -> list[str]:
        """Run records that cannot be read (only a damaged disk or a hand edit makes one)."""
        damaged = [p for p in sorted(self._runs.glob("*/*.json")) if _unreadable_json(p)] if self._runs.is_dir() else []
        if repair:
            for path in damaged:
                path.unlink()
        return [f"runs/{p.parent.name}/{p.name}: run record is damaged" for p in damaged]

    def _check_code_needed(self, conn: sqlite3.Connection) -> list[str]:
        """Versions whose code folder is gone: they can be shown but not run or published, and
        no repair can bring the code back."""
        return [
            f"{name}:v{version}: its code code/{digest} is missing (create the job again from its notebook)"
            for name, version, digest in _code_digests(conn, with_versions=True)
            if not self._code_dir(digest).is_dir()
        ]

    def _check_code(self, repair: bool) -> list[str]:
        """Code artifact folders whose files no longer match the digest they are named by."""
        problems = []
        for folder in sorted(self._code.iterdir()):
            if _unreadable_json(folder / MANIFEST_FILE) or _folder_digest(folder, skip=MANIFEST_FILE) != folder.name:
                problems.append(f"code/{folder.name}: files do not match the digest")
                if repair:
                    self._discard(folder)
        return problems

    # ----------------------------------------------------------------------------- plumbing

    def _version_dir(self, name: str, version: int) -> Path:
        """Computed from the root, never stored, so a moved store keeps working."""
        return self._jobs / name / f"v{version}"

    def _code_dir(self, digest: str) -> Path:
        """Computed from the root like `_version_dir`; a digest that is not one names no folder."""
        if not DIGEST_PATTERN.fullmatch(digest):
            raise JobError(f"'{digest[:80]}' is not a code digest", hint=REPAIR_HINT)
        return self._code / digest

    def code_files(self, digest: str) -> dict[str, bytes]:
        """The files of the code stored under `digest` in this store, checked against it:
        code changed after it was stored is refused, never run or published."""
        folder = self._code_dir(digest)
        if not folder.is_dir():
            raise JobError(
                f"The code {digest[:16]} is missing from the job store at {self.root}",
                hint="create the job again from its notebook",
            )
        with self._store_errors():
            files = {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
        files.pop(MANIFEST_FILE, None)
        if content_digest(files) != digest:
            raise JobError(
                f"The code {digest[:16]} in the job store at {self.root} was changed after it was stored",
                hint="it will not be run; `jupyter jobs check` lists it, then create the job again from its notebook",
            )
        return files

    def _ensure_index(self) -> None:
        """Create the index of a new store, then make sure it has our schema (one cheap read).
        A store whose index was lost is refused: a new empty index would hand out version
        numbers whose folders exist, and the next write would replace them."""
        if not self._index.exists():
            self._refuse_lost_index()
            self._create_index()
        self._check_schema()

    def _refuse_lost_index(self) -> None:
        if not self._index.exists() and any(self._version_folders()):
            raise JobError(f"The job store at {self.root} has version folders but no index", hint=REPAIR_HINT)

    def _version_folders(self) -> Iterator[tuple[str, int, Path]]:
        """(name, number, folder) of every `jobs/<name>/v<N>` folder, indexed or not."""
        job_dirs = sorted(p for p in self._jobs.iterdir() if p.is_dir()) if self._jobs.is_dir() else []
        for job_dir in job_dirs:
            numbered = ((VERSION_PATTERN.fullmatch(p.name), p) for p in job_dir.iterdir() if p.is_dir())
            for number, folder in sorted((int(match.group(1)), p) for match, p in numbered if match):
                yield job_dir.name, number, folder

    def _check_schema(self) -> None:
        with self._connect() as conn:
            found = conn.execute("PRAGMA user_version").fetchone()[0]
        if found == 0:  # what SQLite reads from an empty or zeroed file
            raise JobError(f"The job store index at {self._index} is empty or damaged", hint=REPAIR_HINT)
        if found != SCHEMA_VERSION:
            raise JobError(
                f"The job store index at {self._index} has schema version {found},"
                f" this jupyter-jobs reads version {SCHEMA_VERSION}",
                hint=STORE_HINT,
            )

    def _create_index(self) -> None:
        """Build the index under tmp/ and hard-link it into place: openers racing on a new store
        never see a half-made index, and none has to switch a shared file to WAL (SQLite fails
        that at once with "database is locked" instead of waiting)."""
        with self._staging_lock(exclusive=False):
            self._build_index()

    def _build_index(self) -> None:
        """`_create_index` without the lock, for `check`, which holds it exclusively."""
        staging = Path(tempfile.mkdtemp(prefix="index-", dir=self._tmp))
        try:
            built = staging / self._index.name
            conn = sqlite3.connect(built, isolation_level=None)
            try:
                conn.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
                for statement in SCHEMA.split(";"):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            finally:
                conn.close()
            _fsync_file(built)
            try:
                os.link(built, self._index)
            except FileExistsError:
                pass  # another opener linked its index first; it is as good as ours
            _fsync_dir(self.root)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A fresh connection per operation: safe across threads and forked processes."""
        if self._read_only:
            conn = self._read_only_connection()
        else:
            conn = sqlite3.connect(self._index, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
        try:
            yield conn
        finally:
            conn.close()

    def _read_only_connection(self) -> sqlite3.Connection:
        """A connection that never writes. SQLite reads a WAL index read-only when its -wal and
        -shm files are there (a writer has it open elsewhere); a cleanly closed index has none
        and, with nobody writing it, is read as immutable. No index yet: an empty one in memory."""
        if not self._index.is_file():
            conn = sqlite3.connect(":memory:", isolation_level=None)
            conn.executescript(f"{SCHEMA};PRAGMA user_version={SCHEMA_VERSION};")
            return conn
        uri = f"{self._index.as_uri()}?mode=ro"
        conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
        try:
            conn.execute("PRAGMA user_version")  # opening is lazy: this is where it fails
        except sqlite3.OperationalError:
            conn.close()
            conn = sqlite3.connect(f"{uri}&immutable=1", uri=True, isolation_level=None)
        return conn

    @contextmanager
    def _read_connection(self) -> Iterator[sqlite3.Connection]:
        """A connection for reads whose SQLite failures become one-line JobErrors."""
        with self._store_errors(), self._connect() as conn:
            yield conn

    @contextmanager
    def _write_transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE: one writer at a time, others wait up to BUSY_TIMEOUT_SECONDS."""
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            if conn.in_transaction:
                conn.execute("COMMIT")

    @contextmanager
    def _staging_lock(self, exclusive: bool) -> Iterator[None]:
        """Writers share tmp/.lock while they stage; `check` takes it alone to see only debris."""
        if fcntl is None:
            raise JobError(
                f"The job store at {self.root} cannot be written here: it needs POSIX file locks",
                hint="create jobs on Linux, macOS or Windows Subsystem for Linux",
            )
        descriptor = os.open(self._tmp / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield
        finally:
            os.close(descriptor)

    @contextmanager
    def _store_errors(self) -> Iterator[None]:
        """Turn read-only or full disks and a damaged or locked index into one-line JobErrors."""
        try:
            yield
        except OSError as err:
            if err.errno == errno.ENAMETOOLONG:
                raise JobError(f"The job store path is too long: {str(self.root)[:80]}...", hint=STORE_HINT) from err
            if err.errno not in UNWRITABLE_ERRNOS:
                raise
            if err.errno in FULL_ERRNOS:
                raise self._full(err.strerror or str(err)) from err
            raise self._unwritable(err.strerror or str(err)) from err
        except sqlite3.DatabaseError as err:
            if "disk is full" in str(err).lower():
                raise self._full(str(err)) from err
            if any(word in str(err).lower() for word in UNWRITABLE_SQLITE_WORDS):
                raise self._unwritable(str(err)) from err
            damaged = any(word in str(err).lower() for word in DAMAGED_SQLITE_WORDS)
            hint = REPAIR_HINT if damaged else STORE_HINT
            raise StoreUnavailable(f"The job store index at {self._index} cannot be used: {err}", hint=hint) from err

    def _unwritable(self, reason: str) -> StoreUnavailable:
        return StoreUnavailable(f"The job store at {self.root} is not writable: {reason}", hint=STORE_HINT)

    def _full(self, reason: str) -> JobError:
        return JobError(
            f"The disk of the job store at {self.root} is full: {reason}",
            hint=f"free some space (nothing was stored), or {STORE_HINT}",
        )


# --------------------------------------------------------------------------------- helpers


def store_location(override: str | Path | None) -> Path:
    """Where the store lives: explicit choice, then the environment, then Jupyter's data dir."""
    if override is not None:
        return Path(override).expanduser().absolute()
    from_env = os.environ.get("JUPYTER_JOBS_STORE")
    if from_env:
        return Path(from_env).expanduser().absolute()
    from jupyter_core.paths import jupyter_data_dir  # lazy: only needed for the default

    return Path(jupyter_data_dir()) / "jupyter_jobs" / "store"


def new_run_id() -> str:
    """A run's id: microseconds order a job's runs; the suffix keeps two writers' ids apart."""
    return f"{datetime.now(timezone.utc):%Y%m%dT%H%M%S%fZ}-{os.urandom(4).hex()}"


def _checked_run_id(run_id: str) -> str:
    if not RUN_ID_PATTERN.fullmatch(run_id):
        raise NotFound(f"No run {run_id!r}", hint="run ids look like 20261129T054400123456Z-0a1b2c3d")
    return run_id


def _validate_name(name: str) -> None:
    """Job names become folder names, so refuse anything but W&B's sanitised alphabet."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name) or name in {".", ".."}:
        raise JobError(f"'{name}' is not a valid job name", hint="use 1 to 128 of the characters A-Z a-z 0-9 _ . -")


def _validated_aliases(aliases: Sequence[str]) -> list[str]:
    """`latest` plus the caller's aliases; "v3"-like aliases would shadow versions."""
    for alias in aliases:
        if not NAME_PATTERN.fullmatch(alias) or VERSION_PATTERN.fullmatch(alias):
            raise JobError(
                f"'{alias}' is not a valid alias", hint="use 1 to 128 of A-Z a-z 0-9 _ . - and not v<number>"
            )
    return sorted({"latest", *aliases})


def _validate_files(files: Mapping[str, bytes], reserved: str) -> None:
    """File names become paths inside the store: relative, no `..`, not our own file name."""
    if not files:
        raise JobError("A job needs at least one file", hint="nothing was stored")
    for relative in files:
        parts = relative.split("/")
        if (
            relative == reserved
            or "\0" in relative
            or "\\" in relative
            or any(part in {"", ".", ".."} for part in parts)
        ):
            raise JobError(
                f"'{relative}' cannot be stored as a file name",
                hint=f"use a relative path without '..' and other than {reserved}",
            )


def _file_path(path: str) -> str:
    """A version's file named relative to its folder; absolute paths and `..` are refused."""
    shown = path if len(path) <= 200 else f"{path[:200]}..."
    text = path.replace("\\", "/")
    if not text.strip("/ ") or "\x00" in text or not encodable(text):
        raise JobError(f"{shown!r} is not a file name", hint="name a file of the version, e.g. requirements.frozen.txt")
    relative = PurePosixPath(text)
    if relative.is_absolute() or re.match(r"[A-Za-z]:", text):
        raise Forbidden(f"Refused {shown!r}: name the file relative to the version's folder.")
    if ".." in relative.parts:
        raise Forbidden(f"Refused {shown!r}: '..' may not leave the version's folder.")
    return relative.as_posix()


def _text_or_none(data: bytes) -> str | None:
    """The file's text, or None when it is not UTF-8 text (NUL bytes, undecodable)."""
    if b"\x00" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _parse_ref(ref: str) -> tuple[str, str]:
    """Split "name[:version-or-alias]" into name and selector (default "latest")."""
    name, colon, selector = ref.partition(":")
    if not NAME_PATTERN.fullmatch(name) or name in {".", ".."} or (colon and not selector):
        raise JobError(f"'{ref}' is not a job reference", hint="use name, name:latest, name:v3 or name:<alias>")
    return name, selector or "latest"


def _version_by_digest(conn: sqlite3.Connection, name: str, digest: str) -> int | None:
    row = conn.execute("SELECT version FROM versions WHERE name = ? AND digest = ?", (name, digest)).fetchone()
    return row[0] if row else None


def _alias_target(conn: sqlite3.Connection, name: str, alias: str) -> int | None:
    row = conn.execute("SELECT version FROM aliases WHERE name = ? AND alias = ?", (name, alias)).fetchone()
    return row[0] if row else None


def _next_version(conn: sqlite3.Connection, name: str) -> int:
    """Numbers are never reused, even after `check --repair` dropped the newest version."""
    row = conn.execute("SELECT next_version FROM jobs WHERE name = ?", (name,)).fetchone()
    return row[0] if row else 0


def _point_aliases(conn: sqlite3.Connection, name: str, version: int, aliases: list[str]) -> None:
    """An alias names one version per job: moving it takes it off the older one, as in W&B."""
    conn.executemany("INSERT OR REPLACE INTO aliases VALUES (?, ?, ?)", [(name, alias, version) for alias in aliases])


def _touch_summary(conn: sqlite3.Connection, name: str, version: int, created: bool) -> None:
    """Make `version` the job's latest in the summary row and move the job to the list's top."""
    created_at, source_type = _version_facts(conn, name, version)
    touched = _next_touch(conn)
    conn.execute(
        "INSERT INTO jobs VALUES (?1, ?2, 1, ?2 + 1, ?3, ?4, ?5) ON CONFLICT (name) DO UPDATE SET"
        " latest_version = ?2, versions = versions + ?6,"
        " next_version = max(next_version, ?2 + 1), source_type = ?3, created_at = ?4,"
        " touched = ?5",
        (name, version, source_type, created_at, touched, int(created)),
    )


def _version_facts(conn: sqlite3.Connection, name: str, version: int) -> tuple[str, str]:
    """A version's creation time and source type, as the list view shows them."""
    created_at, record_json = conn.execute(
        "SELECT created_at, record_json FROM versions WHERE name = ? AND version = ?", (name, version)
    ).fetchone()
    return created_at, str(json.loads(record_json).get("source_type", ""))


def _next_touch(conn: sqlite3.Connection) -> int:
    """A global counter ordering the list by last create-or-reuse, immune to clock steps."""
    touch: int = conn.execute("SELECT coalesce(max(touched), 0) + 1 FROM jobs").fetchone()[0]
    return touch


def _check_summaries(conn: sqlite3.Connection, repair: bool) -> list[str]:
    """The `jobs` rows and `latest` aliases must agree with the versions table."""
    problems = []
    names = [row[0] for row in conn.execute("SELECT name FROM jobs UNION SELECT name FROM versions")]
    for name in names:
        found = [f"{name}: {problem}" for problem in _summary_problems(conn, name)]
        if repair and found:
            _rebuild_summary(conn, name)
        problems += found
    return problems


def _summary_problems(conn: sqlite3.Connection, name: str) -> list[str]:
    """What is wrong with one job's aliases and summary row (only hand edits or bugs cause it)."""
    count, newest = conn.execute("SELECT count(*), max(version) FROM versions WHERE name = ?", (name,)).fetchone()
    summary = conn.execute("SELECT latest_version, versions, next_version FROM jobs WHERE name = ?", (name,)).fetchone()
    latest = _alias_target(conn, name, "latest")
    dangling = conn.execute(
        "SELECT alias, version FROM aliases a WHERE name = ? AND NOT EXISTS (SELECT 1 FROM"
        " versions v WHERE v.name = a.name AND v.version = a.version)",
        (name,),
    ).fetchall()
    problems = [f"alias '{alias}' points to missing version v{version}" for alias, version in dangling]
    if count and latest is None:
        problems.append("no version has the alias 'latest'")
    if summary is None or (summary[0], summary[1]) != (latest, count) or (newest is not None and summary[2] <= newest):
        problems.append("the job summary row disagrees with its versions")
    return problems


def _rebuild_summary(conn: sqlite3.Connection, name: str) -> None:
    """Drop dangling aliases, keep `latest` on an existing version, recompute the summary row
    (keeping the job's place in the list and never lowering its next version number)."""
    conn.execute(
        "DELETE FROM aliases WHERE name = ? AND NOT EXISTS (SELECT 1 FROM versions v"
        " WHERE v.name = aliases.name AND v.version = aliases.version)",
        (name,),
    )
    count, newest = conn.execute("SELECT count(*), max(version) FROM versions WHERE name = ?", (name,)).fetchone()
    if newest is not None and _alias_target(conn, name, "latest") is None:
        _point_aliases(conn, name, newest, ["latest"])
    latest = _alias_target(conn, name, "latest")
    created_at, source_type = _version_facts(conn, name, latest) if latest is not None else ("", "")
    previous = conn.execute("SELECT next_version, touched FROM jobs WHERE name = ?", (name,)).fetchone()
    next_version = max(previous[0] if previous else 0, -1 if newest is None else newest + 1)
    touched = previous[1] if previous else _next_touch(conn)
    conn.execute(
        "INSERT OR REPLACE INTO jobs VALUES (?, ?, ?, ?, ?, ?, ?)",
        (name, latest, count, next_version, source_type, created_at, touched),
    )


def _whole_version_record(folder: Path, name: str, version: int) -> JobRecord | None:
    """The record of a version folder that is whole (its record.json names this job and
    version, and its files match the digest it records), else None."""
    try:
        record = decode_record((folder / RECORD_FILE).read_bytes())
    except (OSError, msgspec.DecodeError):
        return None
    if (record.name, record.version) != (name, f"v{version}"):
        return None
    return record if _folder_digest(folder, skip=RECORD_FILE) == record.digest else None


def _index_version(conn: sqlite3.Connection, name: str, version: int, record: JobRecord) -> None:
    """Index a whole version folder again from its record.json, with the aliases it was made
    with; `latest` goes to the job's newest version and its summary row is rebuilt."""
    conn.execute(
        "INSERT INTO versions VALUES (?, ?, ?, ?, ?)",
        (name, version, record.digest, record.created_at, encode(record).decode()),
    )
    aliases = [a for a in record.artifact_aliases if NAME_PATTERN.fullmatch(a) and not VERSION_PATTERN.fullmatch(a)]
    _point_aliases(conn, name, version, aliases)
    newest = conn.execute(
        "SELECT version FROM versions WHERE name = ? ORDER BY created_at DESC, version DESC LIMIT 1", (name,)
    ).fetchone()[0]
    _point_aliases(conn, name, newest, ["latest"])
    _rebuild_summary(conn, name)


def _code_digests(conn: sqlite3.Connection, *, with_versions: bool = False) -> Iterator[Any]:
    """The code digest of every version (or (name, version, digest) with `with_versions`)."""
    rows = conn.execute(
        "SELECT name, version, json_extract(record_json, '$.code_artifact.digest') FROM versions ORDER BY name, version"
    )
    for name, version, digest in rows:
        if isinstance(digest, str) and DIGEST_PATTERN.fullmatch(digest):
            yield (name, version, digest) if with_versions else digest


def _version_problem(folder: Path, digest: str) -> str | None:
    """Why an indexed version folder cannot be trusted, or None when it can."""
    if not folder.is_dir():
        return "folder is missing"
    if _folder_digest(folder, skip=RECORD_FILE) != digest:
        return "files do not match the digest"
    return None


def _folder_digest(folder: Path, skip: str) -> str:
    """The content digest of the files under `folder`, as `content_digest` computes it."""
    files = {path.relative_to(folder).as_posix(): path.read_bytes() for path in folder.rglob("*") if path.is_file()}
    files.pop(skip, None)
    return content_digest(files)


def _unreadable_json(path: Path) -> bool:
    """True when a file a surface will parse (record, manifest) is missing or truncated."""
    try:
        json.loads(path.read_bytes())
    except (OSError, ValueError):
        return True
    return False


def _remove(path: Path) -> None:
    """Delete a leftover under tmp/, whether a killed writer left a folder or a file."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def _write_file(path: Path, data: bytes) -> None:
    """Write and fsync, so a renamed folder never holds files the kernel has not persisted."""
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_file(path: Path) -> None:
    """Persist a file another library (SQLite) wrote before we link it into place."""
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(folder: Path) -> None:
    """Persist a directory's entries (new files, renames) as well as the files themselves."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _json_bytes(value: object) -> bytes:
    """Stable, readable JSON: people open record.json and manifests by hand."""
    return json.dumps(value, indent=2, sort_keys=True).encode()
