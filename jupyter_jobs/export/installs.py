"""Install commands (``!pip install``, ``%conda install``, ...) read as the job's requirements.

A job installs its requirements before it runs, so an install line in the notebook becomes a
requirement rather than code; whatever else the line runs (``&& python prepare.py``) stays.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

INSTALLERS = frozenset({"pip", "conda", "mamba"})


# pip/conda options that take a value: the value is never a package.
_VALUE_OPTIONS = frozenset(
    "-r --requirement -c --constraint -i --index-url --extra-index-url -f --find-links -t --target "
    "--prefix --root --src --upgrade-strategy --platform --python-version --implementation --abi "
    "--progress-bar --trusted-host --cache-dir --log --timeout --retries --exists-action --proxy "
    "-C --config-settings --global-option --no-binary --only-binary --report -e --editable "
    "--channel -n --name -p".split()
)


_WARNED_OPTIONS = {
    "-r": "its packages are not read into the job's requirements; list them yourself",
    "--requirement": "its packages are not read into the job's requirements; list them yourself",
    "-e": "editable installs cannot be requirements of a job",
    "--editable": "editable installs cannot be requirements of a job",
    "-i": "the job's requirements do not carry a package index",
    "--index-url": "the job's requirements do not carry a package index",
    "--extra-index-url": "the job's requirements do not carry a package index",
    "-f": "the job's requirements do not carry a package index",
    "--find-links": "the job's requirements do not carry a package index",
}


_SHELL_CHAIN = frozenset({"&&", ";", "||"})


_REDIRECT = re.compile(r"^(?:\d?>>?|&>>?|<)(.*)$")


def install_arguments(words: list[str]) -> int | None:
    """Index of the first argument after ``pip install`` (or its variants), else None."""
    if not words:
        return None
    if re.match(r"^(?:.*/)?pip[\d.]*$", words[0]) or words[0] in ("conda", "mamba"):
        start = 1
    elif re.match(r"^(?:.*/)?python[\d.]*$|^[{$]sys\.executable}?$", words[0]) and words[1:3] == ["-m", "pip"]:
        start = 3
    elif words[:2] == ["uv", "pip"]:
        start = 2
    else:
        return None
    return start + 1 if words[start : start + 1] == ["install"] else None


def _split_chain(words: list[str]) -> tuple[list[str], list[str]]:
    """Split install arguments from what follows ``&&``/``;``/``||``; drop redirects and pipes."""
    kept: list[str] = []
    skip_target = False
    for index, word in enumerate(words):
        if skip_target:
            skip_target = False
        elif word in _SHELL_CHAIN:
            return kept, words[index + 1 :]
        elif word == "|":
            return kept, []
        elif (redirect := _REDIRECT.match(word)) is not None:
            skip_target = not redirect.group(1)
        else:
            kept.append(word)
    return kept, []


def _conda_to_pip(spec: str) -> str:
    """conda's ``name=1.2`` pins as pip's ``name==1.2``."""
    return re.sub(r"^([A-Za-z0-9_.\-\[\]]+)=(?!=)", r"\1==", spec)


def shell_words(command: str) -> list[str]:
    """Shell words of `command` (none when its quotes do not balance: then it is no install)."""
    try:
        return shlex.split(command)
    except ValueError:
        return []


@dataclass(frozen=True)
class Install:
    """What one install command means for the job."""

    packages: tuple[str, ...]  # requirement strings, conda pins written as pip's
    warnings: tuple[str, ...]  # what the job's requirements cannot carry, one line each
    remainder: str  # what the line runs besides the install ("" when nothing)


def parse_install(command: str) -> Install | None:
    """The install in shell `command` (pip, python -m pip, uv pip, conda, mamba), or None when
    the command installs nothing."""
    if "install" not in command:
        return None
    words = shell_words(command)
    packages_at = install_arguments(words)
    if packages_at is None:
        return None
    install_words, remainder = _split_chain(words[packages_at:])
    conda = words[0] in ("conda", "mamba")
    packages, warnings = _packages(install_words, conda)
    return Install(tuple(packages), tuple(warnings), shlex.join(remainder))


def _packages(words: list[str], conda: bool) -> tuple[list[str], list[str]]:
    """The requirement strings among pip/conda install arguments (options understood), and
    warnings about what cannot be a requirement."""
    packages: list[str] = []
    warnings: list[str] = []
    skip_value = False
    for word in words:
        if skip_value:
            skip_value = False
            continue
        option = word.split("=", 1)[0] if word.startswith("--") else word[:2] if word.startswith("-") else None
        if option is not None:
            if option in _WARNED_OPTIONS:
                warnings.append(f"install option {option}: {_WARNED_OPTIONS[option]}")
            skip_value = option in _VALUE_OPTIONS and (word == option)
            continue
        if "{" in word or "$" in word:
            warnings.append(
                f"package `{word}` is computed when the cell runs; add it to the job's requirements yourself"
            )
        elif word.startswith((".", "/", "~")):
            warnings.append(f"local package `{word}` cannot be a requirement of the job")
        else:
            packages.append(_conda_to_pip(word) if conda else word)
    if conda and packages:
        warnings.append("conda packages become pip requirements; check their PyPI names")
    return packages, warnings
