"""`%wandb_job`, the panel's entry point and notebook discovery, in real kernels.

Kernel tests write a real notebook, execute it with nbclient in its folder (as Jupyter would:
the kernel starts there) and read the outputs a user would see. nbclient kernels have no
`__session__`, so they find their notebook through WANDB_NOTEBOOK_NAME, as W&B users do.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jupyter_client import BlockingKernelClient
from jupyter_client.manager import start_new_kernel

from jupyter_jobs.errors import JobError
from jupyter_jobs.magic import ERROR_MIME, RESULT_MIME
from jupyter_jobs.notebook_path import NOT_FOUND, find_notebook
from jupyter_jobs.store import JobStore

from . import wandb_log
from .cases import INIT, SETUP, TRAIN
from .helpers import (
    REPO_ROOT,
    execute,
    git,
    jupyter_server,
    offline_logs,
    run_cli_here,
    run_notebook,
    text,
    write_notebook_file,
)

NO_RUN = (
    "No active W&B run (start one in this notebook with run = wandb.init(project=...), or use %wandb_job --offline-run)"
)


def record_kinds(log: Path) -> list[str]:
    return [record.WhichOneof("record_type") for record in wandb_log.records(log)]


def stored_jobs(store_dir: Path) -> int:
    return JobStore.open(store_dir).list_jobs()[1]


def stored_record(store_dir: Path, name: str = "job-source-job_example-train.ipynb") -> dict[str, Any]:
    return JobStore.open(store_dir).resolve(name).record.to_json()


# ------------------------------------------------------------------ the magic in real kernels


@pytest.mark.kernel
def test_no_active_run_is_one_line_and_creates_nothing(
    tmp_path: Path, kernel_env: Callable[[str], None], store_dir: Path
) -> None:
    kernel_env("train.ipynb")
    notebook = write_notebook_file(tmp_path / "train.ipynb", SETUP, "%wandb_job")

    outputs = execute(notebook)

    assert outputs[1] == [{"output_type": "stream", "name": "stderr", "text": NO_RUN + "\n"}]
    assert stored_jobs(store_dir) == 0 and offline_logs() == []


@pytest.mark.kernel
def test_untitled_notebook_that_was_never_saved_is_explained(
    tmp_path: Path, kernel_env: Callable[[str], None], store_dir: Path
) -> None:
    kernel_env("Untitled.ipynb")  # what the kernel is told; no such file on disk

    outputs = execute(tmp_path / "Untitled.ipynb", SETUP, INIT, "%wandb_job")

    assert text(outputs[2]) == (
        "The notebook Untitled.ipynb has never been saved (save it under a real name "
        "(File > Save Notebook As...), then run %wandb_job again)\n"
    )
    assert stored_jobs(store_dir) == 0


@pytest.mark.kernel
@pytest.mark.wandb_facing
def test_same_notebook_twice_is_the_same_version_and_a_saved_change_is_the_next(
    tmp_path: Path, kernel_env: Callable[[str], None], store_dir: Path
) -> None:
    kernel_env("train.ipynb")
    edit_and_save = (
        "import nbformat\n"
        "nb = nbformat.read('train.ipynb', as_version=4)\n"
        "nb.cells.insert(2, nbformat.v4.new_code_cell('print(\"a new cell\")'))\n"
        "nbformat.write(nb, 'train.ipynb')"
    )
    notebook = write_notebook_file(
        tmp_path / "train.ipynb", SETUP, INIT, TRAIN, "%wandb_job", "%wandb_job", edit_and_save, "%wandb_job"
    )

    outputs = execute(notebook)

    name = "job-source-job_example-train.ipynb"
    assert re.match(rf"Created {name}:v0; code and job artifacts logged to run \w+\.\n", text(outputs[3]))
    assert "was last saved" not in text(outputs[3]) + text(outputs[6])  # everything that ran is saved
    assert text(outputs[4]).startswith(f"Unchanged, already stored as {name}:v0; already logged to run ")
    assert text(outputs[6]).startswith(f"Created {name}:v1;")
    assert [job.label for job in JobStore.open(store_dir).versions(name)] == ["v1", "v0"]
    jobs_logged = [a.name for a in wandb_log.artifacts(offline_logs()[0].parent) if a.type == "job"]
    assert jobs_logged == [name] * 2  # v0 and v1: the unchanged v0 is not logged to the run twice


@pytest.mark.kernel
def test_code_that_ran_but_was_not_saved_is_warned_about(
    tmp_path: Path, kernel_env: Callable[[str], None], store_dir: Path
) -> None:
    kernel_env("train.ipynb")
    notebook = write_notebook_file(tmp_path / "train.ipynb", SETUP, INIT, "run.log({'loss': 0.5})", "%wandb_job")

    outputs = execute(notebook, SETUP, INIT, "run.log({'loss': 0.1, 'extra': 1})", "%wandb_job")  # edited, unsaved

    status, warning = text(outputs[3]).splitlines()[:2]
    assert any("ran after train.ipynb was last saved" in w for w in stored_record(store_dir)["warnings"])
    assert status.startswith("Created job-source-job_example-train.ipynb:v0;")
    assert warning == (
        "Warning: 1 cell(s) ran after train.ipynb was last saved and are not in it, so the job lacks that code: "
        "save the notebook (Ctrl+S) and run %wandb_job again."
    )


@pytest.mark.kernel
def test_dry_run_shows_the_job_and_creates_nothing(
    tmp_path: Path, kernel_env: Callable[[str], None], store_dir: Path
) -> None:
    kernel_env("train.ipynb")
    notebook = write_notebook_file(tmp_path / "train.ipynb", SETUP, INIT, TRAIN, "%wandb_job --dry-run")

    outputs = execute(notebook)

    name = "job-source-job_example-train.ipynb"
    assert text(outputs[3]).startswith(f"Dry run: Would create {name}:v0; nothing was stored or logged.\n")
    assert "Dry run: nothing was created." in text(outputs[3])
    assert stored_jobs(store_dir) == 0 and not list(store_dir.glob("jobs/*"))
    (log,) = offline_logs()
    kinds = record_kinds(log)
    assert "exit" in kinds  # the whole log was written (the run finished when the kernel stopped)
    assert "artifact" not in kinds


@pytest.mark.kernel
@pytest.mark.wandb_facing
def test_offline_run_option_starts_a_run_for_the_job(
    tmp_path: Path, kernel_env: Callable[[str], None], store_dir: Path
) -> None:
    kernel_env("train.ipynb")
    notebook = write_notebook_file(
        tmp_path / "train.ipynb",
        SETUP,
        "%wandb_job --offline-run --project job_example",
        "print('active run:', wandb.run)",
    )

    outputs = execute(notebook)

    assert "code and job artifacts logged to run" in text(outputs[1])
    assert text(outputs[2]) == "active run: None\n"  # the magic finished the run it started
    stored = JobStore.open(store_dir).resolve("job-source-job_example-train.ipynb")
    assert stored.record.project == "job_example"
    (log,) = offline_logs()
    assert [a.type for a in wandb_log.artifacts(log.parent)] == ["code", "job"]


@pytest.mark.kernel
@pytest.mark.wandb_facing
def test_run_settings_are_honoured_as_wandb_would(
    git_repo: Callable[..., Path], kernel_env: Callable[[str], None], store_dir: Path
) -> None:
    root = git_repo()
    kernel_env("train.ipynb")
    init = (
        "run = wandb.init(project='job_example', config={'epochs': 2},"
        " settings=wandb.Settings(disable_git=True, job_name='my-notebook-job'))"
    )
    notebook = write_notebook_file(root / "train.ipynb", SETUP, init, "%wandb_job")
    git(root, "add", "train.ipynb")
    git(root, "commit", "-q", "-m", "notebook")

    execute(notebook)

    record = JobStore.open(store_dir).resolve("my-notebook-job").record.to_json()
    assert record["source_type"] == "artifact"
    assert record["decision"][0]["outcome"] == "failed" and "disable_git" in record["decision"][0]["reason"]


@pytest.mark.kernel
def test_another_project_than_the_runs_is_refused(tmp_path: Path, kernel_env: Callable[[str], None]) -> None:
    kernel_env("train.ipynb")
    notebook = write_notebook_file(tmp_path / "train.ipynb", SETUP, INIT, "%wandb_job --project other")

    outputs = execute(notebook)

    assert text(outputs[2]) == (
        "--project other differs from the active run's project job_example (the job is logged to the run; "
        "drop --project, or run.finish() and start a run in other)\n"
    )


@pytest.mark.kernel
def test_list_and_show_read_the_store(tmp_path: Path, kernel_env: Callable[[str], None]) -> None:
    kernel_env("train.ipynb")
    notebook = write_notebook_file(
        tmp_path / "train.ipynb",
        SETUP,
        INIT,
        "%wandb_job",
        "%wandb_job --list",
        "%wandb_job --show job-source-job_example-train.ipynb:v0",
        "%wandb_job --show nope",
    )

    outputs = execute(notebook)

    listing = text(outputs[3]).splitlines()
    assert listing[0].split() == ["NAME", "LATEST", "VERSIONS", "SOURCE", "CREATED"]
    assert listing[1].split()[:4] == ["job-source-job_example-train.ipynb", "v0", "1", "artifact"]
    (shown,) = outputs[4]
    assert "application/vnd.jupyter.widget-view+json" in shown["data"]
    assert shown["data"]["text/plain"].startswith("Job        job-source-job_example-train.ipynb:v0")
    assert len(outputs[5]) == 1 and outputs[5][0]["name"] == "stderr" and "nope" in outputs[5][0]["text"]


@pytest.mark.kernel
def test_compare_and_run_stored_jobs(tmp_path: Path, kernel_env: Callable[[str], None], store_dir: Path) -> None:
    path = write_notebook_file(tmp_path / "train.ipynb", "x = 1")
    assert run_cli_here("create", str(path), "--store", str(store_dir)).returncode == 0
    write_notebook_file(tmp_path / "train.ipynb", "x = 2")
    assert run_cli_here("create", str(path), "--store", str(store_dir)).returncode == 0
    name = "job-source-uncategorized-train.ipynb"

    outputs = execute(
        path,
        "%load_ext jupyter_jobs",
        f"%wandb_job --compare {name}",
        f"%wandb_job --compare {name}:v0",
        f"%wandb_job --run {name}:v0",
        f"%wandb_job --run {name} --config x=3",
    )

    lines = text(outputs[1]).splitlines()
    assert lines[0] == f"Changes from {name}:v0 to {name}:v1: source, script"
    assert "-x = 1" in lines and "+x = 2" in lines
    assert "is the first version of its job" in text(outputs[2]) and outputs[2][0]["name"] == "stderr"
    assert text(outputs[3]).startswith(f"{name}:v0 finished in ")
    assert "no config key x" in text(outputs[4]) and outputs[4][0]["name"] == "stderr"
    assert [run.job for run in JobStore.open(store_dir).runs(name)] == [f"{name}:v0"]


@pytest.mark.kernel
def test_help_documents_the_options(kernel_env: Callable[[str], None]) -> None:
    manager, client = start_new_kernel(kernel_name="python3")
    try:
        client.execute_interactive("%load_ext jupyter_jobs", timeout=60)
        reply = client.execute_interactive("%wandb_job?", timeout=60)
    finally:
        client.stop_channels()
        manager.shutdown_kernel()

    (page,) = reply["content"]["payload"]
    help_text = page["data"]["text/plain"]
    assert "Turn this notebook into a W&B Launch job" in help_text
    for option in (
        "--source {auto,git,artifact,image}",
        "--name",
        "--no-git",
        "--image",
        "--project",
        "--entity",
        "--dry-run",
        "--allow-secrets",
        "--strip-outputs",
        "--include GLOB",
        "--exclude GLOB",
        "--max-file-mb MB",
        "--notebook PATH",
        "--offline-run",
        "--list",
        "--show REF",
        "--compare REF",
        "--run REF",
        "--publish REF",
        "--config KEY=VALUE",
        "--store PATH",
    ):
        assert option in help_text


# ------------------------------------------------------------------ the panel's entry point


@pytest.mark.kernel
def test_panel_gets_the_record_as_structured_output(tmp_path: Path, kernel_env: Callable[[str], None]) -> None:
    kernel_env("somewhere-else.ipynb")  # the panel's explicit path wins over every clue
    notebook = write_notebook_file(tmp_path / "train.ipynb", SETUP, INIT)
    request = json.dumps({"path": str(notebook), "project": "job_example"})

    outputs = execute(notebook, SETUP, INIT, f"import jupyter_jobs.magic as _jj; _jj.panel_create({request!r})")

    (output,) = outputs[2]
    assert output["output_type"] == "display_data" and list(output["data"]) == [RESULT_MIME]
    record = output["data"][RESULT_MIME]
    assert (record["name"], record["version"], record["source_type"]) == (
        "job-source-job_example-train.ipynb",
        "v0",
        "artifact",
    )
    assert set(record["input_types"]["params"]["type_map"]) == {"learning_rate", "epochs"}


@pytest.mark.kernel
def test_magic_and_panel_carry_local_modules_with_include_and_exclude(
    tmp_path: Path, kernel_env: Callable[[str], None], store_dir: Path
) -> None:
    """Issue 17: the imported module travels; --include/--exclude (and the panel's lists) choose more."""
    kernel_env("train.ipynb")
    (tmp_path / "helper.py").write_text("def scale(x):\n    return 3 * x\n")
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "a.txt").write_text("a\n")
    (tmp_path / "prompts" / "b.txt").write_text("b\n")
    notebook = write_notebook_file(
        tmp_path / "train.ipynb",
        SETUP,
        INIT,
        "from helper import scale",
        "%wandb_job --include *.txt --exclude b.txt",
    )
    request = json.dumps({"path": str(notebook), "include": ["prompts/b.txt"], "exclude": ["helper.py"]})

    outputs = execute(
        notebook,
        SETUP,
        INIT,
        "from helper import scale",
        "%wandb_job --include *.txt --exclude b.txt",
        f"import jupyter_jobs.magic as _jj; _jj.panel_create({request!r})",
    )

    assert text(outputs[3]).startswith("Created job-source-job_example-train.ipynb:v0"), text(outputs[3])
    included = {
        item["path"]: item["reason"]
        for item in stored_record(store_dir, "job-source-job_example-train.ipynb:v0")["code_artifact"]["included"]
    }
    assert included == {"helper.py": "imported in cell 3", "prompts/a.txt": "--include *.txt"}
    panel = outputs[4][0]["data"][RESULT_MIME]["code_artifact"]["included"]
    assert [item["path"] for item in panel] == ["prompts/b.txt"]


