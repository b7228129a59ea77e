"""The job widget and its HTML/text fallbacks, over records made by the real core."""

from __future__ import annotations

import html
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import pytest

from jupyter_jobs.core import CreateRequest, create_job
from jupyter_jobs.models import RESULT_MIME, JobRecord
from jupyter_jobs.widget import JobWidget, render_html, render_text

from .helpers import notebook_json

HOSTILE_KEY = "<script>alert('x')</script>"
CONFIG = {"learning_rate": 0.01, "epochs": 10, "optimizer": {"momentum": 0.9}, HOSTILE_KEY: 1}
SUMMARY = {"loss": 0.25, "accuracy": 0.75}


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
    accordion = next(child for child in view.children if isinstance(child, widgets.Accordion))
    assert accordion.titles[0] == f"Requirements ({len(record.requirements)} from pip installs in the notebook)"
    assert accordion.titles[1] == f"Files ({len(record.files) + len(record.code_artifact.files)})"
    assert "wandb-job.json" in accordion.children[1].value
    launch, run_here = view.children[-2:]
    assert isinstance(launch, widgets.Text) and launch.value == record.launch_command
    assert isinstance(run_here, widgets.Text) and run_here.value == record.run_command


def test_widget_follows_its_record(make_record: Callable[..., JobRecord]) -> None:
    first = make_record()
    second = make_record(image="wandb/job_example:v1")
    view = JobWidget(first)

    view.record = second

    assert "job-wandb_job_example" in view.children[0].value
    assert view._repr_mimebundle_()["text/plain"] == render_text(second)


def test_widget_renders_its_record_alone(tmp_path: Path, store_dir: Path) -> None:
    """The view reads nothing but the record: with the store gone it shows the rewrites all the same."""
    path = tmp_path / "nb.ipynb"
    path.write_text(notebook_json("import os", "!echo hello", "%matplotlib inline\nx = 1"))
    record = create_job(CreateRequest(path=str(path), store=str(store_dir))).record
    shutil.rmtree(store_dir)

    accordion = next(child for child in JobWidget(record).children if isinstance(child, widgets.Accordion))
    rewrites = accordion.children[accordion.titles.index("Lines rewritten for plain Python (2)")].value
    assert "cell 2 line 1 [shell]: !echo hello -&gt; subprocess.run(" in rewrites
    assert "cell 3 line 1 [dropped]: %matplotlib inline -&gt; (removed)" in rewrites
