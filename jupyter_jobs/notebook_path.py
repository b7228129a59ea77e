"""Which notebook does this kernel run?

A kernel does not know its notebook by itself; each front end leaves a different clue. In
order of trust: the path the side panel passes explicitly, then what jupyter_server gives
(`__session__` in the user namespace, `JPY_SESSION_NAME` in the environment: the absolute
path with JupyterLab 4, a path relative to the server root with older servers), then VS Code's
`__vsc_ipynb_file__`, then the `WANDB_NOTEBOOK_NAME` that W&B users already set. Kernels
started by nbclient or papermill have none of these, so the user must say which notebook.
`CellsRun` then tells whether code that ran is missing from the saved file.

jupyter_server sets `JPY_SESSION_NAME` when it starts the kernel, and ipykernel copies it into
`__session__` once. Renaming the notebook updates the server's session and the environment for
the *next* kernel start (`update_env`), not the running kernel: a recorded path that no longer
exists most likely means a rename: the running server is then asked where the notebook went,
and if it cannot tell, the message says what to do.
"""

from __future__ import annotations

import json
import os
import re
import time
import urllib.parse
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import JobError

if TYPE_CHECKING:
    from IPython.core.interactiveshell import ExecutionResult

NOT_FOUND = (
    "Cannot tell which notebook this kernel runs (no __session__, JPY_SESSION_NAME, "
    "__vsc_ipynb_file__ or WANDB_NOTEBOOK_NAME); pass --notebook PATH or set WANDB_NOTEBOOK_NAME"
)
MISSING = "The notebook {path} does not exist; check --notebook PATH"
RENAMED = (
    "The notebook {path} no longer exists (renamed?); save it, or pass --notebook PATH "
    "(a renamed notebook's kernel keeps the old name until it restarts)"
)


def find_notebook(user_ns: Mapping[str, Any], explicit: str | None = None) -> Path:
    """The saved notebook file this kernel runs, or a JobError saying why it cannot be used."""
    session = _session_path(user_ns)
    if explicit:
        return _checked(_resolve(explicit, session), missing=MISSING)
    clues = _clues(user_ns)
    if not clues:
        raise JobError(NOT_FOUND)
    path = _resolve(clues[0], session)
    if clues[0] == session and not path.exists():
        path = _renamed_to() or path
    return _checked(path, missing=RENAMED)


def _clues(user_ns: Mapping[str, Any]) -> list[str]:
    """Every notebook path the front ends left, most trusted first."""
    values = [
        _session_path(user_ns),
        user_ns.get("__vsc_ipynb_file__"),
        os.environ.get("WANDB_NOTEBOOK_NAME"),
    ]
    return [value for value in values if isinstance(value, str) and value.strip()]


def _session_path(user_ns: Mapping[str, Any]) -> str | None:
    """jupyter_server's session path, if it names a notebook file.

    Consoles and real-time collaboration sessions carry values like `console-1-<uuid>` or
    `fileId=<id>` that are not paths; they are ignored so the next clue can be tried.
    """
    value = user_ns.get("__session__") or os.environ.get("JPY_SESSION_NAME")
    if not isinstance(value, str):
        return None
    value = value.removeprefix("RTC:")
    return value if value.endswith(".ipynb") and not value.startswith("fileId=") else None


def _resolve(value: str, session: str | None) -> Path:
    """An absolute path for `value`, trying the places a relative path can be relative to.

    A relative path may come from the server root (panel, old servers) while the kernel
    starts in the notebook's folder: the session's absolute path, when it ends with the same
    parts, settles it; otherwise the current folder, then the bare file name in it.
    """
    path = Path(value).expanduser()
    if path.is_absolute():
        return path
    if session and _ends_with(Path(session), path):
        return Path(session)
    cwd = Path.cwd()
    for candidate in (cwd / path, cwd / path.name):
        if candidate.exists():
            return candidate
    return cwd / path


def _renamed_to() -> Path | None:
    """Where jupyter_server now says this kernel's notebook is, or None if it cannot be asked.

    The server's session follows renames while the kernel's environment does not, so the
    running server's sessions API (as W&B itself queries it) knows the notebook's new path.
    """
    try:
        from ipykernel.connect import get_connection_file
        from jupyter_server.serverapp import list_running_servers

        kernel_id = Path(get_connection_file()).stem.removeprefix("kernel-")
        for server in list_running_servers():
            for session in _server_sessions(server):
                if session.get("type") == "notebook" and (session.get("kernel") or {}).get("id") == kernel_id:
                    return Path(server["root_dir"]) / session["path"]
    except (ImportError, RuntimeError, OSError, ValueError, KeyError):
        return None
    return None