@pytest.mark.kernel
def test_panel_gets_errors_as_structured_output(tmp_path: Path, kernel_env: Callable[[str], None]) -> None:
    notebook = write_notebook_file(tmp_path / "train.ipynb", SETUP)
    request = json.dumps({"path": str(notebook)})

    outputs = execute(notebook, f"import jupyter_jobs.magic as _jj; _jj.panel_create({request!r})")

    assert outputs[0] == [
        {
            "output_type": "display_data",
            "metadata": {},
            "data": {
                ERROR_MIME: {
                    "message": "No active W&B run (start one in this notebook with run = wandb.init(project=...))",
                    "saved_file_helps": True,  # creating from the saved file needs no run
                }
            },
        }
    ]


def test_panel_gets_a_deeply_nested_request_as_a_one_line_error(
    tmp_path: Path, kernel_env: Callable[[str], None]
) -> None:
    notebook = write_notebook_file(tmp_path / "train.ipynb", SETUP)
    request = "[" * 100_000 + "]" * 100_000

    outputs = execute(notebook, f"import jupyter_jobs.magic as _jj; _jj.panel_create({request!r})")

    assert [output["data"] for output in outputs[0]] == [
        {ERROR_MIME: {"message": "The panel sent a request nested too deeply to read", "saved_file_helps": True}}
    ]


