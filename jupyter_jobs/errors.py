"""User-facing errors, each kind with the HTTP status the REST API answers it with.

Every mistake a user can make (bad notebook, no run, bad name, read-only store...) is raised as
a `JobError` whose message is one line saying what is wrong and what to do. The surfaces (CLI,
magic, REST handlers, panel) print that line and nothing else; tracebacks are for our bugs only.
The REST handlers map an error to its reply in one place, by its `status`.
"""

from __future__ import annotations


class JobError(Exception):
    """A problem the user can fix; `str(err)` is a single actionable line.

    The base kind is a request that cannot be done as asked (HTTP 400).
    """

    status = 400

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = " ".join(message.split())
        self.hint = " ".join(hint.split()) if hint else None
        super().__init__(self.line)

    @property
    def line(self) -> str:
        """The message and, when there is one, what to do about it, on one line."""
        return f"{self.message} ({self.hint})" if self.hint else self.message


class NotFound(JobError):
    """What was asked for does not exist: a job, a version, an alias, a notebook (HTTP 404)."""

    status = 404


class Forbidden(JobError):
    """Not allowed here: a path outside the server root, runs turned off (HTTP 403)."""

    status = 403


class StoreUnavailable(JobError):
    """The job store cannot be written or read: a read-only or full disk, a damaged index (HTTP 503)."""

    status = 503
