"""`%wandb_job` and the side panel's entry point: thin shells over `core.create_job`.

Both read what only the kernel knows — the active W&B run (its project, entity, config,
summary and job-related settings) and which notebook this is — and hand it to the core,
which does all the work. Mistakes a user can make arrive as `JobError` and are shown as one
line: printed by the magic, sent as structured data to the panel.
"""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from IPython import get_ipython
from IPython.core.error import UsageError
from IPython.core.magic_arguments import argument, magic_arguments
from IPython.display import display

from .errors import JobError
from .models import DEFAULT_PROJECT, RESULT_MIME, SOURCE_CHOICES, JobRecord, build_request, options_in
from .notebook_path import CellsRun, find_notebook

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell
    from wandb import Run

    from .core import JobResult

ERROR_MIME = "application/vnd.jupyter-jobs.error+json"
# W&B's `job_source` setting spells the git source "repo"; our requests say "git".
WANDB_SOURCE_NAMES = {"repo": "git", "artifact": "artifact", "image": "image"}
START_A_RUN = "start one in this notebook with run = wandb.init(project=...)"


CELLS_RUN = CellsRun()


def register(ipython: InteractiveShell) -> None:
    """Make `%wandb_job` available in this shell (called by `%load_ext jupyter_jobs`), and note
    the job inputs the notebook declares from now on (wandb keeps no copy we could read later)."""
    from .wandb_compat import watch_job_inputs

    # IPython's magic_arguments decorators are untyped: mypy sees a half-built wrapper.
    ipython.register_magic_function(wandb_job, magic_kind="line", magic_name="wandb_job")  # type: ignore[call-arg]
    watch_job_inputs()
    if CELLS_RUN.record not in ipython.events.callbacks["post_run_cell"]:
        ipython.events.register("post_run_cell", CELLS_RUN.record)


@magic_arguments()
@argument(
    "--source",
    choices=SOURCE_CHOICES,
    default=None,
    help="force a source instead of W&B's order (default: the run's job_source setting, else auto)",
)
@argument("--name", help="job name (default: W&B's naming rule, or the run's job_name setting)")
@argument("--no-git", action="store_true", help="skip the git check, like wandb.Settings(disable_git=True)")
@argument("--image", help="docker image for an image job (default: the run's docker setting / $WANDB_DOCKER)")
@argument("--project", help="W&B project when there is no active run (default: uncategorized)")
@argument("--entity", help="W&B entity when there is no active run")
@argument("--dry-run", action="store_true", help="show what would be created; create and log nothing")
@argument("--allow-secrets", action="store_true", help="create the job even if the code holds credentials")
@argument("--strip-outputs", action="store_true", help="store the notebook copy without its outputs")
@argument("--include", metavar="GLOB", action="append", default=[], help="also carry files under the notebook's folder")
@argument("--exclude", metavar="GLOB", action="append", default=[], help="never carry these files")
@argument("--max-file-mb", metavar="MB", type=float, default=1.0, help="largest file read by the code to carry")
@argument("--notebook", metavar="PATH", help="the notebook to export, when the kernel cannot tell")
@argument(
    "--offline-run", action="store_true", help="no active run: start an offline wandb run for the job, then finish it"
)
@argument("--list", action="store_true", help="list the jobs in the local store, newest first")
@argument("--show", metavar="REF", help="show one stored job: NAME, NAME:vN or NAME:ALIAS")
@argument("--compare", metavar="REF", help="what changed in a stored job version since the version before it")
@argument("--run", metavar="REF", help="run a stored job version on this machine with offline wandb")
@argument("--config", metavar="KEY=VALUE", action="append", default=[], help="with --run: override a config value")
@argument(
    "--publish",
    metavar="REF",
    help="put a stored job version and its code into W&B (with --entity/--project: where), through a run of its own",
)
@argument("--store", metavar="PATH", help="local job store (default: $JUPYTER_JOBS_STORE, else Jupyter's data dir)")
def wandb_job(line: str) -> None:
    """Turn this notebook into a W&B Launch job, from the active run, and show what was created.

    Run it after `run = wandb.init(...)`: the saved notebook is exported to a plain-Python
    script, the job (git, code-artifact or image sourced, chosen as W&B would) is stored
    locally and both the code and the job artifact are logged to the run.

    Examples: `%wandb_job`, `%wandb_job --dry-run`, `%wandb_job --source artifact`,
    `%wandb_job --list`, `%wandb_job --show job-source-my_project-train.ipynb:latest`,
    `%wandb_job --compare job-source-my_project-train.ipynb`,
    `%wandb_job --run job-source-my_project-train.ipynb --config learning_rate=0.1`,
    `%wandb_job --publish job-source-my_project-train.ipynb:latest`.
    """
    args = _parse_line(line)
    try:
        if args.list:
            _print_jobs(args.store)
        elif args.show:
            _show_stored(args.store, args.show)
        elif args.compare:
            _print_comparison(args.store, args.compare)
        elif args.run:
            _run_stored(args.store, args.run, args.config)
        elif args.publish:
            _publish_stored(args.store, args.publish, args.entity, args.project)
        else:
            _create_from_magic(vars(args))
    except JobError as err:
        print(err.line, file=sys.stderr)


