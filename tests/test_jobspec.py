"""The job spec's inputs from code, and requirements from the environment."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from jupyter_jobs import jobspec


@pytest.mark.parametrize(
    ("script", "config"),
    [
        ("import wandb\nwandb.init(config={'lr': 0.1, 'layers': [1, 2]})", {"lr": 0.1, "layers": [1, 2]}),
        ("import wandb\nrun = wandb.init(project='p', config=dict(a=1))", None),
        ("import wandb\nwandb.init(project='p')", None),
        ("import wandb\ncfg = {'a': 1}\nwandb.init(config=cfg)", None),
        ("x = 1", None),
    ],
)
def test_config_is_inferred_from_a_literal_only(script: str, config: dict | None) -> None:
    assert jobspec.infer_config(script) == config


def test_requirements_pin_the_environment_and_add_what_was_asked_for() -> None:
    import wandb

    text = jobspec.frozen_requirements(["wandb>=0.1", "not-installed-pkg==1.2", "not-installed-pkg==1.2"])
    lines = text.splitlines()
    assert f"wandb=={wandb.__version__}" in lines and "wandb>=0.1" not in lines
    assert lines.count("not-installed-pkg==1.2") == 1 and lines[-1] == "not-installed-pkg==1.2"
    assert not any(line.lower().startswith(("jupyter-jobs==", "jupyter_jobs==")) for line in lines)


def test_a_package_installed_in_a_warm_kernel_appears_in_the_next_job(tmp_path: Path, monkeypatch) -> None:
    before = jobspec.frozen_requirements()
    monkeypatch.syspath_prepend(str(tmp_path))
    assert jobspec.frozen_requirements() == before  # an empty folder on the path changes nothing
    info = tmp_path / "freshly_installed-3.1.4.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: freshly-installed\nVersion: 3.1.4\n")
    assert "freshly-installed==3.1.4" in jobspec.frozen_requirements().splitlines()
    assert sys.path[0] == str(tmp_path)


@pytest.mark.parametrize(
    ("script", "config"),
    [
        ("run = wandb.init(\n    project='p',\n    config={\n        'lr': 0.1,\n    },\n)\n", {"lr": 0.1}),
        ("for seed in range(3):\n    with wandb.init(config={'seed': 0}) as run:\n        pass\n", {"seed": 0}),
        ("x = 1\n" * 500 + "wandb.init(config={'a': [1, 2]})\n" + "y = 2\n" * 500, {"a": [1, 2]}),
        ("wandb.init(project='first')\nwandb.init(config={'second': True})\n", {"second": True}),
    ],
)
def test_config_in_multi_line_and_nested_calls(script: str, config: dict) -> None:
    assert jobspec.infer_config(script) == config
