"""The command line as a user runs it: its `main` in this process, a real store, offline. The
console script in its own process: the first test here, and the entity, credentials, examples
and launch tests."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from . import wandb_log
from .helpers import REPO_ROOT, TRAIN_CELLS, commit, notebook_json
from .helpers import run_cli_here as run_cli

NAME = "job-source-job_example-canonical_job_example.ipynb"


def test_the_console_script_in_its_own_process(store_dir: Path) -> None:
    """`jupyter jobs` as a user types it: Jupyter finds the installed `jupyter-jobs` script, whose
    exit status and two streams are the process's own."""
    scripts = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{scripts}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": str(REPO_ROOT)}

    def jupyter_jobs(*args: str) -> subprocess.CompletedProcess[str]:
        command = [str(scripts / "jupyter"), "jobs", *args, "--store", str(store_dir)]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)

    listed = jupyter_jobs("list")
    assert (listed.returncode, listed.stderr) == (0, "") and listed.stdout.startswith("No jobs yet")
    missing = jupyter_jobs("show", "job-a")
    assert (missing.returncode, missing.stdout) == (1, "")
    assert missing.stderr.startswith("error: No job named 'job-a'") and missing.stderr.count("\n") == 1


def create(path: Path, store: Path, *extra: str):
    return run_cli("create", str(path), "--project", "job_example", "--no-git", "--store", str(store), "--json", *extra)


def test_create_list_show(write_notebook, store_dir: Path) -> None:
    path = write_notebook("canonical_job_example.ipynb", "%pip install -q 'torch>=2.0' datasets", *TRAIN_CELLS)
    created = create(path, store_dir)
    assert created.returncode == 0, created.stderr
    record = json.loads(created.stdout)
    assert (record["name"], record["version"], record["source_type"]) == (NAME, "v0", "artifact")
    assert "latest" in record["aliases"]
    assert [c["outcome"] for c in record["decision"]] == ["failed", "won", "failed"]
    assert record["spec"]["input_types"]["params"]["type_map"] == {
        "learning_rate": {"wb_type": "number"},
        "epochs": {"wb_type": "number"},
    }
    assert record["spec"]["source"]["entrypoint"][1] == "canonical_job_example.py"
    assert record["code_artifact"]["name"] == "source-job_example-canonical_job_example.ipynb"
    assert record["code_artifact"]["files"] == ["canonical_job_example.ipynb", "canonical_job_example.py"]
    assert record["requirements"] == ["torch>=2.0", "datasets"]
    folder = Path(record["path"])
    assert sorted(p.name for p in folder.iterdir()) == ["record.json", "requirements.frozen.txt", "wandb-job.json"]
    assert json.loads((folder / "wandb-job.json").read_text()) == record["spec"]
    frozen = (folder / "requirements.frozen.txt").read_text()
    assert "wandb==" in frozen and "torch>=2.0" in frozen and "jupyter-jobs" not in frozen

    listed = json.loads(run_cli("list", "--store", str(store_dir), "--json").stdout)
    assert listed["total"] == 1 and listed["jobs"][0]["name"] == NAME and listed["jobs"][0]["version"] == "v0"
    shown = json.loads(run_cli("show", f"{NAME}:latest", "--store", str(store_dir), "--json").stdout)
    assert shown == record

    text = run_cli("show", NAME, "--store", str(store_dir))
    for expected in (f"{NAME}:v0", "job-<code-artifact-name>", "artifact", "learning_rate: number = 0.01", "Python 3."):
        assert expected in text.stdout


def test_same_content_same_version_new_content_next(write_notebook, store_dir: Path) -> None:
    path = write_notebook("canonical_job_example.ipynb")
    first = json.loads(create(path, store_dir).stdout)
    again = json.loads(create(path, store_dir).stdout)
    assert again["version"] == first["version"] == "v0"
    path.write_text(notebook_json(*TRAIN_CELLS, "print('more')"))
    changed = json.loads(create(path, store_dir).stdout)
    assert changed["version"] == "v1" and "latest" in changed["aliases"]
    old = json.loads(run_cli("show", f"{NAME}:v0", "--store", str(store_dir), "--json").stdout)
    assert "latest" not in old["aliases"]


