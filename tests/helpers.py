"""Helpers every test module shares (fixtures live in conftest.py and use these)."""

from __future__ import annotations

import contextlib
import io
import subprocess

import msgspec

from jupyter_jobs.models import CodeArtifact, JobRecord, NamePart, Naming, RunOutcome, SourceCheck, utc_now


def sample_record(source_type: str = "artifact", **fields: object) -> JobRecord:
    """A small but complete job record, for store tests that need no real notebook."""
    values: dict[str, object] = {
        "name": "job-a",
        "version": "",
        "aliases": [],
        "digest": "",
        "created_at": "",
        "path": None,
        "source_type": source_type,
        "decision": [SourceCheck("artifact", "won", "a test")],
        "naming": Naming(rule="the name you gave", parts=[NamePart("job-a", "user")], sanitised=False, truncated=False),
        "spec": {},
        "files": ["wandb-job.json"],
        "code_artifact": CodeArtifact(name="source-x", digest="", alias="", files=[], entrypoint="train.py"),
        "git": None,
        "image": None,
        "entrypoint": ["python", "train.py"],
        "runtime": "3.11.7",
        "input_types": {},
        "output_types": {},
        "config": {},
        "requirements": [],
        "warnings": [],
        "rewrites": [],
        "project": "p",
        "entity": None,
        "notebook": "train.ipynb",
        "dry_run": False,
        "artifact_aliases": [],
        "launch_command": "",
        "run_command": "",
        **fields,
    }
    return JobRecord(**values)  # type: ignore[arg-type]


def sample_outcome(exit_code: int, job: str = "job-a:v0") -> RunOutcome:
    """A local run's outcome as the runner records it, for store tests that run nothing."""
    return RunOutcome(
        job=job,
        exit_code=exit_code,
        started_at=utc_now(),
        seconds=1.0,
        overrides={},
        workdir="/work",
        log="/work/output.log",
        run_dir=None,
        status="finished" if exit_code == 0 else "failed",
        error=None if exit_code == 0 else f"exit code {exit_code}",
    )


def content_alias(record: dict[str, object]) -> str:
    """The content alias of a record read as JSON (`--json`, REST)."""
    return msgspec.convert(record, JobRecord).content_alias


def run_cli_here(*args: str) -> subprocess.CompletedProcess[str]:
    """`jupyter jobs ARGS` run in this process: what `run_cli` proves, minus a Python start-up
    (other modules' tests run the real console script in its own process)."""
    from jupyter_jobs.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return subprocess.CompletedProcess(["jupyter-jobs", *args], code, out.getvalue(), err.getvalue())
