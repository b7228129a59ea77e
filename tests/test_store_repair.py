"""A store that repairs itself: a lost or damaged index is rebuilt from the version folders,
a moved store runs its jobs, and code changed after it was stored is never run.

Jobs are created by the real core from real notebooks; the commands run through the CLI's `main`
in this process, as a user types them.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from jupyter_jobs.core import CreateRequest, create_job
from jupyter_jobs.errors import JobError
from jupyter_jobs.models import JobRecord
from jupyter_jobs.store import JobStore

from .helpers import TRAIN_CELLS, run_cli_here

NAME = "job-source-p-train.ipynb"


def create(path: Path, store: Path, **options: object) -> JobRecord:
    return create_job(CreateRequest(path=path, project="p", no_git=True, store=store, **options)).record


@pytest.fixture
def filled_store(write_notebook: Callable[..., Path], store_dir: Path) -> Path:
    """Two jobs, three versions, and an image tag alias."""
    for epochs in (10, 20):
        create(write_notebook("train.ipynb", TRAIN_CELLS[0].replace("10", str(epochs)), TRAIN_CELLS[1]), store_dir)
    create(write_notebook("other.ipynb"), store_dir, image="acme/trainer:gpu")
    return store_dir


def state(store: Path) -> list[tuple]:
    opened = JobStore.open_for_reading(store)
    jobs, _ = opened.list_jobs()
    return sorted(
        (job.name, version.label, version.digest, version.aliases, version.created_at)
        for job in jobs
        for version in opened.versions(job.name)
    )


def delete(index: Path) -> None:
    index.unlink()


def truncate(index: Path) -> None:
    data = index.read_bytes()
    index.write_bytes(data[: len(data) // 3])


def empty(index: Path) -> None:
    index.write_bytes(b"")


def garbage(index: Path) -> None:
    index.write_bytes(b"this is not SQLite\n" * 500)


@pytest.mark.parametrize("damage", [delete, truncate, empty, garbage])
def test_a_lost_or_damaged_index_is_rebuilt_and_no_version_is_lost(
    filled_store: Path, write_notebook: Callable[..., Path], damage: Callable[[Path], None]
) -> None:
    before = state(filled_store)
    assert len(before) == 3 and ("job-source-p-train.ipynb", "v0") in [row[:2] for row in before]
    for leftover in filled_store.glob("index.sqlite-*"):
        leftover.unlink()  # the index as a cleanly closed one leaves it
    damage(filled_store / "index.sqlite")

    listed = run_cli_here("list", "--store", str(filled_store))
    assert listed.returncode == 1 and "check --repair" in listed.stderr and listed.stderr.count("\n") == 1
    assert "No jobs yet" not in listed.stdout + listed.stderr and "Traceback" not in listed.stderr
    with pytest.raises(JobError, match="check --repair"):
        create(write_notebook("train.ipynb"), filled_store)
    found = run_cli_here("check", "--store", str(filled_store))
    assert found.returncode == 1 and found.stdout.startswith("index.sqlite: ")
    assert found.stdout.count("a whole version the index lacks") == 3

    repaired = run_cli_here("check", "--repair", "--store", str(filled_store))

    assert repaired.returncode == 0, repaired.stderr
    assert state(filled_store) == before
    assert run_cli_here("check", "--store", str(filled_store)).stdout.strip() == "The store is consistent."
    assert JobStore.open_for_reading(filled_store).resolve("job-acme_trainer:gpu").label == "v0"
    # numbering goes on after the newest version folder
    assert create(write_notebook("train.ipynb", "print('new')"), filled_store).version == "v2"


def test_repair_never_removes_a_whole_version_it_cannot_index(filled_store: Path) -> None:
    """An interrupted write leaves a partial folder: only that is removed."""
    partial = filled_store / "jobs" / NAME / "v7"
    partial.mkdir()
    (partial / "wandb-job.json").write_bytes(b"half")
    (filled_store / "index.sqlite").unlink()

    JobStore.open_for_check(filled_store).check(repair=True)

    assert not partial.exists()
    assert [row[1] for row in state(filled_store) if row[0] == NAME] == ["v0", "v1"]


def test_check_reports_missing_and_unused_code(filled_store: Path) -> None:
    stored = JobStore.open_for_reading(filled_store).resolve(NAME)
    code = Path(stored.record.code_artifact.path)
    shutil.rmtree(code)
    (filled_store / "code" / ("a" * 64)).mkdir()
    (filled_store / "code" / ("a" * 64) / ".manifest.json").write_text("{}")
    unused = JobStore.open_for_check(filled_store).unused_code()

    checked = run_cli_here("check", "--store", str(filled_store))

    assert checked.returncode == 1
    assert f"{NAME}:{stored.label}: its code code/{code.name} is missing" in checked.stdout
    assert f"code/{'a' * 64}" in unused


@pytest.mark.parametrize("how", ["moved", "copied"])
def test_a_moved_or_copied_store_runs_its_jobs(filled_store: Path, tmp_path: Path, how: str) -> None:
    elsewhere = tmp_path / "elsewhere" / "store"
    elsewhere.parent.mkdir()
    if how == "moved":
        shutil.move(filled_store, elsewhere)
    else:
        shutil.copytree(filled_store, elsewhere)
        shutil.rmtree(filled_store / "code")  # the copy must not reach back into the original

    ran = run_cli_here("run", NAME, "--workdir", str(tmp_path / "work"), "--store", str(elsewhere), "--json")

    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["exit_code"] == 0
    shown = JobStore.open_for_reading(elsewhere).resolve(NAME).record
    assert str(shown.code_artifact.path).startswith(str(elsewhere))
    assert run_cli_here("check", "--store", str(elsewhere)).returncode == 0


def test_tampered_code_is_refused(filled_store: Path, tmp_path: Path) -> None:
    code = Path(JobStore.open_for_reading(filled_store).resolve(NAME).record.code_artifact.path)
    (code / "train.py").write_text("open('/tmp/pwned', 'w')\n")
    workdir = tmp_path / "work"

    ran = run_cli_here("run", NAME, "--workdir", str(workdir), "--store", str(filled_store))

    assert ran.returncode == 1 and ran.stderr.count("\n") == 1 and "Traceback" not in ran.stderr
    assert "was changed after it was stored" in ran.stderr
    assert not (workdir / "output.log").exists()
    assert (
        f"code/{code.name}: files do not match the digest" in run_cli_here("check", "--store", str(filled_store)).stdout
    )


def test_repair_removes_code_left_unused_for_an_hour(filled_store: Path, write_notebook: Callable[..., Path]) -> None:
    """A create whose outputs alone changed stores its notebook copy but no version: that copy,
    and the code of a deleted version, go with `check --repair` once an hour old; fresh ones stay
    (a create may be under way), as does all code a version uses."""
    notebook = write_notebook("train.ipynb", TRAIN_CELLS[0].replace("10", "20"), TRAIN_CELLS[1])
    copy = json.loads(notebook.read_text())
    copy["cells"][1]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["loss 0.1\n"]}]
    notebook.write_text(json.dumps(copy))
    before = JobStore.open_for_reading(filled_store).resolve(NAME)
    create(notebook, filled_store)
    opened = JobStore.open_for_check(filled_store)
    assert opened.resolve(NAME).label == before.label  # outputs alone: no new version
    [left] = opened.unused_code()
    used = sorted(p.name for p in (filled_store / "code").iterdir() if f"code/{p.name}" != left)

    fresh = run_cli_here("check", "--repair", "--store", str(filled_store))
    assert fresh.returncode == 0 and (filled_store / left).is_dir()
    assert "stored within the hour" in fresh.stdout

    hour_ago = time.time() - 3601
    os.utime(filled_store / left, (hour_ago, hour_ago))
    old = run_cli_here("check", "--repair", "--store", str(filled_store))

    assert old.returncode == 0 and f"Removed code no version has used for an hour: {left}" in old.stdout
    assert not (filled_store / left).exists()
    assert sorted(p.name for p in (filled_store / "code").iterdir()) == used
    assert JobStore.open_for_check(filled_store).check() == []


def test_code_stored_again_is_fresh_again(filled_store: Path, write_notebook: Callable[..., Path]) -> None:
    """Code stored again (an unchanged create) is touched, so a prune never takes code that a
    create has just been handed."""
    code = Path(JobStore.open_for_reading(filled_store).resolve(NAME).record.code_artifact.path)
    hour_ago = time.time() - 3601
    os.utime(code, (hour_ago, hour_ago))

    create(write_notebook("train.ipynb", TRAIN_CELLS[0].replace("10", "20"), TRAIN_CELLS[1]), filled_store)

    assert code.stat().st_mtime > hour_ago + 3000
