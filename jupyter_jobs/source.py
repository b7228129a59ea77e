"""Which of W&B's three job sources a notebook gets, and why.

W&B checks, in order: a git repository with a remote (→ `repo`), a logged code artifact
(→ `artifact`), the `WANDB_DOCKER` image (→ `image`). We make the same decision and keep a
trace of every check so the widget and the panel can explain it. jupyter-jobs always exports
the notebook as a code artifact (it plays the part of `run.log_code()`), except when the user
points at an image: then, as in W&B when `log_code()` was not called, the image wins over the
artifact. Git facts come from GitPython and only look at what the job needs: the HEAD commit,
the `origin` remote, and the status of the one entrypoint path (never a whole-repo status).

One exception to W&B's order, because a job must run: in auto mode a git job that W&B Launch
could not run loses the git check. Launch fetches only some remotes (`launch_can_fetch`), and
it runs a git notebook through its own converter, which breaks on IPython syntax
(`export.launch_converter_hazards`); such a notebook gets the code artifact, whose exported
script needs no IPython.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import JobError
from .models import SourceCheck as Check
from .models import SourceChoice, SourceType

if TYPE_CHECKING:
    import git

SOURCE_TYPES: dict[str, SourceType] = {"git": "repo", "artifact": "artifact", "image": "image"}
GIT_REMOTE = "origin"

# The remotes W&B Launch fetches (wandb.sdk.launch.git_reference._validate_uri): https://, ssh://
# and scp-like user@host:path. It refuses the rest: local paths, file://, http://, git://, "-...".
_LAUNCH_FETCHABLE = re.compile(r"^(?:(?i:https|ssh)://|(?!-)[\w.+-]+@[\w.-]+:.+)", re.ASCII)

# Docker's reference grammar: [registry[:port]/]path[:tag][@digest]
_IMAGE_REF = re.compile(
    r"^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?/)?"
    r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$"
)
# Paths git writes in a diff header as they are (core.quotePath quotes the rest), without spaces.
_PLAIN_PATH = re.compile(r"[!#-\[\]-~]+")
# The lines between a diff's `diff --git` header and its first `---` / `GIT binary patch` line.
_EXTENDED_HEADER = (
    r"(?:(?:old mode|new mode|deleted file mode|new file mode|similarity index|dissimilarity index|index"
    r"|copy from|copy to|rename from|rename to) [^\n]*\n)*"
)
# `scheme://` of a URL remote; an scp-like remote is `[user@]host:path` with no `//` after the colon.
_URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_SCP_LIKE = re.compile(r"^(?!/|\.\.?/)(?:(?P<user>.*)@)?(?P<host>[^@/:]+):(?P<path>(?!//).*)$")
# SSH's conventional login on every git host: a user name, never a secret, and needed to log in.
_SSH_GIT_USER = "git"


@dataclass(frozen=True)
class GitFacts:
    """What a git-sourced job records: where the code is and at which commit."""

    root: Path
    remote: str  # credentials already stripped
    commit: str
    entrypoint: str  # the notebook's path relative to the repository root, POSIX style
    diff: str  # `git diff HEAD` when the tracked tree is dirty, else ""
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class SourceDecision:
    source_type: SourceType
    checks: tuple[Check, ...]
    git: GitFacts | None = None
    image: str | None = None
    warnings: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Candidates:
    """What W&B's git and image checks found, before a source is chosen.

    Finding them costs git processes; choosing needs also what W&B Launch's converter would make
    of the notebook, which the export knows. The two run side by side (see core.create_job).
    """

    git: GitFacts | None
    git_reason: str
    image: str | None
    image_reason: str
    raw_image: str | None


def check_sources(
    path: Path, *, no_git: bool = False, image: str | None = None, diff_root: Path | None = None
) -> Candidates:
    """Run the git and image checks; the code artifact is always available. `diff_root`: only
    changes inside this folder go into diff.patch (a server's root, for REST requests)."""
    git_facts, git_reason = _git_check(path, no_git, diff_root)
    image_ref, image_reason = _image_check(image)
    return Candidates(git_facts, git_reason, image_ref, image_reason, image)


def choose_source(
    found: Candidates, *, choice: SourceChoice = "auto", launch_hazards: Sequence[str] = ()
) -> SourceDecision:
    """W&B's order, except that in auto mode a git job W&B Launch could not run is passed over.

    `launch_hazards` are what W&B Launch's notebook converter breaks on in this notebook, one
    per construct and cell: a git job of the notebook would die on them under Launch, so the
    next source in W&B's order wins and the trace says why. A forced `--source git` still wins.
    """
    _check_choice(choice)
    if choice != "auto":
        return _forced(choice, found.git, found.git_reason, found.image, found.image_reason)
    checks: list[Check] = []
    winner = None
    if found.git and launch_hazards:
        checks.append(Check("git", "passed", f"{found.git_reason}, but passed over: {_passed_over(launch_hazards)}"))
    elif found.git:
        winner = "git"
        checks.append(Check("git", "won", found.git_reason))
    else:
        checks.append(Check("git", "failed", found.git_reason))
    checks.append(_artifact_check(winner, found.image))
    if checks[-1].outcome == "won":
        winner = "artifact"
    if found.image and winner is None:
        winner = "image"
        checks.append(Check("image", "won", found.image_reason))
    else:
        checks.append(Check("image", "passed" if found.image else "failed", found.image_reason))
    assert winner is not None  # the artifact check wins whenever nothing before it did
    return _decision(winner, checks, found.git, found.image, found.raw_image)


def _check_choice(choice: str) -> None:
    if choice not in ("auto", *SOURCE_TYPES):
        raise JobError(f"Unknown source {choice!r}", hint="use auto, git, artifact or image")


def _passed_over(hazards: Sequence[str]) -> str:
    return (
        "W&B Launch runs a git notebook through its own converter, which breaks on this notebook's code ("
        + "; ".join(hazards)
        + "); the code artifact runs the exported script instead (--source git forces git)"
    )


def _artifact_check(winner: str | None, image_ref: str | None) -> Check:
    if winner:
        return Check("artifact", "skipped", "not reached: the git check won")
    if image_ref:
        return Check(
            "artifact",
            "skipped",
            "an image is set and W&B prefers it when run.log_code() was not called "
            "(use --source artifact to force the code artifact)",
        )
    return Check(
        "artifact", "won", "jupyter-jobs logs the exported notebook as a code artifact, a script that needs no IPython"
    )


def _forced(
    choice: str, git_facts: GitFacts | None, git_reason: str, image_ref: str | None, image_reason: str
) -> SourceDecision:
    available = {"git": git_facts is not None, "artifact": True, "image": image_ref is not None}
    reasons = {
        "git": git_reason,
        "artifact": "the exported notebook is logged as a code artifact",
        "image": image_reason,
    }
    if not available[choice]:
        raise JobError(f"Cannot use the {choice} source: {reasons[choice]}", hint=_FIX[choice])
    checks = [
        Check(c, "won", f"forced with --source {choice}: {reasons[c]}")
        if c == choice
        else Check(c, "skipped", f"not checked: the source was forced to {choice}")
        for c in ("git", "artifact", "image")
    ]
    return _decision(choice, checks, git_facts, image_ref, image_ref)


# What to do when a forced source cannot be used (the artifact source always can).
_FIX = {
    "git": "commit the notebook in a repository with an 'origin' remote, or use --source artifact",
    "image": "set WANDB_DOCKER or pass --image NAME[:TAG]",
}


def _decision(
    winner: str, checks: list[Check], git_facts: GitFacts | None, image_ref: str | None, raw_image: str | None
) -> SourceDecision:
    warnings: list[str] = []
    if winner == "git" and git_facts:
        warnings.extend(git_facts.warnings)
    if raw_image and not image_ref:
        warnings.append(f"WANDB_DOCKER/--image {raw_image!r} is not a valid image reference and was ignored")
    return SourceDecision(
        source_type=SOURCE_TYPES[winner],
        checks=tuple(checks),
        git=git_facts if winner == "git" else None,
        image=image_ref if winner == "image" else None,
        warnings=tuple(warnings),
    )


def launch_can_fetch(remote: str) -> bool:
    """Whether W&B Launch would fetch this git remote (it checks before calling git)."""
    return bool(_LAUNCH_FETCHABLE.match(remote.strip()))


def _image_check(image: str | None) -> tuple[str | None, str]:
    if not image:
        return None, "WANDB_DOCKER is not set and no --image was given"
    image = image.strip()
    if not _IMAGE_REF.match(image):
        return None, f"{image!r} is not a valid docker image reference (expected [registry/]name[:tag])"
    return image, f"image {image} (from WANDB_DOCKER or --image)"


def _git_check(path: Path, no_git: bool, diff_root: Path | None = None) -> tuple[GitFacts | None, str]:
    if no_git:
        return None, "disabled (--no-git or wandb.Settings(disable_git=True))"
    repo = _open_repo(path)
    if repo is None:
        return None, f"{path.name} is not inside a git repository"
    with repo:
        return _git_facts(repo, path, diff_root)


def _open_repo(path: Path) -> git.Repo | None:
    import git

    try:
        return git.Repo(path.parent, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None


def _git_facts(repo: git.Repo, path: Path, diff_root: Path | None) -> tuple[GitFacts | None, str]:
    import git

    root = Path(repo.working_tree_dir or path.parent).resolve()
    try:
        # `get-url`, unlike the configured value the SDK reads, applies `url.<base>.insteadOf`:
        # an alias such as `gh:acme/x` becomes the URL git really fetches, whose credentials go.
        remote_url = repo.git.remote("get-url", GIT_REMOTE)
    except git.GitCommandError:
        return None, f"the repository {root} has no '{GIT_REMOTE}' remote"
    try:
        commit = repo.head.commit.hexsha
    except ValueError:
        return None, f"the repository {root} has no commits yet"
    remote = strip_credentials(remote_url.strip())
    if not launch_can_fetch(remote):
        return None, (
            f"the remote {remote} cannot be fetched by W&B Launch, which accepts only https://, ssh:// "
            "and git@host:path remotes"
        )
    entrypoint = path.resolve().relative_to(root).as_posix()
    warnings, diff = _working_tree_warnings(repo, entrypoint, commit, _inside(root, diff_root))
    reason = f"repository with remote {remote} at commit {commit[:12]}"
    return GitFacts(root, remote, commit, entrypoint, diff, tuple(warnings)), reason


def uncommitted(root: Path, files: Sequence[Path]) -> list[str]:
    """Which of `files` (inside the repository at `root`) are not committed, as repository paths:
    a git job's clone lacks them."""
    import git

    wanted = [file.resolve().relative_to(root).as_posix() for file in files]
    with git.Repo(root) as repo:
        tracked = set(repo.git.ls_files("--", *wanted).splitlines()) if wanted else set()
    return [path for path in wanted if path not in tracked]


def strip_credentials(url: str) -> str:
    """A git remote without anything that may be a secret: user info, query and fragment.

    A token often stands where a user name would (`https://<token>:x-oauth-basic@host/x.git`,
    `https://oauth2:<token>@host/x.git`) or in a query (`?private_token=...`), and no rule can
    tell a user name from a token, so all user info goes, user name included (the SDK keeps a
    user name when a password follows it: our names differ from its for such remotes). The
    host is lower-cased as the SDK does; brackets of an IPv6 host and the port stay as written.
    The user info ends at the last `@` before the first `/`, as git reads it, so a `#` or `?`
    inside a token cannot pass for the start of a fragment. scp-like remotes
    (`git@host:org/x.git`) keep only SSH's conventional `git` user.
    """
    if _URL_SCHEME.match(url):
        scheme, _, rest = url.partition("://")
        head = rest.split("/", 1)[0]
        if "@" in head:
            rest = rest[len(head.rpartition("@")[0]) + 1 :]
        host = re.split(r"[/?#]", rest, maxsplit=1)[0]
        path = re.split(r"[?#]", rest[len(host) :], maxsplit=1)[0]
        return f"{scheme}://{host.lower()}{path}"
    match = _SCP_LIKE.match(url)
    if not match:
        return re.split(r"[?#]", url, maxsplit=1)[0]
    user = f"{_SSH_GIT_USER}@" if match["user"] == _SSH_GIT_USER else ""
    return f"{user}{match['host']}:{re.split(r'[?#]', match['path'], maxsplit=1)[0]}"


def _inside(root: Path, diff_root: Path | None) -> str | None:
    """`diff_root` relative to the repository's root when it is a folder inside it, else None
    (a server root that holds the whole repository limits nothing)."""
    if diff_root is None:
        return None
    folder = Path(diff_root).resolve()
    return folder.relative_to(root).as_posix() if root in folder.parents else None


def diff_within(diff: str, repo_root: Path, folder: Path) -> str:
    """The part of a stored diff.patch whose files lie inside `folder` (over REST: the server's
    root), as a create over REST would have collected it: all of it when `folder` holds the
    repository, the sections of files under it when it is inside, else nothing. A section whose
    header is not a plain `a/P b/P` pair inside the folder is left out rather than guessed at."""
    root, folder = Path(repo_root).resolve(), Path(folder).resolve()
    if root.is_relative_to(folder):
        return diff
    if not folder.is_relative_to(root):
        return ""
    prefix = folder.relative_to(root).as_posix() + "/"
    sections = re.split(r"(?m)^(?=diff --git )", diff)
    return "".join(section for section in sections if _section_inside(section, prefix))


def _section_inside(section: str, prefix: str) -> bool:
    header = re.match(r"diff --git a/(\S+) b/(\S+)\n", section)
    paths = header.groups() if header else ()
    return bool(paths) and all(_PLAIN_PATH.fullmatch(path) and path.startswith(prefix) for path in paths)


def _working_tree_warnings(
    repo: git.Repo, entrypoint: str, commit: str, within: str | None = None
) -> tuple[list[str], str]:
    """Warn when the job would run other code than the user sees; collect the diff, only of
    the folder `within` (relative to the repository's root) when one is given.

    Only the entrypoint's own state is asked for (the index for "tracked?", one path for
    "changed?"): a status of the whole tree costs seconds in large repositories.
    """
    import git

    warnings: list[str] = []
    try:
        repo.git.ls_files("--error-unmatch", "--", entrypoint)
    except git.GitCommandError:
        tracked = False
        warnings.append(
            f"{entrypoint} is not committed: the git job cannot run it (commit and push it, or use --source artifact)"
        )
    else:
        tracked = True
    diff = repo.git.diff("HEAD", "--binary", *(["--", within] if within else []))
    changed = tracked and _changed(repo, entrypoint, diff if within is None else None)
    if changed:
        warnings.append(
            f"{entrypoint} has uncommitted changes: the job runs commit {commit[:12]} plus diff.patch "
            "(commit and push, or use --source artifact)"
        )
    if repo.head.is_detached:
        warnings.append(f"detached HEAD: the job pins commit {commit[:12]}")
    if within is not None:
        inside = set(repo.git.diff("HEAD", "--name-only", "--", within).splitlines())
        outside = [name for name in repo.git.diff("HEAD", "--name-only").splitlines() if name not in inside]
        if outside:
            warnings.append(
                f"{len(outside)} changed file(s) outside the server's root are left out of diff.patch: "
                "the job runs them as committed"
            )
    if diff and not changed:
        warnings.append("the repository has other uncommitted changes: they are saved in diff.patch")
    return warnings, (diff + "\n") if diff else ""


def _changed(repo: git.Repo, entrypoint: str, diff: str | None) -> bool:
    """Whether the tracked entrypoint differs from HEAD, answered from the whole tree's `diff`
    when it can tell: an empty diff changes nothing, and the entrypoint's own header (`diff
    --git a/E b/E`, not a rename or copy) says it changed. Otherwise git is asked about the one
    path, which costs another read and hash of the file (a large notebook's is most of git's
    time). A header is trusted only for a path git writes as it is: no space (which would make
    `a/x b/y` ambiguous), quote, backslash, control or non-ASCII character."""
    if diff == "":
        return False
    if diff is not None and _PLAIN_PATH.fullmatch(entrypoint):
        path = re.escape(entrypoint)
        header = re.search(rf"^diff --git a/{path} b/{path}\n({_EXTENDED_HEADER})", diff, re.MULTILINE)
        if header and not re.search(r"^(?:rename|copy) from ", header[1], re.MULTILINE):
            return True
    status, _, _ = repo.git.diff("--quiet", "HEAD", "--", entrypoint, with_extended_output=True, with_exceptions=False)
    return bool(status != 0)
