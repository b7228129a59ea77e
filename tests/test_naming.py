"""Naming follows W&B's three conventions and its sanitiser exactly."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from wandb.util import make_artifact_name_safe

from jupyter_jobs import naming
from jupyter_jobs.errors import JobError

NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")


@pytest.mark.parametrize(
    ("remote", "path", "expected"),
    [
        ("https://github.com/acme/ml.git", "train.py", "job-https___github.com_acme_ml.git_train.py"),
        ("git@github.com:acme/ml.git", "nb/train.ipynb", "job-git_github.com_acme_ml.git_nb_train.ipynb"),
        ("https://github.com:8443/acme/ml.git", "a.py", "job-https___github.com_8443_acme_ml.git_a.py"),
    ],
)
def test_git_job_names(remote: str, path: str, expected: str) -> None:
    name = naming.git_job_name(remote, path)
    assert name.name == expected


@pytest.mark.parametrize(
    ("artifact", "expected"),
    [
        ("source-job_example-canonical_job_example.ipynb", "job-source-job_example-canonical_job_example.ipynb"),
        ("source-job_example-canonical_job_example.ipynb:v3", "job-source-job_example-canonical_job_example.ipynb"),
    ],
)
def test_code_artifact_job_names(artifact: str, expected: str) -> None:
    assert naming.artifact_job_name(artifact).name == expected


def test_code_artifact_name_is_log_codes() -> None:
    assert naming.code_artifact_name("job_example", "canonical_job_example.ipynb") == (
        "source-job_example-canonical_job_example.ipynb"
    )
    assert naming.code_artifact_name("my proj", "sub dir/nb (1).ipynb") == "source-my_proj-sub_dir_nb__1_.ipynb"


@pytest.mark.parametrize(
    ("image", "expected", "aliases"),
    [
        ("wandb/job_example:v1", "job-wandb_job_example", ("v1",)),
        ("wandb/job_example", "job-wandb_job_example", ()),
        ("registry.io:5000/team/img:2024.01-rc_1", "job-registry.io_5000_team_img", ("2024.01-rc_1",)),
        ("img:bad/tag", "job-img_bad_tag", ()),
    ],
)
def test_image_job_names(image: str, expected: str, aliases: tuple[str, ...]) -> None:
    name = naming.image_job_name(image)
    assert (name.name, name.aliases) == (expected, aliases)


@pytest.mark.wandb_facing
def test_long_names_keep_63_and_63_characters() -> None:
    path = "deeply/nested/" * 20 + "train.ipynb"
    name = naming.git_job_name("https://github.com/acme/ml.git", path)
    assert len(name.name) == 128 and name.name[63:65] == ".."
    assert name.name == make_artifact_name_safe(f"job-https://github.com/acme/ml.git_{path}")
    assert name.describe().to_json()["truncated"] is True


def test_user_given_name_wins_and_is_sanitised() -> None:
    name = naming.artifact_job_name("source-p-nb.ipynb", user_name="my job/v2")
    assert name.name == "my_job_v2"
    assert name.rule == "the name you gave"


@pytest.mark.parametrize("bad", ["", "   ", "///", "..", "."])
def test_user_name_that_sanitises_to_nothing_is_refused(bad: str) -> None:
    with pytest.raises(JobError, match="no usable characters"):
        naming.image_job_name("img", user_name=bad)


@pytest.mark.wandb_facing
@given(st.text(max_size=400))
def test_our_sanitiser_is_wandbs(raw: str) -> None:
    assert naming.make_safe(raw) == make_artifact_name_safe(raw)


@given(remote=st.text(min_size=1, max_size=200), path=st.text(min_size=1, max_size=200))
def test_every_name_is_valid_and_deterministic(remote: str, path: str) -> None:
    first = naming.git_job_name(remote, path).name
    assert NAME_PATTERN.match(first)
    assert naming.git_job_name(remote, path).name == first
    assert NAME_PATTERN.match(naming.image_job_name(remote).name)
    assert NAME_PATTERN.match(naming.artifact_job_name(naming.code_artifact_name(remote, path)).name)