def test_reading_a_store_that_does_not_exist_creates_nothing(store_dir: Path) -> None:
    listed = run_cli("list", "--store", str(store_dir))
    shown = run_cli("show", "job-a", "--store", str(store_dir))
    assert listed.returncode == 0 and listed.stdout.startswith("No jobs yet")
    assert shown.returncode == 1 and "No job named 'job-a'" in shown.stderr
    assert not store_dir.exists()


def test_dry_run_writes_nothing(write_notebook, store_dir: Path) -> None:
    result = create(write_notebook("canonical_job_example.ipynb"), store_dir, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["version"] == "v0"
    assert not store_dir.exists()  # not even an empty store was made
    listed = json.loads(run_cli("list", "--store", str(store_dir), "--json").stdout)
    assert listed["total"] == 0


def test_a_script_becomes_a_job(tmp_path: Path, store_dir: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text("import wandb\nrun = wandb.init(config={'lr': 0.1, 'arch': 'cnn'})\nrun.finish()\n")
    record = json.loads(run_cli("create", str(script), "--store", str(store_dir), "--json").stdout)
    assert record["name"] == "job-source-uncategorized-train.py"
    assert record["code_artifact"]["files"] == ["train.py"]
    assert record["spec"]["input_types"]["params"]["type_map"] == {
        "lr": {"wb_type": "number"},
        "arch": {"wb_type": "string"},
    }


def test_git_job_from_the_command_line(git_repo, write_notebook, store_dir: Path) -> None:
    repo = git_repo(remote="https://oauth2:glpat-SeCrEt@gitlab.com/acme/ml.git")
    path = write_notebook("nb/train.ipynb", folder=repo)
    commit(repo, message="nb")
    result = run_cli("create", str(path), "--store", str(store_dir), "--json")
    record = json.loads(result.stdout)
    assert record["source_type"] == "repo"
    assert record["name"] == "job-https___gitlab.com_acme_ml.git_nb_train.ipynb"
    assert record["spec"]["source"]["notebook"] is True
    assert record["spec"]["source"]["entrypoint"][1] == "nb/train.ipynb"
    stored_text = "".join(
        p.read_text(errors="replace") for p in store_dir.rglob("*") if p.is_file() and p.suffix != ".sqlite"
    )
    assert "SeCrEt" not in stored_text + result.stdout + result.stderr


def test_a_notebook_launch_would_break_passes_git_over_in_auto_mode(git_repo, write_notebook, store_dir: Path) -> None:
    """W&B Launch runs a git notebook through its converter, which breaks on `!` commands and
    magics: auto mode gives the code artifact and says why, cell by cell; --source git still
    gives git, warning about each construct; --no-git says nothing of the converter."""
    repo = git_repo()
    path = write_notebook("train.ipynb", "!echo hello", "%matplotlib inline\nx = 1", folder=repo)
    commit(repo, message="nb")

    def create(*extra: str) -> dict:
        result = run_cli("create", str(path), "--store", str(store_dir), "--json", "--dry-run", *extra)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def hazards(record: dict) -> list[str]:
        return [w for w in record["warnings"] if "converter breaks on it" in w]

    auto = create()
    git_check, artifact_check, _ = auto["decision"]
    assert auto["source_type"] == "artifact" and auto["spec"]["source"]["entrypoint"] == ["python", "train.py"]
    assert git_check["check"] == "git" and git_check["outcome"] == "passed"
    assert "passed over" in git_check["reason"]
    assert "cell 1, line 1: `!echo hello` is dropped" in git_check["reason"]
    assert "cell 2, line 1: line magic %matplotlib" in git_check["reason"]
    assert artifact_check["outcome"] == "won" and hazards(auto) == []

    forced = create("--source", "git")
    found = hazards(forced)
    assert forced["source_type"] == "repo" and forced["spec"]["source"]["notebook"] is True
    assert len(found) == 2 and found[0].startswith("cell 1, line 1: `!echo hello` is dropped") and "cell 2" in found[1]
    no_git = create("--no-git")
    assert hazards(no_git) == [] and "converter" not in no_git["decision"][0]["reason"]


def test_a_plain_notebook_in_a_repository_is_a_git_job(git_repo, write_notebook, store_dir: Path) -> None:
    """No IPython syntax: W&B Launch's converter makes a working script of it, so W&B's order stands."""
    repo = git_repo()
    path = write_notebook("train.ipynb", folder=repo)
    commit(repo, message="nb")
    record = json.loads(run_cli("create", str(path), "--store", str(store_dir), "--json", "--dry-run").stdout)
    assert record["source_type"] == "repo" and record["decision"][0]["outcome"] == "won"
    assert record["spec"]["source"]["entrypoint"] == ["python", "train.ipynb"]


@pytest.mark.parametrize(
    ("setup", "args", "message"),
    [
        (lambda d: None, ["create", "{d}/missing.ipynb"], "does not exist"),
        (lambda d: (d / "bad.ipynb").write_text("{not json"), ["create", "{d}/bad.ipynb"], "bad.ipynb"),
        (lambda d: (d / "r.ipynb").write_text(notebook_json("x <- 1", language="R")), ["create", "{d}/r.ipynb"], "R"),
        (
            lambda d: (d / "s.ipynb").write_text(notebook_json("x = 1", "def f(:\n  pass")),
            ["create", "{d}/s.ipynb"],
            "Cell 2",
        ),
        (lambda d: None, ["show", "no-such-job"], "no-such-job"),
        (
            lambda d: (d / "ok.ipynb").write_text(notebook_json("x = 1")),
            ["create", "{d}/ok.ipynb", "--name", "///"],
            "no usable",
        ),
        (
            lambda d: (d / "ok.ipynb").write_text(notebook_json("x = 1")),
            ["create", "{d}/ok.ipynb", "--source", "git"],
            "git source",
        ),
        (
            lambda d: (d / "ok.ipynb").write_text(notebook_json("x = 1")),
            ["create", "{d}/ok.ipynb", "--source", "image"],
            "image source",
        ),
    ],
)
def test_user_mistakes_get_one_line(tmp_path: Path, store_dir: Path, setup, args: list[str], message: str) -> None:
    setup(tmp_path)
    result = run_cli(*[a.format(d=tmp_path) for a in args], "--store", str(store_dir))
    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr


@pytest.mark.wandb_facing
def test_run_a_stored_job_with_an_override(write_notebook, store_dir: Path, tmp_path: Path) -> None:
    path = write_notebook("canonical_job_example.ipynb")
    assert create(path, store_dir).returncode == 0
    workdir = tmp_path / "work"
    ran = run_cli(
        "run", NAME, "--config", "learning_rate=0.1", "--workdir", str(workdir), "--store", str(store_dir), "--json"
    )
    outcome = json.loads(ran.stdout)
    assert ran.returncode == 0 and outcome["exit_code"] == 0, (workdir / "output.log").read_text()
    run_dir = Path(outcome["run_dir"])
    config = wandb_log.config(run_dir)
    assert config["learning_rate"] == 0.1 and config["epochs"] == 10
    assert wandb_log.exit_code(run_dir) == 0


def test_runs_are_recorded_and_shown_newest_first(write_notebook, store_dir: Path, tmp_path: Path) -> None:
    """SPEC: a local run is recorded; `show` lists the job's runs with how each ended."""
    path = write_notebook("canonical_job_example.ipynb", *TRAIN_CELLS)
    assert create(path, store_dir).returncode == 0
    first = run_cli(
        "run", NAME, "--config", "learning_rate=0.1", "--workdir", str(tmp_path / "a"), "--store", str(store_dir)
    )
    assert first.returncode == 0, first.stderr
    assert "finished in" in first.stdout
    write_notebook("canonical_job_example.ipynb", *TRAIN_CELLS, "raise SystemExit(3)")
    assert create(path, store_dir).returncode == 0
    second = run_cli("run", NAME, "--workdir", str(tmp_path / "b"), "--store", str(store_dir))
    assert second.returncode == 3 and "failed with exit code 3" in second.stdout

    listed = run_cli("runs", NAME, "--store", str(store_dir), "--json")
    runs = json.loads(listed.stdout)["runs"]
    assert [(run["job"], run["exit_code"], run["overrides"]) for run in runs] == [
        (f"{NAME}:v1", 3, {}),
        (f"{NAME}:v0", 0, {"learning_rate": 0.1}),
    ]
    assert runs[1]["log"] == str(tmp_path / "a" / "output.log") and runs[0]["seconds"] > 0
    text = run_cli("show", NAME, "--store", str(store_dir)).stdout.splitlines()
    listed = text[text.index("Local runs (newest first)") + 1 :]
    assert [line.split()[1:3] for line in listed[::2]] == [["v1", "failed"], ["v0", "finished"]]
    assert listed[1] == "      exit code 3"  # a failed run says why, under its row
    assert "learning_rate=0.1" in listed[2] and "(no overrides)" in listed[0]


def test_a_job_never_run_says_how_to_run_it(write_notebook, store_dir: Path) -> None:
    assert create(write_notebook("canonical_job_example.ipynb", *TRAIN_CELLS), store_dir).returncode == 0
    shown = run_cli("show", NAME, "--store", str(store_dir))
    assert "Local runs (none yet: jupyter jobs run NAME)" in shown.stdout
    assert json.loads(run_cli("runs", NAME, "--store", str(store_dir), "--json").stdout) == {"job": NAME, "runs": []}
    unknown = run_cli("runs", "job-nothing", "--store", str(store_dir))
    assert unknown.returncode == 1 and unknown.stderr.startswith("error: No job named")


def test_compare_shows_what_changed_between_versions(write_notebook, store_dir: Path) -> None:
    """SPEC 3: the store lets the command line compare jobs; each changed part is a unified diff."""
    first = (
        "import wandb\nrun = wandb.init(project='job_example', config={'learning_rate': 0.01, 'epochs': 10})",
        "print('training')",
    )
    path = write_notebook("canonical_job_example.ipynb", *first)
    assert create(path, store_dir).returncode == 0
    write_notebook(
        "canonical_job_example.ipynb",
        "%pip install -q no-such-package-xyz==1.0",
        first[0].replace("0.01", "0.1"),
        "print('training longer')",
    )
    assert create(path, store_dir).returncode == 0

    compared = json.loads(run_cli("compare", NAME, "--store", str(store_dir), "--json").stdout)

    assert (compared["before"], compared["after"]) == (f"{NAME}:v0", f"{NAME}:v1")
    diffs = {change["part"]: change["diff"].splitlines() for change in compared["changes"]}
    assert list(diffs) == ["source", "inputs", "requirements", "script"]
    assert "-learning_rate: number = 0.01" in diffs["inputs"] and "+learning_rate: number = 0.1" in diffs["inputs"]
    assert "+no-such-package-xyz==1.0" in diffs["requirements"]
    assert "-print('training')" in diffs["script"] and "+print('training longer')" in diffs["script"]
    assert diffs["script"][0] == f"--- {NAME}:v0 script"

    text = run_cli("compare", NAME, "--store", str(store_dir)).stdout
    assert text.startswith(f"Changes from {NAME}:v0 to {NAME}:v1: source, inputs, requirements, script\n")
    assert "+print('training longer')" in text.splitlines()
    same = run_cli("compare", NAME, f"{NAME}:v1", "--store", str(store_dir)).stdout
    assert same.startswith(f"{NAME}:v1 and {NAME}:v1 differ in none of")
    reverse = json.loads(run_cli("compare", f"{NAME}:v0", f"{NAME}:v1", "--store", str(store_dir), "--json").stdout)
    assert "+print('training')" in reverse["changes"][-1]["diff"].splitlines()
    first_version = run_cli("compare", f"{NAME}:v0", "--store", str(store_dir))
    assert first_version.returncode == 1 and "is the first version of its job" in first_version.stderr


def test_run_refuses_unknown_config_keys(write_notebook, store_dir: Path) -> None:
    create(write_notebook("canonical_job_example.ipynb"), store_dir)
    ran = run_cli("run", NAME, "--config", "lr=0.1", "--store", str(store_dir))
    assert ran.returncode == 1
    assert "no config key lr" in ran.stderr and "known keys: epochs, learning_rate" in ran.stderr


def test_notebook_travels_byte_for_byte_with_crlf_and_without_its_bom(tmp_path: Path, store_dir: Path) -> None:
    path = tmp_path / "windows.ipynb"
    original = ("\ufeff" + notebook_json("import wandb", "x = 1").replace("\n", "\r\n")).encode("utf-8")
    path.write_bytes(original)
    result = run_cli("create", str(path), "--store", str(store_dir), "--json")
    assert result.returncode == 0, result.stderr
    code = json.loads(result.stdout)["code_artifact"]
    assert Path(code["path"], "windows.ipynb").read_bytes() == original.removeprefix("\ufeff".encode())
    assert "x = 1" in Path(code["path"], "windows.py").read_text()


def test_check_reports_and_repairs_the_store(write_notebook, store_dir: Path) -> None:
    record = json.loads(create(write_notebook("canonical_job_example.ipynb"), store_dir).stdout)
    assert run_cli("check", "--store", str(store_dir)).stdout.strip() == "The store is consistent."
    Path(record["path"], "wandb-job.json").write_text("{}")  # someone edits a stored version by hand
    found = run_cli("check", "--store", str(store_dir))
    assert found.returncode == 1 and record["name"] in found.stdout
    assert run_cli("check", "--repair", "--store", str(store_dir)).returncode == 0
    assert run_cli("check", "--store", str(store_dir)).returncode == 0


def test_a_store_where_no_folder_can_be_made_is_one_line(write_notebook) -> None:
    path = write_notebook("canonical_job_example.ipynb")
    result = run_cli("create", str(path), "--no-git", "--store", "/proc/nope")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith("error: The job store at /proc/nope is not writable: cannot make /proc/nope")
    assert result.stderr.count("\n") == 1


def test_json_errors_are_json(store_dir: Path) -> None:
    missing = run_cli("show", "job-a", "--store", str(store_dir), "--json")
    assert missing.returncode == 1 and missing.stderr == ""
    assert json.loads(missing.stdout)["message"].startswith("No job named 'job-a'")


def test_usage_errors_with_json_are_json(capsys: pytest.CaptureFixture[str]) -> None:
    from jupyter_jobs.cli import main

    with pytest.raises(SystemExit):
        main(["list", "--json", "--limit", "many"])
    out, err = capsys.readouterr()
    assert "invalid int value: 'many'" in json.loads(out)["message"] and err == ""


def test_offset_past_the_end_is_not_an_empty_store(write_notebook, store_dir: Path) -> None:
    create(write_notebook("canonical_job_example.ipynb"), store_dir)
    past = run_cli("list", "--store", str(store_dir), "--offset", "100")
    assert past.returncode == 0
    assert past.stdout == "No jobs from offset 100: the store has 1 (use a smaller --offset)\n"


def test_runs_of_one_version(write_notebook, store_dir: Path) -> None:
    path = write_notebook("canonical_job_example.ipynb", "print('v0')")
    create(path, store_dir)
    run_cli("run", f"{NAME}:v0", "--store", str(store_dir))
    path.write_text(notebook_json("print('v1')"))
    create(path, store_dir)
    run_cli("run", NAME, "--store", str(store_dir))

    def versions_run(ref: str) -> list[str]:
        return [
            run["job"] for run in json.loads(run_cli("runs", ref, "--store", str(store_dir), "--json").stdout)["runs"]
        ]

    assert versions_run(NAME) == [f"{NAME}:v1", f"{NAME}:v0"]
    assert versions_run(f"{NAME}:v0") == [f"{NAME}:v0"]
    assert versions_run(f"{NAME}:latest") == [f"{NAME}:v1"]
    text = run_cli("runs", f"{NAME}:v0", "--store", str(store_dir)).stdout
    assert " v0 " in text and " v1 " not in text
    missing = run_cli("runs", f"{NAME}:v7", "--store", str(store_dir))
    assert missing.returncode == 1 and "has no version v7" in missing.stderr


def test_version_and_help_for_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    import argparse

    from jupyter_jobs import __version__
    from jupyter_jobs.cli import _parser, main

    with pytest.raises(SystemExit) as shown:
        main(["--version"])
    assert shown.value.code == 0 and capsys.readouterr().out == f"jupyter jobs {__version__}\n"
    parser = _parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    undocumented = [
        f"{name} {action.dest}"
        for name, command in commands.choices.items()
        for action in command._actions
        if not action.help
    ]
    assert undocumented == [] and len(commands.choices) >= 9


def test_sanitised_name_is_said(write_notebook, store_dir: Path) -> None:
    path = write_notebook("canonical_job_example.ipynb")
    result = run_cli("create", str(path), "--no-git", "--store", str(store_dir), "--name", "my trainer!")
    first, _, rest = result.stdout.partition("\n")
    assert first == (
        "Created my_trainer_:v0. The name you gave, 'my trainer!', became my_trainer_;"
        " characters outside [A-Za-z0-9_.-] became _."
    )
    assert "Named by   the name you gave · characters outside [A-Za-z0-9_.-] became _" in rest
    plain = run_cli("create", str(path), "--no-git", "--store", str(store_dir), "--name", "my-trainer")
    assert "The name you gave" not in plain.stdout and "became _" not in plain.stdout


def with_output(path: Path, text: str, count: int = 1) -> None:
    """The notebook as a re-run leaves it: the first cell's outputs and execution count changed."""
    notebook = json.loads(path.read_text())
    cell = notebook["cells"][0]
    cell["execution_count"] = count
    cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": text}]
    path.write_text(json.dumps(notebook))


def test_outputs_alone_make_no_new_version_but_are_stored_and_scanned(write_notebook, store_dir: Path) -> None:
    path = write_notebook("canonical_job_example.ipynb")
    with_output(path, "loss 0.5\n")
    first = json.loads(create(path, store_dir).stdout)
    with_output(path, "loss 0.25\n", count=7)
    again = create(path, store_dir)
    assert json.loads(again.stdout)["version"] == first["version"] == "v0"
    stored = Path(first["code_artifact"]["path"]) / "canonical_job_example.ipynb"
    assert "loss 0.5" in stored.read_text()  # the version keeps the copy it was made from, outputs included

    with_output(path, "WANDB_API_KEY=0123456789abcdef0123456789abcdef01234567\n")
    refused = run_cli("create", str(path), "--project", "job_example", "--no-git", "--store", str(store_dir))
    assert refused.returncode == 1 and "WANDB_API_KEY" not in refused.stderr and "output" in refused.stderr

    path.write_text(notebook_json(*TRAIN_CELLS, "print('more')"))
    assert json.loads(create(path, store_dir).stdout)["version"] == "v1"  # the code decides


class _Terminal(io.StringIO):
    """What a user types at a terminal (the confirmation prompt asks only there)."""

    def isatty(self) -> bool:
        return True


def test_delete_a_version_then_the_job(write_notebook, store_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from jupyter_jobs.store import JobStore

    from .helpers import sample_outcome

    path = write_notebook("canonical_job_example.ipynb")
    for extra in ("", "print('v1')", "print('v2')"):
        path.write_text(notebook_json(*TRAIN_CELLS, *([extra] if extra else [])))
        assert create(path, store_dir).returncode == 0
    JobStore.open(store_dir).record_run(NAME, sample_outcome(0, job=f"{NAME}:v2"))

    refused = run_cli("delete", f"{NAME}:v2", "--store", str(store_dir))  # not a terminal, no --yes
    assert (
        refused.returncode == 1
        and refused.stderr == f"error: Deleting {NAME}:v2 needs a yes (add --yes to delete without asking)\n"
    )
    monkeypatch.setattr("sys.stdin", _Terminal("n\n"))
    declined = run_cli("delete", f"{NAME}:latest", "--store", str(store_dir))
    assert declined.returncode == 1 and f"Delete {NAME}:v2? [y/N]" in declined.stderr
    assert json.loads(run_cli("show", NAME, "--store", str(store_dir), "--json").stdout)["version"] == "v2"

    monkeypatch.setattr("sys.stdin", _Terminal("y\n"))
    deleted = run_cli("delete", f"{NAME}:latest", "--store", str(store_dir))
    assert deleted.returncode == 0 and deleted.stdout == f"Deleted {NAME}:v2\n"
    latest = json.loads(run_cli("show", NAME, "--store", str(store_dir), "--json").stdout)
    assert latest["version"] == "v1" and "latest" in latest["aliases"]  # latest falls back
    assert not (store_dir / "jobs" / NAME / "v2").exists()
    assert run_cli("show", f"{NAME}:v2", "--store", str(store_dir)).returncode == 1
    assert json.loads(run_cli("list", "--store", str(store_dir), "--json").stdout)["jobs"][0]["versions"] == 2
    assert run_cli("check", "--store", str(store_dir)).stdout.startswith("The store is consistent.\n")

    whole = run_cli("delete", NAME, "--yes", "--json", "--store", str(store_dir))
    assert json.loads(whole.stdout) == {"deleted": [f"{NAME}:v0", f"{NAME}:v1"]}
    assert json.loads(run_cli("list", "--store", str(store_dir), "--json").stdout)["total"] == 0
    assert not (store_dir / "jobs" / NAME / "v0").exists() and not (store_dir / "runs" / NAME).exists()
    # Code no version uses stays (a create may be about to use it); `check` names it.
    assert run_cli("check", "--store", str(store_dir)).stdout.startswith("The store is consistent.\n")
    # Version numbers are never reused: the next version of the name is v3.
    assert json.loads(create(path, store_dir).stdout)["version"] == "v3"
    missing = run_cli("delete", "job-nope", "--yes", "--store", str(store_dir))
    assert missing.returncode == 1 and "No job named 'job-nope'" in missing.stderr


def test_run_folders_go_to_the_runs_directory_and_old_ones_are_removed(
    write_notebook, store_dir: Path, tmp_path: Path
) -> None:
    """Issue 13: run folders live under $JUPYTER_JOBS_RUNS, not the temp dir; the newest 50 are kept."""
    runs = Path(os.environ["JUPYTER_JOBS_RUNS"])
    for index in range(55):
        (runs / f"old-{index:02}").mkdir(parents=True)
        os.utime(runs / f"old-{index:02}", (1_000_000 + index, 1_000_000 + index))
    assert create(write_notebook("canonical_job_example.ipynb", *TRAIN_CELLS), store_dir).returncode == 0

    ran = run_cli("run", NAME, "--store", str(store_dir), "--json")

    outcome = json.loads(ran.stdout)
    assert ran.returncode == 0 and Path(outcome["workdir"]).parent == runs
    kept = sorted(p.name for p in runs.iterdir() if p.name.startswith("old-"))
    assert kept == [f"old-{index:02}" for index in range(6, 55)]  # 49 old ones and the new run: 50
    assert outcome["code"] == "the exported script canonical_job_example.py stored with the job"
