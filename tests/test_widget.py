"""The job widget and its HTML/text fallbacks, over records made by the real core."""

from __future__ import annotations

import asyncio
import contextlib
import html
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import ipywidgets as widgets
import pytest
from jupyter_client.manager import start_new_kernel

from jupyter_jobs.core import CreateRequest, create_job
from jupyter_jobs.models import RESULT_MIME, JobRecord
from jupyter_jobs.server_runs import GOING, KERNEL_EXITED
from jupyter_jobs.store import JobStore
from jupyter_jobs.widget import JobWidget, RunsView, render_html, render_text

from .helpers import notebook_json, wait_until

W = TypeVar("W", bound=widgets.Widget)
HOSTILE_KEY = "<script>alert('x')</script>"
CONFIG = {"learning_rate": 0.01, "epochs": 10, "optimizer": {"momentum": 0.9}, HOSTILE_KEY: 1}
SUMMARY = {"loss": 0.25, "accuracy": 0.75}


def one(view: widgets.Widget, kind: type[W]) -> W:
    """The one widget of type `kind` in the view, however deep (tabs, boxes)."""
    found = [child for child in _all(view) if isinstance(child, kind)]
    assert len(found) == 1, found
    return found[0]


def _all(view: widgets.Widget) -> Iterator[widgets.Widget]:
    yield view
    for child in getattr(view, "children", ()):
        yield from _all(child)


@pytest.fixture
def make_record(write_notebook: Callable[..., Path], store_dir: Path) -> Callable[..., JobRecord]:
    def make(**request: Any) -> JobRecord:
        notebook = write_notebook("train.ipynb")
        options = {"project": "job_example", "config": CONFIG, "summary": SUMMARY, "store": store_dir, **request}
        return create_job(CreateRequest(path=notebook, **options)).record

    return make


def test_text_names_the_job_its_source_decision_types_and_warnings(make_record: Callable[..., JobRecord]) -> None:
    record = make_record()
    text = render_text(record)

    assert text.splitlines()[0].startswith("Job        job-source-job_example-train.ipynb:v0")
    assert re.search(r"artifact\s+won", text)
    assert re.search(r"git\s+failed", text)
    for key in ("learning_rate", "epochs", "optimizer.momentum", "loss", "accuracy"):
        assert key in text
    assert record.warnings and all(warning in text for warning in record.warnings)


def test_html_shows_the_same_facts_with_the_winning_check_marked(make_record: Callable[..., JobRecord]) -> None:
    record = make_record()
    page = render_html(record)

    assert "job-source-job_example-train.ipynb" in page and ":v0" in page
    assert re.search(r"<tr style='font-weight:bold'><td[^>]*>artifact</td><td[^>]*>✔ won", page)
    for key in ("learning_rate", "optimizer.momentum", "loss", "accuracy"):
        assert f">{key}</td>" in page
    assert ">0.01</td>" in page and ">0.9</td>" in page  # defaults from the run config
    assert all(f"<li>{html.escape(warning)}</li>" in page for warning in record.warnings)
    assert "var(--jp-ui-font-color1" in page  # follows the JupyterLab theme
    assert record.launch_command.replace("<", "&lt;").replace(">", "&gt;") in page


def test_html_escapes_hostile_keys(make_record: Callable[..., JobRecord]) -> None:
    page = render_html(make_record())

    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page


def test_naming_parts_are_highlighted_by_role(make_record: Callable[..., JobRecord]) -> None:
    record = make_record()
    page = render_html(record)

    assert record.naming.rule == "job-<code-artifact-name>"
    for part in record.naming.parts:
        assert f"<span title='{part.role}'" in page and f">{part.text}</span>" in page


def test_image_job_shows_image_and_tag(make_record: Callable[..., JobRecord]) -> None:
    record = make_record(image="wandb/job_example:v1")
    text, page = render_text(record), render_html(record)

    assert record.source_type == "image"
    assert "job-wandb_job_example" in text and re.search(r"image\s+won", text)
    assert ">wandb/job_example</td>" in page and ">v1</td>" in page


