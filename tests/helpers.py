"""Helpers every test module shares: notebooks, git repositories, the command line, kernels,
Jupyter servers and waiting, and W&B Launch's agent. Fixtures live in conftest.py and use these;
the test data several modules share lives in cases.py.

nbformat and nbclient (seconds to import) are imported by the functions that use them: the
store tests' writer processes import this module for `sample_record` alone."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shlex
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any
from unittest import mock

import msgspec

from jupyter_jobs.models import CodeArtifact, JobRecord, NamePart, Naming, RunOutcome, SourceCheck, utc_now

if TYPE_CHECKING:
    from . import wandb_server

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_NOTEBOOKS = REPO_ROOT / "notebooks"
AGENT_ENTITY = "launch-agent-team"  # the entity of the Launch agent's W&B login (tests/launch_agent.py)
# The entity of the jobs Launch's loader gets. None: their code reference leaves it empty and
# Launch fills it with the agent's. wandb 0.22.0's Launch looks such a reference up in the entity
# "" instead (it fills it from 0.22.1 on; README "Supported versions"), so with that release the
# jobs name the agent's entity, as a user of such an agent must.
LAUNCH_JOB_ENTITY = AGENT_ENTITY if version("wandb") == "0.22.0" else None
TRAIN_CELLS = (
    "import wandb\nrun = wandb.init(project='job_example', config={'learning_rate': 0.01, 'epochs': 10})",
    "for epoch in range(run.config['epochs']):\n    run.log({'loss': 1.0 / (epoch + 1)})\nrun.finish()",
)

# ------------------------------------------------------------------ notebooks


def new_notebook(*cells: str | Mapping[str, Any], language: str = "python", **metadata: Any) -> Any:
    """An nbformat v4 notebook: a string is a code cell, anything else a cell as given. Cell ids
    are numbered, so the same cells give the same file (and the same job version)."""
    import nbformat

    built = [
        nbformat.v4.new_code_cell(cell, id=f"c{index}") if isinstance(cell, str) else nbformat.from_dict(cell)
        for index, cell in enumerate(cells)
    ]
    kernelspec = {"name": "python3", "display_name": "Python 3", "language": language}
    return nbformat.v4.new_notebook(
        cells=built, metadata={"kernelspec": kernelspec, "language_info": {"name": language}, **metadata}
    )


def notebook_json(*cells: str | Mapping[str, Any], language: str = "python", **metadata: Any) -> str:
    """The text of `new_notebook(...)`, as Jupyter saves it."""
    import nbformat

    return nbformat.writes(new_notebook(*cells, language=language, **metadata))


def write_notebook_file(path: Path, *cells: str | Mapping[str, Any], language: str = "python") -> Path:
    """`new_notebook(*cells)` saved at `path` (folders made); the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(notebook_json(*cells, language=language))
    return path


def write_files(folder: Path, files: Mapping[str, str]) -> None:
    """Each `files` path (relative to `folder`, folders made) with its text."""
    for name, content in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(content)


def printed(source: str, text: str) -> Any:
    """A code cell whose output is `text` on stdout."""
    import nbformat

    return nbformat.v4.new_code_cell(source, outputs=[nbformat.v4.new_output("stream", name="stdout", text=text)])


def export_file(path: Path) -> Any:
    """The export of a saved notebook or script as `jupyter jobs create` makes it: the file's
    bytes read once (checked, byte-order mark dropped), then exported."""
    from jupyter_jobs.export import export_text, read_source_bytes

    return export_text(read_source_bytes(path), path.name)


def run_plain(script: str, folder: Path, env: dict[str, str] | None = None) -> str:
    """Run an exported script with ``python -S`` (no site-packages, so no IPython) in `folder`,
    as a job's plain ``python`` would; it must exit 0; its stdout."""
    path = folder / "exported.py"
    path.write_text(script, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-S", str(path)],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", **(env or {})},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


# ------------------------------------------------------------------ kernels


