"""What was created, and why: a view over one job record (`models.JobRecord`) and its runs.

The view has W&B's three tabs: Runs (a Run button with config overrides, then each run's
status, log tail and Cancel), Job details (name and naming, source decision, entrypoint,
inputs with defaults and types, warnings) and Version details (version and aliases, files,
requirements, rewritten lines, changes from the version before). The same record is rendered
three ways, from the same small section functions: an ipywidgets view for live notebooks, HTML
for front ends without the widget manager (nbconvert, GitHub; the three tabs as headings, and
no runs: it is static) and plain text for terminal IPython and logs. `JobWidget` carries all
three and the record in one MIME bundle, so each front end shows one readable view. All text is
escaped: names, keys, warnings and logs come from user code and git remotes. Starting and
following runs is `server_runs`' work (the server's run manager, on the kernel's event loop);
the view only shows the outcomes.
"""

from __future__ import annotations

import asyncio
import html
import shlex
from collections.abc import Callable, Coroutine, Iterator, Mapping
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import traitlets

from . import report
from .compare import compare_jobs
from .errors import JobError
from .inputs import InputRow, input_rows
from .jobspec import REQUIREMENTS_FILE
from .local_code import size_text
from .models import RESULT_MIME, JobRecord, RunOutcome, type_rows
from .runner import what_runs, with_log_tail
from .server_runs import GOING, follow, kernel_runs, start_run
from .store import JobStore

# Name parts and warnings are marked by coloured underlines and borders, never by coloured text or
# backgrounds: the text keeps the theme's font colour, which meets WCAG AA in light and dark themes.
ROLE_COLORS = {
    "prefix": "var(--jp-border-color1, #bdbdbd)",
    "remote": "var(--jp-brand-color1, #1976d2)",
    "path": "var(--jp-success-color1, #388e3c)",
    "artifact": "var(--jp-accent-color1, #00796b)",
    "image": "var(--jp-warn-color1, #f57c00)",
    "user": "var(--jp-error-color1, #d32f2f)",
    "separator": "transparent",
}
OUTCOME_MARKS = {"won": "✔ won", "passed": "· passed", "failed": "✘ failed", "skipped": "– skipped"}
SOURCE_LABELS = {"repo": "git repository", "artifact": "code artifact", "image": "docker image"}

FONT = "var(--jp-ui-font-family, system-ui, sans-serif)"
MONO = "var(--jp-code-font-family, monospace)"
TEXT = "var(--jp-ui-font-color1, #212121)"
MUTED = "var(--jp-ui-font-color2, #616161)"
BORDER = "var(--jp-border-color2, #e0e0e0)"
WARN_MARK = "var(--jp-warn-color1, #f57c00)"
PANEL_BACK = "var(--jp-layout-color2, #eeeeee)"
ERROR_MARK = "var(--jp-error-color1, #d32f2f)"
GOING_MARK = "var(--jp-brand-color1, #1976d2)"
DONE_MARK = "var(--jp-success-color1, #388e3c)"
STATUS_MARKS = {"queued": BORDER, "running": GOING_MARK, "finished": DONE_MARK, "failed": ERROR_MARK}
TABS = ("Runs", "Job details", "Version details")
WIDGET_CLASS = "jupyter-jobs-widget"
# ipywidgets greys the labels of the tabs not shown and of closed accordion sections (font colour 2
# on layout colour 2: 4.4:1 in JupyterLab Light); ours keep the theme's font colour (WCAG AA). The
# current tab and an open section stay marked by ipywidgets' own borders and backgrounds.
LABELS = (".lm-TabBar-tab", ".lm-TabBar-tabLabel", ".jupyter-widget-Collapse-header")
LABEL_STYLE = f"<style>{', '.join(f'.{WIDGET_CLASS} {label}' for label in LABELS)} {{color: {TEXT}}}</style>"


class JobWidget(widgets.VBox):
    """The job record as a widget, with W&B's three tabs; set `record` to show another job.
    `store` is where the record is stored (default: the default store), which its runs use."""

    record = traitlets.Instance(JobRecord)

    def __init__(self, record: JobRecord, store: str | Path | None = None) -> None:
        self._store = store
        super().__init__()
        self.add_class(WIDGET_CLASS)
        self.record = record

    @traitlets.observe("record")
    def _show(self, change: dict[str, Any]) -> None:
        self.children = _widget_children(change["new"], self._store)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        """The widget view, the record itself, and HTML and text for front ends without widgets.

        JupyterLab renders the record with the lab extension (ranked above the widget view), so a
        reopened notebook shows the job although the widget's model is gone; front ends without
        the extension (VS Code, Colab, classic) show the widget; nbconvert and GitHub the HTML.
        """
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        return {
            **bundle,
            RESULT_MIME: self.record.to_json(),
            "text/plain": render_text(self.record),
            "text/html": render_html(self.record),
        }