def test_dry_run_says_nothing_was_created(make_record: Callable[..., JobRecord]) -> None:
    record = make_record(dry_run=True)

    assert render_text(record).startswith("Dry run: nothing was created.")
    assert "Dry run: nothing was created." in render_html(record)


def test_widget_carries_the_view_and_both_fallbacks(make_record: Callable[..., JobRecord]) -> None:
    record = make_record()
    view = JobWidget(record)
    bundle = view._repr_mimebundle_()

    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == view.model_id
    assert bundle["text/plain"] == render_text(record)
    assert bundle["text/html"] == render_html(record)
    # The record itself, which the lab extension renders without a kernel once the model is gone.
    assert bundle[RESULT_MIME] == record.to_json()
    header, tabs = view.children
    assert "job-source-job_example-train.ipynb" in header.value
    assert isinstance(tabs, widgets.Tab) and tabs.titles == ("Runs", "Job details", "Version details")
    assert tabs.titles[tabs.selected_index] == "Job details"  # first shown, as in the panel
    runs, details, version = tabs.children
    assert "the exported script train.py stored with the job" in runs.children[0].value
    assert runs.children[-1].value == record.run_command  # "Run here", to copy
    assert ">learning_rate</td>" in details.children[3].value and ">0.01</td>" in details.children[3].value
    assert details.children[-1].value == record.launch_command
    assert f">{record.content_alias}" in version.children[0].value
    accordion = one(view, widgets.Accordion)
    assert accordion.titles[0] == f"Requirements ({len(record.requirements)} from pip installs in the notebook)"
    assert accordion.titles[1] == f"Files ({len(record.files) + len(record.code_artifact.files)})"
    assert "wandb-job.json" in accordion.children[1].value


def test_html_copy_has_the_three_tabs_as_headings(make_record: Callable[..., JobRecord]) -> None:
    record = make_record()
    page = render_html(record)

    headings = re.findall(r"<h3[^>]*>([^<]+)</h3>", page)
    assert headings == ["Runs", "Job details", "Version details"]
    runs, details, version = re.split(r"<h3[^>]*>[^<]+</h3>", page)[1:]
    assert html.escape(record.run_command) in runs and "the exported script train.py" in runs
    assert "Source checks (in W&amp;B order)" in details and ">learning_rate</td>" in details
    assert html.escape(record.launch_command) in details  # where the widget has it too
    assert f">{record.content_alias}" in version and "wandb-job.json" in version


def test_widget_follows_its_record(make_record: Callable[..., JobRecord]) -> None:
    first = make_record()
    second = make_record(image="wandb/job_example:v1")
    view = JobWidget(first)

    view.record = second

    assert "job-wandb_job_example" in view.children[0].value
    assert view._repr_mimebundle_()["text/plain"] == render_text(second)


def test_widget_renders_its_record_alone(tmp_path: Path, store_dir: Path) -> None:
    """The record is the view: with the store gone it shows the rewrites all the same."""
    path = tmp_path / "nb.ipynb"
    path.write_text(notebook_json("import os", "!echo hello", "%matplotlib inline\nx = 1"))
    record = create_job(CreateRequest(path=str(path), store=str(store_dir))).record
    shutil.rmtree(store_dir)

    accordion = one(JobWidget(record), widgets.Accordion)
    rewrites = accordion.children[accordion.titles.index("Lines rewritten for plain Python (2)")].value
    assert "cell 2 line 1 [shell]: !echo hello -&gt; subprocess.run(" in rewrites
    assert "cell 3 line 1 [dropped]: %matplotlib inline -&gt; (removed)" in rewrites


# ------------------------------------------------------------------ the Runs tab: real runs of a stored job

SLOW_JOB = ("import time", "print('epoch 1', flush=True)\ntime.sleep(2)\nprint('done', flush=True)")
FAILING_JOB = ("print('loading shards', flush=True)\nraise ValueError('bad shard 7')",)
ENDLESS_JOB = ("import time", "print('training', flush=True)\ntime.sleep(120)")


