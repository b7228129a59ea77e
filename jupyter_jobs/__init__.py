"""jupyter-jobs: turn a notebook into a W&B Launch job in one step.

Imports are lazy on purpose: `jupyter jobs list` must start fast, and nbformat, wandb and
GitPython cost seconds to import. Only what a surface touches is loaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .core import CreateRequest, JobResult, create_job

__all__ = ["create_job", "CreateRequest", "JobResult", "__version__"]


def __getattr__(name: str) -> Any:
    if name in {"create_job", "CreateRequest", "JobResult"}:
        from . import core

        return getattr(core, name)
    raise AttributeError(name)


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "jupyter-jobs"}]


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "jupyter_jobs"}]


def _load_jupyter_server_extension(server_app: Any) -> None:
    from .handlers import JupyterJobs, setup_handlers

    setup_handlers(server_app.web_app, store=JupyterJobs(config=server_app.config).store)
    server_app.log.info("jupyter_jobs server extension loaded")


def load_ipython_extension(ipython: Any) -> None:
    from .magic import register

    register(ipython)
