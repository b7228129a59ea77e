"""The server extension: REST API to list, show, compare, run, create and publish jobs without a kernel.

`JupyterJobs` is a jupyter_server `ExtensionApp` whose settings (`c.JupyterJobs.store`,
`c.JupyterJobs.allow_runs`, `c.JupyterJobs.run_timeout`, `c.JupyterJobs.runs_dir`,
`c.JupyterJobs.max_runs`) go in a server config. The handlers
translate HTTP into calls on `JobStore` (a version's files included), `create_job`, `compare_jobs`,
`run_job`, `publish_stored` and `launch_stored` and back.
They are a door into the server's file system, so they read nothing but notebooks and scripts
inside the server's root directory and serve authenticated requests only. `POST runs` starts a
stored job's code on the server, as `jupyter jobs run` does, and answers at once: the server's users can run code
there anyway, and `c.JupyterJobs.allow_runs = False` closes that door. Every `JobError` is
answered in one place (`answer`), with the status its kind carries.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import msgspec
import tornado.web
from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.application import ExtensionApp
from jupyter_server.extension.handler import ExtensionHandlerMixin
from traitlets import Bool, Float, Int, Unicode

from .errors import Forbidden, JobError, NotFound
from .models import (
    JobList,
    JobRuns,
    JobSummary,
    LaunchRequest,
    PublishRequest,
    Record,
    RunRequest,
    build_request,
    checked_as,
    encodable,
    encode,
    json_object,
)
from .runner import with_log_tail
from .server_runs import DEFAULT_MAX_RUNS, DEFAULT_RUN_TIMEOUT, RunManager

if TYPE_CHECKING:
    from .runner import PreparedRun
    from .store import JobStore

_NOTEBOOK_SUFFIXES = (".ipynb", ".py")
_MAX_LIMIT = 1000
_NAME = r"(?P<name>[^/]+)"


class JupyterJobs(ExtensionApp):
    """The server extension and its settings, e.g. `c.JupyterJobs.store = "/data/jobs"`."""

    name = "jupyter_jobs"
    load_other_extensions = True

    store = Unicode(
        None,
        allow_none=True,
        config=True,
        help="Job store folder; unset means $JUPYTER_JOBS_STORE, then the Jupyter data dir.",
    )
    allow_runs = Bool(
        True, config=True, help="Whether `POST jobs/<name>/runs` may run a stored job's code on this server."
    )
    run_timeout = Float(
        DEFAULT_RUN_TIMEOUT,
        config=True,
        help="Seconds a run started through the REST API may take before it is stopped.",
    )

    runs_dir = Unicode(
        None,
        allow_none=True,
        config=True,
        help="Folder for the runs' working folders (the newest 50 are kept); unset means "
        "$JUPYTER_JOBS_RUNS, then the Jupyter data dir.",
    )
    max_runs = Int(DEFAULT_MAX_RUNS, config=True, help="Runs that may go on at once; more wait, queued.")

    def initialize_settings(self) -> None:
        self.runs = RunManager(self.max_runs, self.run_timeout)

    async def stop_extension(self) -> None:
        await self.runs.stop_all()

    def initialize_handlers(self) -> None:
        base = "jupyter-jobs/jobs"
        self.handlers.extend(
            [
                (base, JobListHandler),
                (f"{base}/{_NAME}", JobHandler),
                (f"{base}/{_NAME}/runs", JobRunsHandler),
                (f"{base}/{_NAME}/runs/(?P<run_id>[^/]+)", JobRunHandler),
                (f"{base}/{_NAME}/compare", JobCompareHandler),
                (f"{base}/{_NAME}/versions", JobVersionsHandler),
                (f"{base}/{_NAME}/files/(?P<path>.+)", JobFileHandler),
                (f"{base}/{_NAME}/(?P<action>publish|launch)", JobToWandbHandler),
            ]
        )


class _JobsHandler(ExtensionHandlerMixin, APIHandler):
    """Shared plumbing: blocking work off the event loop, JSON replies, errors mapped once."""

    @property
    def app(self) -> JupyterJobs:
        return self.extensionapp  # type: ignore[return-value]

    async def answer(self, work: Callable[[], object], status: int = 200, reply: bool = True) -> None:
        """Run `work` on a thread (store and export work touches the disk and imports wandb)
        and reply with its record (unless `reply` is off: the caller goes on); a `JobError`
        becomes `{"message": ...}` with its status."""
        try:
            result = await asyncio.get_running_loop().run_in_executor(None, work)
        except JobError as error:
            # Written directly rather than via HTTPError: tornado %-formats HTTPError messages
            # when it logs them, and user paths may contain "%".
            self.log.info("jupyter-jobs: %s %s", error.status, error.line)
            self.set_status(error.status)
            self.finish(encode({"message": error.line}))
            return
        self.set_status(status)
        if reply:
            self.finish(encode(result))

    @property
    def root_dir(self) -> str:
        """The server's root: all a REST client may see of the disk."""
        return str(self.settings.get("server_root_dir") or self.serverapp.root_dir)

    def store(self) -> JobStore:
        """The store to read (also where it cannot be written)."""
        from .store import JobStore

        return JobStore.open_for_reading(self.app.store)