@pytest.fixture
def runs_of(write_notebook: Callable[..., Path], store_dir: Path) -> Callable[..., Any]:
    """The Runs tab of a fresh job's widget, whose notebook has `cells`; config learning_rate is a number."""

    def make(*cells: str) -> Any:
        notebook = write_notebook("job.ipynb", *cells)
        request = CreateRequest(path=str(notebook), store=str(store_dir), config={"learning_rate": 0.01})
        view = JobWidget(create_job(request).record, store_dir)
        return one(view, RunsView)

    return make


def statuses_shown(runs: RunsView) -> list[str]:
    """Every status the newest run row shows, in order, as a front end receives them."""
    seen: list[str] = []

    def note(html_value: str) -> None:
        status = re.search(r"data-status='(\w+)'", html_value)
        if status and (not seen or seen[-1] != status[1]):
            seen.append(status[1])

    def on_new_row(change: dict[str, Any]) -> None:
        row = change["new"][0]
        note(row.status.value)  # shown as soon as it is queued
        row.status.observe(lambda c: note(c["new"]), "value")

    runs.runs.observe(on_new_row, "children")
    return seen


async def until(check: Callable[[], Any], seconds: float = 60) -> Any:
    """Wait on the event loop (the runs go on in it) until `check` holds; its value."""
    for _ in range(int(seconds / 0.05)):
        value = check()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"not within {seconds} s")


def ended(runs: RunsView) -> bool:
    return bool(runs.runs.children) and runs.runs.children[0].run.status not in GOING


def test_a_run_goes_queued_running_finished_with_its_log_tail(runs_of: Callable[..., Any], store_dir: Path) -> None:
    runs = runs_of(*SLOW_JOB)
    seen = statuses_shown(runs)

    async def scenario() -> tuple[str, Any]:
        runs.config.value = "learning_rate=0.1"
        runs.run_button.click()
        row = await until(lambda: runs.runs.children and runs.runs.children[0])
        await until(lambda: "running" in seen and "epoch 1" in row.tail.value)
        live_tail = row.tail.value
        await until(lambda: ended(runs))
        return live_tail, row

    live_tail, row = asyncio.run(scenario())

    assert seen == ["queued", "running", "finished"]
    assert "epoch 1" in live_tail and "done" not in live_tail  # the tail while it ran
    assert "epoch 1\ndone" in row.tail.value
    assert "exit code 0" in row.status.value and "learning_rate=0.1" in row.status.value
    assert row.cancel.layout.display == "none" and runs.message.value == ""
    (stored,) = JobStore.open(store_dir).runs("job-source-uncategorized-job.ipynb")
    assert stored.status == "finished" and stored.overrides == {"learning_rate": 0.1}
    # Shown again (a new view, the notebook reopened): the run, from the store, with its tail.
    record = JobStore.open(store_dir).resolve("job-source-uncategorized-job.ipynb").record
    (again,) = one(JobWidget(record, store_dir), RunsView).runs.children
    assert again.status.value == row.status.value and "epoch 1\ndone" in again.tail.value
    assert again.cancel.layout.display == "none"


def test_a_failing_run_shows_failed_with_its_error_line(runs_of: Callable[..., Any]) -> None:
    runs = runs_of(*FAILING_JOB)
    seen = statuses_shown(runs)

    async def scenario() -> Any:
        runs.run_button.click()
        await until(lambda: ended(runs))
        return runs.runs.children[0]

    row = asyncio.run(scenario())

    assert seen[-1] == "failed"
    assert "exit code 1: ValueError: bad shard 7" in row.status.value
    assert "loading shards" in row.tail.value and "ValueError: bad shard 7" in row.tail.value


