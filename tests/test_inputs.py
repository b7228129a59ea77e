"""Job inputs a run declares (manage_wandb_config / manage_config_file), as wandb-core records them.

A notebook declares both kinds with schemas and runs in a real kernel; the job's metadata is read
back from the offline run's `.wandb` log and from the store. The same declarations made on the
command line give the same metadata; local runs check overrides against the schemas and write a
config-file override into the file the script reads. The command line is its `main`, in this
process (a run's job still runs in its own, and publishing to W&B Launch is whole processes).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from jupyter_jobs.store import JobStore
from jupyter_jobs.widget import render_html

from . import wandb_log
from .cases import CONFIG_SCHEMA, CONFIG_YAML, DECLARING_CELLS, FILE_SCHEMA, create_declaring_inputs, inputs_project
from .helpers import AGENT_ENTITY, execute, launch, offline_logs, published, run_cli_here, text

pytestmark = pytest.mark.wandb_facing

NAME = "job-source-job_example-train.ipynb"
# What wandb-core's job builder puts in the job artifact's metadata for these declarations.
EXPECTED_INPUT_TYPES = {
    "@wandb.config": {
        "wb_type": "typedDict",
        "params": {
            "type_map": {
                "learning_rate": {"wb_type": "number"},
                "optimizer": {"wb_type": "typedDict", "params": {"type_map": {"name": {"wb_type": "string"}}}},
            }
        },
    },
    "files": {
        "config.yaml": {
            "wb_type": "typedDict",
            "params": {
                "type_map": {
                    "training": {
                        "wb_type": "typedDict",
                        "params": {"type_map": {"epochs": {"wb_type": "number"}, "batch_size": {"wb_type": "number"}}},
                    }
                }
            },
        }
    },
}
EXPECTED_SCHEMAS = {"@wandb.config": CONFIG_SCHEMA, "files": {"config.yaml": FILE_SCHEMA}}
EMPTY_TYPED_DICT = {"wb_type": "typedDict", "params": {"type_map": {}}}


def assert_declared_metadata(metadata: dict[str, Any]) -> None:
    assert metadata["input_types"] == EXPECTED_INPUT_TYPES
    assert metadata["input_schemas"] == EXPECTED_SCHEMAS
    assert set(metadata) == {"input_types", "output_types", "input_schemas"}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A folder with the training notebook and the config file it declares."""
    return inputs_project(tmp_path, "%load_ext jupyter_jobs", *DECLARING_CELLS, "%wandb_job", "run.finish()")


@pytest.mark.kernel
def test_a_notebook_declaring_inputs_makes_a_job_with_them(project: Path, kernel_env, store_dir: Path) -> None:
    kernel_env("train.ipynb")
    outputs = execute(project / "train.ipynb")
    assert "Created" in text(outputs[4]), text(outputs[4])

    record = JobStore.open(store_dir).resolve(NAME).record.to_json()
    assert_declared_metadata(record["metadata"])
    assert record["spec"]["input_types"] == EMPTY_TYPED_DICT  # wandb-job.json types no config then
    assert "config.yaml" in record["code_artifact"]["files"]
    stored_yaml = Path(record["code_artifact"]["path"]) / "config.yaml"
    assert stored_yaml.read_text() == CONFIG_YAML

    (log,) = offline_logs()
    code, job = wandb_log.artifacts(log.parent)
    assert_declared_metadata(json.loads(job.metadata))
    assert json.loads(job.metadata)["output_types"]["params"]["type_map"]["loss"] == {"wb_type": "number"}
    assert "config.yaml" in {entry.path for entry in code.manifest.contents}


def test_the_command_line_declares_inputs_without_a_run(project: Path, store_dir: Path) -> None:
    created = create_declaring_inputs(project, store_dir)
    assert created.returncode == 0, created.stderr
    record = json.loads(created.stdout)
    assert_declared_metadata(record["metadata"])
    assert record["config_files"] == {"config.yaml": {"training": {"epochs": 4, "batch_size": 32}}}


