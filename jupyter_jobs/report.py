"""Plain-text views of the records, for the command line, the magic and non-widget frontends.

The widget, the panel and `jupyter jobs show` all present the same record; this module is the
text form (terminal IPython and `nbconvert` outputs fall back to it too). The one status line
and the one job table of the command line and the magic are here, so they cannot drift apart.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .inputs import input_line, input_rows
from .models import Comparison, JobRecord, JobSummary, RunOutcome, type_rows

MAX_REQUIREMENTS_SHOWN = 8
UNCHANGED = "Unchanged, already stored as"
NAMING_NOTES = {
    "sanitised": " · characters outside [A-Za-z0-9_.-] became _",
    "truncated": " · shortened to 128 characters (first 63 .. last 63), as W&B does",
}


def status_line(record: JobRecord, created: bool, logged: str = "") -> str:
    """One line saying what happened: created, unchanged, or what a dry run would do;
    `logged` says what became of the run's artifacts (the magic's case)."""
    if record.dry_run:
        verb = "Would create" if record.would_create else UNCHANGED
        return f"Dry run: {verb} {record.ref}; nothing was stored or logged.{_renamed(record)}"
    return f"{'Created' if created else UNCHANGED} {record.ref}{'; ' + logged if logged else ''}.{_renamed(record)}"


def _renamed(record: JobRecord) -> str:
    """A name the user gave that W&B's rule changed: said where they look first, so the job
    they go looking for under their name is found under its real one."""
    given = [part.text for part in record.naming.parts if part.role == "user"]
    if not given or given[0] == record.name:
        return ""
    return f" The name you gave, {given[0]!r}, became {record.name}{naming_notes(record).replace(' · ', '; ')}."


def naming_notes(record: JobRecord) -> str:
    """What W&B's rule did to the name (made safe, shortened), if anything."""
    return "".join(note for flag, note in NAMING_NOTES.items() if getattr(record.naming, flag))


def render_text(record: JobRecord) -> str:
    """Everything a user needs to trust the job, readable in a terminal."""
    lines = [
        f"Job        {record.ref}" + (f"  [{', '.join(record.aliases)}]" if record.aliases else ""),
        f"Named by   {record.naming.rule}{naming_notes(record)}",
        f"Source     {record.source_type} — {record.source_details()}",
    ]
    lines += [f"  {c.check:<9}{c.outcome:<8}{c.reason}" for c in record.decision]
    lines += [
        f"Entrypoint {' '.join(record.entrypoint or [])}",
        f"Runtime    Python {record.runtime}",
        f"{'Inputs':<11}" + (", ".join(input_line(row) for row in input_rows(record)) or "(none)"),
        _types_line("Outputs", record.output_types),
        _requirements_line(record.requirements),
    ]
    lines += [f"Carries    {item.path} ({item.reason})" for item in record.code_artifact.included]
    lines += [f"Warning    {warning}" for warning in record.warnings]
    if record.rewrites:
        lines.append(f"Rewritten  {len(record.rewrites)} IPython line(s) (jupyter jobs show --script)")
    lines += [f"Launch     {record.launch_command}", f"Run here   {record.run_command}"]
    return "\n".join(lines)


def render_jobs(jobs: Sequence[JobSummary]) -> str:
    """The store's jobs as a table, newest first (`jupyter jobs list`, `%wandb_job --list`)."""
    header = ("NAME", "LATEST", "VERSIONS", "SOURCE", "CREATED")
    rows = [header, *((job.name, job.version, str(job.versions), job.source_type, job.created_at) for job in jobs)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    )


def render_runs(runs: Sequence[RunOutcome]) -> str:
    """The job's local runs (`jupyter jobs run`), newest first: when, which version, how it ended."""
    if not runs:
        return "Local runs (none yet: jupyter jobs run NAME)"
    lines = ["Local runs (newest first)"]
    for run in runs:
        version = run.job.rpartition(":")[2]
        overrides = " ".join(f"{key}={json.dumps(value)}" for key, value in run.overrides.items())
        lines.append(
            f"  {run.started_at}  {version:<4} {run.status:<9} {run.seconds:>7.1f} s  "
            f"{overrides or '(no overrides)'}  {run.log}"
        )
        if run.error:
            lines.append(f"      {run.error}")
    return "\n".join(lines)


def render_comparison(comparison: Comparison) -> str:
    """`jupyter jobs compare`: the parts that changed, each as its unified diff."""
    if not comparison.changes:
        return (
            f"{comparison.after} and {comparison.before} differ in none of: source, entrypoint, "
            "runtime, inputs, outputs, requirements, script, files."
        )
    lines = [
        f"Changes from {comparison.before} to {comparison.after}: "
        + ", ".join(change.part for change in comparison.changes)
    ]
    for change in comparison.changes:
        lines += ["", change.diff]
    return "\n".join(lines)


def _types_line(title: str, types: Mapping[str, Any]) -> str:
    rows = type_rows(types)
    if not rows:
        return f"{title:<11}(none)"
    return f"{title:<11}" + ", ".join(f"{key}: {kind}" for key, kind in rows)


def _requirements_line(asked: Sequence[str]) -> str:
    shown = ", ".join(asked[:MAX_REQUIREMENTS_SHOWN]) + (" ..." if len(asked) > MAX_REQUIREMENTS_SHOWN else "")
    frozen = "requirements.frozen.txt pins the environment"
    return f"Requires   {shown}; {frozen}" if asked else f"Requires   {frozen}"


def annotated_script(record: JobRecord) -> str | None:
    """The exported script with every rewritten line marked, re-derived from the stored notebook
    (`jupyter jobs show --script`). None when the code is not in the store (a dry run)."""
    from .export import annotated_script as annotate
    from .export import export_notebook_text

    code = record.code_artifact
    if not code.path or not Path(code.path).is_dir():
        return None
    folder = Path(code.path)
    notebook = Path(record.notebook).name  # other notebooks may travel too (--include)
    if not notebook.endswith(".ipynb") or notebook not in code.files:
        return (folder / code.entrypoint).read_text(encoding="utf-8")
    return annotate(export_notebook_text((folder / notebook).read_text(encoding="utf-8"), notebook))