@pytest.mark.kernel
def test_panel_is_not_sent_to_the_saved_file_for_a_secret(tmp_path: Path, kernel_env: Callable[[str], None]) -> None:
    kernel_env("train.ipynb")
    secret = "WANDB_API_KEY = '0123456789abcdef0123456789abcdef01234567'"
    notebook = write_notebook_file(tmp_path / "train.ipynb", SETUP, INIT, secret)
    request = json.dumps({"path": str(notebook)})

    outputs = execute(notebook, SETUP, INIT, f"import jupyter_jobs.magic as _jj; _jj.panel_create({request!r})")

    (error,) = [output["data"][ERROR_MIME] for output in outputs[2]]
    assert "cell 3" in error["message"] and "--allow-secrets" in error["message"]  # the panel words it its way
    assert error["saved_file_helps"] is False  # the saved file holds the same secret


# ------------------------------------------------------------------ finding the notebook


def run_in_kernel(connection_file: Path, code: str) -> str:
    """Execute `code` in an already running kernel; what it printed."""
    client = BlockingKernelClient(connection_file=str(connection_file))
    client.load_connection_file()
    # No heartbeat: on a loaded machine a late beat reads as "Kernel died before replying to
    # kernel_info"; the kernel_info reply itself says the kernel is up.
    client.start_channels(hb=False)
    printed: list[str] = []
    try:
        client.wait_for_ready(timeout=120)
        client.execute_interactive(
            code,
            timeout=120,
            output_hook=lambda msg: printed.append(
                msg["content"].get("text", "") if msg["msg_type"] == "stream" else ""
            ),
        )
    finally:
        client.stop_channels()
    return "".join(printed)