class JobListHandler(_JobsHandler):
    """`GET jobs?limit=&offset=&search=` lists the store, newest first (with `search`, the jobs whose
    name holds it, any case); `POST jobs` creates a job from a saved file."""

    @tornado.web.authenticated
    async def get(self) -> None:
        limit = self.get_query_argument("limit", "100")
        offset = self.get_query_argument("offset", "0")
        search = self.get_query_argument("search", "")

        def listing() -> JobList:
            jobs, total = self.store().list_jobs(
                limit=_int_argument(limit, "limit", 1, _MAX_LIMIT),
                offset=_int_argument(offset, "offset", 0, None),
                search=search,
            )
            return JobList(jobs=jobs, total=total)

        await self.answer(listing)

    @tornado.web.authenticated
    async def post(self) -> None:
        body = self.request.body
        root, allow_hidden = self.root_dir, bool(getattr(self.contents_manager, "allow_hidden", False))

        def create() -> Record:
            from .core import create_job

            # The diff.patch of a git job holds only changes inside the server's root, which is all
            # a REST client may see.
            request = build_request(json_object(body), store=self.app.store, diff_root=root)
            path = resolve_in_root(root, request.path, allow_hidden)
            return create_job(msgspec.structs.replace(request, path=str(path))).record

        await self.answer(create, status=201)


class JobHandler(_JobsHandler):
    """`GET jobs/<name>?ref=<version|alias>`: one job version's record. `DELETE jobs/<name>`
    deletes the job and its runs; with `?ref=`, that version only (the panel asks first)."""

    @tornado.web.authenticated
    async def get(self, name: str) -> None:
        ref = self.get_query_argument("ref", None)
        await self.answer(lambda: self.store().resolve(_ref(name, ref)).record)

    @tornado.web.authenticated
    async def delete(self, name: str) -> None:
        from .store import JobStore

        ref = self.get_query_argument("ref", None)
        # An empty `?ref=` is a bad reference, never the whole job.
        target = name if ref is None else f"{name}:{ref}"
        await self.answer(lambda: {"deleted": JobStore.open(self.app.store).delete(target)})


class JobRunsHandler(_JobsHandler):
    """`GET jobs/<name>/runs?limit=`: the job's runs (`jupyter jobs run` and the server's),
    newest first. `POST jobs/<name>/runs` with `{"ref"?, "config"?: ["KEY=VALUE", ...], "files"?:
    ["PATH:KEY=VALUE"]}` checks the overrides against the job's inputs, then answers at once (202)
    with the queued run; it goes on in the server (`server_runs`) unless `allow_runs` is off."""

    @tornado.web.authenticated
    async def get(self, name: str) -> None:
        limit = self.get_query_argument("limit", "10")

        def runs() -> JobRuns:
            return JobRuns(job=name, runs=self.store().runs(name, limit=_int_argument(limit, "limit", 1, _MAX_LIMIT)))

        await self.answer(runs)

    @tornado.web.authenticated
    async def post(self, name: str) -> None:
        body = self.request.body
        prepared: list[tuple[JobStore, PreparedRun]] = []

        def prepare() -> None:
            from .runner import parse_file_overrides, parse_overrides, prepare_run

            if not self.app.allow_runs:
                raise Forbidden("Running jobs is turned off on this server", hint="run it with `jupyter jobs run`")
            request = checked_as(json_object(body), RunRequest)
            store = self.store()
            prepared.append(
                (
                    store,
                    prepare_run(
                        store,
                        _ref(name, request.ref),
                        parse_overrides(request.config),
                        file_overrides=parse_file_overrides(request.files),
                        runs_dir=self.app.runs_dir,
                    ),
                )
            )

        await self.answer(prepare, reply=False)
        if prepared:
            store, run = prepared[0]
            self.set_status(202)
            self.finish(encode(await self.app.runs.start(store, run)))


class JobRunHandler(_JobsHandler):
    """`GET jobs/<name>/runs/<id>`: one run with the live tail of its log; `DELETE` cancels it
    (a queued run never starts, a running one is stopped) and answers with how it ended."""

    @tornado.web.authenticated
    async def get(self, name: str, run_id: str) -> None:
        await self.answer(lambda: with_log_tail(self.store().run(name, run_id)))

    @tornado.web.authenticated
    async def delete(self, name: str, run_id: str) -> None:
        await self.answer(lambda: self.store().run(name, run_id), reply=False)
        if not self._finished:  # the run exists
            await self.app.runs.cancel(run_id)
            await self.answer(lambda: with_log_tail(self.store().run(name, run_id)))