def run_notebook(path: Path, *cells: str) -> Any:
    """Run `cells` (default: the notebook's own) in a real kernel started in the notebook's folder,
    as Jupyter starts it; the notebook as the kernel left it (outputs, widget state)."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4) if not cells else new_notebook(*cells)
    client = NotebookClient(
        notebook, kernel_name="python3", timeout=240, resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()
    return notebook


def execute(path: Path, *cells: str) -> list[list[dict[str, Any]]]:
    """`run_notebook`'s code cells' outputs."""
    return [cell.outputs for cell in run_notebook(path, *cells).cells if cell.cell_type == "code"]


def text(outputs: list[dict[str, Any]]) -> str:
    """What a user reads in a cell's output area (streams and plain-text representations)."""
    parts = [output.get("text", "") or output.get("data", {}).get("text/plain", "") for output in outputs]
    return "".join(parts)


def offline_logs() -> list[Path]:
    """The offline W&B runs' logs written so far under this test's WANDB_DIR."""
    return sorted(Path(os.environ["WANDB_DIR"]).glob("wandb/offline-run-*/run-*.wandb"))


# ------------------------------------------------------------------ git


def git(cwd: Path, *args: str) -> str:
    """Real git in `cwd`; its stdout."""
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def init_repo(root: Path, remote: str | None = "https://github.com/acme/ml.git", committed: bool = True) -> Path:
    """A real repository at `root`; `remote=None` has no remote, `committed=False` no commits."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    if remote:
        git(root, "remote", "add", "origin", remote)
    if committed:
        (root / "README.md").write_text("# ml\n")
        commit(root, "README.md", message="init")
    return root


def commit(repo: Path, *paths: str, message: str = "notebook") -> str:
    """Add `paths` (everything when none is named) and commit them; the new commit's hash."""
    git(repo, "add", *(paths or (".",)))
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def run_in_mount_namespace(script: str, env: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """Run a shell script in a private mount namespace (real mounts, gone when it exits), with
    `env` added to its environment; each line it prints, as JSON. Skips where mount namespaces
    are not allowed (not root)."""
    import pytest

    probe = subprocess.run(["unshare", "--mount", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"needs mount namespaces (root with CAP_SYS_ADMIN): {probe.stderr.strip()}")
    completed = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-ec", script],
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT), **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    return [json.loads(line) for line in completed.stdout.splitlines()]


# ------------------------------------------------------------------ the command line


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The real command line in a real process, as a user runs it: for what only a process shows
    (exit status of the interpreter, settings wandb reads once per process, pipes, imports)."""
    return subprocess.run(
        [sys.executable, "-m", "jupyter_jobs.cli", *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT), **(env or {})},
        capture_output=True,
        text=True,
        timeout=240,
    )


def run_cli_here(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`jupyter jobs ARGS` through the CLI's `main` in this process: what `run_cli` proves about
    the command's words, status and output, minus a Python start-up."""
    from jupyter_jobs.cli import main

    out, err = io.StringIO(), io.StringIO()
    with (
        mock.patch.dict(os.environ, env or {}),
        contextlib.chdir(cwd or Path.cwd()),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        code = main(list(args))
    return subprocess.CompletedProcess(["jupyter-jobs", *args], code, out.getvalue(), err.getvalue())


# ------------------------------------------------------------------ servers and waiting


def wait_until(ready: Callable[[], bool], what: str, seconds: float = 120, every: float = 0.2) -> None:
    """Poll `ready()` until it is true; fail saying `what` did not happen within `seconds`."""
    deadline = time.monotonic() + seconds
    while not ready():
        assert time.monotonic() < deadline, f"{what} within {seconds:g} s"
        time.sleep(every)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_answers(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


class JupyterServer:
    """A running `jupyter server` or `jupyter lab` process on 127.0.0.1 and its REST API."""

    def __init__(self, url: str, token: str, process: subprocess.Popen[bytes], log: Path) -> None:
        self.url = url
        self.token = token
        self.process = process
        self.log = log

    def api(self, method: str, path: str, body: Any = None, timeout: float = 60) -> Any:
        """Call `path` of the server's REST API with the token; the JSON reply."""
        request = urllib.request.Request(
            f"{self.url}/{path}?token={self.token}",
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
        )
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            return json.load(reply) if reply.status != 204 else None

    def answers(self) -> bool:
        """True once `api/status` answers; fails (with the log's tail) if the process has exited."""
        assert self.process.poll() is None, f"jupyter exited with {self.process.returncode}:\n{self.tail()}"
        try:
            self.api("GET", "api/status", timeout=5)
        except (urllib.error.URLError, OSError):
            return False
        return True

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


@contextlib.contextmanager
def jupyter_server(
    root: Path,
    log: Path,
    *options: str,
    app: str = "jupyter_server",
    token: str = "jupyter-jobs-test",
    env: Mapping[str, str] | None = None,
) -> Iterator[JupyterServer]:
    """A real `python -m APP` serving `root` on a free port, started, waited for and stopped."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        app,
        "--no-browser",
        f"--port={port}",
        "--ServerApp.ip=127.0.0.1",
        "--ServerApp.port_retries=0",
        "--allow-root",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        *options,
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=root, env=dict(env or os.environ), stdout=out, stderr=subprocess.STDOUT)
    server = JupyterServer(f"http://127.0.0.1:{port}", token, process, log)
    try:
        wait_until(server.answers, f"{app} answered (log: {log})")
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# ------------------------------------------------------------------ W&B Launch (tests/launch_agent.py)

AGENT_GIT_CONFIG = "agent.gitconfig"  # the Launch agent's global git configuration, in tmp_path


def agent_env(server: wandb_server.WandbServer, tmp_path: Path) -> dict[str, str]:
    """The environment of a machine logged in to W&B (the stand-in) whose entity is the agent's."""
    from .wandb_server import API_KEY

    env = {
        **os.environ,
        "WANDB_BASE_URL": server.url,
        "WANDB_API_KEY": API_KEY,
        "PYTHONPATH": str(REPO_ROOT),
        # `wandb` and the `python` Launch runs: this environment's, as in Launch's own image.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    env.pop("WANDB_ENTITY", None)
    env.pop("WANDB_MODE", None)  # online, against the stand-in
    if (tmp_path / AGENT_GIT_CONFIG).exists():
        env["GIT_CONFIG_GLOBAL"] = str(tmp_path / AGENT_GIT_CONFIG)
    return env


def published(server: wandb_server.WandbServer, store: Path, record: dict[str, Any], tmp_path: Path) -> str:
    """Put a stored job into W&B as a user without a login does: `jupyter jobs publish` makes an
    offline run and prints its `wandb sync` command, which is then run logged in. The job
    reference a Launch queue item carries."""
    result = run_cli("publish", f"{record['name']}:{record['version']}", "--store", str(store), "--json")
    assert result.returncode == 0, result.stderr
    offline = json.loads(result.stdout)
    assert not offline["online"] and (" -e " in offline["sync_command"]) == bool(LAUNCH_JOB_ENTITY)
    sync = subprocess.run(
        shlex.split(offline["sync_command"]),
        env=agent_env(server, tmp_path),
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert sync.returncode == 0, sync.stderr[-3000:]
    assert server.uncommitted() == [] and {a.name for a in server.committed("job")} == {record["name"]}
    return f"{AGENT_ENTITY}/{record['project']}/{record['name']}:{content_alias(record)}"


def launch(
    server: wandb_server.WandbServer,
    job: str,
    tmp_path: Path,
    config: dict[str, Any] | None = None,
    resource: str = "local-process",
    run: bool = False,
    files: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """W&B Launch's loading (and running) of `job`, in an agent process; what it saw."""
    out = tmp_path / "launched.json"
    env = agent_env(server, tmp_path)
    args = [sys.executable, "-m", "tests.launch_agent", job, str(out), "--config", json.dumps(config or {})]
    args += ["--files", json.dumps(files or {})]
    args += ["--resource", resource]
    done = subprocess.run(
        [*args, *(["--run"] if run else [])],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(out.read_text())


# ------------------------------------------------------------------ records


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
