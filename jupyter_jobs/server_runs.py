"""Runs that go on while whoever started them stays responsive: each a child process an event
loop watches — the server's (REST) or a kernel's (the notebook widget's Run button).

`POST jobs/<name>/runs` answers as soon as the run is queued, and the widget's Run button
returns at once. The run waits for one of `max_runs` slots, then its process starts and the
loop awaits its exit: no thread of the server's request pool is held while a job trains, and a
kernel stays free to run cells. Each state change (queued, running, finished, failed,
cancelled) is written to the store, where `GET runs`, `jupyter jobs runs`, the panel and the
widget (`follow`) read it.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import signal
import time
import weakref
from collections.abc import AsyncIterator, Callable, Sequence

from .models import RunOutcome, utc_now
from .runner import CANCELLED, PreparedRun, keep, parse_overrides, prepare_run, timed_out, with_log_tail
from .store import JobStore

# After SIGTERM, how long a job may take to finish its wandb run before it is killed.
GRACE_SECONDS = 5.0
# The server's defaults (c.JupyterJobs.max_runs, run_timeout), which a kernel's runs share.
DEFAULT_MAX_RUNS = 4
DEFAULT_RUN_TIMEOUT = 3600.0
GOING = ("queued", "running")
# How often `follow` reads a going run's state and log.
FOLLOW_SECONDS = 0.5
KERNEL_EXITED = "stopped: the kernel that started it shut down"


class RunManager:
    """The runs of one event loop (the server's, or a kernel's): at most `max_runs` processes at
    a time, the rest queued."""

    def __init__(self, max_runs: int, timeout: float) -> None:
        self._slots = asyncio.Semaphore(max_runs)
        self._timeout = timeout
        self._processes: dict[str, asyncio.subprocess.Process] = {}
        self._stopping: dict[str, str] = {}  # run id -> why it is being stopped
        self._tasks: dict[str, asyncio.Task[RunOutcome]] = {}
        self._queued: set[str] = set()
        self._going: dict[str, tuple[JobStore, PreparedRun]] = {}
        self._started: dict[str, tuple[str, float]] = {}  # run id -> (started_at, monotonic start)

    async def start(self, store: JobStore, prepared: PreparedRun) -> RunOutcome:
        """Queue the run and answer at once with its queued outcome."""
        run_id = prepared.run_id
        queued = await _write(store, prepared.name, prepared.outcome("queued", utc_now()))
        task = asyncio.create_task(self._go(store, prepared))
        self._tasks[run_id] = task
        self._going[run_id] = (store, prepared)
        task.add_done_callback(lambda _: self._forget(run_id))
        return queued

    def end_now(self, why: str) -> None:
        """Without the event loop (a kernel exiting): kill every run still going and record why,
        so that none goes on unwatched or stays "running" in the store."""
        for run_id, (store, prepared) in list(self._going.items()):
            process = self._processes.get(run_id)
            if process is not None:
                _signal(process, signal.SIGKILL)
            started_at, start = self._started.get(run_id, (utc_now(), time.monotonic()))
            exit_code = -signal.SIGKILL if process is not None else None
            keep(store, prepared.name, prepared.ended(exit_code, started_at, time.monotonic() - start, why))
        self._going.clear()

    def _forget(self, run_id: str) -> None:
        for going in (self._tasks, self._going, self._started):
            going.pop(run_id, None)

    async def cancel(self, run_id: str) -> bool:
        """Stop a queued or running run and wait until it has ended; False if it is not going."""
        task = self._tasks.get(run_id)
        if task is None:
            return False
        self._stopping.setdefault(run_id, CANCELLED)
        process = self._processes.get(run_id)
        if run_id in self._queued:
            task.cancel()
        elif process is not None:
            _signal(process, signal.SIGTERM)
            asyncio.get_running_loop().call_later(GRACE_SECONDS, _kill_if_alive, process)
        with contextlib.suppress(Exception):
            await asyncio.shield(task)
        return True

    async def stop_all(self) -> None:
        """On server shutdown: cancel every run still going."""
        await asyncio.gather(*(self.cancel(run_id) for run_id in list(self._tasks)), return_exceptions=True)

    async def _go(self, store: JobStore, prepared: PreparedRun) -> RunOutcome:
        run_id = prepared.run_id
        self._queued.add(run_id)
        try:
            await self._slots.acquire()
        except asyncio.CancelledError:  # cancelled while queued: it never starts
            self._stopping.pop(run_id, None)
            return await _write(store, prepared.name, prepared.ended(None, utc_now(), 0.0, CANCELLED))
        finally:
            self._queued.discard(run_id)
        try:
            return await self._run(store, prepared)
        finally:
            self._slots.release()

    async def _run(self, store: JobStore, prepared: PreparedRun) -> RunOutcome:
        run_id, started_at, start = prepared.run_id, utc_now(), time.monotonic()
        with prepared.log.open("ab") as output:
            try:
                process = await asyncio.create_subprocess_exec(
                    *prepared.argv,
                    cwd=prepared.folder,
                    env=prepared.env,
                    stdout=output,
                    stderr=asyncio.subprocess.STDOUT,
                    start_new_session=True,  # its own process group: a stop reaches its children
                )
            except OSError as err:
                why = f"the job could not be started: {err.strerror or err}"
                return await _write(store, prepared.name, prepared.ended(None, started_at, 0.0, why))
            self._processes[run_id] = process
            self._started[run_id] = (started_at, start)
            await _write(store, prepared.name, prepared.outcome("running", started_at))
            exit_code = await self._wait(run_id, process)
        self._processes.pop(run_id, None)
        stopped: str | None = self._stopping.pop(run_id, None)
        if stopped:
            with prepared.log.open("ab") as output:
                output.write(f"\njupyter-jobs: {stopped}\n".encode())
        ended = prepared.ended(exit_code, started_at, time.monotonic() - start, stopped)
        return await _write(store, prepared.name, ended)

    async def _wait(self, run_id: str, process: asyncio.subprocess.Process) -> int:
        """The exit code; past the timeout the process is asked to stop, then killed."""
        try:
            return await asyncio.wait_for(asyncio.shield(process.wait()), self._timeout)
        except asyncio.TimeoutError:
            self._stopping.setdefault(run_id, timed_out(self._timeout))
            _signal(process, signal.SIGTERM)
        try:
            return await asyncio.wait_for(asyncio.shield(process.wait()), GRACE_SECONDS)
        except asyncio.TimeoutError:
            _signal(process, signal.SIGKILL)
            return await process.wait()


def _signal(process: asyncio.subprocess.Process, number: int) -> None:
    """Signal the run's whole process group (the job may have started its own children)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, number)


