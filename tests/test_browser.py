"""The W&B Jobs panel in a real JupyterLab, driven in headless Chromium like a user drives it.

A real `jupyter lab` process (the installed extension, the real kernels, offline W&B) serves a
temporary root; Playwright clicks the panel; the assertions read the panel's text and the
store on disk. Screenshots land in `test-artifacts/`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import msgspec
import nbformat
import pytest
from nbformat.sign import NotebookNotary

from jupyter_jobs.errors import JobError
from jupyter_jobs.store import JobStore
from jupyter_jobs.widget import JobWidget

from .cases import DECLARING_CELLS, create_declaring_inputs, inputs_project
from .helpers import REPO_ROOT, jupyter_server, notebook_json, run_cli

playwright_sync = pytest.importorskip("playwright.sync_api")
expect = playwright_sync.expect

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TOKEN = "jupyter-jobs-browser-test"
ARTIFACTS = REPO_ROOT / "test-artifacts"
PANEL = "#jupyter-jobs-panel"
PANEL_TAB = ".jp-SideBar .lm-TabBar-tab[data-id='jupyter-jobs-panel']"
# A kernel's first `import wandb` and an offline `wandb.init` take seconds on a busy machine.
SLOW = 180_000

TRAIN_SOURCE = (
    "import wandb\n"
    'run = wandb.init(project="job_example", config={"learning_rate": 0.01, "epochs": 10})\n'
    'run.log({"loss": 0.5})'
)
TRAIN_JOB = "job-source-job_example-train.ipynb"
PLAIN_JOB = "job-source-uncategorized-plain.ipynb"
SECRET_JOB = "job-source-uncategorized-secret.ipynb"
# Prints a W&B API key (sha1's 40 hex digits) that the code itself does not hold.
PRINTED_SOURCE = (
    "import hashlib\n"
    "import wandb\n"
    'run = wandb.init(project="printed")\n'
    'print("WANDB_API_KEY=" + hashlib.sha1(b"demo").hexdigest())'
)
PRINTED_JOB = "job-source-printed-printed.ipynb"


# pytest-jupyter (loaded for test_handlers.py) has two autouse fixtures that drive the current
# event loop after each test; here that loop is Playwright's, and the lab is a subprocess with
# nothing of theirs to clean up. These no-ops take their place in this module.
@pytest.fixture
def jp_asyncio_loop() -> None:
    return None


@pytest.fixture
def jp_server_cleanup() -> None:
    return None


class Lab:
    """A running `jupyter lab` and where its files and jobs are."""

    def __init__(self, url: str, root: Path, store: Path, log: Path) -> None:
        self.url = url
        self.root = root
        self.store = store
        self.log = log

    def page_url(self, notebook: str, workspace: str) -> str:
        """A named workspace per test: nothing a previous test left open is restored."""
        return f"{self.url}/lab/workspaces/{workspace}/tree/{notebook}?token={TOKEN}"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """One lab server for the module; every test opens its own page and notebook."""
    base = tmp_path_factory.mktemp("lab")
    root, store, home = base / "root", base / "store", base / "home"
    root.mkdir()
    home.mkdir()
    (root / "train.ipynb").write_text(notebook_json(TRAIN_SOURCE))
    (root / "plain.ipynb").write_text(notebook_json("x = 1\nprint(x)"))
    (root / "nokernel.ipynb").write_text(notebook_json("y = 2"))
    (root / "printed.ipynb").write_text(notebook_json(PRINTED_SOURCE))
    (root / "secret.ipynb").write_text(notebook_json('password = "Tr0ub4dor-and-3-horses"\nprint(len(password))'))
    settings = home / "lab-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    # No "get notified about news?" toast over the screenshots.
    (settings / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    env = {
        **os.environ,
        "WANDB_MODE": "offline",
        "WANDB_SILENT": "true",
        "WANDB_DIR": str(home),
        "JUPYTER_JOBS_STORE": str(store),
        "JUPYTER_JOBS_RUNS": str(home / "runs"),
        "JUPYTERLAB_SETTINGS_DIR": str(home / "lab-settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "lab-workspaces"),
    }
    options = ["--LabApp.expose_app_in_browser=True"]
    with jupyter_server(root, base / "lab.log", *options, app="jupyterlab", token=TOKEN, env=env) as server:
        yield Lab(server.url, root, store, server.log)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    with playwright_sync.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, lab: Lab, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1440, "height": 1300})
    page = context.new_page()
    page.on("console", lambda message: print(f"browser {message.type}: {message.text}"))
    yield page
    screenshot(page, f"last-{request.node.name}.png")  # what the page showed at the end
    context.close()
    print(f"--- end of {lab.log}:\n{lab.log.read_text()[-3000:]}")  # shown when a test fails


def open_notebook(page: Any, lab: Lab, notebook: str, workspace: str) -> None:
    """Open the notebook, make it the active tab, and wait for its kernel to be idle."""
    page.goto(lab.page_url(notebook, workspace))
    page.wait_for_selector("#jp-main-dock-panel", timeout=SLOW)
    # Headless Chromium gives the page no focus, so nothing is "current" until a tab is clicked.
    page.locator("#jp-main-dock-panel .lm-TabBar-tab", has_text=notebook).click()
    page.wait_for_function(
        """(path) => {
            const widget = window.jupyterapp && window.jupyterapp.shell.currentWidget;
            return !!widget && !!widget.context && widget.context.path === path
                && widget.sessionContext.session?.kernel?.status === 'idle';
        }""",
        arg=notebook,
        timeout=SLOW,
    )


def run_all_cells(page: Any) -> None:
    """Run > Run All Cells, then wait for the last cell's execution count."""
    notebook = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    prompt = notebook.locator(".jp-InputPrompt").last
    expect(prompt).to_have_text("[ ]:")  # never run: a count below can only come from this run
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel").get_by_text("Run All Cells", exact=True).click()
    expect(prompt).to_have_text(re.compile(r"\[\d+\]:"), timeout=SLOW)


def open_panel(page: Any) -> Any:
    tab = page.locator(PANEL_TAB)
    if "lm-mod-current" not in (tab.get_attribute("class") or ""):
        tab.click()  # a second click would close it again (the workspace may restore it open)
    panel = page.locator(PANEL)
    expect(panel.get_by_role("button", name="Create job")).to_be_visible()
    return panel


def show_tab(scope: Any, name: str) -> None:
    """Choose one of the job details' tabs (Runs, Job details, Version details), as a user does."""
    tab = scope.get_by_role("tab", name=name, exact=True)
    tab.click()
    expect(tab).to_have_attribute("aria-selected", "true")


def widen_side_panel(page: Any, width: int = 560) -> None:
    """Drag the side panel's edge, as a user does, so that screenshots are readable."""
    handle = page.locator("#jp-main-split-panel > .lm-SplitPanel-handle:not(.lm-mod-hidden)").first
    box = handle.bounding_box()
    middle = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] / 2, middle)
    page.mouse.down()
    page.mouse.move(width, middle, steps=5)
    page.mouse.up()


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path))
    return path


