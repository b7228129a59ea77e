"""The wandb range: what a user with an older, tested or newer wandb is told.

The same W&B-facing tests run against the oldest supported and the newest tested wandb in
noxfile.py; these check the range itself and the messages at its edges.
"""

from __future__ import annotations

import sys

import pytest
from packaging.requirements import Requirement

from jupyter_jobs import wandb_compat
from jupyter_jobs.errors import JobError

from .helpers import REPO_ROOT

pytestmark = pytest.mark.wandb_facing

tomllib = pytest.importorskip("tomllib")  # Python 3.11+


@pytest.mark.parametrize("version", ["0.19.11", "0.21.4"])
def test_wandb_older_than_supported_is_refused_with_the_fix(version: str) -> None:
    with pytest.raises(JobError) as error:
        wandb_compat.check_version(version)
    assert str(error.value) == f'jupyter-jobs needs wandb >=0.22, found wandb {version} (pip install "wandb>=0.22")'


@pytest.mark.parametrize("version", ["0.32.0", "1.0.0rc1"])
def test_wandb_newer_than_tested_is_allowed_with_a_warning_naming_the_tested_range(version: str) -> None:
    with pytest.warns(wandb_compat.UntestedWandbWarning) as caught:
        wandb_compat.check_version(version)
    assert str(caught[0].message) == (
        f"jupyter-jobs is tested with wandb 0.22 to 0.31; wandb {version} is newer. "
        'If creating or logging a job fails, pip install "wandb<0.32"'
    )


@pytest.mark.parametrize("version", ["0.22.0", "0.25.1", "0.31.0", "0.31.1rc2"])
def test_tested_wandb_versions_pass_silently(version: str, recwarn: pytest.WarningsRecorder) -> None:
    wandb_compat.check_version(version)
    assert not recwarn.list


def test_the_package_requires_the_oldest_tested_wandb_and_caps_no_newer_one() -> None:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    (wandb,) = [Requirement(line) for line in project["dependencies"] if Requirement(line).name == "wandb"]
    assert str(wandb.specifier) == f">={'.'.join(wandb_compat.TESTED_RELEASES[0].split('.')[:2])}"


def test_a_wandb_without_the_internal_artifact_class_is_one_line_with_the_fix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import wandb

    monkeypatch.setitem(sys.modules, "wandb.sdk.artifacts._internal_artifact", None)  # what a removal looks like
    with pytest.raises(JobError) as error:
        wandb_compat.internal_artifact("job-x", "job")
    assert str(error.value) == (
        f"wandb {wandb.__version__} lacks wandb.sdk.artifacts._internal_artifact, which jupyter-jobs needs "
        '(tested with wandb 0.22 to 0.31) (pip install "wandb>=0.22,<0.32")'
    )
