"""Which entity a job names: the order, and the empty form W&B Launch fills with its agent's entity.

Each case runs the real command line in a fresh process (wandb reads its settings once per
process) and reads the code reference back with W&B Launch's own parser.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import wandb
from wandb.sdk.artifacts._validators import ArtifactPath
from wandb.util import parse_artifact_string

from jupyter_jobs.core import CreateRequest, create_job
from jupyter_jobs.entity import NO_ENTITY_WARNING
from jupyter_jobs.magic import _create

from .helpers import AGENT_ENTITY, run_cli
from .wandb_server import API_KEY, WandbServer

pytestmark = pytest.mark.wandb_facing

ENTITY_QUERIES = {
    "GetDefaultEntity",
    "Viewer",
}  # how wandb asks the account's entity (0.31; 0.22)

# (case, --entity, WANDB_ENTITY, entity in wandb's settings file, expected entity)
CASES = [
    ("--entity", "acme", "team-env", "team-settings", "acme"),
    ("WANDB_ENTITY", None, "team-env", "team-settings", "team-env"),
    ("wandb settings", None, None, "team-settings", "team-settings"),
    ("none", None, None, None, None),
]


def launch_resolves(reference: str) -> str:
    """The `entity/project/name:alias` W&B Launch fetches for a code reference, as an agent whose
    entity is AGENT_ENTITY reads it (wandb.apis.public.Api._parse_artifact_path)."""
    path, base_url, is_id = parse_artifact_string(reference)
    assert base_url is None and not is_id
    return ArtifactPath.from_str(path).with_defaults(prefix=AGENT_ENTITY).to_str()


@pytest.mark.parametrize(("case", "flag", "env", "setting", "expected"), CASES, ids=[case[0] for case in CASES])
def test_entity_order(write_notebook, store_dir: Path, tmp_path: Path, case: str, flag, env, setting, expected) -> None:
    config_dir = tmp_path / "wandb-config"
    config_dir.mkdir()
    if setting:
        (config_dir / "settings").write_text(f"[default]\nentity = {setting}\n")
    environment = {"WANDB_CONFIG_DIR": str(config_dir), **({"WANDB_ENTITY": env} if env else {})}
    args = ["create", str(write_notebook()), "--project", "job_example", "--store", str(store_dir), "--json"]
    result = run_cli(*args, *(["--entity", flag] if flag else []), env=environment)
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)

    code = record["code_artifact"]
    reference = record["spec"]["source"]["artifact"]
    assert record["entity"] == expected
    assert reference == f"wandb-artifact://{expected or ''}/job_example/{code['name']}:{code['alias']}"
    assert launch_resolves(reference) == f"{expected or AGENT_ENTITY}/job_example/{code['name']}:{code['alias']}"
    # `wandb launch --job` takes only entity/project/name:alias: with none known, the user fills it in.
    owner = f"{expected or '<entity>'}/job_example"
    assert record["launch_command"].startswith(f"wandb launch --job {owner}/{record['name']}:sha-")
    assert (NO_ENTITY_WARNING in record["warnings"]) is (expected is None)
    assert "//_/" not in reference


def test_the_runs_entity_comes_before_wandb_entity(write_notebook, store_dir: Path, monkeypatch) -> None:
    """The magic passes the active run's entity; it wins over WANDB_ENTITY."""
    monkeypatch.setenv("WANDB_ENTITY", "team-env")
    run = wandb.init(project="job_example", entity="team-run", mode="offline")
    try:
        result = _create({}, write_notebook(), run, started_here=False, store=str(store_dir))
    finally:
        run.finish()
        wandb.teardown()  # stops wandb-core and unsets WANDB_SERVICE, which later child processes would join
    assert result.record.entity == "team-run"
    assert result.record.spec["source"]["artifact"].startswith("wandb-artifact://team-run/job_example/")


def test_entity_is_named_only_where_it_matters(git_repo, write_notebook, store_dir: Path) -> None:
    """Image jobs carry no code reference: no warning about the entity."""
    result = create_job(CreateRequest(path=write_notebook(), project="p", image="wandb/x:v1", store=store_dir))
    assert result.record.source_type == "image"
    assert NO_ENTITY_WARNING not in result.record.warnings
    assert result.record.launch_command.startswith("wandb launch --job <entity>/p/job-wandb_x:sha-")


def test_online_and_logged_in_the_accounts_default_entity(write_notebook, store_dir: Path) -> None:
    """Last in the order: asked of W&B (here its stand-in, tests/wandb_server.py) when online."""
    with WandbServer(entity="team-login") as server:
        environment = {"WANDB_MODE": "online", "WANDB_BASE_URL": server.url, "WANDB_API_KEY": API_KEY}
        args = ["create", str(write_notebook()), "--project", "job_example", "--store", str(store_dir), "--json"]
        result = run_cli(*args, env=environment)
        assert result.returncode == 0, result.stderr
        record = json.loads(result.stdout)
        assert record["entity"] == "team-login"
        assert record["spec"]["source"]["artifact"].startswith("wandb-artifact://team-login/job_example/")
        asked = len(server.operations())
        assert set(server.operations()) & ENTITY_QUERIES
        offline = run_cli(*args, env={**environment, "WANDB_MODE": "offline"})
        assert json.loads(offline.stdout)["entity"] is None  # offline: W&B is not asked
        assert len(server.operations()) == asked


def test_an_offline_run_never_asks_w_and_b(write_notebook, store_dir: Path, wandb_server) -> None:
    """Logged in but running offline (`wandb.init(mode="offline")`, maybe with no network): the
    job is made without a call to the server, so no timeout can hold the notebook up."""
    run = wandb.init(project="job_example", mode="offline")
    try:
        result = _create({}, write_notebook(), run, started_here=False, store=str(store_dir))
    finally:
        run.finish()
    assert result.record.entity is None
    assert NO_ENTITY_WARNING in result.record.warnings
    assert not set(wandb_server.operations()) & ENTITY_QUERIES
