"""The source decision, checked against real git repositories made in temp dirs."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from jupyter_jobs.errors import JobError
from jupyter_jobs.models import SourceChoice
from jupyter_jobs.source import SourceDecision, check_sources, choose_source, diff_within, launch_can_fetch

from .helpers import commit, git


def decide_source(
    path: Path,
    *,
    choice: SourceChoice = "auto",
    no_git: bool = False,
    image: str | None = None,
    launch_hazards: tuple[str, ...] = (),
) -> SourceDecision:
    """The decision as `create_job` makes it: the git and image checks, then W&B's order."""
    return choose_source(check_sources(path, no_git=no_git, image=image), choice=choice, launch_hazards=launch_hazards)


def outcomes(decision) -> dict[str, str]:
    return {check.check: check.outcome for check in decision.checks}


def committed_notebook(repo: Path, write_notebook: Callable[..., Path], name: str = "nb/train.ipynb") -> Path:
    path = write_notebook(name, folder=repo)
    commit(repo, name, message="add notebook")
    return path


def test_repo_with_remote_wins(git_repo, write_notebook) -> None:
    repo = git_repo(remote="https://user:tok3n@github.com/acme/ml.git")
    path = committed_notebook(repo, write_notebook)
    decision = decide_source(path)
    assert decision.source_type == "repo"
    assert outcomes(decision) == {"git": "won", "artifact": "skipped", "image": "failed"}
    assert decision.git.remote == "https://github.com/acme/ml.git"
    assert decision.git.commit == git(repo, "rev-parse", "HEAD")
    assert decision.git.entrypoint == "nb/train.ipynb"
    assert decision.git.diff == "" and decision.warnings == ()
    assert "tok3n" not in repr(decision)


def test_repo_without_remote_falls_to_artifact(git_repo, write_notebook) -> None:
    path = committed_notebook(git_repo(remote=None), write_notebook)
    decision = decide_source(path)
    assert decision.source_type == "artifact"
    assert outcomes(decision) == {"git": "failed", "artifact": "won", "image": "failed"}
    assert "no 'origin' remote" in decision.checks[0].reason


def test_repo_without_commits_falls_to_artifact(git_repo, write_notebook) -> None:
    path = write_notebook("train.ipynb", folder=git_repo(commit=False))
    decision = decide_source(path)
    assert decision.source_type == "artifact"
    assert "no commits" in decision.checks[0].reason


def test_disable_git(git_repo, write_notebook) -> None:
    path = committed_notebook(git_repo(), write_notebook)
    decision = decide_source(path, no_git=True)
    assert decision.source_type == "artifact"
    assert decision.checks[0].outcome == "failed" and "disable_git" in decision.checks[0].reason


def test_notebook_outside_any_repo(write_notebook) -> None:
    decision = decide_source(write_notebook())
    assert decision.source_type == "artifact"
    assert "not inside a git repository" in decision.checks[0].reason


def test_dirty_notebook_warns_and_carries_a_diff(git_repo, write_notebook) -> None:
    repo = git_repo()
    path = committed_notebook(repo, write_notebook)
    path.write_text(path.read_text().replace("0.01", "0.02"))
    decision = decide_source(path)
    assert decision.source_type == "repo"
    assert any("uncommitted changes" in w and "--source artifact" in w for w in decision.warnings)
    assert "0.02" in decision.git.diff and decision.git.diff.startswith("diff --git")


def _edit(path: Path) -> None:
    path.write_text(path.read_text().replace("0.01", "0.02"))


def _other_file_changed(repo: Path, path: Path) -> None:
    (repo / "other.txt").write_text("changed\n")


def _mode_changed(repo: Path, path: Path) -> None:
    path.chmod(0o755)


def _staged(repo: Path, path: Path) -> None:
    _edit(path)
    git(repo, "add", "--", str(path))


def _renamed_to_look_like_it(repo: Path, path: Path) -> None:
    """Without prefixes, a rename of `a/nb.ipynb` to `b/nb.ipynb` has the header `nb.ipynb`'s
    own change would have: the notebook itself is unchanged."""
    git(repo, "config", "diff.noprefix", "true")
    (repo / "b").mkdir()
    git(repo, "mv", "a/nb.ipynb", "b/nb.ipynb")