def _parse_line(line: str) -> Any:
    """The options as a shell would split them (quotes removed: `--name 'my job'`), which
    IPython's own `parse_argstring` does not do."""
    try:
        argv = shlex.split(line)
    except ValueError as err:
        raise UsageError(f"%wandb_job options cannot be read: {err}") from None
    return wandb_job.parser.parse_args(argv)


def panel_create(request_json: str) -> None:
    """Create a job for the JupyterLab panel; exactly one structured output, never a traceback.

    The panel runs this in the notebook's kernel so the active run is used, and reads the
    record (or the error message) from the display message: no text scraping.
    """
    run = None
    try:
        options = _panel_options(request_json)
        run = _active_run()
        _require_run(run, options, hint=START_A_RUN)
        notebook = find_notebook(get_ipython().user_ns, options["path"])
        record = _create(options, notebook, run, started_here=False).record
        display({RESULT_MIME: record.to_json()}, raw=True)
    except JobError as err:
        # Only a missing run is what creating from the saved file (no run needed) gets past;
        # any other mistake (secrets, a bad notebook) it would meet the same way.
        display({ERROR_MIME: {"message": err.line, "saved_file_helps": run is None}}, raw=True)


def _panel_options(request_json: str) -> dict[str, Any]:
    """The panel's request: the REST `POST jobs` body, whose `path` names the notebook, checked
    by the one request builder before anything else happens."""
    try:
        options = json.loads(request_json)
    except ValueError as err:
        raise JobError(f"The panel sent a request that is not JSON ({err})") from None
    except RecursionError:
        raise JobError("The panel sent a request nested too deeply to read") from None
    if not isinstance(options, dict) or not options.get("path"):
        raise JobError("The panel sent no notebook path", hint="save the notebook and try again")
    build_request(options)
    return options


def _create_from_magic(options: dict[str, Any]) -> None:
    """Creation from `%wandb_job`: find the run (or start one), create, say what happened, show it.

    Everything the user can get wrong is checked before an offline run is started for them,
    so a mistake leaves no empty run behind.
    """
    run = _active_run()
    start_run = run is None and options["offline_run"] and not options["dry_run"]
    if not start_run:
        _require_run(run, options, hint=f"{START_A_RUN}, or use %wandb_job --offline-run")
    notebook = find_notebook(get_ipython().user_ns, options["notebook"])
    unsaved = _unsaved_warning(notebook)
    if start_run:
        run = _start_offline_run(options)
    try:
        result = _create(
            options_in(options), notebook, run, started_here=start_run, store=options["store"], warnings=unsaved
        )
    finally:
        if start_run and run is not None:
            run.finish()
    print(_status_line(result, run))
    for warning in unsaved:
        print(f"Warning: {warning}", file=sys.stderr)
    _display_record(result.record, options["store"])


def _unsaved_warning(notebook: Path) -> tuple[str, ...]:
    """Cells that ran but are missing from the saved notebook the job is made from, if any."""
    unsaved = CELLS_RUN.unsaved(notebook)
    if not unsaved:
        return ()
    return (
        f"{unsaved} cell(s) ran after {notebook.name} was last saved and are not in it, "
        "so the job lacks that code: save the notebook (Ctrl+S) and run %wandb_job again.",
    )


def _require_run(run: Run | None, options: Mapping[str, Any], hint: str) -> None:
    """Jobs are logged to the active run, so one is needed, except to preview (--dry-run)."""
    if run is None and not options.get("dry_run"):
        raise JobError("No active W&B run", hint=hint)
    if run is not None:
        _check_run_matches(options, run)


def _create(
    options: Mapping[str, Any],
    notebook: Path,
    run: Run | None,
    *,
    started_here: bool,
    store: str | None = None,
    warnings: tuple[str, ...] = (),
) -> JobResult:
    """Call the core with the user's options over the run's defaults; it also publishes to the run."""
    from .core import create_job

    defaults = _run_defaults(run, started_here=started_here)
    chosen = {key: options.get(key) or defaults.get(key) for key in _RUN_SETTINGS}
    request = build_request(
        {**options, **chosen, "path": str(notebook)},
        config=defaults.get("config"),
        summary=defaults.get("summary"),
        store=store,
        warnings=[*warnings, *defaults.get("warnings", ())],
        inputs=defaults.get("inputs"),
    )
    return create_job(request, run=None if request.dry_run else run)


