"""jupyter-jobs: turn a notebook into a W&B Launch job in one step.

Imports are lazy on purpose: `jupyter jobs list` must start fast, and nbformat, wandb and
GitPython cost seconds to import. Only what a surface touches is loaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .core import JobResult, create_job
    from .errors import JobError
    from .models import CreateRequest, JobRecord

__all__ = ["create_job", "CreateRequest", "JobError", "JobRecord", "JobResult", "__version__"]
_LAZY = {
    "create_job": "core",
    "JobResult": "core",
    "CreateRequest": "models",
    "JobRecord": "models",
    "JobError": "errors",
}


def __getattr__(name: str) -> Any:
    if name == "__version__":  # one source: js/package.json, through the package's metadata
        from importlib.metadata import version

        return version("jupyter-jobs")  # (importlib.metadata is most of `jupyter jobs list`'s imports)
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(name)


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "jupyter-jobs"}]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from .handlers import JupyterJobs

    return [{"module": "jupyter_jobs", "app": JupyterJobs}]


def load_ipython_extension(ipython: Any) -> None:
    from .magic import register

    register(ipython)