@pytest.mark.parametrize(
    ("entrypoint", "change"),
    [
        ("nb/train.ipynb", lambda repo, path: None),
        ("nb/train.ipynb", lambda repo, path: _edit(path)),
        ("nb/train.ipynb", _other_file_changed),
        ("nb/train.ipynb", _mode_changed),
        ("nb/train.ipynb", _staged),
        ("my notebooks/train run.ipynb", lambda repo, path: _edit(path)),
        ("my notebooks/train run.ipynb", _other_file_changed),
        ("nb.ipynb", _renamed_to_look_like_it),
    ],
    ids=["clean", "edited", "other file", "mode", "staged", "spaces edited", "spaces clean", "lookalike rename"],
)
def test_the_changed_warning_agrees_with_git(git_repo, write_notebook, entrypoint: str, change) -> None:
    """Whether the notebook "has uncommitted changes" is read from the whole tree's diff where
    its header says so; it must say what `git diff --quiet HEAD -- <notebook>` says."""
    repo = git_repo()
    (repo / "other.txt").write_text("committed\n")
    for name in (entrypoint, "a/nb.ipynb"):
        committed_notebook(repo, write_notebook, name)
    path = repo / entrypoint
    change(repo, path)
    quiet = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", entrypoint], cwd=repo, check=False)
    decision = decide_source(path)
    said = any(f"{entrypoint} has uncommitted changes" in warning for warning in decision.warnings)
    assert said == (quiet.returncode == 1)
    other = any("other uncommitted changes" in warning for warning in decision.warnings)
    assert other == (bool(decision.git.diff) and not said)


def test_uncommitted_notebook_warns(git_repo, write_notebook) -> None:
    path = write_notebook("new.ipynb", folder=git_repo())
    decision = decide_source(path)
    assert decision.source_type == "repo"
    assert any("new.ipynb is not committed" in w for w in decision.warnings)


def test_detached_head_pins_the_commit(git_repo, write_notebook) -> None:
    repo = git_repo()
    path = committed_notebook(repo, write_notebook)
    head = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "--detach", head)
    decision = decide_source(path)
    assert decision.git.commit == head
    assert any("detached HEAD" in w for w in decision.warnings)


@pytest.mark.parametrize("image", ["wandb/job_example:v1", "wandb/job_example"])
def test_wandb_docker_gives_an_image_job(write_notebook, image: str) -> None:
    decision = decide_source(write_notebook(), image=image)
    assert decision.source_type == "image" and decision.image == image
    assert outcomes(decision) == {"git": "failed", "artifact": "skipped", "image": "won"}


def test_git_beats_image(git_repo, write_notebook) -> None:
    decision = decide_source(committed_notebook(git_repo(), write_notebook), image="wandb/x:v1")
    assert outcomes(decision) == {"git": "won", "artifact": "skipped", "image": "passed"}


def test_malformed_image_is_ignored_with_a_warning(write_notebook) -> None:
    decision = decide_source(write_notebook(), image="Not An Image!!")
    assert decision.source_type == "artifact"
    assert any("not a valid image reference" in w for w in decision.warnings)


def test_forced_sources(git_repo, write_notebook) -> None:
    path = committed_notebook(git_repo(), write_notebook)
    forced = decide_source(path, choice="artifact")
    assert forced.source_type == "artifact"
    assert outcomes(forced) == {"git": "skipped", "artifact": "won", "image": "skipped"}
    with pytest.raises(JobError, match="Cannot use the image source"):
        decide_source(path, choice="image")
    with pytest.raises(JobError, match="Cannot use the git source: .*not inside a git repository"):
        decide_source(write_notebook("other.ipynb"), choice="git")


# W&B Launch fetches https://, ssh:// and scp-like user@host:path remotes, and refuses the rest.
REMOTES = [
    ("https://github.com/acme/ml.git", True),
    ("HTTPS://github.com/acme/ml.git", True),
    ("ssh://git@github.com/acme/ml.git", True),
    ("git@github.com:acme/ml.git", True),
    ("alice@git.example.com:acme/ml.git", True),
    ("http://git.example.com/acme/ml.git", False),
    ("file:///srv/git/ml.git", False),
    ("/srv/git/ml.git", False),
    ("../ml.git", False),
    ("git://git.example.com/acme/ml.git", False),
    ("ext::sh -c touch% /tmp/pwned", False),
    ("-uploadpack=touch@host:x", False),
    ("github.com:acme/ml.git", False),
]


