"""Write the example notebooks: W&B's three ways to create a job, each as a notebook.

The notebooks are generated so that they stay small, consistent and free of outputs (cell ids
are fixed, so regenerating changes nothing unless this file changed). Run it from anywhere:

    python notebooks/make_notebooks.py
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.notebooknode import NotebookNode

HERE = Path(__file__).resolve().parent
PROJECT = "job_example"

INIT = f"""run = wandb.init(project="{PROJECT}", config={{"learning_rate": 0.01, "epochs": 10}})"""

TRAIN = """\
# A tiny model, no libraries needed: fit y = 2x + 1 by gradient descent.
data = [(x / 10, 2 * x / 10 + 1) for x in range(20)]
weight, bias = 0.0, 0.0
for epoch in range(run.config["epochs"]):
    for x, y in data:
        error = weight * x + bias - y
        weight -= run.config["learning_rate"] * 2 * error * x
        bias -= run.config["learning_rate"] * 2 * error
    loss = sum((weight * x + bias - y) ** 2 for x, y in data) / len(data)
    accuracy = sum(abs(weight * x + bias - y) < 0.5 for x, y in data) / len(data)
    run.log({"loss": loss, "accuracy": accuracy})
print(f"weight={weight:.3f} bias={bias:.3f} loss={loss:.4f} accuracy={accuracy:.2f}")"""

CREATE = "%wandb_job"

SETUP = "%load_ext jupyter_jobs"


def canonical_job_example() -> list[NotebookNode]:
    return [
        _md(
            "# A job from a notebook: the code-artifact way\n\n"
            "W&B Launch re-runs a **job** — your code, its requirements and the shape of its config — "
            "with new hyperparameters on any compute. Here the job's code is a *code artifact*: "
            "`%wandb_job` exports this notebook to a plain-Python script and logs it, with the notebook "
            "itself, to the active run, then creates the job from that run.\n\n"
            "It works offline too (`WANDB_MODE=offline`): the artifacts travel with the run to `wandb sync`, "
            "and the job is also kept in the local job store (`jupyter jobs list`)."
        ),
        _code(SETUP),
        _code("import wandb"),
        _md("Start a run. Its **config** becomes the job's inputs: a launch can override these values."),
        _code(INIT),
        _md("Train. What the run logs (its **summary**) becomes the job's outputs."),
        _code(TRAIN),
        _md(
            "Create the job. Save the notebook first: the job is made from the saved file. The widget shows "
            f"the job's name (`job-source-{PROJECT}-canonical_job_example.ipynb`), why the code-artifact source "
            "was chosen, its inputs and outputs, and the command to launch it."
        ),
        _code(CREATE),
    ]


def git_job_example() -> list[NotebookNode]:
    return [
        _md(
            "# A job from a notebook: the git way\n\n"
            "When the notebook lives in a **git repository with a remote**, W&B makes a *git-sourced* job: "
            "Launch checks out the recorded commit, converts the notebook to a script with its own converter "
            "and runs that. So, before `%wandb_job`:\n\n"
            "1. keep this notebook inside a clone whose remote Launch can fetch (`https://`, `ssh://` or "
            "`git@host:path`; `git remote -v`);\n"
            "2. save it, commit it and push the commit — the job runs the committed code, and a notebook "
            "with uncommitted changes gets a warning.\n\n"
            "Launch's converter turns every magic into a `get_ipython()` call, which fails under plain `python` — "
            "this notebook's own `%load_ext jupyter_jobs` and `%wandb_job` included. So `%wandb_job` checks git, "
            "finds that the job could not run, and gives this notebook the code-artifact source instead; the "
            "widget's source decision names each cell that stood in the way. `%wandb_job --source git` forces "
            "the git job (with a warning per construct), and a notebook with no magics, made into a job with "
            "`jupyter jobs create`, gets the git job."
        ),
        _code(SETUP),
        _code("import wandb"),
        _code(INIT),
        _code(TRAIN),
        _md(
            "Create the job. In a repository it is `job-source-job_example-git_job_example.ipynb` (the git check "
            "passed but was passed over); a git job would be `job-<remote url>_<path of this notebook>`."
        ),
        _code(CREATE),
    ]


def image_job_example() -> list[NotebookNode]:
    return [
        _md(
            "# A job from a notebook: the docker-image way\n\n"
            "When `WANDB_DOCKER` names an image (and the run logged no code), W&B makes an *image-sourced* "
            "job: Launch runs that image, which already contains the code. The image's tag (`v1` here) "
            "becomes an alias of the job version; the job is named `job-<image name>`."
        ),
        _code(SETUP),
        _md("Name the image before starting the run, as W&B reads it then (and `%wandb_job` reads it too)."),
        _code("%env WANDB_DOCKER=wandb/job_example:v1"),
        _code("import wandb"),
        _code(INIT),
        _code(TRAIN),
        _code(CREATE),
    ]


def _md(text: str) -> NotebookNode:
    return nbformat.v4.new_markdown_cell(text)


def _code(text: str) -> NotebookNode:
    return nbformat.v4.new_code_cell(text)


def _notebook(cells: list[NotebookNode]) -> NotebookNode:
    """An nbformat 4.5 notebook with a Python 3 kernel and stable cell ids."""
    for number, cell in enumerate(cells, start=1):
        cell.id = f"cell-{number}"
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata.kernelspec = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    notebook.metadata.language_info = {"name": "python"}
    nbformat.validate(notebook)
    return notebook


EXAMPLES = {
    "canonical_job_example.ipynb": canonical_job_example,
    "git_job_example.ipynb": git_job_example,
    "image_job_example.ipynb": image_job_example,
}


def main() -> None:
    for name, cells in EXAMPLES.items():
        nbformat.write(_notebook(cells()), HERE / name)
        print(f"wrote {HERE / name}")


if __name__ == "__main__":
    main()
