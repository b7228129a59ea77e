"""`jupyter jobs ...` / `jupyter-jobs ...`: the command line, a thin shell over the core.

Each sub-command parses its arguments, calls one library function and prints the result as
text or, with `--json`, as one JSON object for scripts and tests. A `JobError` becomes one line
on stderr and exit status 1; nothing here prints a traceback for a user's mistake. Imports are
lazy: `jupyter jobs list` must not pay for nbformat, GitPython or wandb.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any, NoReturn

from . import wandb_compat
from .errors import JobError
from .models import SOURCE_CHOICES

EXIT_USER_ERROR = 1


class _Parser(argparse.ArgumentParser):
    """argparse, whose usage errors are one JSON object when the command line asks for `--json`."""

    def __init__(self, *args: Any, json_errors: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.json_errors = json_errors

    def error(self, message: str) -> NoReturn:
        if self.json_errors:
            _print_json({"message": f"{self.prog}: {message}"})
            sys.exit(2)
        super().error(message)


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    as_json = "--json" in argv
    wandb_compat.ignore_wandb_model_warnings()  # this process is ours: its stderr holds one-line errors
    args = _parser(as_json).parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except JobError as error:
        # With --json, stdout holds one JSON object whatever happened; its shape is the REST API's.
        if as_json:
            _print_json({"message": error.line})
        else:
            print(f"error: {error.line}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`jupyter jobs show NAME | head`): nothing is wrong, and Python
        # must not report the pipe again when it flushes stdout on the way out.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


class _Version(argparse.Action):
    """`--version`, looked up only when asked for: the package's metadata (importlib.metadata)
    would otherwise be most of the imports of `jupyter jobs list`."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        kwargs.setdefault("help", "show program's version number and exit")
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *_args: Any) -> None:
        from . import __version__

        sys.stdout.write(f"{parser.prog} {__version__}\n")
        parser.exit()