def test_the_inputs_are_shown_with_their_files_and_constraints(project: Path, store_dir: Path) -> None:
    """`show`, the widget's HTML and `compare` list each key with its default and what the schema allows."""
    assert create_declaring_inputs(project, store_dir).returncode == 0
    shown = run_cli_here("show", NAME, "--store", str(store_dir))
    expected = [
        "learning_rate: number = 0.01 (number, 0 <= x <= 1)",
        "optimizer.name: string = 'adam' (string, one of adam, sgd)",
        "config.yaml:training.epochs: number = 4 (integer, 1 <= x)",
        "config.yaml:training.batch_size: number = 32",
    ]
    for line in expected:
        assert line in shown.stdout
    assert "epochs" not in shown.stdout.split("config.yaml:")[0]  # excluded config keys are not inputs
    assert "model" not in shown.stdout.split("Inputs")[1].split("\n")[0]

    record = JobStore.open(store_dir).resolve(NAME).record
    page = render_html(record)
    for cell in (
        "wandb.config",
        "config.yaml",
        "training.epochs",
        "integer, 1 &lt;= x",
        "one of adam, sgd",
        "&#x27;adam&#x27;",
    ):
        assert cell in page


def test_changing_only_a_schema_makes_a_new_version_and_compare_shows_it(project: Path, store_dir: Path) -> None:
    assert json.loads(create_declaring_inputs(project, store_dir).stdout)["version"] == "v0"
    tighter = {
        **CONFIG_SCHEMA,
        "properties": {**CONFIG_SCHEMA["properties"], "learning_rate": {"type": "number", "maximum": 0.1}},
    }
    (project / "tighter.json").write_text(json.dumps(tighter))
    args = ["create", str(project / "train.ipynb"), "--project", "job_example", "--no-git", "--store", str(store_dir)]
    options = ["--include-key", "learning_rate", "--include-key", "optimizer", "--exclude-key", "optimizer.eps"]
    options += [
        "--schema",
        str(project / "tighter.json"),
        "--input-file",
        "config.yaml",
        "--include-key",
        "config.yaml:training",
    ]
    again = run_cli_here(*args, "--json", *options)
    assert json.loads(again.stdout)["version"] == "v1", again.stderr
    compared = run_cli_here("compare", NAME, "--store", str(store_dir))
    assert "-learning_rate: number = 0.01 (number, 0 <= x <= 1)" in compared.stdout
    assert "+learning_rate: number = 0.01 (number, x <= 0.1)" in compared.stdout


def test_without_declarations_a_job_keeps_the_config_as_its_inputs(project: Path, store_dir: Path) -> None:
    args = ["create", str(project / "train.ipynb"), "--project", "job_example", "--no-git", "--store", str(store_dir)]
    record = json.loads(run_cli_here(*args, "--json").stdout)
    assert record["metadata"] is None
    assert set(record["spec"]["input_types"]["params"]["type_map"]) == {"learning_rate", "epochs", "optimizer", "seed"}


def run_stored(store: Path, *options: str):
    return run_cli_here("run", NAME, "--store", str(store), *options)