@pytest.mark.wandb_facing
@pytest.mark.parametrize(("remote", "fetchable"), REMOTES)
def test_launch_can_fetch_agrees_with_launch(remote: str, fetchable: bool) -> None:
    """Our rule, held against W&B Launch's own check (which runs before it calls git)."""
    from wandb.sdk.launch import git_reference
    from wandb.sdk.launch.errors import LaunchError

    if not hasattr(git_reference, "_validate_uri"):
        pytest.skip("this wandb's Launch checks no remote before calling git (wandb 0.22.0 has no such check)")
    try:
        git_reference._validate_uri(remote)
        launch_accepts = True
    except LaunchError:
        launch_accepts = False
    assert launch_can_fetch(remote) is launch_accepts is fetchable


@pytest.mark.parametrize("remote", ["http://git.example.com/acme/ml.git", "file:///srv/git/ml.git", "/srv/git/ml.git"])
def test_a_remote_launch_cannot_fetch_fails_the_git_check(git_repo, write_notebook, remote: str) -> None:
    path = committed_notebook(git_repo(remote=remote), write_notebook)
    decision = decide_source(path)
    assert decision.source_type == "artifact"
    assert outcomes(decision) == {"git": "failed", "artifact": "won", "image": "failed"}
    assert decision.checks[0].reason == (
        f"the remote {remote} cannot be fetched by W&B Launch, which accepts only https://, ssh:// "
        "and git@host:path remotes"
    )
    with pytest.raises(JobError, match="Cannot use the git source: the remote .* cannot be fetched by W&B Launch"):
        decide_source(path, choice="git")


def test_launch_hazards_pass_git_over_in_auto_mode_only(git_repo, write_notebook) -> None:
    path = committed_notebook(git_repo(), write_notebook)
    hazards = ["cell 1, line 1: line magic %load_ext ...", "cell 3, line 2: indented shell line ..."]
    decision = decide_source(path, launch_hazards=hazards)
    assert decision.source_type == "artifact" and decision.git is None
    assert outcomes(decision) == {"git": "passed", "artifact": "won", "image": "failed"}
    reason = decision.checks[0].reason
    assert reason.startswith("repository with remote https://github.com/acme/ml.git at commit ")
    assert "but passed over" in reason and all(hazard in reason for hazard in hazards)
    with_image = decide_source(path, image="wandb/x:v1", launch_hazards=hazards)
    assert outcomes(with_image) == {"git": "passed", "artifact": "skipped", "image": "won"}
    assert decide_source(path, choice="git", launch_hazards=hazards).source_type == "repo"


PATCH = (
    "diff --git a/lab/train.py b/lab/train.py\nindex 1..2 100644\n"
    "--- a/lab/train.py\n+++ b/lab/train.py\n@@ -1 +1 @@\n-a\n+b\n"
    "diff --git a/secret.cfg b/secret.cfg\nindex 1..2 100644\n"
    "--- a/secret.cfg\n+++ b/secret.cfg\n@@ -1 +1 @@\n-c\n+d\n"
    'diff --git "a/lab/caf\\303\\251.py" "b/lab/caf\\303\\251.py"\nnew file mode 100644\n'
    "diff --git a/lab/old.py b/elsewhere/new.py\nsimilarity index 100%\n"
    "rename from lab/old.py\nrename to elsewhere/new.py\n"
)


@pytest.mark.parametrize(
    ("folder", "kept"),
    [
        ("lab", ["lab/train.py"]),  # inside the repository: its plain sections, no rename out of it
        (".", ["lab/train.py", "secret.cfg", "lab/caf", "lab/old.py"]),  # holds the repository: all
        ("../elsewhere", []),  # outside it: nothing
    ],
)
def test_a_stored_diff_is_cut_to_a_folder(tmp_path: Path, folder: str, kept: list[str]) -> None:
    repo = tmp_path / "repo"
    (repo / "lab").mkdir(parents=True)

    cut = diff_within(PATCH, repo, repo / folder)

    headers = [line for line in cut.splitlines() if line.startswith("diff --git ")]
    assert len(headers) == len(kept) and all(path in header for path, header in zip(kept, headers, strict=True))