def _kill_if_alive(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        _signal(process, signal.SIGKILL)


async def _write(store: JobStore, name: str, outcome: RunOutcome) -> RunOutcome:
    """Record a state change; the short disk write goes to a thread, not the loop."""
    work: Callable[[], RunOutcome] = lambda: keep(store, name, outcome)  # noqa: E731
    return await asyncio.get_running_loop().run_in_executor(None, work)


_KERNEL_RUNS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, RunManager] = weakref.WeakKeyDictionary()


def kernel_runs() -> RunManager:
    """The run manager of the running event loop: in a kernel, one for all its widgets, so
    `max_runs` counts every run started from that notebook; runs still going when the kernel
    exits are killed and recorded as stopped."""
    loop = asyncio.get_running_loop()
    if loop not in _KERNEL_RUNS:
        manager = _KERNEL_RUNS[loop] = RunManager(DEFAULT_MAX_RUNS, DEFAULT_RUN_TIMEOUT)
        atexit.register(manager.end_now, KERNEL_EXITED)
    return _KERNEL_RUNS[loop]


async def start_run(manager: RunManager, store: JobStore, ref: str, config: Sequence[str]) -> RunOutcome:
    """Check `KEY=VALUE` overrides against the job's input types (a `JobError` naming the key
    if one is wrong), put its code in a run folder (on a thread: it copies files), and queue it."""
    prepared = await asyncio.to_thread(prepare_run, store, ref, parse_overrides(config))
    return await manager.start(store, prepared)


async def follow(store: JobStore, name: str, run_id: str, every: float = FOLLOW_SECONDS) -> AsyncIterator[RunOutcome]:
    """The run each time its state or log tail changes, until it has ended (the last one yielded)."""
    last = None
    while True:
        run = await asyncio.to_thread(lambda: with_log_tail(store.run(name, run_id)))
        if run != last:
            yield run
            last = run
        if run.status not in GOING:
            return
        await asyncio.sleep(every)