def test_create_job_from_the_active_run(page: Any, lab: Lab) -> None:
    open_notebook(page, lab, "train.ipynb", "create")
    run_all_cells(page)
    panel = open_panel(page)

    panel.get_by_role("button", name="Create job").click()

    details = panel.locator(".jp-JobsPanel-details")
    expect(details.locator(".jp-JobsPanel-jobName")).to_have_text(TRAIN_JOB, timeout=SLOW)
    expect(details.locator(".jp-JobsPanel-status")).to_have_text("Job created")
    expect(details.locator(".jp-JobsPanel-version")).to_have_text("v0")
    expect(details.locator(".jp-JobsPanel-sourceType")).to_contain_text("artifact")
    expect(details.locator(".jp-JobsPanel-decision li[data-outcome='won']")).to_contain_text("Code artifact")
    expect(details.locator(".jp-JobsPanel-table").first).to_contain_text("learning_rate")
    expect(details.locator(".jp-JobsPanel-table").first).to_contain_text("epochs")
    expect(details.locator(".jp-JobsPanel-launch")).not_to_be_empty()
    expect(panel.locator(".jp-JobsPanel-job", has_text=TRAIN_JOB)).to_contain_text("v0")
    widen_side_panel(page)
    shot = screenshot(page, "panel-created.png")
    if os.environ.get("UPDATE_README_SCREENSHOT"):  # refreshing the README's picture is a choice, not a side effect
        shutil.copyfile(shot, REPO_ROOT / "docs" / "panel.png")

    stored = JobStore.open(lab.store).resolve(TRAIN_JOB)
    assert stored.record.source_type == "artifact"
    assert (stored.path / "wandb-job.json").is_file()