class JobVersionsHandler(_JobsHandler):
    """`GET jobs/<name>/versions`: every version of the job, newest first, with its aliases
    (the panel's version picker), as list rows."""

    @tornado.web.authenticated
    async def get(self, name: str) -> None:
        def versions() -> JobList:
            stored = self.store().versions(name)
            rows = [
                JobSummary(
                    name=name,
                    version=version.label,
                    versions=len(stored),
                    aliases=list(version.aliases),
                    source_type=version.record.source_type,
                    created_at=version.created_at,
                )
                for version in stored
            ]
            return JobList(jobs=rows, total=len(rows))

        await self.answer(versions)


class JobFileHandler(_JobsHandler):
    """`GET jobs/<name>/files/<path>?ref=`: one file of a stored version (latest unless `ref`),
    e.g. requirements.frozen.txt or the exported script, as `{job, path, size, text}`; `text` is
    null for a binary file. Paths leading out of the version's folder are refused (403)."""

    @tornado.web.authenticated
    async def get(self, name: str, path: str) -> None:
        ref = self.get_query_argument("ref", None)
        root = Path(self.root_dir)
        await self.answer(lambda: self.store().version_file(_ref(name, ref), path, within=root))


class JobCompareHandler(_JobsHandler):
    """`GET jobs/<name>/compare?ref=&before=`: what changed from `before` (default: the version
    before `ref`) to `ref` (default: latest), part by part as unified diffs."""

    @tornado.web.authenticated
    async def get(self, name: str) -> None:
        ref = self.get_query_argument("ref", "latest")
        before = self.get_query_argument("before", None)

        def compare() -> Record:
            from .compare import compare_jobs

            return compare_jobs(self.store(), _ref(name, ref), _ref(name, before) if before else None)

        await self.answer(compare)


class JobToWandbHandler(_JobsHandler):
    """`POST jobs/<name>/publish` puts a version into W&B (`jupyter jobs publish`); `POST
    jobs/<name>/launch` with `{"queue", "config"?}` also enqueues it on a W&B Launch queue
    (`jupyter jobs launch`). Both answer when W&B has taken it."""

    @tornado.web.authenticated
    async def post(self, name: str, action: str) -> None:
        body = self.request.body

        def to_wandb() -> object:
            from .publish import launch_stored, publish_stored
            from .runner import parse_overrides

            if action == "publish":
                asked = checked_as(json_object(body), PublishRequest)
                where = {"entity": asked.entity, "project": asked.project}
                return publish_stored(self.store(), _ref(name, asked.ref), **where).to_json()
            launch = checked_as(json_object(body), LaunchRequest)
            where = {"entity": launch.entity, "project": launch.project}
            overrides = parse_overrides(launch.config)
            return launch_stored(self.store(), _ref(name, launch.ref), launch.queue, overrides, **where).to_json()

        await self.answer(to_wandb, status=201)


def resolve_in_root(root: str, requested: str, allow_hidden: bool = False) -> Path:
    """The real path of a notebook or script named relative to the server root.

    Refuses what the contents API would never serve: absolute paths, `..`, hidden files
    (unless the server allows them), and symlinks whose target lies outside the root.
    """
    text = requested.replace("\\", "/")
    if not text.strip() or "\x00" in text or not encodable(text):
        raise JobError("'path' must name a notebook relative to the server root.")
    relative = PurePosixPath(text)
    if relative.is_absolute() or (len(text) > 1 and text[1] == ":"):
        raise Forbidden(f"Refused {requested!r}: give the path relative to the server root.")
    if ".." in relative.parts:
        raise Forbidden(f"Refused {requested!r}: '..' may not leave the server root.")
    if not allow_hidden and any(part.startswith(".") for part in relative.parts):
        raise Forbidden(f"Refused {requested!r}: hidden files are not served.")
    shown = requested if len(requested) <= 200 else f"{requested[:200]}..."
    try:
        real_root = Path(root).resolve()
        real = (real_root / relative).resolve()
        if not real.is_relative_to(real_root):
            raise Forbidden(f"Refused {shown!r}: it resolves outside the server root.")
        if real.suffix not in _NOTEBOOK_SUFFIXES:
            raise JobError(f"{shown!r} is not a notebook (.ipynb) or a script (.py).")
        if not real.is_file():
            raise NotFound(f"No notebook {shown!r} under the server root: save it first.")
    except OSError as err:  # a name too long, too many levels of links ...
        raise JobError(f"{shown!r} cannot be read: {err.strerror or err}.") from None
    return real


def _ref(name: str, ref: str | None) -> str:
    return f"{name}:{ref}" if ref else name


def _int_argument(text: str, name: str, low: int, high: int | None) -> int:
    try:
        value = int(text)
    except ValueError:
        raise JobError(f"'{name}' must be an integer.") from None
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise JobError(f"'{name}' must be {bounds}.")
    return value