def _server_sessions(server: Mapping[str, Any]) -> list[dict[str, Any]]:
    query = urllib.parse.urlencode({"token": server.get("token", "")})
    with urllib.request.urlopen(f"{server['url'].rstrip('/')}/api/sessions?{query}", timeout=3) as reply:
        return json.load(reply)


def _ends_with(absolute: Path, relative: Path) -> bool:
    """Whether `relative` names the same file as `absolute`, seen from some parent folder."""
    return absolute.is_absolute() and absolute.parts[-len(relative.parts) :] == relative.parts


def _checked(path: Path, missing: str) -> Path:
    """`path` if it is a saved, non-empty file; otherwise a JobError saying what to do."""
    if not path.exists():
        if path.stem.startswith("Untitled"):
            raise JobError(
                f"The notebook {path.name} has never been saved",
                hint="save it under a real name (File > Save Notebook As...), then run %wandb_job again",
            )
        raise JobError(missing.format(path=path))
    if not path.is_file():
        raise JobError(f"{path} is not a notebook file; pass --notebook PATH")
    if path.stat().st_size == 0:
        raise JobError(f"The notebook {path} is empty on disk", hint="save it (Ctrl+S), then run %wandb_job again")
    return path.resolve()


class CellsRun:
    """When each user cell ran in this kernel: the job is made from the *saved* notebook.

    Jupyter does not save before running a cell, so a user can edit a cell, run it (the run
    logs its results) and create the job from a file that does not hold that code. A cell
    that ran after the file was last saved and whose code is not in the file is such an
    unsaved edit. Only cells the user ran count (`store_history`), not the panel's calls.
    """

    def __init__(self) -> None:
        self._cells: list[tuple[float, str]] = []

    def record(self, result: ExecutionResult) -> None:
        """IPython `post_run_cell` callback."""
        info = result.info
        if info is not None and info.store_history:
            self._cells.append((time.time(), info.raw_cell))

    def unsaved(self, notebook: Path) -> int:
        """How many distinct cells ran after `notebook` was saved and are not in it."""
        if notebook.suffix != ".ipynb":
            return 0
        saved_at = notebook.stat().st_mtime
        ran_since = {_normalised(code) for ran_at, code in self._cells if ran_at > saved_at and _adds_code(code)}
        if not ran_since:
            return 0  # the usual case: nothing ran since the save, and the file need not be read
        saved = notebook.read_bytes()
        # Parsing a notebook with large outputs costs far more than the rest of `%wandb_job`'s
        # bookkeeping, so only the cells a byte search cannot rule out are compared as parsed.
        maybe_saved = {code for code in ran_since if not _surely_absent(code, saved)}
        unsaved = len(ran_since) - len(maybe_saved)
        if maybe_saved:
            unsaved += len(maybe_saved - {_normalised(source) for source in _code_cells(saved, notebook.name)})
        return unsaved


def _surely_absent(code: str, saved: bytes) -> bool:
    """True when a line of `code` is nowhere in the saved file, so no saved cell can equal it.

    Only lines whose JSON encoding is the line itself count (every JSON writer leaves
    printable ASCII other than quote, slash, backslash and <>& as is); each line of a saved
    cell's source sits unbroken inside one JSON string, trailing blanks after it.
    """
    return any(_JSON_VERBATIM.fullmatch(line) and line.encode() not in saved for line in code.splitlines())


_JSON_VERBATIM = re.compile(r"[ !#-%'-.0-;=?-\[\]-~]+")


def _code_cells(saved: bytes, name: str) -> list[str]:
    """The code cells' sources as saved (a damaged notebook is the reader's one-line error)."""
    from .notebook import read_notebook

    return [cell.text for cell in read_notebook(saved, name).cells if cell.cell_type == "code"]


def _adds_code(code: str) -> bool:
    """A cell that only runs `%wandb_job` adds nothing to the job: it is not an unsaved edit."""
    return any(line.strip() and not line.lstrip().startswith("%wandb_job") for line in code.splitlines())


def _normalised(code: str) -> str:
    return "\n".join(line.rstrip() for line in code.strip().splitlines())