def create_through_rest(lab: Lab, notebook: str, project: str) -> None:
    """A job made outside the panel (as the command line or another user would)."""
    request = urllib.request.Request(
        f"{lab.url}/jupyter-jobs/jobs",
        data=json.dumps({"path": notebook, "project": project}).encode(),
        headers={"Authorization": f"token {TOKEN}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=SLOW / 1000) as reply:
        assert reply.status == 201


def open_stored_job(page: Any, lab: Lab, job: str, workspace: str) -> Any:
    """Open train.ipynb and the panel, then `job` from the panel's list of stored jobs."""
    open_notebook(page, lab, "train.ipynb", workspace)
    panel = open_panel(page)
    panel.locator(".jp-JobsPanel-job", has_text=job).click()
    return panel


def test_stored_job_opens_from_the_list(page: Any, lab: Lab) -> None:
    create_through_rest(lab, "train.ipynb", "job_example")

    panel = open_stored_job(page, lab, TRAIN_JOB, "stored")

    details = panel.locator(".jp-JobsPanel-details")
    expect(details.locator(".jp-JobsPanel-status")).to_have_text("Job in the store")
    expect(details.locator(".jp-JobsPanel-jobName")).to_have_text(TRAIN_JOB)
    expect(details.locator(".jp-JobsPanel-sourceType")).to_contain_text("artifact")
    widen_side_panel(page)
    screenshot(page, "panel-stored.png")
    page.evaluate("() => window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Dark'})")
    page.wait_for_selector("body[data-jp-theme-light='false']", state="attached")
    page.wait_for_selector("#jupyterlab-splash", state="detached")
    screenshot(page, "panel-stored-dark.png")
    # The theme is a saved user setting: give the next tests the default one back.
    page.evaluate("() => window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Light'})")
    page.wait_for_selector("body[data-jp-theme-light='true']", state="attached")


def test_local_runs_show_in_the_job_details(page: Any, lab: Lab, tmp_path: Path) -> None:
    create_through_rest(lab, "train.ipynb", "job_example")
    ran = run_cli(
        "run",
        TRAIN_JOB,
        "--config",
        "learning_rate=0.5",
        "--store",
        str(lab.store),
        "--workdir",
        str(tmp_path / "run"),
        env={"WANDB_DIR": str(tmp_path)},
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr

    panel = open_stored_job(page, lab, TRAIN_JOB, "runs")
    show_tab(panel, "Runs")

    run = panel.locator(".jp-JobsPanel-details .jp-JobsPanel-run").first
    expect(run).to_contain_text("finished", timeout=SLOW)
    expect(run).to_contain_text("learning_rate=0.5")
    expect(run).to_have_attribute("title", "the exported script train.py stored with the job")
    widen_side_panel(page)
    screenshot(page, "panel-runs.png")


def test_run_a_job_from_the_panel(page: Any, lab: Lab) -> None:
    create_through_rest(lab, "train.ipynb", "job_example")
    panel = open_stored_job(page, lab, TRAIN_JOB, "run")
    show_tab(panel, "Runs")
    details = panel.locator(".jp-JobsPanel-details")
    expect(details.get_by_label("Config overrides")).to_have_attribute("placeholder", "learning_rate=… epochs=…")

    details.get_by_label("Config overrides").fill("learning_rate=0.25 epochs=2")
    details.get_by_role("button", name="Run", exact=True).click()

    newest = details.locator(".jp-JobsPanel-run").first
    expect(newest).to_contain_text("epochs=2 learning_rate=0.25", timeout=SLOW)  # keys as stored: sorted
    expect(newest.locator(".jp-JobsPanel-runStatus")).to_have_text("finished", timeout=SLOW)
    expect(panel.locator(".jp-JobsPanel-error")).to_have_count(0)
    (run,) = [
        r for r in JobStore.open(lab.store).runs(TRAIN_JOB) if r.overrides == {"learning_rate": 0.25, "epochs": 2}
    ]
    assert run.exit_code == 0 and Path(run.log).is_file()
    widen_side_panel(page)
    screenshot(page, "panel-run.png")


def test_a_failed_run_is_reported_with_its_log(page: Any, lab: Lab) -> None:
    (lab.root / "fails.ipynb").write_text(notebook_json("print('starting')\nraise SystemExit(3)"))
    create_through_rest(lab, "fails.ipynb", "broken")
    job = "job-source-broken-fails.ipynb"
    panel = open_stored_job(page, lab, job, "fails")
    show_tab(panel, "Runs")

    panel.locator(".jp-JobsPanel-details").get_by_role("button", name="Run", exact=True).click()

    run = panel.locator(".jp-JobsPanel-run[data-status='failed']")
    expect(run.locator(".jp-JobsPanel-runError[role='alert']")).to_have_text("exit code 3: starting", timeout=SLOW)
    expect(run).to_contain_text("failed (exit 3)")
    expect(run.locator(".jp-JobsPanel-runLog")).to_contain_text("starting")
    assert str(lab.store) not in panel.inner_text() and "output.log" not in panel.inner_text()  # no server path


def test_a_run_goes_on_while_the_panel_stays_usable_and_another_is_cancelled(page: Any, lab: Lab) -> None:
    """Issue 13: Run answers at once; the panel shows the run running, then finished, and can
    cancel another while it goes on."""
    (lab.root / "slow.ipynb").write_text(notebook_json("import time\nprint('epoch 1', flush=True)\ntime.sleep(6)"))
    create_through_rest(lab, "slow.ipynb", "slow")
    job = "job-source-slow-slow.ipynb"
    panel = open_stored_job(page, lab, job, "slow")
    show_tab(panel, "Runs")
    details = panel.locator(".jp-JobsPanel-details")
    run_button = details.get_by_role("button", name="Run", exact=True)

    run_button.click()
    first = details.locator(".jp-JobsPanel-run").first
    expect(first.locator(".jp-JobsPanel-runStatus")).to_have_text("running", timeout=SLOW)
    expect(first.locator(".jp-JobsPanel-runLog")).to_contain_text("epoch 1", timeout=SLOW)  # the live tail
    expect(run_button).to_be_enabled()  # nothing waits for the run
    panel.locator(".jp-JobsPanel-job", has_text=job).click()  # the list and details still answer
    run_button.click()
    second = details.locator(".jp-JobsPanel-run").first
    expect(details.locator(".jp-JobsPanel-run")).to_have_count(2, timeout=SLOW)
    expect(second.locator(".jp-JobsPanel-runStatus")).to_have_text(re.compile("queued|running"), timeout=SLOW)
    widen_side_panel(page)
    screenshot(page, "panel-run-going.png")
    second.get_by_role("button", name="Cancel").click()

    expect(second.locator(".jp-JobsPanel-runStatus")).to_have_text("cancelled", timeout=SLOW)
    expect(second.locator(".jp-JobsPanel-runError")).to_have_text("cancelled on request")
    older = details.locator(".jp-JobsPanel-run").nth(1)
    expect(older.locator(".jp-JobsPanel-runStatus")).to_have_text("finished", timeout=SLOW)
    runs = JobStore.open(lab.store).runs(job)
    assert sorted(run.status for run in runs) == ["cancelled", "finished"]
    screenshot(page, "panel-run-cancelled.png")


def test_changes_from_the_version_before_show_as_a_diff(page: Any, lab: Lab) -> None:
    (lab.root / "compare.ipynb").write_text(notebook_json(TRAIN_SOURCE))
    create_through_rest(lab, "compare.ipynb", "cmp")
    (lab.root / "compare.ipynb").write_text(notebook_json(TRAIN_SOURCE.replace("0.01", "0.5")))
    create_through_rest(lab, "compare.ipynb", "cmp")

    panel = open_stored_job(page, lab, "job-source-cmp-compare.ipynb", "compare")
    show_tab(panel, "Version details")

    details = panel.locator(".jp-JobsPanel-details")
    changes = details.locator("summary", has_text="Changes from v0")
    expect(changes).to_contain_text("source, inputs, script", timeout=SLOW)
    changes.click()
    inputs = details.locator(".jp-JobsPanel-diff[data-part='inputs']")
    expect(inputs.locator("[data-mark='added']", has_text="learning_rate")).to_have_text("+learning_rate: number = 0.5")
    expect(inputs.locator("[data-mark='removed']", has_text="learning_rate")).to_have_text(
        "-learning_rate: number = 0.01"
    )
    widen_side_panel(page)
    screenshot(page, "panel-compare.png")


def test_command_palette_creates_from_the_active_notebook(page: Any, lab: Lab) -> None:
    open_notebook(page, lab, "plain.ipynb", "palette")

    page.keyboard.press("Control+Shift+C")
    page.locator(".lm-CommandPalette-input").fill("Create W&B job")
    page.keyboard.press("Enter")

    # No run in this kernel: the panel opens and says so.
    error = page.locator(PANEL).locator(".jp-JobsPanel-error[role='alert']")
    expect(error).to_contain_text("No active W&B run", timeout=SLOW)
    expect(page.locator(PANEL)).to_be_visible()


def test_notebook_without_a_run_offers_the_saved_file(page: Any, lab: Lab) -> None:
    open_notebook(page, lab, "plain.ipynb", "no-run")
    run_all_cells(page)

    # The notebook toolbar button runs the same command as the panel's button.
    page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-JobsPanel-toolbarButton").click()

    panel = page.locator(PANEL)
    error = panel.locator(".jp-JobsPanel-error[role='alert']")
    expect(error).to_contain_text("No active W&B run", timeout=SLOW)
    expect(error.get_by_role("button", name="Create from saved file (no run)")).to_be_visible()
    widen_side_panel(page)
    screenshot(page, "panel-no-run.png")

    error.get_by_role("button", name="Create from saved file (no run)").click()

    details = panel.locator(".jp-JobsPanel-details")
    expect(details.locator(".jp-JobsPanel-jobName")).to_have_text(PLAIN_JOB, timeout=SLOW)
    expect(details.locator(".jp-JobsPanel-status")).to_have_text("Job created")
    expect(error).to_have_count(0)
    expect(panel.locator(".jp-JobsPanel-job", has_text=PLAIN_JOB)).to_be_visible()
    assert JobStore.open(lab.store).resolve(PLAIN_JOB).record.notebook.endswith("plain.ipynb")
    screenshot(page, "panel-from-file.png")


def test_secrets_block_until_allowed(page: Any, lab: Lab) -> None:
    open_notebook(page, lab, "secret.ipynb", "secret")
    panel = open_panel(page)
    error = panel.locator(".jp-JobsPanel-error[role='alert']")
    fallback = error.get_by_role("button", name="Create from saved file (no run)")
    panel.get_by_role("button", name="Create job").click()
    expect(error).to_contain_text("No active W&B run", timeout=SLOW)

    fallback.click()

    expect(error).to_contain_text("Secrets found: cell 1, line 1", timeout=SLOW)
    expect(error).to_contain_text("tick Allow secrets")  # the panel's checkbox, not the CLI's option
    expect(error).not_to_contain_text("--allow-secrets")
    expect(fallback).to_have_count(0)
    assert "Tr0ub4dor" not in error.inner_text()
    with pytest.raises(JobError, match="No job named"):
        JobStore.open(lab.store).resolve(SECRET_JOB)

    panel.get_by_label("Allow secrets").check()
    panel.get_by_role("button", name="Create job").click()
    expect(error).to_contain_text("No active W&B run", timeout=SLOW)
    fallback.click()

    details = panel.locator(".jp-JobsPanel-details")
    expect(details.locator(".jp-JobsPanel-jobName")).to_have_text(SECRET_JOB, timeout=SLOW)
    expect(details.locator(".jp-JobsPanel-warning").first).to_contain_text("secret allowed")
    expect(panel.get_by_label("Allow secrets")).not_to_be_checked()  # allowed for that create only
    assert JobStore.open(lab.store).resolve(SECRET_JOB).record.name == SECRET_JOB


def test_two_notebooks_one_after_the_other_share_nothing(page: Any, lab: Lab) -> None:
    (lab.root / "second.ipynb").write_text(notebook_json("z = 3"))
    open_notebook(page, lab, "secret.ipynb", "two-notebooks")
    panel = open_panel(page)
    error = panel.locator(".jp-JobsPanel-error[role='alert']")
    notebook_label = panel.locator(".jp-JobsPanel-notebook code")
    panel.get_by_role("button", name="Create job").click()
    expect(error).to_contain_text("No active W&B run", timeout=SLOW)
    error.get_by_role("button", name="Create from saved file (no run)").click()
    expect(error).to_contain_text("Secrets found", timeout=SLOW)
    panel.get_by_label("Allow secrets").check()
    panel.get_by_label("Strip outputs").check()
    panel.get_by_label("Include", exact=True).fill("*.yaml")

    page.evaluate(
        "async () => { await window.jupyterapp.commands.execute('docmanager:open', {path: 'second.ipynb'}); }"
    )

    expect(notebook_label).to_have_text("second.ipynb", timeout=SLOW)
    expect(error).to_have_count(0)  # secret.ipynb's error is not shown under second.ipynb
    expect(panel.locator(".jp-JobsPanel-details")).to_have_count(0)
    expect(panel.get_by_label("Allow secrets")).not_to_be_checked()
    expect(panel.get_by_label("Strip outputs")).not_to_be_checked()
    expect(panel.get_by_label("Include", exact=True)).to_have_value("")

    page.evaluate(
        "async () => { await window.jupyterapp.serviceManager.contents.rename('second.ipynb', 'renamed.ipynb'); }"
    )
    expect(notebook_label).to_have_text("renamed.ipynb", timeout=SLOW)

    page.locator("#jp-main-dock-panel .lm-TabBar-tab", has_text="secret.ipynb").click()
    expect(notebook_label).to_have_text("secret.ipynb", timeout=SLOW)
    expect(panel.get_by_label("Strip outputs")).to_be_checked()  # its own options come back
    expect(panel.get_by_label("Include", exact=True)).to_have_value("*.yaml")
    expect(panel.get_by_label("Allow secrets")).not_to_be_checked()  # never carried over


def test_secret_printed_in_an_output_is_left_out_by_stripping_outputs(page: Any, lab: Lab) -> None:
    open_notebook(page, lab, "printed.ipynb", "printed")
    run_all_cells(page)
    panel = open_panel(page)
    error = panel.locator(".jp-JobsPanel-error[role='alert']")

    panel.get_by_role("button", name="Create job").click()

    expect(error).to_contain_text("Secrets found: cell 1 output, line 1 (W&B API key)", timeout=SLOW)
    expect(error).to_contain_text("strip outputs")
    with pytest.raises(JobError, match="No job named"):
        JobStore.open(lab.store).resolve(PRINTED_JOB)

    panel.get_by_label("Strip outputs").check()
    panel.get_by_role("button", name="Create job").click()

    details = panel.locator(".jp-JobsPanel-details")
    expect(details.locator(".jp-JobsPanel-jobName")).to_have_text(PRINTED_JOB, timeout=SLOW)
    expect(error).to_have_count(0)
    record = JobStore.open(lab.store).resolve(PRINTED_JOB).record.to_json()
    saved = json.loads((lab.root / "printed.ipynb").read_text())
    assert "WANDB_API_KEY=" in "".join(saved["cells"][0]["outputs"][0]["text"])  # the user's notebook keeps it
    stored = json.loads((Path(record["code_artifact"]["path"]) / "printed.ipynb").read_text())
    assert stored["cells"][0]["outputs"] == []
    key = hashlib.sha1(b"demo").hexdigest()
    assert not [path for path in lab.store.rglob("*") if path.is_file() and key.encode() in path.read_bytes()]


def test_include_and_exclude_fields_and_the_carried_files(page: Any, lab: Lab) -> None:
    """Issue 17: the imported module travels, the Include field adds files, the details list
    each carried file with why it is there."""
    (lab.root / "carry_helper.py").write_text("def scale(x):\n    return 3 * x\n")
    (lab.root / "prompts").mkdir()
    (lab.root / "prompts" / "a.txt").write_text("a\n")
    (lab.root / "prompts" / "b.txt").write_text("b\n")
    source = "import wandb\nfrom carry_helper import scale\nrun = wandb.init(project='job_example')"
    (lab.root / "carry.ipynb").write_text(notebook_json(source))
    open_notebook(page, lab, "carry.ipynb", "carry")
    run_all_cells(page)
    panel = open_panel(page)

    panel.get_by_label("Include", exact=True).fill("prompts/*.txt")
    panel.get_by_label("Exclude").fill("b.txt")
    panel.get_by_role("button", name="Create job").click()

    carried = panel.locator(".jp-JobsPanel-details .jp-JobsPanel-included li")
    expect(carried).to_have_count(2, timeout=SLOW)
    show_tab(panel, "Version details")
    expect(carried.nth(0)).to_have_text("carry_helper.py imported in cell 1")
    expect(carried.nth(1)).to_have_text("prompts/a.txt --include prompts/*.txt")
    widen_side_panel(page)
    screenshot(page, "panel-carried.png")
    record = JobStore.open(lab.store).resolve("job-source-job_example-carry.ipynb").record.to_json()
    assert [item["path"] for item in record["code_artifact"]["included"]] == ["carry_helper.py", "prompts/a.txt"]


def test_notebook_without_a_kernel_offers_the_saved_file(page: Any, lab: Lab) -> None:
    open_notebook(page, lab, "nokernel.ipynb", "no-kernel")
    page.locator(".lm-MenuBar-itemLabel", has_text="Kernel").first.click()
    page.locator(".lm-Menu-itemLabel").get_by_text("Shut Down Kernel", exact=True).click()
    expect(page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Toolbar-kernelName")).to_have_text(
        "No Kernel", timeout=SLOW
    )
    panel = open_panel(page)

    panel.get_by_role("button", name="Create job").click()

    error = panel.locator(".jp-JobsPanel-error[role='alert']")
    expect(error).to_contain_text("no running kernel")
    error.get_by_role("button", name="Create from saved file (no run)").click()
    expect(panel.locator(".jp-JobsPanel-jobName")).to_have_text("job-source-uncategorized-nokernel.ipynb", timeout=SLOW)


def test_publish_and_launch_from_the_panel_say_what_w_and_b_needs(page: Any, lab: Lab) -> None:
    """This lab's wandb is offline: Publish makes an offline run and shows its `wandb sync`
    command; Launch, which needs W&B, says so (the round trip online is in test_handlers)."""
    create_through_rest(lab, "train.ipynb", "job_example")
    panel = open_stored_job(page, lab, TRAIN_JOB, "publish")
    show_tab(panel, "Runs")
    details = panel.locator(".jp-JobsPanel-details")
    expect(details.get_by_role("button", name="Launch", exact=True)).to_be_disabled()  # no queue yet

    details.get_by_role("button", name="Publish", exact=True).click()

    outcome = details.locator(".jp-JobsPanel-wandb")
    expect(outcome).to_contain_text("Not logged in to W&B", timeout=SLOW)
    expect(outcome).to_contain_text("wandb sync -p job_example")
    details.get_by_label("Launch queue").fill("gpu")
    details.get_by_role("button", name="Launch", exact=True).click()
    expect(panel.locator(".jp-JobsPanel-error")).to_contain_text("Launching needs W&B", timeout=SLOW)
    widen_side_panel(page)
    screenshot(page, "panel-publish.png")


def test_the_run_form_follows_the_declared_inputs_and_their_schema(page: Any, lab: Lab) -> None:
    """A job whose inputs were declared with schemas: the Run form has one typed field per input
    (ranges, choices, defaults); a value the schema refuses is a one-line error, and a good run
    reaches the config file the script reads."""
    folder = inputs_project(lab.root / "declared", *DECLARING_CELLS)
    job = "job-source-inputs-train.ipynb"
    created = create_declaring_inputs(folder, lab.store, project="inputs")
    assert created.returncode == 0, created.stderr

    panel = open_stored_job(page, lab, job, "inputs")
    details = panel.locator(".jp-JobsPanel-details")
    expect(details.locator(".jp-JobsPanel-inputs")).to_contain_text("integer, 1 <= x", timeout=SLOW)
    show_tab(panel, "Runs")
    rate = details.get_by_label("learning_rate", exact=True)
    expect(rate).to_have_attribute("type", "number")
    expect(rate).to_have_attribute("max", "1")
    expect(rate).to_have_attribute("placeholder", "0.01")
    epochs = details.get_by_label("config.yaml: training.epochs", exact=True)
    expect(epochs).to_have_attribute("step", "1")
    expect(epochs).to_have_attribute("placeholder", "4")
    optimizer = details.get_by_label("optimizer.name", exact=True)
    expect(optimizer.locator("option")).to_have_text(['default "adam"', "adam", "sgd"])

    rate.fill("2")
    details.get_by_role("button", name="Run", exact=True).click()
    error = panel.locator(".jp-JobsPanel-error[role='alert']")
    expect(error).to_contain_text("config key learning_rate=2 breaks the schema's 'maximum' rule", timeout=SLOW)
    assert "\n" not in error.inner_text().strip()
    assert JobStore.open(lab.store).runs(job) == []

    rate.fill("0.5")
    epochs.fill("2")
    optimizer.select_option("sgd")
    details.get_by_role("button", name="Run", exact=True).click()
    newest = details.locator(".jp-JobsPanel-run").first
    expect(newest.locator(".jp-JobsPanel-runStatus")).to_have_text("finished", timeout=SLOW)
    expect(newest).to_contain_text('config.yaml:{"training":{"epochs":2}}')
    (run,) = JobStore.open(lab.store).runs(job)
    assert run.overrides == {"learning_rate": 0.5, "optimizer": {"name": "sgd", "eps": 1e-08}}
    assert run.file_overrides == {"config.yaml": {"training": {"epochs": 2}}}
    assert "epochs from file 2 lr 0.5" in Path(run.log).read_text()
    widen_side_panel(page)
    screenshot(page, "panel-inputs.png")


# WCAG 2 contrast of every visible text under `selector`: its colour composited over the
# backgrounds behind it (walking up to the first opaque one), as the reader sees it.
CONTRAST_JS = """(selector) => {
    const parse = c => {
        const m = c.match(/rgba?\\(([^)]+)\\)/);
        if (!m) { throw new Error('unreadable colour ' + c); }
        const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
        return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
    };
    const over = (top, bottom) => [0, 1, 2].map(i => top[i] * top[3] + bottom[i] * (1 - top[3])).concat([1]);
    const background = el => {
        const layers = [];
        for (let e = el; e; e = e.parentElement) {
            const c = parse(getComputedStyle(e).backgroundColor);
            if (c[3] > 0) { layers.push(c); if (c[3] >= 1) { break; } }
        }
        return layers.reverse().reduce((below, layer) => over(layer, below), [255, 255, 255, 1]);
    };
    const lum = c => c.slice(0, 3).map(v => {
        v /= 255;
        return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    }).reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
    const results = [];
    for (const root of document.querySelectorAll(selector)) {
        for (const el of [root, ...root.querySelectorAll('*')]) {
            const text = [...el.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent).join('').trim();
            if (!text || el.getClientRects().length === 0) { continue; }
            const bg = background(el);
            const fg = over(parse(getComputedStyle(el).color), bg);
            const [light, dark] = [lum(fg), lum(bg)].sort((a, b) => b - a);
            results.push({text: text.slice(0, 40), cls: String(el.className), title: el.title,
                          ratio: (light + 0.05) / (dark + 0.05)});
        }
    }
    return results;
}"""
RECORD_OUTPUT = ".jp-OutputArea-output.jp-JobsPanel-record"
DETAILS_TABS = ("Runs", "Job details", "Version details")
WARNING = "notebook.ipynb reads data.csv, which the job does not carry"


def write_saved_job_notebook(lab: Lab, name: str, html_copy: bool = False) -> None:
    """A notebook as `%wandb_job` leaves it once saved: one output, the widget's display bundle
    (whose model lives only in the kernel that made it). With `html_copy`, a second cell shows
    the bundle's HTML copy alone, as nbconvert and GitHub show it, to measure it in JupyterLab's
    themes. Signed, as JupyterLab signs what its user saved: the outputs are trusted."""
    create_through_rest(lab, "train.ipynb", "job_example")
    record = JobStore.open_for_reading(lab.store).resolve(TRAIN_JOB).record
    record = msgspec.structs.replace(record, warnings=[WARNING])
    bundle = JobWidget(record)._repr_mimebundle_()
    cells = [nbformat.v4.new_code_cell("%wandb_job", outputs=[nbformat.v4.new_output("display_data", data=bundle)])]
    if html_copy:
        copy = nbformat.v4.new_output("display_data", data={"text/html": bundle["text/html"]})
        cells.append(nbformat.v4.new_code_cell("# the HTML copy, as nbconvert shows it", outputs=[copy]))
    notebook = nbformat.v4.new_notebook(
        cells=cells,
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )
    NotebookNotary().sign(notebook)
    nbformat.write(notebook, lab.root / name)


def test_reopened_notebook_shows_the_job_without_its_widget_model(page: Any, lab: Lab) -> None:
    write_saved_job_notebook(lab, "reopened.ipynb")

    page.goto(lab.page_url("reopened.ipynb", "reopened"))

    record = page.locator(RECORD_OUTPUT)
    expect(record.locator(".jp-JobsPanel-jobName")).to_have_text(TRAIN_JOB, timeout=SLOW)
    expect(record.locator(".jp-JobsPanel-warning")).to_have_text(WARNING)
    expect(record.locator(".jp-JobsPanel-launch pre")).to_contain_text("wandb launch")
    # The record won over the widget view (no "Error displaying widget: model not found") and
    # over the HTML copy: one view of the job.
    expect(page.locator(".jp-OutputArea-output")).to_have_count(1)
    expect(page.locator(".jp-Notebook")).not_to_contain_text("Error displaying widget")
    expect(page.locator(".jp-Notebook")).not_to_contain_text("model not found")
    screenshot(page, "notebook-reopened.png")


def themes(page: Any) -> Iterator[str]:
    """Switch to JupyterLab Light, then Dark; the theme's name at each step. Closed (use it
    under `contextlib.closing`), it switches back to Light, also after a failed assertion."""
    try:
        for theme, light in (("JupyterLab Light", "true"), ("JupyterLab Dark", "false")):
            page.evaluate(f"() => window.jupyterapp.commands.execute('apputils:change-theme', {{theme: '{theme}'}})")
            page.wait_for_selector(f"body[data-jp-theme-light='{light}']", state="attached")
            page.wait_for_selector("#jupyterlab-splash", state="detached")
            yield theme
    finally:
        page.evaluate("() => window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Light'})")
        page.wait_for_selector("body[data-jp-theme-light='true']", state="attached")


def test_text_meets_wcag_aa_in_light_and_dark_themes(page: Any, lab: Lab) -> None:
    """Name parts, warnings and badges (and every other text) of the notebook view, its HTML
    copy and the panel: contrast measured from the computed colours, at least 4.5:1."""
    write_saved_job_notebook(lab, "contrast.ipynb", html_copy=True)
    page.goto(lab.page_url("contrast.ipynb", "contrast"))
    expect(page.locator(RECORD_OUTPUT).locator(".jp-JobsPanel-jobName")).to_have_text(TRAIN_JOB, timeout=SLOW)
    page.locator("#jp-main-dock-panel .lm-TabBar-tab", has_text="contrast.ipynb").click()
    panel = open_panel(page)
    panel.locator(".jp-JobsPanel-job", has_text=TRAIN_JOB).click()
    expect(panel.locator(".jp-JobsPanel-details .jp-JobsPanel-jobName")).to_have_text(TRAIN_JOB)
    show_tab(panel, "Version details")
    panel.get_by_role("button", name="requirements.frozen.txt").click()  # the file viewer is measured too
    expect(panel.locator(".jp-JobsPanel-fileText")).to_contain_text("wandb==", timeout=SLOW)
    views = {
        "notebook view": RECORD_OUTPUT,
        "HTML copy": ".jp-OutputArea-output.jp-RenderedHTMLCommon",
        "panel": PANEL,
    }
    with closing(themes(page)) as switched:
        for theme in switched:
            screenshot(page, f"contrast-{theme.split()[-1].lower()}.png")
            for view, selector in views.items():
                texts = []
                # Each of the three tabs in turn (only shown text is measured), the chosen tab's label included.
                for tab in DETAILS_TABS if view != "HTML copy" else (None,):
                    if tab:
                        show_tab(page.locator(selector), tab)
                    texts += page.evaluate(CONTRAST_JS, selector)
                low = [t for t in texts if t["ratio"] < 4.5]
                assert not low, f"{theme}, {view}: below 4.5:1: {low}"
                classes = " ".join(t["cls"] for t in texts)
                if view != "HTML copy":
                    parts = ["namePart", "version", "sourceType", "outcome", "tab", "fileLink", "runCommand"]
                    for part in parts + (["fileText"] if view == "panel" else []):
                        assert f"jp-JobsPanel-{part}" in classes, f"{theme}, {view}: no {part} measured"
                else:
                    assert any(t["title"] == "artifact" for t in texts), f"{theme}: no name part measured"
                    assert any(WARNING in t["text"] or t["text"] == "Warnings" for t in texts)
            warnings = [t for t in page.evaluate(CONTRAST_JS, RECORD_OUTPUT) if "warning" in t["cls"]]
            assert warnings and min(t["ratio"] for t in warnings) >= 4.5


def test_a_busy_kernel_is_waited_for_and_the_wait_can_be_cancelled(page: Any, lab: Lab) -> None:
    (lab.root / "sleepy.ipynb").write_text(notebook_json("x = 1"))
    open_notebook(page, lab, "sleepy.ipynb", "sleepy")
    panel = open_panel(page)
    page.evaluate(
        """() => { window.jupyterapp.shell.currentWidget.sessionContext.session.kernel
            .requestExecute({code: 'import time; time.sleep(6)'}); }"""
    )
    page.wait_for_function(
        "() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'busy'"
    )

    panel.get_by_role("button", name="Create job").click()

    busy = panel.locator(".jp-JobsPanel-busy")
    expect(busy).to_contain_text("Waiting for the running cell in sleepy.ipynb to finish")
    busy.get_by_role("button", name="Cancel").click()
    expect(busy).to_have_count(0)
    page.wait_for_function(
        "() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'",
        timeout=SLOW,
    )
    page.wait_for_timeout(1500)  # time for a request that should not have been sent
    expect(panel.locator(".jp-JobsPanel-error")).to_have_count(0)  # not even "No active W&B run"
    expect(panel.locator(".jp-JobsPanel-details")).to_have_count(0)


def test_search_the_list_and_delete_a_version_then_the_job(page: Any, lab: Lab) -> None:
    (lab.root / "doomed.ipynb").write_text(notebook_json(TRAIN_SOURCE))
    create_through_rest(lab, "doomed.ipynb", "doomed")
    (lab.root / "doomed.ipynb").write_text(notebook_json(TRAIN_SOURCE + "\nprint('v1')"))
    create_through_rest(lab, "doomed.ipynb", "doomed")
    job = "job-source-doomed-doomed.ipynb"
    open_notebook(page, lab, "train.ipynb", "delete")
    panel = open_panel(page)

    panel.get_by_label("Search jobs").fill("DOOMED")
    jobs = panel.locator(".jp-JobsPanel-job")
    expect(jobs).to_have_count(1)
    expect(jobs).to_contain_text(job)
    panel.get_by_label("Search jobs").fill("no-such-job")
    expect(panel.locator(".jp-JobsPanel-list .jp-JobsPanel-empty")).to_have_text('No job name holds "no-such-job".')
    panel.get_by_label("Search jobs").fill("doomed")
    jobs.first.click()
    expect(panel.locator(".jp-JobsPanel-details .jp-JobsPanel-version")).to_have_text("v1")
    show_tab(panel, "Version details")

    panel.get_by_role("button", name="Delete v1").click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text(f"Delete version v1 of {job}? This cannot be undone.")
    dialog.get_by_role("button", name="Cancel").click()
    assert [s.label for s in JobStore.open(lab.store).versions(job)] == ["v1", "v0"]
    panel.get_by_role("button", name="Delete v1").click()
    page.locator(".jp-Dialog").get_by_role("button", name="Delete").click()
    expect(jobs).to_contain_text("1 version ·")
    assert [s.label for s in JobStore.open(lab.store).versions(job)] == ["v0"]

    jobs.first.click()
    expect(panel.locator(".jp-JobsPanel-details .jp-JobsPanel-version")).to_have_text("v0")
    panel.get_by_role("button", name="Delete job").click()
    page.locator(".jp-Dialog").get_by_role("button", name="Delete").click()
    expect(jobs).to_have_count(0)
    with pytest.raises(JobError):
        JobStore.open(lab.store).resolve(job)


def test_open_v0_of_a_three_version_job_and_compare_it_with_v2(page: Any, lab: Lab) -> None:
    for rate in ("0.01", "0.02", "0.03"):
        (lab.root / "versions.ipynb").write_text(notebook_json(TRAIN_SOURCE.replace("0.01", rate)))
        create_through_rest(lab, "versions.ipynb", "versions")
    job = "job-source-versions-versions.ipynb"
    open_notebook(page, lab, "train.ipynb", "versions")
    panel = open_panel(page)
    panel.locator(".jp-JobsPanel-job", has_text=job).click()
    details = panel.locator(".jp-JobsPanel-details")
    show_tab(panel, "Version details")
    picker = details.get_by_label("Version", exact=True)
    expect(picker.locator("option")).to_have_text(
        [re.compile(r"v2 \(.*latest.*\)"), re.compile(r"v1 \(sha-"), re.compile(r"v0 \(sha-")]
    )

    picker.select_option("v0")

    expect(details.locator(".jp-JobsPanel-meta .jp-JobsPanel-version")).to_have_text("v0")
    assert JobStore.open(lab.store).resolve(f"{job}:v0").record.version == "v0"
    details.get_by_label("Compare with").select_option("v2")
    changes = details.locator(".jp-JobsPanel-collapsible", has_text="Changes from v2")
    expect(changes).to_be_visible()
    changes.locator("summary").click()
    expect(changes.locator(".jp-JobsPanel-diff[data-part='inputs']")).to_contain_text("learning_rate: number = 0.01")
    expect(changes.locator(".jp-JobsPanel-diff[data-part='inputs']")).to_contain_text("learning_rate: number = 0.03")
    widen_side_panel(page)
    screenshot(page, "panel-versions.png")


def test_input_keys_stay_readable_in_the_narrow_panel(page: Any, lab: Lab) -> None:
    """Issue 13: at the panel's default width the Inputs table's key column wrapped one letter per
    line. Each key cell is one line high; a long key is cut with an ellipsis (its tooltip holds it
    whole); the table scrolls sideways inside the panel instead of spilling out of it."""
    long_key = "a_very_long_configuration_key_for_the_learning_rate_schedule"
    source = TRAIN_SOURCE.replace('"epochs": 10', f'"epochs": 10, "{long_key}": "cosine"')
    (lab.root / "narrow.ipynb").write_text(notebook_json(source))
    create_through_rest(lab, "narrow.ipynb", "narrow")
    panel = open_stored_job(page, lab, "job-source-narrow-narrow.ipynb", "narrow")
    table = panel.locator(".jp-JobsPanel-details .jp-JobsPanel-inputs")
    expect(table).to_contain_text("learning_rate", timeout=SLOW)

    cells = table.locator("td.jp-JobsPanel-key").evaluate_all(
        """cells => cells.map(cell => ({
            key: cell.textContent, title: cell.title, height: cell.getBoundingClientRect().height,
            line: parseFloat(getComputedStyle(cell).lineHeight) || 1.2 * parseFloat(getComputedStyle(cell).fontSize),
            cut: cell.scrollWidth > cell.clientWidth}))"""
    )
    assert sorted(cell["key"] for cell in cells) == sorted([long_key, "epochs", "learning_rate"])
    for cell in cells:
        # One line of text plus the cell's padding and border: never two lines, let alone one a letter.
        assert cell["height"] < 1.9 * cell["line"], f"{cell['key']} takes {cell['height']} px"
        assert cell["title"] == cell["key"]
    assert [cell["cut"] for cell in cells if cell["key"] == long_key] == [True]
    assert not any(cell["cut"] for cell in cells if cell["key"] != long_key)
    inside = panel.locator(".jp-JobsPanel-details .jp-JobsPanel-tableScroll").first.evaluate(
        """box => box.getBoundingClientRect().right <= document.querySelector('#jupyter-jobs-panel')
            .getBoundingClientRect().right + 0.5"""
    )
    assert inside, "the inputs table spills out of the panel"
    screenshot(page, "panel-narrow-inputs.png")


ONCE_SOURCE = ("%load_ext jupyter_jobs\n" + TRAIN_SOURCE.replace("job_example", "once"), "%wandb_job")
ONCE_JOB = "job-source-once-once.ipynb"


def last_cell_outputs(page: Any) -> list[str]:
    """What each output of the notebook's last cell is rendered as, in order: the job record
    view, else the MIME type JupyterLab's own renderers note (stdout, text/html, ...), else its classes."""
    cell = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell").last
    return cell.locator(".jp-OutputArea-output").evaluate_all(
        "nodes => nodes.map(n => n.classList.contains('jp-JobsPanel-record') ? 'job record'"
        " : n.dataset.mimeType || n.className)"
    )


def test_a_job_output_shows_once_live_and_after_save_and_reopen(page: Any, lab: Lab) -> None:
    """The real `%wandb_job` in a real kernel: its status line and one view of the job, live and
    after the notebook is saved, its kernel shut down (the widget's model gone) and reopened."""
    (lab.root / "once.ipynb").write_text(notebook_json(*ONCE_SOURCE))
    open_notebook(page, lab, "once.ipynb", "once")
    run_all_cells(page)
    cell = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell").last
    expect(cell.locator(RECORD_OUTPUT).locator(".jp-JobsPanel-jobName")).to_have_text(ONCE_JOB, timeout=SLOW)
    one_view = ["application/vnd.jupyter.stdout", "job record"]
    assert last_cell_outputs(page) == one_view
    expect(cell.locator(".jp-OutputArea-output").first).to_have_text(re.compile(rf"^Created {ONCE_JOB}:v0; "))

    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty", timeout=SLOW)
    (saved,) = [o for o in nbformat.read(lab.root / "once.ipynb", as_version=4).cells[-1].outputs if "data" in o]
    assert "application/vnd.jupyter.widget-view+json" in saved["data"]  # the model it names is in that kernel only
    page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.shutdown()")
    page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.sessionContext.session", timeout=SLOW)
    page.goto(lab.page_url("once.ipynb", "once-reopened"))

    cell = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell").last
    expect(cell.locator(RECORD_OUTPUT).locator(".jp-JobsPanel-jobName")).to_have_text(ONCE_JOB, timeout=SLOW)
    assert last_cell_outputs(page) == one_view
    expect(page.locator(".jp-Notebook")).not_to_contain_text("Error displaying widget")
    screenshot(page, "notebook-once-reopened.png")


def test_a_versions_files_open_read_only_in_the_panel_and_the_notebook_view(page: Any, lab: Lab) -> None:
    """Issue 13: the frozen requirements and every file of the version are links that show the file
    read-only, as the store holds it, in the panel and in the job output of a notebook."""
    write_saved_job_notebook(lab, "files.ipynb")
    stored = JobStore.open_for_reading(lab.store).resolve(TRAIN_JOB)
    frozen = (stored.path / "requirements.frozen.txt").read_text()
    panel = open_stored_job(page, lab, TRAIN_JOB, "files")
    details = panel.locator(".jp-JobsPanel-details")
    show_tab(panel, "Version details")

    details.get_by_role("button", name="requirements.frozen.txt").click()

    viewer = details.get_by_role("region", name="File requirements.frozen.txt")
    expect(viewer.locator(".jp-JobsPanel-fileText")).to_have_text(frozen, timeout=SLOW)
    expect(viewer).to_contain_text(f"{stored.label} · {len(frozen.encode())} bytes · read-only")
    assert viewer.locator(".jp-JobsPanel-fileText").evaluate("pre => !pre.isContentEditable")
    details.get_by_role("button", name="train.py", exact=True).click()
    script = details.get_by_role("region", name="File train.py")
    expect(script.locator(".jp-JobsPanel-fileText")).to_contain_text("wandb.init(", timeout=SLOW)
    widen_side_panel(page)
    screenshot(page, "panel-file.png")
    script.get_by_role("button", name="Close").click()
    expect(details.locator(".jp-JobsPanel-fileViewer")).to_have_count(0)

    page.goto(lab.page_url("files.ipynb", "files-notebook"))
    record = page.locator(RECORD_OUTPUT)
    show_tab(record, "Version details")
    record.get_by_role("button", name="wandb-job.json").click()
    spec = record.get_by_role("region", name="File wandb-job.json")
    expect(spec.locator(".jp-JobsPanel-fileText")).to_contain_text('"source_type": "artifact"', timeout=SLOW)
    screenshot(page, "notebook-file.png")


def test_the_details_have_w_and_bs_three_tabs_and_the_chosen_one_stays(page: Any, lab: Lab) -> None:
    """Issue 13: the panel and the notebook's job output show W&B's three tabs (Runs, Job details,
    Version details), each holding what W&B puts there; arrow keys move between them; the chosen
    tab stays chosen when another notebook is shown and after a reload."""
    write_saved_job_notebook(lab, "tabs.ipynb")
    panel = open_stored_job(page, lab, TRAIN_JOB, "tabs")
    details = panel.locator(".jp-JobsPanel-details")
    tabs = details.get_by_role("tab")
    expect(tabs).to_have_text(list(DETAILS_TABS))
    expect(details.get_by_role("tab", name="Job details")).to_have_attribute("aria-selected", "true")
    shown = details.get_by_role("tabpanel")  # hidden panels are not in the accessibility tree
    expect(shown).to_have_count(1)
    expect(shown.locator(".jp-JobsPanel-decision")).to_be_visible()
    expect(shown.locator(".jp-JobsPanel-inputs")).to_contain_text("learning_rate")
    expect(shown.locator(".jp-JobsPanel-naming")).to_be_visible()
    expect(shown.get_by_role("button", name="Run", exact=True)).to_have_count(0)

    details.get_by_role("tab", name="Job details").focus()
    page.keyboard.press("ArrowRight")
    version_tab = details.get_by_role("tab", name="Version details")
    expect(version_tab).to_have_attribute("aria-selected", "true")
    expect(version_tab).to_be_focused()
    latest = JobStore.open_for_reading(lab.store).resolve(TRAIN_JOB).label  # earlier tests may have made versions
    expect(shown.get_by_label("Version", exact=True)).to_have_value(latest)
    expect(shown.get_by_role("button", name="requirements.frozen.txt")).to_be_visible()
    expect(shown.get_by_role("button", name=f"Delete {latest}")).to_be_visible()
    page.keyboard.press("ArrowRight")  # wraps round to the first
    expect(details.get_by_role("tab", name="Runs")).to_have_attribute("aria-selected", "true")
    expect(shown.get_by_role("button", name="Run", exact=True)).to_be_visible()
    expect(shown.get_by_role("button", name="Publish", exact=True)).to_be_visible()
    expect(shown.locator(".jp-JobsPanel-runCommand")).to_contain_text(f"jupyter jobs run {TRAIN_JOB}:")
    show_tab(panel, "Version details")

    # Another notebook: its own (empty) details; then a job again: the chosen tab still.
    page.evaluate("() => { window.jupyterapp.commands.execute('docmanager:open', {path: 'plain.ipynb'}); }")
    page.locator("#jp-main-dock-panel .lm-TabBar-tab", has_text="plain.ipynb").click()
    expect(panel.locator(".jp-JobsPanel-notebook")).to_have_text("Notebook: plain.ipynb")
    expect(details).to_have_count(0)
    panel.locator(".jp-JobsPanel-job", has_text=TRAIN_JOB).click()
    expect(panel.get_by_role("tab", name="Version details")).to_have_attribute("aria-selected", "true")
    page.reload()
    panel = open_panel(page)
    panel.locator(".jp-JobsPanel-job", has_text=TRAIN_JOB).click()
    expect(panel.get_by_role("tab", name="Version details")).to_have_attribute("aria-selected", "true")
    widen_side_panel(page)
    screenshot(page, "panel-tabs-reloaded.png")

    # The notebook's job output: the same tabs, its own choice; its Runs tab lists the job's runs.
    page.goto(lab.page_url("tabs.ipynb", "tabs-notebook"))
    record = page.locator(RECORD_OUTPUT)
    expect(record.get_by_role("tab")).to_have_text(list(DETAILS_TABS), timeout=SLOW)
    expect(record.get_by_role("tab", name="Job details")).to_have_attribute("aria-selected", "true")
    show_tab(record, "Runs")
    expect(record.get_by_role("tabpanel")).to_contain_text(f"jupyter jobs run {TRAIN_JOB}:")
    runs = JobStore.open_for_reading(lab.store).runs(TRAIN_JOB)  # earlier tests may have run it
    expect(record.locator(".jp-JobsPanel-run")).to_have_count(len(runs), timeout=SLOW)
    expect(record.locator(".jp-JobsPanel-empty", has_text="None yet")).to_have_count(0 if runs else 1)
    expect(record.get_by_role("button", name="Run", exact=True)).to_have_count(0)  # running is the panel's
    screenshot(page, "notebook-tabs.png")


QUICK_JOB = "job-source-quick-quick.ipynb"
WIDGET_ONLY = (
    "from IPython.display import display\n"
    "from jupyter_jobs.store import JobStore\n"
    "from jupyter_jobs.widget import JobWidget\n"
    f"view = JobWidget(JobStore.open_for_reading().resolve({QUICK_JOB!r}).record)\n"
    "# The widget view alone, as VS Code, Colab and the classic notebook show it (no lab extension).\n"
    "display(view, include=['application/vnd.jupyter.widget-view+json', 'text/plain'])"
)
WIDGET = ".jp-OutputArea-output .widget-tab"


def test_the_widget_view_runs_a_job_and_every_tab_meets_wcag_aa(page: Any, lab: Lab) -> None:
    """Where the lab extension is absent the ipywidgets view is the job's only view: its Run
    button runs the job in the kernel, the status follows it, and each tab's text keeps 4.5:1."""
    (lab.root / "quick.ipynb").write_text(
        notebook_json("import time", "print('epoch 1', flush=True)\ntime.sleep(3)\nprint('done', flush=True)")
    )
    create_through_rest(lab, "quick.ipynb", "quick")
    (lab.root / "widget.ipynb").write_text(notebook_json(WIDGET_ONLY))
    open_notebook(page, lab, "widget.ipynb", "widget")
    run_all_cells(page)
    view = page.locator(WIDGET)
    expect(view.get_by_role("tab")).to_have_text(list(DETAILS_TABS), timeout=SLOW)
    view.get_by_role("tab", name="Runs").click()

    view.get_by_role("button", name="Run", exact=True).click()

    status = view.locator("[data-status]").first
    expect(status).to_have_attribute("data-status", "running", timeout=SLOW)
    expect(view.locator("pre").first).to_contain_text("epoch 1")
    expect(status).to_have_attribute("data-status", "finished", timeout=SLOW)
    expect(view.locator("pre").first).to_contain_text("epoch 1\ndone")
    expect(status).to_contain_text("exit code 0")
    view.get_by_placeholder(re.compile("KEY=VALUE")).fill("nope=1")
    view.get_by_role("button", name="Run", exact=True).click()
    expect(view).to_contain_text("no config key nope")
    screenshot(page, "widget-runs.png")
    (run,) = JobStore.open(lab.store).runs(QUICK_JOB)
    assert run.status == "finished"

    with closing(themes(page)) as switched:
        for theme in switched:
            for tab in DETAILS_TABS:
                view.get_by_role("tab", name=tab).click()
                texts = page.evaluate(CONTRAST_JS, WIDGET)
                low = [t for t in texts if t["ratio"] < 4.5]
                assert not low, f"{theme}, widget tab {tab}: below 4.5:1: {low}"
                assert len(texts) > 5, f"{theme}, {tab}: nothing measured"
            screenshot(page, f"widget-{theme.split()[-1].lower()}.png")
