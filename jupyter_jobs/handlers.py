"""REST API of the server extension: list, show and create jobs without a kernel.

The handlers only translate HTTP into calls on `JobStore` and `create_job` and back. They are a
door into the server's file system, so they read nothing but notebooks and scripts inside the
server's root directory, run no code, and serve authenticated requests only.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar

import tornado.web
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from traitlets import Unicode
from traitlets.config import Configurable

from .errors import JobError

T = TypeVar("T")

#: The body fields of `POST jobs` and the type each must have (None allowed where listed).
_CREATE_FIELDS: dict[str, tuple[type, bool]] = {
    "path": (str, False),
    "project": (str, True),
    "entity": (str, True),
    "source": (str, False),
    "name": (str, True),
    "no_git": (bool, False),
    "allow_secrets": (bool, False),
    "strip_outputs": (bool, False),
    "dry_run": (bool, False),
    "include": (list, False),
    "exclude": (list, False),
    "max_file_mb": (float, False),
}
# What `POST jobs/<name>/runs` takes: the version or alias to run, and `KEY=VALUE` config overrides.
_RUN_FIELDS: dict[str, tuple[type, bool]] = {"ref": (str, True), "config": (list, False)}
# What `POST jobs/<name>/publish` and `.../launch` take: the version, where in W&B, and for a
# launch the queue (required) and config overrides.
_PUBLISH_FIELDS: dict[str, tuple[type, bool]] = {"ref": (str, True), "entity": (str, True), "project": (str, True)}
_LAUNCH_FIELDS: dict[str, tuple[type, bool]] = {**_PUBLISH_FIELDS, "queue": (str, False), "config": (list, False)}
_KIND_NAMES = {bool: "boolean", str: "string", list: "list of strings", float: "number"}
_SOURCES = ("auto", "git", "artifact", "image")
_NOTEBOOK_SUFFIXES = (".ipynb", ".py")
_MAX_LIMIT = 1000


class JupyterJobs(Configurable):
    """Server-side settings, e.g. `c.JupyterJobs.store = "/data/jobs"` in a server config."""

    store = Unicode(
        None,
        allow_none=True,
        config=True,
        help="Job store folder; unset means $JUPYTER_JOBS_STORE, then the Jupyter data dir.",
    )


class Refused(Exception):
    """A request we will not serve; the client gets `{"message": ...}` with `status`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class _JobsHandler(APIHandler):
    """Shared plumbing: JSON replies, readable errors, blocking work off the event loop."""

    @property
    def store_override(self) -> str | None:
        return self.settings.get("jupyter_jobs_store")

    def reply(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.finish(json.dumps(data))

    def refuse(self, status: int, message: str) -> None:
        # Written directly rather than via HTTPError: tornado %-formats HTTPError messages
        # when it logs them, and user paths may contain "%".
        self.log.info("jupyter-jobs: %s %s", status, message)
        self.reply({"message": message}, status)

    async def in_thread(self, work: Callable[..., T], *args: Any) -> T:
        """Store and export work touches the disk and imports wandb: keep the loop free."""
        return await asyncio.get_running_loop().run_in_executor(None, work, *args)


class JobListHandler(_JobsHandler):
    """`GET jobs` lists the store, newest first; `POST jobs` creates a job from a saved file."""

    @tornado.web.authenticated
    async def get(self) -> None:
        try:
            limit = _int_argument(self.get_query_argument("limit", "100"), "limit", 1, _MAX_LIMIT)
            offset = _int_argument(self.get_query_argument("offset", "0"), "offset", 0, None)
            jobs, total = await self.in_thread(_list_jobs, self.store_override, limit, offset)
        except Refused as refused:
            return self.refuse(refused.status, refused.message)
        except JobError as error:
            return self.refuse(400, str(error))
        self.reply({"jobs": jobs, "total": total})

    @tornado.web.authenticated
    async def post(self) -> None:
        try:
            body = _parse_create_body(self.request.body)
            path = resolve_in_root(self.root_dir, body.pop("path"), self.allow_hidden)
            record = await self.in_thread(_create, path, body, self.store_override, Path(self.root_dir))
        except Refused as refused:
            return self.refuse(refused.status, refused.message)
        except JobError as error:
            return self.refuse(400, str(error))
        self.reply(record, 201)

    @property
    def root_dir(self) -> str:
        return self.settings.get("server_root_dir") or self.serverapp.root_dir

    @property
    def allow_hidden(self) -> bool:
        return bool(getattr(self.contents_manager, "allow_hidden", False))


class JobHandler(_JobsHandler):
    """`GET jobs/<name>?ref=<version|alias>`: one job version's record."""

    @tornado.web.authenticated
    async def get(self, name: str) -> None:
        ref = self.get_query_argument("ref", None)
        try:
            record = await self.in_thread(_show, self.store_override, name, ref)
        except JobError as error:
            return self.refuse(404, str(error))
        self.reply(record)


class JobRunsHandler(_JobsHandler):
    """`GET jobs/<name>/runs?limit=`: the job's local runs (`jupyter jobs run`), newest first.
    `POST jobs/<name>/runs` with `{"ref"?, "config"?: ["KEY=VALUE", ...]}` runs the job on this
    server as `jupyter jobs run` does, and answers when it has finished, with its outcome."""

    @tornado.web.authenticated
    async def get(self, name: str) -> None:
        try:
            limit = _int_argument(self.get_query_argument("limit", "10"), "limit", 1, _MAX_LIMIT)
            runs = await self.in_thread(_runs, self.store_override, name, limit)
        except Refused as refused:
            return self.refuse(refused.status, refused.message)
        except JobError as error:
            return self.refuse(404, str(error))
        self.reply({"job": name, "runs": runs})

    @tornado.web.authenticated
    async def post(self, name: str) -> None:
        try:
            body = _parse_body(self.request.body, _RUN_FIELDS)
            outcome = await self.in_thread(_run, self.store_override, name, body.get("ref"), body.get("config", []))
        except Refused as refused:
            return self.refuse(refused.status, refused.message)
        except JobError as error:
            return self.refuse(400, str(error))
        self.reply(outcome, 201)


class JobCompareHandler(_JobsHandler):
    """`GET jobs/<name>/compare?ref=&before=`: what changed from `before` (default: the version
    before `ref`) to `ref` (default: latest), part by part as unified diffs."""

    @tornado.web.authenticated
    async def get(self, name: str) -> None:
        ref = self.get_query_argument("ref", "latest")
        before = self.get_query_argument("before", None)
        try:
            comparison = await self.in_thread(_compare, self.store_override, name, ref, before)
        except JobError as error:
            return self.refuse(404, str(error))
        self.reply(comparison)


class JobToWandbHandler(_JobsHandler):
    """`POST jobs/<name>/publish` puts a version into W&B (`jupyter jobs publish`); `POST
    jobs/<name>/launch` with `{"queue", "config"?}` also enqueues it on a W&B Launch queue
    (`jupyter jobs launch`). Both answer when W&B has taken it."""

    @tornado.web.authenticated
    async def post(self, name: str, action: str) -> None:
        try:
            body = _parse_body(self.request.body, _LAUNCH_FIELDS if action == "launch" else _PUBLISH_FIELDS)
            if action == "launch" and not body.get("queue"):
                raise Refused(400, "'queue' is required: the W&B Launch queue to put the job on.")
            outcome = await self.in_thread(_to_wandb, self.store_override, name, action, body)
        except Refused as refused:
            return self.refuse(refused.status, refused.message)
        except JobError as error:
            return self.refuse(400, str(error))
        self.reply(outcome, 201)


def setup_handlers(web_app: tornado.web.Application, store: str | None = None) -> None:
    """Route `{base_url}jupyter-jobs/jobs[/<name>[/runs|/compare|/publish|/launch]]`; `store` overrides
    the store location."""
    web_app.settings["jupyter_jobs_store"] = store
    base = url_path_join(web_app.settings.get("base_url", "/"), "jupyter-jobs")
    web_app.add_handlers(
        ".*$",
        [
            (url_path_join(base, "jobs"), JobListHandler),
            (url_path_join(base, "jobs", r"(?P<name>[^/]+)"), JobHandler),
            (url_path_join(base, "jobs", r"(?P<name>[^/]+)", "runs"), JobRunsHandler),
            (url_path_join(base, "jobs", r"(?P<name>[^/]+)", "compare"), JobCompareHandler),
            (url_path_join(base, "jobs", r"(?P<name>[^/]+)", r"(?P<action>publish|launch)"), JobToWandbHandler),
        ],
    )


def resolve_in_root(root: str, requested: str, allow_hidden: bool = False) -> Path:
    """The real path of a notebook or script named relative to the server root.

    Refuses what the contents API would never serve: absolute paths, `..`, hidden files
    (unless the server allows them), and symlinks whose target lies outside the root.
    """
    text = requested.replace("\\", "/")
    if not text.strip() or "\x00" in text or not _encodable(text):
        raise Refused(400, "'path' must name a notebook relative to the server root.")
    relative = PurePosixPath(text)
    if relative.is_absolute() or (len(text) > 1 and text[1] == ":"):
        raise Refused(403, f"Refused {requested!r}: give the path relative to the server root.")
    if ".." in relative.parts:
        raise Refused(403, f"Refused {requested!r}: '..' may not leave the server root.")
    if not allow_hidden and any(part.startswith(".") for part in relative.parts):
        raise Refused(403, f"Refused {requested!r}: hidden files are not served.")
    shown = requested if len(requested) <= 200 else f"{requested[:200]}..."
    try:
        real_root = Path(root).resolve()
        real = (real_root / relative).resolve()
        if not real.is_relative_to(real_root):
            raise Refused(403, f"Refused {shown!r}: it resolves outside the server root.")
        if real.suffix not in _NOTEBOOK_SUFFIXES:
            raise Refused(400, f"{shown!r} is not a notebook (.ipynb) or a script (.py).")
        if not real.is_file():
            raise Refused(404, f"No notebook {shown!r} under the server root: save it first.")
    except OSError as err:  # a name too long, too many levels of links ...
        raise Refused(400, f"{shown!r} cannot be read: {err.strerror or err}.") from None
    return real


def _encodable(value: object) -> bool:
    """Whether every string in a JSON value is real Unicode (JSON lets `\\ud800` through)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, dict):
        return all(_encodable(key) and _encodable(item) for key, item in value.items())
    if isinstance(value, list):
        return all(_encodable(item) for item in value)
    return True


def _parse_create_body(raw: bytes) -> dict[str, Any]:
    """Check a `POST jobs` body: its fields, then that it names a notebook and a known source."""
    body = _parse_body(raw, _CREATE_FIELDS)
    if "path" not in body:
        raise Refused(400, "'path' is required: the notebook relative to the server root.")
    if body.get("source", "auto") not in _SOURCES:
        raise Refused(400, f"'source' must be one of {', '.join(_SOURCES)}.")
    return body


def _parse_body(raw: bytes, fields: dict[str, tuple[type, bool]]) -> dict[str, Any]:
    """A JSON object body checked field by field against `fields` (name → (type, nullable)),
    so that a typo is a 400 and never a default. A list field holds strings."""
    try:
        body = json.loads(raw or b"")
        encodable = _encodable(body)
    except (ValueError, UnicodeDecodeError):
        raise Refused(400, "The request body is not valid JSON.") from None
    except RecursionError:
        raise Refused(400, "The request body is nested too deeply.") from None
    if not isinstance(body, dict):
        raise Refused(400, "The request body must be a JSON object.")
    if not encodable:
        raise Refused(400, "The request body holds text that is not Unicode (a lone surrogate).")
    unknown = sorted(set(body) - set(fields))
    if unknown:
        allowed = ", ".join(fields)
        raise Refused(400, f"Unknown field(s) {', '.join(unknown)}; allowed: {allowed}.")
    for key, value in body.items():
        kind, nullable = fields[key]
        if value is None and nullable:
            continue
        if kind is float and type(value) is int:  # JSON has one number type
            continue
        if type(value) is not kind or (kind is list and not all(isinstance(item, str) for item in value)):
            raise Refused(400, f"'{key}' must be a {_KIND_NAMES[kind]}.")
    return body


def _int_argument(text: str, name: str, low: int, high: int | None) -> int:
    try:
        value = int(text)
    except ValueError:
        raise Refused(400, f"'{name}' must be an integer.") from None
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise Refused(400, f"'{name}' must be {bounds}.")
    return value


def _list_jobs(store: str | None, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    from .store import JobStore

    summaries, total = JobStore.open_for_reading(store).list_jobs(limit=limit, offset=offset)
    return [summary.to_json() for summary in summaries], total


def _show(store: str | None, name: str, ref: str | None) -> dict[str, Any]:
    from .store import JobStore

    return JobStore.open_for_reading(store).resolve(f"{name}:{ref}" if ref else name).record


def _runs(store: str | None, name: str, limit: int) -> list[dict[str, Any]]:
    from .store import JobStore

    return JobStore.open_for_reading(store).runs(name, limit=limit)


def _run(store: str | None, name: str, ref: str | None, config: list[str]) -> dict[str, Any]:
    from .runner import parse_overrides, run_job
    from .store import JobStore

    return run_job(
        JobStore.open_for_reading(store), f"{name}:{ref}" if ref else name, parse_overrides(config)
    ).to_json()


def _to_wandb(store: str | None, name: str, action: str, body: dict[str, Any]) -> dict[str, Any]:
    from .publish import launch_stored, publish_stored
    from .runner import parse_overrides
    from .store import JobStore

    jobs = JobStore.open_for_reading(store)
    ref = f"{name}:{body['ref']}" if body.get("ref") else name
    where = {"entity": body.get("entity"), "project": body.get("project")}
    if action == "publish":
        return publish_stored(jobs, ref, **where).to_json()
    return launch_stored(jobs, ref, body["queue"], parse_overrides(body.get("config", [])), **where).to_json()


def _compare(store: str | None, name: str, ref: str, before: str | None) -> dict[str, Any]:
    from .compare import compare_jobs
    from .store import JobStore

    return compare_jobs(
        JobStore.open_for_reading(store), f"{name}:{ref}", f"{name}:{before}" if before else None
    ).to_json()


def _create(path: Path, options: dict[str, Any], store: str | None, root: Path) -> dict[str, Any]:
    """Create the job; the diff.patch of a git job holds only changes inside the server's root,
    which is all a REST client may see."""
    from .core import CreateRequest, create_job

    return create_job(CreateRequest(path=path, store=store, diff_root=root, **options)).record