class RunView(widgets.VBox):
    """One run: its status (and error), the last lines of its log, and Cancel while it goes
    (for a run started here: `cancel`)."""

    def __init__(self, run: RunOutcome, cancel: Callable[[], None] | None = None) -> None:
        self.status = widgets.HTML()
        self.tail = widgets.HTML()
        self.cancel = widgets.Button(description="Cancel", tooltip="stop this run")
        self._cancellable = cancel is not None
        if cancel is not None:
            self.cancel.on_click(lambda _: cancel())
        super().__init__(children=(widgets.HBox((self.status, self.cancel)), self.tail))
        self.show(run)

    def show(self, run: RunOutcome) -> None:
        self.run = run
        self.status.value = _frame(_run_status(run))
        self.tail.value = _frame(_code_block("\n".join(run.log_tail))) if run.log_tail else ""
        self.cancel.layout.display = None if self._cancellable and run.status in GOING else "none"


class RunsView(widgets.VBox):
    """The Runs tab: config overrides and a Run button, then the job's runs, newest first: those
    started here followed until they end, those in the store before as they stood when shown.
    Runs go on in the kernel's event loop, so cells can run meanwhile (a cell that blocks the
    loop holds the updates until it ends, not the run)."""

    def __init__(self, record: JobRecord, store: str | Path | None) -> None:
        self._record, self._store = record, store
        self._tasks: set[asyncio.Task[object]] = set()  # held so that they are not collected
        self.config = widgets.Text(
            description="Config:",
            placeholder="KEY=VALUE ... (e.g. learning_rate=0.1), checked against the input types",
            layout=widgets.Layout(width="70%"),
        )
        self.run_button = widgets.Button(description="Run", button_style="primary", tooltip="run this version here")
        self.run_button.on_click(lambda _: self._go(self._start()))
        self.message = widgets.HTML()
        self.runs = widgets.VBox(tuple(RunView(run) for run in self._stored_runs()))
        intro = widgets.HTML(_frame(_runs_intro(record)))
        form = () if record.path is None else (widgets.HBox((self.config, self.run_button)), self.message, self.runs)
        super().__init__(children=(intro, *form))

    def _stored_runs(self) -> list[RunOutcome]:
        """The job's runs already in the store (the command line's, the panel's, other views'),
        with their logs' last lines; none for a dry run."""
        if self._record.path is None:
            return []
        try:
            return [with_log_tail(run) for run in JobStore.open_for_reading(self._store).runs(self._record.name)]
        except JobError as err:
            self._show_error(err)
            return []

    def _show_error(self, err: JobError) -> None:
        self.message.value = _frame(f"<div style='{_status_border(ERROR_MARK)}'>{_e(err.line)}</div>")

    def _go(self, work: Coroutine[Any, Any, object]) -> None:
        """Start `work` on the kernel's event loop and return: the button answers at once."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _start(self) -> None:
        self.message.value = ""
        manager = kernel_runs()
        try:
            store = JobStore.open_for_reading(self._store)
            run = await start_run(manager, store, self._record.ref, _override_pairs(self.config.value))
        except JobError as err:
            self._show_error(err)
            return
        view = RunView(run, cancel=lambda: self._go(manager.cancel(run.id)))
        self.runs.children = (view, *self.runs.children)
        async for state in follow(store, self._record.name, run.id):
            view.show(state)


def render_html(job: JobRecord) -> str:
    """The whole record as one self-contained HTML fragment (inline styles, theme-aware), its
    three tabs as headings: a static copy, so Runs says how to start one."""
    record = job.to_json()
    commands = {label: f"{_heading(label)}{_code_block(command)}" for label, command in _commands(record)}
    runs = _runs_intro(job) + commands.pop("Run here", "")
    version = _version(record) + "".join(
        f"<details><summary style='cursor:pointer'>{_e(title)}</summary>{body}</details>"
        for title, body in _collapsible_sections(record)
    )
    details = "".join(_job_sections(record, input_rows(job))) + "".join(commands.values())
    tabs = zip(TABS, (runs, details, version), strict=True)
    return _frame(_header(record) + "".join(f"{_tab_heading(title)}{body}" for title, body in tabs))


def render_text(record: JobRecord) -> str:
    """The record as plain text (the command line's report), saying so when nothing was created."""
    dry = "Dry run: nothing was created.\n" if record.dry_run else ""
    return dry + report.render_text(record)


def _widget_children(job: JobRecord, store: str | Path | None) -> tuple[widgets.Widget, ...]:
    """The header, then the three tabs: the long lists in an Accordion, commands in copyable boxes."""
    record = job.to_json()
    collapsible = [*_collapsible_sections(record), *_stored_sections(job, store)]
    accordion = widgets.Accordion(
        children=[widgets.HTML(_frame(body)) for _, body in collapsible],
        titles=tuple(title for title, _ in collapsible),
    )
    commands = {label: _command_box(label, command) for label, command in _commands(record)}
    runs = RunsView(job, store)
    if "Run here" in commands:
        runs.children = (*runs.children, commands.pop("Run here"))
    details = [widgets.HTML(_frame(section)) for section in _job_sections(record, input_rows(job))]
    version = widgets.VBox((widgets.HTML(_frame(_version(record))), accordion))
    tabs = widgets.Tab(children=(runs, widgets.VBox((*details, *commands.values())), version), titles=TABS)
    tabs.selected_index = TABS.index("Job details")  # first shown, as in the panel
    return (widgets.HTML(LABEL_STYLE + _frame(_header(record))), tabs)


def _stored_sections(job: JobRecord, store: str | Path | None) -> Iterator[tuple[str, str]]:
    """(title, HTML body) of what the store keeps beyond the record: the version's frozen
    requirements, and its changes from the version before (none for a dry run)."""
    if job.path is None:
        return
    try:
        stored = JobStore.open_for_reading(store)
        frozen = stored.version_file(job.ref, REQUIREMENTS_FILE)
        yield f"Frozen requirements ({REQUIREMENTS_FILE})", _code_block(frozen.text or f"binary, {frozen.size} bytes")
        comparison = compare_jobs(stored, job.ref)
    except JobError as err:  # the first version has nothing before it; a store that moved
        yield "Changes", f"<div style='color:{MUTED}'>{_e(err.line)}</div>"
        return
    yield f"Changes from {comparison.before}", _code_block(report.render_comparison(comparison))


def _command_box(label: str, command: str) -> widgets.Text:
    return widgets.Text(
        value=command,
        description=f"{label}:",
        layout=widgets.Layout(width="100%"),
        style={"description_width": "initial"},
    )


def _commands(record: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, command) for launching the job on W&B and for running it on this machine."""
    labelled = [("Launch on W&B", record.get("launch_command")), ("Run here", record.get("run_command"))]
    return [(label, command) for label, command in labelled if command]


def _job_sections(record: Mapping[str, Any], inputs: list[InputRow]) -> list[str]:
    """Job details, in reading order: the name and why, where the code comes from, its inputs."""
    sections = [_naming(record), _decision(record), _source(record), _types(record, inputs)]
    if record.get("warnings"):
        sections.append(_warnings(record["warnings"]))
    return sections


def _version(record: Mapping[str, Any]) -> str:
    """Version details: which version this is, what names it, when it was made."""
    aliases = ", ".join(record.get("aliases", [])) or "none"
    facts = [("version", record.get("version", "")), ("aliases", aliases), ("created", record.get("created_at", ""))]
    facts += [("digest", record.get("digest", "")), ("on W&B", ", ".join(record.get("artifact_aliases", [])))]
    rows = "".join(f"<tr>{_cell(label)}{_cell(value, mono=True)}</tr>" for label, value in facts if value)
    return f"{_heading('Version')}{_table(None, rows)}"


def _runs_intro(record: JobRecord) -> str:
    """What a run here is: the exported script, with offline wandb (and what Launch runs instead)."""
    if record.path is None:
        return f"<div style='color:{MUTED}'>Dry run: nothing was created, so there is nothing to run.</div>"
    return f"<div>A run here runs {_e(what_runs(record))}, with offline wandb.</div>"


def _run_status(run: RunOutcome) -> str:
    """The run's status word (marked by a coloured border), when and how long, and its error."""
    facts = [run.id, run.job.rpartition(":")[2], run.started_at]
    if run.status not in GOING:
        facts.append(f"{run.seconds:.1f} s")
    if run.exit_code is not None:
        facts.append(f"exit code {run.exit_code}")
    overrides = " ".join(f"{key}={value}" for key, value in run.overrides.items())
    error = f"<div>{_e(run.error)}</div>" if run.error else ""
    return (
        f"<div data-status='{_e(run.status)}' style='{_status_border(STATUS_MARKS.get(run.status, BORDER))}'>"
        f"<b>{_e(run.status)}</b> <span style='color:{MUTED}'>{_e(' · '.join(facts))}</span>"
        f"{'<div>' + _mono(overrides) + '</div>' if overrides else ''}{error}</div>"
    )


def _override_pairs(text: str) -> list[str]:
    """The Config box as the command line's `--config` pairs (quotes as a shell reads them)."""
    try:
        return shlex.split(text)
    except ValueError as err:
        raise JobError(
            f"Cannot read the config overrides: {err}", hint="write KEY=VALUE pairs separated by spaces"
        ) from None


def _collapsible_sections(record: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(title, HTML body) of the long lists users open only when they need them."""
    requirements = record.get("requirements", [])
    asked = "\n".join(requirements) or "(none: the environment is pinned in requirements.frozen.txt)"
    yield f"Requirements ({len(requirements)} from pip installs in the notebook)", _code_block(asked)
    code = record.get("code_artifact") or {}
    reasons = {item["path"]: f"  ({item['reason']}, {size_text(item['size'])})" for item in code.get("included", [])}
    files = [f"job artifact: {name}" for name in record.get("files", [])]
    files += [f"code artifact: {name}{reasons.get(name, '')}" for name in code.get("files", [])]
    yield f"Files ({len(files)})", _code_block("\n".join(files))
    rewrites = record.get("rewrites", [])
    if rewrites:
        lines = [
            f"cell {r['cell']} line {r['line']} [{r['kind']}]: {r['original']} -> {r['replacement'] or '(removed)'}"
            for r in rewrites
        ]
        yield f"Lines rewritten for plain Python ({len(rewrites)})", _code_block("\n".join(lines))


def _header(record: Mapping[str, Any]) -> str:
    """Name and version first: what the user will type to launch it."""
    aliases = ", ".join(a for a in record.get("aliases", []) if a != record.get("version"))
    dry = (
        f"<div style='font-weight:bold;border-left:4px solid {WARN_MARK};padding-left:6px'>"
        "Dry run: nothing was created.</div>"
        if record.get("dry_run")
        else ""
    )
    where = "/".join(part for part in (record.get("entity"), record.get("project")) if part)
    return (
        f"<div style='font-size:1.2em;font-weight:bold'>{_mono(record['name'])}"
        f"<span style='color:{MUTED}'>:{_e(record.get('version', ''))}</span></div>"
        f"<div style='color:{MUTED}'>{_e(SOURCE_LABELS.get(record.get('source_type', ''), ''))} job"
        f"{' in ' + _e(where) if where else ''}{' · aliases: ' + _e(aliases) if aliases else ''}"
        f"{' · ' + _e(record['created_at']) if record.get('created_at') else ''}</div>{dry}"
    )


def _naming(record: Mapping[str, Any]) -> str:
    """The naming rule, and the name split into the parts that rule put together."""
    naming = record["naming"]
    parts = "".join(
        f"<span title='{_e(part['role'])}' style='{_underline(part['role'])};padding:0 1px'>{_e(part['text'])}</span>"
        for part in naming["parts"]
    )
    legend = " ".join(
        f"<span style='{_underline(role)};margin-right:4px'>{_e(role)}</span>"
        for role in dict.fromkeys(part["role"] for part in naming["parts"])
    )
    notes = [note for flag, note in report.NAMING_NOTES.items() if naming.get(flag)]
    return (
        f"{_heading('Name')}<div>rule {_mono(naming['rule'])}{_e(''.join(notes))}</div>"
        f"<div style='font-family:{MONO};word-break:break-all'>{parts}</div>"
        f"<div style='font-size:0.85em'>{legend}</div>"
    )


def _decision(record: Mapping[str, Any]) -> str:
    """W&B's three source checks in order: which one won, and why the others did not."""
    rows = "".join(
        f"<tr style='{'font-weight:bold' if d['outcome'] == 'won' else ''}'>"
        f"{_cell(d['check'])}{_cell(OUTCOME_MARKS.get(d['outcome'], d['outcome']))}{_cell(d['reason'])}</tr>"
        for d in record.get("decision", [])
    )
    return f"{_heading('Source checks (in W&B order)')}{_table(('check', 'outcome', 'why'), rows)}"


def _source(record: Mapping[str, Any]) -> str:
    """Where the job's code comes from, then how it is started."""
    rows = "".join(f"<tr>{_cell(label)}{_cell(value, mono=True)}</tr>" for label, value in _source_facts(record))
    return f"{_heading('Source')}{_table(None, rows)}"


def _source_facts(record: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, value) pairs describing the source, entrypoint and runtime; empty ones left out."""
    kind = record.get("source_type", "")
    facts = [("source", SOURCE_LABELS.get(kind, kind))]
    if kind == "repo" and record.get("git"):
        git = record["git"]
        facts += [("remote", git["remote"]), ("commit", git["commit"]), ("path in repo", git["entrypoint"])]
    elif kind == "artifact" and record.get("code_artifact"):
        code = record["code_artifact"]
        facts += [("code artifact", code["name"]), ("digest", code["digest"])]
        facts += [("code files", ", ".join(code["files"]))]
    elif kind == "image" and record.get("image"):
        image, _, tag = record["image"].rpartition(":")
        facts += [("image", image), ("tag", tag)] if image and "/" not in tag else [("image", record["image"])]
    facts += [("entrypoint", " ".join(record.get("entrypoint") or [])), ("python", record.get("runtime") or "")]
    facts += [("notebook", record.get("notebook") or "")]
    return [(label, str(value)) for label, value in facts if value]


def _types(record: Mapping[str, Any], rows: list[InputRow]) -> str:
    """Inputs (config keys a launch may override, with defaults) and outputs (summary keys)."""
    files = any(row.source for row in rows)
    inputs = "".join(
        f"<tr>{_cell(row.source or 'wandb.config', mono=True) if files else ''}{_cell(row.key, mono=True)}"
        f"{_cell(row.type)}{_cell(row.default, mono=True)}{_cell(row.allowed)}</tr>"
        for row in rows
    )
    headers = (("from",) if files else ()) + ("key", "type", "default", "allowed")
    outputs = "".join(
        f"<tr>{_cell(key, mono=True)}{_cell(label)}</tr>" for key, label in type_rows(record.get("output_types") or {})
    )
    empty = f"<div style='color:{MUTED}'>none</div>"
    return (
        f"{_heading('Inputs (run config' + (' and config files)' if files else ')'))}"
        f"{_table(headers, inputs) if inputs else empty}"
        f"{_heading('Outputs (run summary)')}{_table(('key', 'type'), outputs) if outputs else empty}"
    )


def _warnings(warnings: list[str]) -> str:
    """Warnings stand out: each one is something the launched job may do differently."""
    items = "".join(f"<li>{_e(warning)}</li>" for warning in warnings)
    return (
        f"<div style='background:{PANEL_BACK};color:{TEXT};border-left:4px solid {WARN_MARK};"
        f"padding:4px 8px;margin-top:8px'><b>Warnings</b><ul style='margin:0'>{items}</ul></div>"
    )


def _status_border(color: str) -> str:
    return f"border-left:4px solid {color};padding-left:6px;margin:4px 0"


def _underline(role: str) -> str:
    return f"border-bottom:3px solid {ROLE_COLORS.get(role, 'transparent')}"


def _frame(body: str) -> str:
    return f"<div style='font-family:{FONT};color:{TEXT};font-size:13px;line-height:1.4'>{body}</div>"


def _heading(text: str) -> str:
    return f"<div style='font-weight:bold;margin-top:8px'>{_e(text)}</div>"


def _tab_heading(text: str) -> str:
    return f"<h3 style='margin:12px 0 0;border-bottom:1px solid {BORDER}'>{_e(text)}</h3>"


def _table(headers: tuple[str, ...] | None, rows: str) -> str:
    head = "".join(f"<th style='text-align:left;padding:2px 8px'>{_e(h)}</th>" for h in headers or ())
    head_row = f"<tr>{head}</tr>" if head else ""
    return f"<table style='border-collapse:collapse;font-size:inherit'>{head_row}{rows}</table>"


def _cell(text: str, mono: bool = False) -> str:
    family = f"font-family:{MONO};" if mono else ""
    return f"<td style='{family}text-align:left;padding:2px 8px;border-top:1px solid {BORDER}'>{_e(text)}</td>"


def _code_block(text: str) -> str:
    return (
        f"<pre style='font-family:{MONO};background:{PANEL_BACK};padding:4px 8px;"
        f"user-select:all;white-space:pre-wrap;word-break:break-all;margin:2px 0'>{_e(text)}</pre>"
    )


def _mono(text: str) -> str:
    return f"<code style='font-family:{MONO}'>{_e(text)}</code>"


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)