# The options a run's settings give defaults for (`_run_defaults`).
_RUN_SETTINGS = ("project", "entity", "source", "name", "no_git", "image")


def _run_defaults(run: Run | None, *, started_here: bool) -> dict[str, Any]:
    """What the run says about the job, read as W&B's own job builder reads it.

    A run we started ourselves has no config yet: leaving config out lets the core infer the
    inputs from the notebook's `wandb.init(config=...)`.
    """
    if run is None:
        return {}
    settings = run.settings
    defaults: dict[str, Any] = {
        "project": run.project,
        "entity": run.entity or None,
        "source": WANDB_SOURCE_NAMES.get(settings.job_source or ""),
        "name": settings.job_name,
        "no_git": settings.disable_git,
        "image": settings.docker,
    }
    if not started_here:
        defaults.update(config=dict(run.config), summary=dict(run.summary), **_declared(run))
    return defaults


def _declared(run: Run) -> dict[str, Any]:
    """The job inputs the run declared, and a warning for config files declared before we watched."""
    from .wandb_compat import declared_inputs, unseen_config_files

    inputs = declared_inputs(run)
    unseen = unseen_config_files(run, inputs)
    warnings = [
        f"config file {path} was declared before %load_ext jupyter_jobs, so the job lacks it: "
        "load the extension first, then run the notebook again"
        for path in unseen
    ]
    return {"inputs": inputs, "warnings": warnings}


def _check_run_matches(options: Mapping[str, Any], run: Run) -> None:
    """The artifacts go to the run's project and entity: a different one asked for is a mistake."""
    for option, actual in (("project", run.project), ("entity", run.entity)):
        wanted = options.get(option)
        if wanted and actual and wanted != actual:
            raise JobError(
                f"--{option} {wanted} differs from the active run's {option} {actual}",
                hint=f"the job is logged to the run; drop --{option}, or run.finish() and start a run in {wanted}",
            )


def _active_run() -> Run | None:
    """wandb's active run; importing wandb here, if the notebook has not, stays out of the output."""
    from .wandb_compat import quiet_wandb_import

    return quiet_wandb_import().run


def _start_offline_run(options: Mapping[str, Any]) -> Run:
    """An offline run to carry the artifacts, for users who have not started one."""
    import wandb

    return wandb.init(project=options.get("project") or DEFAULT_PROJECT, entity=options.get("entity"), mode="offline")


def _status_line(result: JobResult, run: Run | None) -> str:
    """What happened, and what became of the run's artifacts."""
    from .report import status_line

    if run is None:
        logged = ""
    elif result.published:
        logged = f"code and job artifacts logged to run {run.id}"
    else:
        logged = f"already logged to run {run.id}"
    return status_line(result.record, result.created, logged)


def _print_jobs(store: str | None) -> None:
    """`--list`: the stored jobs as a small text table, newest first."""
    from .report import render_jobs
    from .store import JobStore

    jobs, total = JobStore.open_for_reading(store).list_jobs()
    if not jobs:
        print("No jobs yet. Create one with %wandb_job after wandb.init(...).")
        return
    print(render_jobs(jobs))
    if total > len(jobs):
        print(f"... and {total - len(jobs)} more (jupyter jobs list --offset {len(jobs)})")


def _show_stored(store: str | None, ref: str) -> None:
    """`--show REF`: the stored version's record in the job widget."""
    from .store import JobStore

    _display_record(JobStore.open_for_reading(store).resolve(ref).record, store)


def _print_comparison(store: str | None, ref: str) -> None:
    """`--compare REF`: the parts that changed since the version before, as unified diffs."""
    from .compare import compare_jobs
    from .report import render_comparison
    from .store import JobStore

    print(render_comparison(compare_jobs(JobStore.open_for_reading(store), ref)))


def _run_stored(store: str | None, ref: str, config: list[str]) -> None:
    """`--run REF`: the job run as `jupyter jobs run` runs it (and recorded); how it ended."""
    from .runner import parse_overrides, run_job
    from .store import JobStore

    print(run_job(JobStore.open_for_reading(store), ref, parse_overrides(config)).summary())


def _publish_stored(store: str | None, ref: str, entity: str | None, project: str | None) -> None:
    """`--publish REF`: as `jupyter jobs publish` does; offline, the `wandb sync` command to run."""
    from .publish import publish_stored
    from .store import JobStore

    print(publish_stored(JobStore.open_for_reading(store), ref, entity=entity, project=project).summary())


def _display_record(record: JobRecord, store: str | None) -> None:
    """The job widget; its Run button runs the version from `store`, where it is kept."""
    from .widget import JobWidget

    display(JobWidget(record, store))