def test_cancel_stops_a_running_run(runs_of: Callable[..., Any]) -> None:
    runs = runs_of(*ENDLESS_JOB)
    seen = statuses_shown(runs)

    async def scenario() -> tuple[Any, float]:
        runs.run_button.click()
        row = await until(lambda: runs.runs.children and runs.runs.children[0])
        await until(lambda: "training" in row.tail.value)
        assert row.cancel.layout.display is None  # shown while it goes
        row.cancel.click()
        start = time.monotonic()
        await until(lambda: ended(runs))
        return row, time.monotonic() - start

    row, took = asyncio.run(scenario())

    assert seen[-2:] == ["running", "cancelled"] and took < 10
    assert "cancelled on request" in row.status.value and row.cancel.layout.display == "none"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("learning_rate=abc", 'config key learning_rate="abc" breaks the schema'),
        ("epochs=3", "no config key epochs"),
        ("learning_rate='0.1", "Cannot read the config overrides: No closing quotation"),
    ],
)
def test_a_bad_override_is_refused_in_one_line_naming_the_key(
    runs_of: Callable[..., Any], store_dir: Path, config: str, message: str
) -> None:
    runs = runs_of(*SLOW_JOB)

    async def scenario() -> str:
        runs.config.value = config
        runs.run_button.click()
        return await until(lambda: runs.message.value)

    shown = asyncio.run(scenario())

    text = html.unescape(re.sub(r"<[^>]+>", "", shown))
    assert message in text and "\n" not in text
    assert runs.runs.children == ()
    assert JobStore.open(store_dir).runs("job-source-uncategorized-job.ipynb") == []


def test_a_dry_run_has_nothing_to_run(make_record: Callable[..., JobRecord]) -> None:
    runs = one(JobWidget(make_record(dry_run=True)), RunsView)

    assert "nothing to run" in runs.children[0].value
    assert not [child for child in _all(runs) if isinstance(child, widgets.Button)]


def processes_in(folder: str) -> list[str]:
    """Ids of the processes whose working folder is `folder` (a run's)."""
    found = []
    for proc in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if proc.name.isdigit() and os.readlink(proc / "cwd") == folder:
                found.append(proc.name)
    return found


@pytest.mark.kernel
def test_a_run_going_when_its_kernel_exits_is_stopped_and_recorded(
    write_notebook: Callable[..., Path], store_dir: Path, kernel_env: Callable[[str], None]
) -> None:
    """The widget in a real kernel: Run, then the kernel shuts down (a restart does that too)."""
    record = create_job(CreateRequest(path=str(write_notebook("job.ipynb", *ENDLESS_JOB)), store=str(store_dir))).record
    manager, client = start_new_kernel(kernel_name="python3")
    try:
        reply = client.execute_interactive(
            "import asyncio\n"
            "from jupyter_jobs.store import JobStore\n"
            "from jupyter_jobs.widget import JobWidget\n"
            f"view = JobWidget(JobStore.open_for_reading().resolve({record.ref!r}).record)\n"
            "runs = view.children[1].children[0]\n"
            "runs.run_button.click()\n"
            "while not (runs.runs.children and 'training' in runs.runs.children[0].tail.value):\n"
            "    await asyncio.sleep(0.1)",
            timeout=120,
        )
        assert reply["content"]["status"] == "ok", reply["content"]
        (going,) = JobStore.open(store_dir).runs(record.name)
        assert going.status == "running" and processes_in(going.workdir)
    finally:
        client.stop_channels()
        manager.shutdown_kernel()

    (run,) = JobStore.open(store_dir).runs(record.name)
    assert run.status == "failed" and run.error == KERNEL_EXITED
    wait_until(lambda: not processes_in(run.workdir), "the run's process to be gone", seconds=10)


def test_version_details_show_the_frozen_requirements_and_the_changes(
    write_notebook: Callable[..., Path], store_dir: Path
) -> None:
    def create(*cells: str) -> JobRecord:
        return create_job(CreateRequest(path=str(write_notebook("job.ipynb", *cells)), store=str(store_dir))).record

    first, second = create("x = 1"), create("x = 2")

    def sections(record: JobRecord) -> dict[str, str]:
        accordion = one(JobWidget(record, store_dir), widgets.Accordion)
        return dict(zip(accordion.titles, (child.value for child in accordion.children), strict=True))

    shown = sections(second)
    frozen = JobStore.open(store_dir).version_file(second.ref, "requirements.frozen.txt").text
    assert frozen and "ipywidgets==" in frozen
    assert html.escape(frozen) in shown["Frozen requirements (requirements.frozen.txt)"]
    changes = shown["Changes from job-source-uncategorized-job.ipynb:v0"]
    assert "-x = 1" in changes and "+x = 2" in changes
    assert "is the first version of its job" in sections(first)["Changes"]
