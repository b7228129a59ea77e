"""Messages that used to mislead, crash or print commands unsafe to paste, as a user meets them.

The command line runs in this process (`run_cli_here`), except where only a process shows the
behaviour: a closed pipe, and a store mounted read-only in a namespace of its own."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

from jupyter_jobs.core import CreateRequest, create_job
from jupyter_jobs.store import JobStore

from .helpers import REPO_ROOT, TRAIN_CELLS, run_cli_here, run_in_mount_namespace, sample_outcome

CHECK_CHILD = """
import contextlib, io, json, sys
from jupyter_jobs.cli import main
outcome = {}
for args in (["check"], ["check", "--repair"]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main([*args, "--store", sys.argv[1]])
    outcome[" ".join(args)] = [status, out.getvalue(), err.getvalue()]
print(json.dumps(outcome))
"""


def stored_job(folder: Path, write_notebook) -> str:
    path = write_notebook("train.ipynb", *TRAIN_CELLS)
    return create_job(CreateRequest(path=path, project="p", no_git=True, store=folder)).record.name


def test_a_store_path_that_is_a_file_is_not_an_empty_store(tmp_path: Path) -> None:
    a_file = tmp_path / "notes.txt"
    a_file.write_text("hello")
    for command in (["list"], ["show", "job-x"], ["check"]):
        shown = run_cli_here(*command, "--store", str(a_file))
        assert shown.returncode == 1 and "No jobs yet" not in shown.stdout
        assert (
            shown.stderr
            == f"error: {a_file} is a file, not a job store (choose another with --store or JUPYTER_JOBS_STORE)\n"
        )


def test_an_empty_index_is_called_empty_not_schema_version_0(tmp_path: Path, write_notebook) -> None:
    store = tmp_path / "store"
    stored_job(store, write_notebook)
    (store / "index.sqlite").write_bytes(b"")
    for leftover in store.glob("index.sqlite-*"):
        leftover.unlink()

    listed = run_cli_here("list", "--store", str(store))

    assert "schema version 0" not in listed.stderr
    assert "is empty or damaged (run `jupyter jobs check --repair`" in listed.stderr


def test_a_damaged_run_record_is_named_and_repaired(tmp_path: Path, write_notebook) -> None:
    store = tmp_path / "store"
    name = stored_job(store, write_notebook)
    JobStore.open(store).record_run(name, sample_outcome(0))
    [record] = (store / "runs" / name).glob("*.json")
    record.write_text('{"job": ')

    shown = run_cli_here("runs", name, "--store", str(store))

    assert shown.returncode == 1 and "(none yet" not in shown.stdout
    assert shown.stderr.startswith(f"error: The record of a run of {name} is damaged")
    assert f"runs/{name}/{record.name}: run record is damaged" in run_cli_here("check", "--store", str(store)).stdout
    assert run_cli_here("check", "--repair", "--store", str(store)).returncode == 0
    assert json.loads(run_cli_here("runs", name, "--store", str(store), "--json").stdout)["runs"] == []


def test_a_read_only_store_is_checked_and_not_repaired(tmp_path: Path, write_notebook) -> None:
    root = tmp_path / "store"
    stored_job(root, write_notebook)
    for leftover in root.glob("index.sqlite-*"):
        leftover.unlink()
    [outcome] = run_in_mount_namespace(
        f"mount --bind {root} {root}; mount -o remount,bind,ro {root}; {sys.executable} -c '{CHECK_CHILD}' {root}"
    )
    assert outcome["check"] == [0, "The store is consistent.\n", ""]
    status, _, error = outcome["check --repair"]
    assert status == 1 and error.count("\n") == 1
    assert "can be checked but not repaired" in error


def test_printed_commands_are_shell_quoted(tmp_path: Path, write_notebook) -> None:
    hostile = "x;touch /tmp/pwned;#"
    path = write_notebook("train.ipynb", *TRAIN_CELLS)
    record = create_job(
        CreateRequest(path=path, project="my project", entity=hostile, no_git=True, dry_run=True)
    ).record.to_json()

    words = shlex.split(record["launch_command"])

    assert words[:3] == ["wandb", "launch", "--job"]
    assert words[3] == f"{hostile}/my project/{record['name']}:{record['artifact_aliases'][-1]}"
    assert words[4:] == ["--queue", "<queue>"]
    assert shlex.split(record["run_command"])[:3] == ["jupyter", "jobs", "run"]
    shown = run_cli_here("create", str(path), "--project", "my project", "--entity", hostile, "--no-git", "--dry-run")
    assert shlex.quote(words[3]) in shown.stdout


def test_a_closed_pipe_ends_the_output_quietly(tmp_path: Path, write_notebook) -> None:
    """`jupyter jobs show NAME | head`: the reader is gone before the output is written (here
    always: the pipe's read end is closed before the command starts)."""
    store = tmp_path / "store"
    name = stored_job(store, write_notebook)
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        shown = subprocess.run(
            [sys.executable, "-m", "jupyter_jobs.cli", "show", name, "--store", str(store)],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
            timeout=120,
        )
    finally:
        os.close(write_end)
    assert shown.returncode == 0 and shown.stderr == ""


def test_huge_numbers_and_values_get_one_line(tmp_path: Path, write_notebook) -> None:
    store = tmp_path / "store"
    name = stored_job(store, write_notebook)
    huge = "9" * 30
    for command in (
        ["show", f"{name}:v{huge}"],
        ["compare", f"{name}:v{huge}"],
        ["list", "--limit", huge],
        ["list", "--offset", str(2**63)],
        ["run", name, "--config", "learning_rate=" + "1" * 110_000],
    ):
        shown = run_cli_here(*command, "--store", str(store))
        assert shown.returncode == 1 and shown.stderr.startswith("error: "), (command[0], shown.stderr[-500:])
        assert shown.stderr.count("\n") == 1 and "Traceback" not in shown.stderr
    long_store = tmp_path / ("d/" * 3000)
    shown = run_cli_here("list", "--store", str(long_store))
    assert shown.stderr.startswith("error: The job store path is too long") and shown.stderr.count("\n") == 1
