"""The headless demo behind `make demo`: run the example notebook in a real kernel, print its job.

The notebook is copied into a fresh folder and executed top to bottom by `nbclient` with W&B
in offline mode, exactly as a user would run it in JupyterLab (its last cell is `%wandb_job`).
The job lands in the local job store (`$JUPYTER_JOBS_STORE` or the default), where
`jupyter jobs list` and `jupyter jobs show` find it afterwards.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
NOTEBOOK = "canonical_job_example.ipynb"


def main() -> int:
    import nbformat
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    workdir = Path(tempfile.mkdtemp(prefix="jupyter-jobs-demo-"))
    shutil.copy(HERE / NOTEBOOK, workdir / NOTEBOOK)
    os.environ.setdefault("WANDB_MODE", "offline")
    os.environ["WANDB_NOTEBOOK_NAME"] = NOTEBOOK  # nbclient kernels are not told which notebook they run
    notebook = nbformat.read(workdir / NOTEBOOK, as_version=4)
    print(f"Running {NOTEBOOK} in a real kernel (W&B offline) in {workdir} ...", flush=True)
    # Over local sockets rather than TCP: nothing listens on a port, and the kernel has no
    # reason to warn that its traffic is unencrypted.
    sockets = Path(tempfile.mkdtemp(prefix="jupyter-jobs-kernel-"))
    kernel = KernelManager(kernel_name="python3", transport="ipc", connection_file=str(sockets / "kernel.json"))
    NotebookClient(notebook, km=kernel, timeout=300, resources={"metadata": {"path": str(workdir)}}).execute()
    shutil.rmtree(sockets, ignore_errors=True)
    print(_job_text(notebook))
    print(f"\nThe offline run and its artifacts: {workdir / 'wandb'}")
    print("List the job store with: jupyter jobs list")
    return 0


def _job_text(notebook: object) -> str:
    """Every text output of the `%wandb_job` cell: its status line and the widget's text form."""
    last_cell = notebook.cells[-1]  # type: ignore[attr-defined]
    texts = []
    for output in last_cell.get("outputs", []):
        if output.get("output_type") == "error":
            texts.append("\n".join(output.get("traceback", [])))
        texts.append(output.get("data", {}).get("text/plain") or output.get("text") or "")
    return "\n".join(text for text in texts if text) or "(the %wandb_job cell printed nothing)"


if __name__ == "__main__":
    sys.exit(main())