def test_a_config_file_override_reaches_the_file_the_script_reads(project: Path, store_dir: Path) -> None:
    assert create_declaring_inputs(project, store_dir).returncode == 0
    workdir = project / "work"
    ran = run_stored(
        store_dir,
        "--workdir",
        str(workdir),
        "--file-config",
        "config.yaml:training.epochs=2",
        "--config",
        "learning_rate=0.5",
        "--json",
    )
    assert ran.returncode == 0, ran.stderr + ran.stdout
    outcome = json.loads(ran.stdout)
    assert "epochs from file 2 lr 0.5" in Path(outcome["log"]).read_text()
    assert outcome["file_overrides"] == {"config.yaml": {"training": {"epochs": 2}}}
    assert "epochs: 2" in (workdir / "config.yaml").read_text()
    assert (project / "config.yaml").read_text() == CONFIG_YAML  # the user's own file is untouched


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        ("learning_rate=2", "config key learning_rate=2 breaks the schema's 'maximum' rule"),
        ('learning_rate="fast"', "config key learning_rate=\"fast\" breaks the schema's 'type' rule"),
        ('optimizer={"name": "rmsprop"}', "breaks the schema's 'enum' rule"),
        ("seed=3", "The job has no config key seed (known keys: learning_rate, optimizer)"),
    ],
)
def test_config_overrides_that_break_the_schema_are_one_line_errors(
    project: Path, store_dir: Path, option: str, expected: str
) -> None:
    assert create_declaring_inputs(project, store_dir).returncode == 0
    ran = run_stored(store_dir, "--config", option)
    assert ran.returncode == 1
    assert expected in ran.stderr and ran.stderr.count("\n") == 1, ran.stderr
    assert JobStore.open(store_dir).runs(NAME) == []  # nothing ran


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        ("config.yaml:training.epochs=0", "config.yaml key training.epochs=0 breaks the schema's 'minimum' rule"),
        ("config.yaml:model.name=vgg", "config.yaml has no input key model.name"),
        ("other.yaml:epochs=1", "The job has no config file other.yaml (its config files: config.yaml)"),
        ("config.yaml", "Cannot read the file override"),
    ],
)
def test_file_overrides_are_checked_before_the_run(project: Path, store_dir: Path, option: str, expected: str) -> None:
    assert create_declaring_inputs(project, store_dir).returncode == 0
    ran = run_stored(store_dir, "--file-config", option)
    assert ran.returncode == 1
    assert expected in ran.stderr and ran.stderr.count("\n") == 1, ran.stderr


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--input-file", "../config.yaml"], "Invalid config file path ../config.yaml"),
        (["--input-file", "missing.yaml"], "No config file missing.yaml next to the notebook"),
        (["--input-file", "train.ipynb"], "only JSON and YAML files can be inputs"),
    ],
)
def test_bad_declarations_on_the_command_line(project: Path, store_dir: Path, extra: list[str], expected: str) -> None:
    created = create_declaring_inputs(project, store_dir, *extra)
    assert created.returncode == 1, created.stderr
    assert expected in json.loads(created.stdout)["message"]  # with --json, the error is one JSON object


def test_a_schema_launch_cannot_read_is_refused(project: Path, store_dir: Path) -> None:
    (project / "bad.json").write_text(json.dumps({"type": "object", "properties": {"lr": {"type": "float"}}}))
    args = ["create", str(project / "train.ipynb"), "--no-git", "--store", str(store_dir), "--schema"]
    created = run_cli_here(*args, str(project / "bad.json"))
    assert created.returncode == 1 and "is not one W&B Launch reads: at properties/lr/type" in created.stderr


@pytest.mark.usefixtures("launch_job_entity")
def test_launch_loads_the_job_and_its_config_file_override_reaches_the_file(
    project: Path, store_dir: Path, tmp_path: Path
) -> None:
    """W&B Launch's own loader (tests/launch_agent.py) takes the job from the W&B stand-in, with
    the metadata wandb-core would have written, and runs it with the Launch drawer's overrides:
    the config-file override reaches the file the script reads."""
    from .wandb_server import WandbServer

    created = create_declaring_inputs(project, store_dir)
    record = json.loads(created.stdout)
    with WandbServer(entity=AGENT_ENTITY) as server:
        job = published(server, store_dir, record, tmp_path)
        (artifact,) = server.committed("job")
        assert_declared_metadata(json.loads(artifact.metadata))

        seen = launch(
            server,
            job,
            tmp_path,
            config={"learning_rate": 0.5},
            files={"config.yaml": {"training": {"epochs": 2}}},
            run=True,
        )
    assert "config.yaml" in seen["files"]
    assert seen["exit_code"] == 0, seen["log"][-3000:]
    assert "epochs from file 2 lr 0.5" in " ".join(seen["log"].split())  # Launch's log: a pseudo-terminal's