def _parser(json_errors: bool = False) -> argparse.ArgumentParser:
    parser = _Parser(
        prog="jupyter jobs",
        description="Turn notebooks into W&B Launch jobs and manage the local job store.",
        json_errors=json_errors,
    )
    parser.add_argument("--version", action=_Version)
    parser.set_defaults(handler=lambda _args: _help(parser))
    commands = parser.add_subparsers(
        title="commands",
        metavar="COMMAND",
        parser_class=partial(_Parser, json_errors=json_errors),  # type: ignore[call-overload]  # typeshed wants a class
    )
    _add_create(commands)
    _add_list(commands)
    _add_show(commands)
    _add_run(commands)
    _add_runs(commands)
    _add_compare(commands)
    _add_check(commands)
    _add_delete(commands)
    _add_publish(commands)
    _add_launch(commands)
    return parser


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", help="job store folder (default: $JUPYTER_JOBS_STORE or Jupyter's data dir)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _add_create(commands: Any) -> None:
    create = commands.add_parser("create", help="create a job from a notebook or script")
    create.add_argument("path", help="the .ipynb notebook or .py script")
    create.add_argument("--project", help="W&B project (default: uncategorized)")
    create.add_argument("--entity", help="W&B entity (default: $WANDB_ENTITY)")
    create.add_argument("--source", choices=SOURCE_CHOICES, help="force a source (default: auto, W&B's order)")
    create.add_argument("--name", help="job name (default: W&B's naming convention)")
    create.add_argument("--no-git", action="store_true", help="skip the git source, like disable_git")
    create.add_argument("--image", help="docker image for an image job (default: $WANDB_DOCKER)")
    create.add_argument("--dry-run", action="store_true", help="show what would be created; write nothing")
    create.add_argument("--allow-secrets", action="store_true", help="create the job even if secrets are found")
    create.add_argument("--strip-outputs", action="store_true", help="store the notebook copy without outputs")
    create.add_argument(
        "--include", action="append", default=[], metavar="GLOB", help="also carry files under the notebook's folder"
    )
    create.add_argument("--exclude", action="append", default=[], metavar="GLOB", help="never carry these files")
    create.add_argument(
        "--max-file-mb", type=float, default=1.0, metavar="MB", help="largest file read by the code to carry (1)"
    )
    inputs = create.add_argument_group("job inputs (as manage_wandb_config / manage_config_file declare them)")
    inputs.add_argument(
        "--include-key",
        action="append",
        default=[],
        metavar="[PATH:]KEY",
        help="a config (or config file) key to offer",
    )
    inputs.add_argument(
        "--exclude-key", action="append", default=[], metavar="[PATH:]KEY", help="a config (or config file) key to hide"
    )
    inputs.add_argument(
        "--schema",
        action="append",
        default=[],
        metavar="[PATH:]FILE",
        help="JSON Schema of the config (or config file) inputs, like wandb job create --schema",
    )
    inputs.add_argument(
        "--input-file", action="append", default=[], metavar="PATH", help="a YAML/JSON config file next to the notebook"
    )
    _common(create)
    create.set_defaults(handler=_create)


def _add_list(commands: Any) -> None:
    listing = commands.add_parser("list", help="list the jobs in the store, newest first")
    listing.add_argument("--limit", type=int, default=50, metavar="N", help="show at most N jobs (50)")
    listing.add_argument("--offset", type=int, default=0, metavar="N", help="skip the N newest jobs (0)")
    _common(listing)
    listing.set_defaults(handler=_list)


def _add_show(commands: Any) -> None:
    show = commands.add_parser("show", help="show one job version")
    show.add_argument("ref", help="NAME, NAME:vN or NAME:ALIAS (default alias: latest)")
    show.add_argument("--script", action="store_true", help="print the exported script, rewritten lines marked")
    _common(show)
    show.set_defaults(handler=_show)


def _add_run(commands: Any) -> None:
    run = commands.add_parser("run", help="run a stored job locally with offline wandb")
    run.add_argument("ref", help="NAME, NAME:vN or NAME:ALIAS")
    run.add_argument("--config", action="append", default=[], metavar="KEY=VALUE", help="override a config value")
    run.add_argument(
        "--file-config",
        action="append",
        default=[],
        metavar="FILE:KEY=VALUE",
        help="override a key of a declared config file, e.g. config.yaml:training.epochs=5",
    )
    run.add_argument("--workdir", type=Path, help="where to materialise the code (default: a new temp dir)")
    _common(run)
    run.set_defaults(handler=_run)


def _add_runs(commands: Any) -> None:
    runs = commands.add_parser("runs", help="list a job's local runs, newest first")
    runs.add_argument("ref", help="NAME (all its runs), NAME:vN or NAME:ALIAS (the runs of that version)")
    runs.add_argument("--limit", type=int, default=10, metavar="N", help="show at most N runs (10)")
    _common(runs)
    runs.set_defaults(handler=_runs)


def _add_compare(commands: Any) -> None:
    compare = commands.add_parser("compare", help="what changed between two job versions")
    compare.add_argument("ref", help="NAME, NAME:vN or NAME:ALIAS: the newer version")
    compare.add_argument("before", nargs="?", help="the older version (default: the one before REF)")
    _common(compare)
    compare.set_defaults(handler=_compare)


def _add_check(commands: Any) -> None:
    check = commands.add_parser("check", help="check the store for inconsistencies")
    check.add_argument("--repair", action="store_true", help="repair what is found; remove code unused for an hour")
    _common(check)
    check.set_defaults(handler=_check)


def _add_delete(commands: Any) -> None:
    delete = commands.add_parser("delete", help="delete a job (with its runs) or one version from the store")
    delete.add_argument("ref", help="NAME: the whole job; NAME:vN or NAME:ALIAS: that version only")
    delete.add_argument("--yes", action="store_true", help="delete without asking (needed when not at a terminal)")
    _common(delete)
    delete.set_defaults(handler=_delete)


def _add_publish(commands: Any) -> None:
    publish = commands.add_parser("publish", help="put a stored job version and its code into W&B")
    publish.add_argument("ref", help="NAME, NAME:vN or NAME:ALIAS")
    publish.add_argument("--entity", help="W&B entity (default: the job's, else wandb's)")
    publish.add_argument("--project", help="W&B project (default: the job's)")
    _common(publish)
    publish.set_defaults(handler=_publish)


def _add_launch(commands: Any) -> None:
    launch = commands.add_parser("launch", help="put a stored job on a W&B Launch queue (publishing it if needed)")
    launch.add_argument("ref", help="NAME, NAME:vN or NAME:ALIAS")
    launch.add_argument("--queue", required=True, help="the W&B Launch queue")
    launch.add_argument("--config", action="append", default=[], metavar="KEY=VALUE", help="override a config value")
    launch.add_argument("--entity", help="W&B entity (default: the job's, else wandb's)")
    launch.add_argument("--project", help="W&B project (default: the job's)")
    _common(launch)
    launch.set_defaults(handler=_launch)


def _create(args: argparse.Namespace) -> int:
    from .core import create_job
    from .inputs import from_options
    from .models import build_request, options_in

    folder = Path(args.path).expanduser().resolve().parent
    inputs = from_options(folder, args.input_file, args.include_key, args.exclude_key, args.schema)
    result = create_job(build_request(options_in(vars(args)), store=args.store, inputs=inputs))
    if args.json:
        _print_json(result.record.to_json())
    else:
        from .report import render_text, status_line

        print(status_line(result.record, result.created))
        print(render_text(result.record))
    return 0


def _list(args: argparse.Namespace) -> int:
    from .store import JobStore

    jobs, total = JobStore.open_for_reading(args.store).list_jobs(limit=args.limit, offset=args.offset)
    if args.json:
        from .models import JobList

        _print_json(JobList(jobs=jobs, total=total).to_json())
        return 0
    if not jobs:
        print(
            f"No jobs from offset {args.offset}: the store has {total} (use a smaller --offset)"
            if total
            else "No jobs yet. Create one with: jupyter jobs create NOTEBOOK.ipynb"
        )
        return 0
    from .report import render_jobs

    print(render_jobs(jobs))
    if total > args.offset + len(jobs):
        print(f"... {total - args.offset - len(jobs)} more (use --offset)")
    return 0


def _show(args: argparse.Namespace) -> int:
    from .store import JobStore

    store = JobStore.open_for_reading(args.store)
    stored = store.resolve(args.ref)
    if args.script:
        from .report import annotated_script

        print(annotated_script(stored.record) or "", end="")
    elif args.json:
        _print_json(stored.record.to_json())
    else:
        from .report import render_runs, render_text

        print(render_text(stored.record))
        print(render_runs(store.runs(stored.name)))
    return 0


def _run(args: argparse.Namespace) -> int:
    from .runner import parse_file_overrides, parse_overrides, run_job
    from .store import JobStore

    outcome = run_job(
        JobStore.open_for_reading(args.store),
        args.ref,
        parse_overrides(args.config),
        workdir=args.workdir,
        file_overrides=parse_file_overrides(args.file_config),
    )
    if args.json:
        _print_json(outcome.to_json())
    else:
        print(outcome.summary())
    return outcome.exit_code or 0


def _runs(args: argparse.Namespace) -> int:
    from .store import MAX_INTEGER, JobStore

    store = JobStore.open_for_reading(args.store)
    name, _, selector = args.ref.partition(":")
    if selector:
        # The runs of one version: its record names it, and each run names the version it ran.
        version = store.resolve(args.ref).record.ref
        runs = [run for run in store.runs(name, limit=MAX_INTEGER) if run.job == version][: args.limit]
    else:
        runs = store.runs(name, limit=args.limit)
    if args.json:
        from .models import JobRuns

        _print_json(JobRuns(job=args.ref, runs=runs).to_json())
    else:
        from .report import render_runs

        print(render_runs(runs))
    return 0


def _compare(args: argparse.Namespace) -> int:
    from .compare import compare_jobs
    from .store import JobStore

    comparison = compare_jobs(JobStore.open_for_reading(args.store), args.ref, args.before)
    if args.json:
        _print_json(comparison.to_json())
    else:
        from .report import render_comparison

        print(render_comparison(comparison))
    return 0


def _check(args: argparse.Namespace) -> int:
    from .store import JobStore

    store = JobStore.open_for_check(args.store)
    problems = store.check(repair=args.repair)
    removed = store.prune_unused_code() if args.repair else []
    unused = store.unused_code()
    if args.json:
        _print_json({"problems": problems, "repaired": args.repair, "unused_code": unused, "removed_code": removed})
        return 0 if not problems or args.repair else EXIT_USER_ERROR
    if not problems:
        print("The store is consistent.")
    else:
        print("\n".join(problems))
        if args.repair:
            print(f"Repaired {len(problems)} problem(s).")
    if removed:
        print(f"Removed code no version has used for an hour: {', '.join(removed)}")
    if unused:
        hint = "stored within the hour" if args.repair else "`check --repair` removes it after an hour"
        print(f"Code no version uses (kept: {hint}; a create may be under way): {', '.join(unused)}")
    return 0 if not problems or args.repair else EXIT_USER_ERROR


def _delete(args: argparse.Namespace) -> int:
    from .store import JobStore

    store = JobStore.open(args.store)
    if not args.yes and not _confirmed(store, args.ref):
        print("Nothing deleted.", file=sys.stderr)
        return EXIT_USER_ERROR
    deleted = store.delete(args.ref)
    if args.json:
        _print_json({"deleted": deleted})
    else:
        print(f"Deleted {', '.join(deleted)}")
    return 0


def _confirmed(store: Any, ref: str) -> bool:
    """Ask at a terminal what the delete would remove; elsewhere only --yes deletes."""
    if not sys.stdin.isatty():
        raise JobError(f"Deleting {ref} needs a yes", hint="add --yes to delete without asking")
    stored = store.resolve(ref)
    what = (
        f"{stored.name}:{stored.label}"
        if ":" in ref
        else f"{stored.name}, all {len(store.versions(stored.name))} versions and its runs"
    )
    print(f"Delete {what}? [y/N] ", end="", file=sys.stderr, flush=True)
    return sys.stdin.readline().strip().lower() in {"y", "yes"}


def _publish(args: argparse.Namespace) -> int:
    from .publish import publish_stored
    from .store import JobStore

    published = publish_stored(
        JobStore.open_for_reading(args.store), args.ref, entity=args.entity, project=args.project
    )
    if args.json:
        _print_json(published.to_json())
    else:
        print(published.summary())
    return 0


def _launch(args: argparse.Namespace) -> int:
    from .publish import launch_stored
    from .runner import parse_overrides
    from .store import JobStore

    launched = launch_stored(
        JobStore.open_for_reading(args.store),
        args.ref,
        args.queue,
        parse_overrides(args.config),
        entity=args.entity,
        project=args.project,
    )
    if args.json:
        _print_json(launched.to_json())
    else:
        print(launched.summary())
    return 0


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2))


if __name__ == "__main__":
    sys.exit(main())