@pytest.mark.kernel
def test_a_notebook_renamed_in_jupyter_is_followed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "root"
    write_notebook_file(root / "sub" / "train.ipynb", "print(1)")
    runtime = tmp_path / "runtime"
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(runtime))  # the kernel finds this server, and only it
    monkeypatch.setenv("PYTHONPATH", str(REPO_ROOT))
    find = (
        "from jupyter_jobs.notebook_path import find_notebook\n"
        "print(__session__)\nprint(find_notebook(get_ipython().user_ns))"
    )

    with jupyter_server(root, tmp_path / "server.log") as server:
        session = server.api(
            "POST",
            "api/sessions",
            {"path": "sub/train.ipynb", "name": "train.ipynb", "type": "notebook", "kernel": {"name": "python3"}},
        )
        connection_file = runtime / f"kernel-{session['kernel']['id']}.json"
        before = run_in_kernel(connection_file, find)
        # What JupyterLab does on "Rename Notebook": rename the file, then move the session.
        server.api("PATCH", "api/contents/sub/train.ipynb", {"path": "sub/renamed.ipynb"})
        server.api("PATCH", f"api/sessions/{session['id']}", {"path": "sub/renamed.ipynb", "name": "renamed.ipynb"})
        after = run_in_kernel(connection_file, find)

    assert before == f"{root}/sub/train.ipynb\n{root}/sub/train.ipynb\n"  # JupyterLab 4: the absolute path
    assert after == f"{root}/sub/train.ipynb\n{root}/sub/renamed.ipynb\n"  # stale __session__, followed anyway


