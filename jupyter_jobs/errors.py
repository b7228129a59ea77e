"""User-facing errors.

Every mistake a user can make (bad notebook, no run, bad name, read-only store...) is raised as
a `JobError` whose message is one line saying what is wrong and what to do. The surfaces (CLI,
magic, REST handlers, panel) print that line and nothing else; tracebacks are for our bugs only.
"""

from __future__ import annotations


class JobError(Exception):
    """A problem the user can fix; `str(err)` is a single actionable line."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = " ".join(message.split())
        self.hint = " ".join(hint.split()) if hint else None
        super().__init__(self.line)

    @property
    def line(self) -> str:
        """The message and, when there is one, what to do about it, on one line."""
        return f"{self.message} ({self.hint})" if self.hint else self.message
