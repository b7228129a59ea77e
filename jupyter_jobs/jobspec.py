"""The job artifact's files, byte-for-byte in the SDK's format.

`wandb-job.json` is written as the SDK's `JobBuilder` writes it (`json.dumps(..., indent=4)`,
keys in its order, empty keys left out) so W&B Launch reads our jobs like its own. Its types
are W&B's TypeRegistry's: JSON-native configs and summaries are typed without importing wandb
(`json_types`, checked against TypeRegistry), anything else by TypeRegistry itself.
`requirements.frozen.txt` lists the running environment from `importlib.metadata` — the same
facts `pip freeze` prints, without its subprocess.
"""

from __future__ import annotations

import ast
import functools
import json
import os
import platform
import sys
import textwrap
from collections.abc import Iterable, Mapping
from typing import Any

JOB_FILE = "wandb-job.json"
REQUIREMENTS_FILE = "requirements.frozen.txt"
DIFF_FILE = "diff.patch"
# Installed only to create jobs; the job's code never imports it, and it need not be on PyPI.
_NOT_A_JOB_REQUIREMENT = {"jupyter-jobs", "jupyter_jobs"}
_MAX_STATEMENT_LINES = 200


def type_json(value: Mapping[str, Any] | None) -> dict[str, Any]:
    """W&B's type-registry JSON for a config or summary, as the SDK's job builder makes it.
    Importing wandb costs more than the rest of a store-only create: it is imported only for
    values that are not JSON-native."""
    from . import json_types

    plain = dict(value) if value is not None else None
    try:
        return json_types.type_json(plain)
    except json_types.NotJsonNative:
        from . import wandb_compat

        return wandb_compat.type_json(plain)


def runtime() -> str:
    """The Python version as the job records it, e.g. "3.11.7"."""
    return platform.python_version()


def entrypoint(program: str) -> list[str]:
    """`["python", <program>]`, from every surface.

    The SDK writes the creating interpreter's basename (`python` in a kernel, often `python3`
    from a shell), which would give the same notebook two job versions depending on where the
    job was made. Launch runs the command in its own image, where `python` is the interpreter.
    """
    return ["python", program]


def build_spec(
    source_type: str,
    source: Mapping[str, Any],
    input_types: Mapping[str, Any],
    output_types: Mapping[str, Any],
) -> dict[str, Any]:
    """The `wandb-job.json` content; `source` keys whose value is None are left out."""
    return {
        "_version": "v0",
        "source_type": source_type,
        "source": {key: value for key, value in source.items() if value is not None},
        "input_types": dict(input_types),
        "output_types": dict(output_types),
        "runtime": runtime(),
    }


def spec_bytes(spec: Mapping[str, Any]) -> bytes:
    return json.dumps(spec, indent=4).encode()


def frozen_requirements(asked_for: Iterable[str] = ()) -> str:
    """The environment's `name==version` lines, plus what the notebook asked to install.

    A package the notebook installs with `%pip install` and that is present here keeps its
    installed (tested) version; one that is not installed here is added as written.
    """
    installed = _installed(_site_fingerprint())
    lines = sorted(installed.values(), key=str.lower)
    lines += [req for req in dict.fromkeys(asked_for) if _requirement_key(req) not in installed]
    return "".join(f"{line}\n" for line in lines)


def _site_fingerprint() -> tuple[tuple[str, int], ...]:
    """The import path's folders and their modification times: an install or uninstall changes them."""
    return tuple((folder, os.stat(folder).st_mtime_ns) for folder in sys.path if folder and os.path.isdir(folder))


@functools.lru_cache(maxsize=4)
def _installed(_fingerprint: tuple[tuple[str, int], ...]) -> dict[str, str]:
    """Reading every package's metadata costs tens of ms; a warm kernel does it once per install."""
    from importlib.metadata import distributions

    installed: dict[str, str] = {}
    for dist in distributions():
        metadata = dist.metadata  # parsed on each access (`dist.version` too): read it once
        name = metadata["Name"]
        if name and _normalise(name) not in _NOT_A_JOB_REQUIREMENT:
            installed.setdefault(_normalise(name), f"{name}=={metadata['Version']}")
    return installed


def _normalise(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def _requirement_key(requirement: str) -> str:
    name = requirement
    for stop in "[<>=!~;@ ":
        name = name.split(stop)[0]
    return _normalise(name.strip())


def infer_config(script: str) -> dict[str, Any] | None:
    """The literal `config={...}` of a `wandb.init(...)` call in the code, if there is one.

    Without a run, this is the best statement of the job's inputs: Launch overrides exactly
    these keys. Only literals count; a config built at run time cannot be known here. Only the
    statements that call `wandb.init` are parsed: a whole 2,000-cell script costs 0.4 s to parse.
    """
    lines = script.splitlines()
    for start, line in enumerate(lines):
        if "wandb.init(" in line:
            config = _config_in_statement(lines, start)
            if config is not None:
                return config
    return None


def _config_in_statement(lines: list[str], start: int) -> dict[str, Any] | None:
    """Grow the statement that starts at `start` until it parses, then read its config literal."""
    for end in range(start + 1, min(len(lines), start + _MAX_STATEMENT_LINES) + 1):
        try:
            tree = ast.parse(textwrap.dedent("\n".join(lines[start:end])))
        except SyntaxError:
            continue
        return _literal_config(tree)
    return None


def _literal_config(tree: ast.AST) -> dict[str, Any] | None:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _is_wandb_init(node.func):
            for keyword in node.keywords:
                if keyword.arg == "config":
                    try:
                        value = ast.literal_eval(keyword.value)
                    except ValueError:
                        return None
                    return value if isinstance(value, dict) else None
    return None


def _is_wandb_init(func: ast.expr) -> bool:
    return (
        isinstance(func, ast.Attribute)
        and func.attr == "init"
        and isinstance(func.value, ast.Name)
        and func.value.id == "wandb"
    )