@pytest.fixture
def notebook_file(tmp_path: Path) -> Path:
    return write_notebook_file(tmp_path / "project" / "train.ipynb", "print(1)")


def test_explicit_path_wins(notebook_file: Path, tmp_path: Path) -> None:
    other = write_notebook_file(tmp_path / "other.ipynb", "print(2)")
    assert find_notebook({"__session__": str(other)}, str(notebook_file)) == notebook_file


def test_jupyterlab_session_gives_the_absolute_path(notebook_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert find_notebook({"__session__": str(notebook_file)}) == notebook_file
    monkeypatch.setenv("JPY_SESSION_NAME", str(notebook_file))
    assert find_notebook({}) == notebook_file


def test_relative_session_path_from_the_server_root(notebook_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(notebook_file.parent)  # kernels start in the notebook's folder
    assert find_notebook({"__session__": "project/train.ipynb"}) == notebook_file


def test_panel_relative_path_agrees_with_the_session_after_cd(
    notebook_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the user ran %cd somewhere else
    assert find_notebook({"__session__": str(notebook_file)}, "project/train.ipynb") == notebook_file


def test_vscode_and_wandb_notebook_name(notebook_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert find_notebook({"__vsc_ipynb_file__": str(notebook_file)}) == notebook_file
    monkeypatch.chdir(notebook_file.parent)
    monkeypatch.setenv("WANDB_NOTEBOOK_NAME", "train.ipynb")
    assert find_notebook({"__session__": "console-1-8f2a"}) == notebook_file  # a console is not a notebook


def test_no_clue_at_all() -> None:
    with pytest.raises(JobError) as error:
        find_notebook({})
    assert (
        str(error.value)
        == NOT_FOUND
        == (
            "Cannot tell which notebook this kernel runs (no __session__, JPY_SESSION_NAME, __vsc_ipynb_file__ or "
            "WANDB_NOTEBOOK_NAME); pass --notebook PATH or set WANDB_NOTEBOOK_NAME"
        )
    )


def test_renamed_notebook(tmp_path: Path) -> None:
    gone = tmp_path / "before-rename.ipynb"
    with pytest.raises(JobError) as error:
        find_notebook({"__session__": str(gone)})
    assert str(error.value) == (
        f"The notebook {gone} no longer exists (renamed?); save it, or pass --notebook PATH "
        "(a renamed notebook's kernel keeps the old name until it restarts)"
    )


def test_explicit_path_that_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(JobError) as error:
        find_notebook({}, str(tmp_path / "typo.ipynb"))
    assert str(error.value) == f"The notebook {tmp_path / 'typo.ipynb'} does not exist; check --notebook PATH"


def test_empty_file_on_disk(tmp_path: Path) -> None:
    empty = tmp_path / "draft.ipynb"
    empty.write_text("")
    with pytest.raises(JobError) as error:
        find_notebook({"__session__": str(empty)})
    assert str(error.value) == f"The notebook {empty} is empty on disk (save it (Ctrl+S), then run %wandb_job again)"


def test_a_cell_that_only_runs_the_magic_is_no_unsaved_edit(tmp_path: Path) -> None:
    """The saved notebook is not even read: a 50 MB notebook costs a parse otherwise."""
    from types import SimpleNamespace

    from jupyter_jobs.notebook_path import CellsRun

    notebook = tmp_path / "big.ipynb"
    notebook.write_text("not JSON: reading it would fail")
    cells = CellsRun()
    time.sleep(0.01)
    for code in ("%wandb_job", "%wandb_job --dry-run\n"):
        cells.record(SimpleNamespace(info=SimpleNamespace(store_history=True, raw_cell=code)))
    assert cells.unsaved(notebook) == 0


@pytest.mark.kernel
def test_options_parse_like_a_shell_and_a_changed_name_is_said(
    tmp_path: Path, kernel_env: Callable[[str], None], store_dir: Path
) -> None:
    kernel_env("train.ipynb")
    (tmp_path / "notes.txt").write_text("carried")
    notebook = write_notebook_file(
        tmp_path / "train.ipynb",
        SETUP,
        "%wandb_job --offline-run --name 'my-trainer' --include '*.txt'",
        '%wandb_job --offline-run --name "it\'s mine"',
    )

    outputs = execute(notebook)

    assert text(outputs[1]).startswith("Created my-trainer:v0;")
    assert "The name you gave" not in text(outputs[1])  # kept as given, so nothing to say
    carried = [item.path for item in JobStore.open(store_dir).resolve("my-trainer").record.code_artifact.included]
    assert carried == ["notes.txt"]
    assert text(outputs[2]).startswith("Created it_s_mine:v0;")
    assert 'The name you gave, "it\'s mine", became it_s_mine; characters outside' in text(outputs[2])


# ------------------------------------------------------------------ one view in every front end

WIDGET_VIEW = '<script type="application/vnd.jupyter.widget-view+json">'  # nbconvert's widget output


def visible(page: str) -> str:
    """An nbconvert page without its scripts (the saved widget state holds the widget's HTML)."""
    return re.sub(r"<script.*?</script>", "", page, flags=re.S)


@pytest.mark.kernel
def test_the_saved_output_is_one_view_in_nbconvert_and_text_in_a_terminal(
    tmp_path: Path, kernel_env: Callable[[str], None], store_dir: Path
) -> None:
    """`%wandb_job` leaves one display output; nbconvert shows it once (the HTML copy when, as in
    a notebook JupyterLab saved, no widget state is kept; the widget when nbclient kept its
    state), and a terminal IPython prints its text."""
    from nbconvert import HTMLExporter

    kernel_env("train.ipynb")
    notebook = run_notebook(write_notebook_file(tmp_path / "train.ipynb", SETUP, INIT, "%wandb_job"))
    (shown,) = [output for output in notebook.cells[2].outputs if output["output_type"] == "display_data"]
    assert {"text/html", "text/plain", RESULT_MIME, "application/vnd.jupyter.widget-view+json"} == set(shown["data"])
    state = notebook.metadata.pop("widgets")

    page = HTMLExporter().from_notebook_node(notebook)[0]
    assert visible(page).count("Source checks (in W&amp;B order)") == 1  # the HTML copy, once
    assert "Named by" not in page and WIDGET_VIEW not in page  # neither the text nor the widget

    notebook.metadata["widgets"] = state
    page = HTMLExporter().from_notebook_node(notebook)[0]
    assert page.count(WIDGET_VIEW) == 1
    assert "Source checks" not in visible(page) and "Named by" not in page

    terminal = subprocess.run(
        [
            sys.executable,
            "-m",
            "IPython",
            "--no-banner",
            "--colors=nocolor",
            "-c",
            "%load_ext jupyter_jobs\n%wandb_job --show job-source-job_example-train.ipynb",
        ],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=tmp_path,
    )
    assert terminal.stdout.count("Job        job-source-job_example-train.ipynb:v0") == 1, terminal.stderr
    assert "<div" not in terminal.stdout and "VBox(" not in terminal.stdout
