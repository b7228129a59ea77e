"""Plain-text views of a job record, for the command line and non-widget frontends.

The widget, the panel and `jupyter jobs show` all present the same record; this module is the
text form (terminal IPython and `nbconvert` outputs fall back to it too).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAX_REQUIREMENTS_SHOWN = 8


def type_rows(types: dict[str, Any]) -> list[tuple[str, str]]:
    """(key, type) rows of a W&B typedDict JSON, nested dicts flattened as `a.b`."""
    type_map = types.get("params", {}).get("type_map", {}) if types.get("wb_type") == "typedDict" else {}
    rows: list[tuple[str, str]] = []
    for key, sub in type_map.items():
        if sub.get("wb_type") == "typedDict":
            rows += [(f"{key}.{inner}", kind) for inner, kind in type_rows(sub)]
        else:
            rows.append((key, type_label(sub)))
    return rows


@dataclass(frozen=True)
class InputRow:
    """One key a launch may override: from `wandb.config` (source None) or a config file."""

    source: str | None
    key: str  # dotted
    type: str
    default: str  # the value as text, "" when unknown
    allowed: str  # the schema's constraints in words, "" without a schema


def input_rows(record: Mapping[str, Any]) -> list[InputRow]:
    """The job's inputs with defaults and the declared schemas' constraints, config keys first."""
    from .inputs import FILES, WANDB_CONFIG, config_types, constraints, file_types, schemas

    declared = schemas(record)
    sources: list[tuple[str | None, dict[str, Any], Mapping[str, Any], Mapping[str, Any] | None]] = [
        (None, config_types(record), record.get("config") or {}, declared.get(WANDB_CONFIG))
    ]
    files = record.get("config_files") or {}
    sources += [
        (path, types, files.get(path) or {}, (declared.get(FILES) or {}).get(path))
        for path, types in file_types(record).items()
    ]
    rows = []
    for source, types, values, schema in sources:
        allowed = constraints(schema)
        rows += [
            InputRow(source, key, kind, default_text(values, key), allowed.get(key, ""))
            for key, kind in type_rows(types)
        ]
    return rows


def default_text(values: Mapping[str, Any], dotted_key: str) -> str:
    """The value at `a.b.c` as text; empty when it is not there."""
    value: Any = values
    for part in dotted_key.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return ""
        value = value[part]
    return repr(value)


def input_line(row: InputRow) -> str:
    """`key: type = default (constraints)`, prefixed with the config file it lives in."""
    where = f"{row.source}:" if row.source else ""
    default = f" = {row.default}" if row.default else ""
    allowed = f" ({row.allowed})" if row.allowed else ""
    return f"{where}{row.key}: {row.type}{default}{allowed}"


def type_label(wb_type: dict[str, Any]) -> str:
    kind = wb_type.get("wb_type", "?")
    if kind == "list":
        return f"list[{type_label(wb_type.get('params', {}).get('element_type', {}))}]"
    if kind == "union":
        return " | ".join(type_label(t) for t in wb_type.get("params", {}).get("allowed_types", []))
    return str(kind)


def source_details(record: dict[str, Any]) -> str:
    if record["source_type"] == "repo" and record.get("git"):
        git = record["git"]
        return f"git {git['remote']} @ {git['commit'][:12]}, entrypoint {git['entrypoint']}"
    if record["source_type"] == "image":
        return f"image {record['image']}"
    code = record["code_artifact"]
    return f"code artifact {code['name']} (sha256 {code['digest'][:12]}): {', '.join(code['files'])}"


def render_text(record: dict[str, Any]) -> str:
    """Everything a user needs to trust the job, readable in a terminal."""
    lines = [
        f"Job        {record['name']}:{record['version']}" + _aliases(record),
        f"Named by   {record['naming']['rule']}",
        f"Source     {record['source_type']} — {source_details(record)}",
    ]
    lines += [f"  {c['check']:<9}{c['outcome']:<8}{c['reason']}" for c in record["decision"]]
    lines += [
        f"Entrypoint {' '.join(record['entrypoint'] or [])}",
        f"Runtime    Python {record['runtime']}",
        f"{'Inputs':<11}" + (", ".join(input_line(row) for row in input_rows(record)) or "(none)"),
        _types_line("Outputs", record["output_types"]),
        _requirements_line(record),
    ]
    included = (record.get("code_artifact") or {}).get("included", [])
    lines += [f"Carries    {item['path']} ({item['reason']})" for item in included]
    lines += [f"Warning    {warning}" for warning in record["warnings"]]
    if record["rewrites"]:
        lines.append(f"Rewritten  {len(record['rewrites'])} IPython line(s) (jupyter jobs show --script)")
    lines += [f"Launch     {record['launch_command']}", f"Run here   {record['run_command']}"]
    return "\n".join(lines)


def render_runs(runs: list[dict[str, Any]]) -> str:
    """The job's local runs (`jupyter jobs run`), newest first: when, which version, how it ended."""
    if not runs:
        return "Local runs (none yet: jupyter jobs run NAME)"
    lines = ["Local runs (newest first)"]
    for run in runs:
        version = run["job"].rpartition(":")[2]
        status = "ok" if run["exit_code"] == 0 else f"exit {run['exit_code']}"
        overrides = " ".join(f"{key}={json.dumps(value)}" for key, value in run["overrides"].items())
        lines.append(
            f"  {run['started_at']}  {version:<4} {status:<7} {run['seconds']:>7.1f} s  "
            f"{overrides or '(no overrides)'}  {run['log']}"
        )
    return "\n".join(lines)


def render_comparison(comparison: dict[str, Any]) -> str:
    """`jupyter jobs compare`: the parts that changed, each as its unified diff."""
    if not comparison["changes"]:
        return (
            f"{comparison['after']} and {comparison['before']} differ in none of: source, entrypoint, "
            "runtime, inputs, outputs, requirements, script, files."
        )
    lines = [
        f"Changes from {comparison['before']} to {comparison['after']}: "
        + ", ".join(change["part"] for change in comparison["changes"])
    ]
    for change in comparison["changes"]:
        lines += ["", change["diff"]]
    return "\n".join(lines)


def _aliases(record: dict[str, Any]) -> str:
    return f"  [{', '.join(record['aliases'])}]" if record.get("aliases") else ""


def _types_line(title: str, types: dict[str, Any]) -> str:
    rows = type_rows(types)
    if not rows:
        return f"{title:<11}(none)"
    return f"{title:<11}" + ", ".join(f"{key}: {kind}" for key, kind in rows)


def _requirements_line(record: dict[str, Any]) -> str:
    asked = record["requirements"]
    shown = ", ".join(asked[:MAX_REQUIREMENTS_SHOWN]) + (" ..." if len(asked) > MAX_REQUIREMENTS_SHOWN else "")
    frozen = "requirements.frozen.txt pins the environment"
    return f"Requires   {shown}; {frozen}" if asked else f"Requires   {frozen}"


def annotated_script(record: dict[str, Any]) -> str | None:
    """The exported script with every rewritten line marked, re-derived from the stored notebook.

    None when the code is not in the store (a dry run stores nothing).
    """
    from .export import annotated_script as annotate
    from .export import export_notebook_text

    code = record["code_artifact"]
    if not code.get("path") or not Path(code["path"]).is_dir():
        return None
    folder = Path(code["path"])
    notebook = Path(record["notebook"]).name  # other notebooks may travel too (--include)
    if not notebook.endswith(".ipynb") or notebook not in code["files"]:
        return (folder / code["entrypoint"]).read_text(encoding="utf-8")
    return annotate(export_notebook_text((folder / notebook).read_text(encoding="utf-8"), notebook))
