"""Runs started through the REST API: each a child process the server's event loop watches.

`POST jobs/<name>/runs` answers as soon as the run is queued. The run waits for one of
`max_runs` slots, then its process starts and the loop awaits its exit: no thread of the
server's request pool is held while a job trains, so listing and showing stay fast however
many runs go on. Each state change (queued, running, finished, failed, cancelled) is written to
the store, where `GET runs`, `jupyter jobs runs` and the widget read it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Callable

from .models import RunOutcome, utc_now
from .runner import CANCELLED, PreparedRun, keep, timed_out
from .store import JobStore

# After SIGTERM, how long a job may take to finish its wandb run before it is killed.
GRACE_SECONDS = 5.0


class RunManager:
    """The server's runs: at most `max_runs` processes at a time, the rest queued."""

    def __init__(self, max_runs: int, timeout: float) -> None:
        self._slots = asyncio.Semaphore(max_runs)
        self._timeout = timeout
        self._processes: dict[str, asyncio.subprocess.Process] = {}
        self._stopping: dict[str, str] = {}  # run id -> why it is being stopped
        self._tasks: dict[str, asyncio.Task[RunOutcome]] = {}
        self._queued: set[str] = set()

    async def start(self, store: JobStore, prepared: PreparedRun) -> RunOutcome:
        """Queue the run and answer at once with its queued outcome."""
        queued = await _write(store, prepared.name, prepared.outcome("queued", utc_now()))
        task = asyncio.create_task(self._go(store, prepared))
        self._tasks[prepared.run_id] = task
        task.add_done_callback(lambda _: self._tasks.pop(prepared.run_id, None))
        return queued

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
