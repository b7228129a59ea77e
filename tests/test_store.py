"""The local job store, driven through its public API on a real folder and a real SQLite index."""

from __future__ import annotations

import json
import shutil
import sqlite3
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jupyter_jobs.digest import content_digest
from jupyter_jobs.errors import JobError
from jupyter_jobs.models import JobRecord
from jupyter_jobs.store import JobStore

from .helpers import run_in_mount_namespace, sample_outcome, sample_record


def job_files(text: str) -> dict[str, bytes]:
    return {
        "wandb-job.json": json.dumps({"_version": "v0", "text": text}).encode(),
        "requirements.frozen.txt": b"wandb==0.31.0\n",
    }


def record(source_type: str = "artifact", **fields: object) -> JobRecord:
    return sample_record(source_type, **fields)


@pytest.fixture
def store(tmp_path: Path) -> JobStore:
    return JobStore.open(tmp_path / "store")


def index_rows(store: JobStore, sql: str) -> list[tuple]:
    with sqlite3.connect(store.root / "index.sqlite") as conn:
        return conn.execute(sql).fetchall()


def tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and not p.name.startswith("index.sqlite")
    }


# ------------------------------------------------------------------------- location and layout


def test_open_creates_the_layout_at_the_override(tmp_path: Path) -> None:
    store = JobStore.open(tmp_path / "here")
    assert store.root == tmp_path / "here"
    for part in ("index.sqlite", "jobs", "code", "tmp"):
        assert (store.root / part).exists()


def test_open_uses_the_environment_then_the_jupyter_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTER_JOBS_STORE", str(tmp_path / "from-env"))
    assert JobStore.open().root == tmp_path / "from-env"
    assert JobStore.open(tmp_path / "explicit").root == tmp_path / "explicit"
    monkeypatch.delenv("JUPYTER_JOBS_STORE")
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "data"))
    assert JobStore.open().root == tmp_path / "data" / "jupyter_jobs" / "store"


def test_reopening_keeps_the_jobs(store: JobStore) -> None:
    store.add_version("job-a", job_files("one"), record())
    assert JobStore.open(store.root).resolve("job-a").label == "v0"


# ------------------------------------------------------------------------- versions and dedup


def test_new_content_gets_the_next_version_and_same_content_reuses_it(store: JobStore) -> None:
    first, created_first = store.add_version("job-a", job_files("one"), record())
    second, created_second = store.add_version("job-a", job_files("two"), record())
    again, created_again = store.add_version("job-a", job_files("one"), record())
    assert (first.label, created_first) == ("v0", True)
    assert (second.label, created_second) == ("v1", True)
    assert (again.label, created_again) == ("v0", False)
    assert again.digest == first.digest == content_digest(job_files("one"))
    assert index_rows(store, "SELECT name, version FROM versions ORDER BY version") == [("job-a", 0), ("job-a", 1)]


def test_version_folder_holds_the_files_and_the_record(store: JobStore) -> None:
    stored, _ = store.add_version("job-a", job_files("one"), record("repo"))
    assert stored.path == store.root / "jobs" / "job-a" / "v0"
    on_disk = tree(stored.path)
    assert {k: v for k, v in on_disk.items() if k != "record.json"} == job_files("one")
    written = json.loads(on_disk["record.json"])
    assert written["name"] == "job-a" and written["version"] == "v0"
    assert written["digest"] == stored.digest and written["source_type"] == "repo"
    assert written["path"] == str(stored.path) and written["created_at"] == stored.created_at


def test_record_is_filled_in_by_the_store(store: JobStore) -> None:
    stored, _ = store.add_version("job-a", job_files("one"), record(name="wrong", aliases=["stale"]), ["tag1"])
    assert stored.record.name == "job-a"
    assert stored.record.version == "v0"
    assert stored.record.aliases == ["latest", "tag1"]
    assert stored.record.digest == stored.digest
    assert stored.record.path == str(stored.path)
    assert stored.record.created_at == stored.created_at
    assert stored.created_at.endswith("Z") and "T" in stored.created_at
    assert stored.record.entrypoint == ["python", "train.py"]


def test_digest_ignores_the_record_and_the_order_of_files(store: JobStore) -> None:
    files = job_files("one")
    reversed_files = dict(reversed(list(files.items())))
    first, _ = store.add_version("job-a", files, record(warnings=["a"]))
    second, created = store.add_version("job-a", reversed_files, record(warnings=["b"]))
    assert (second.version, created) == (first.version, False)
    assert second.record.warnings == ["a"]  # the stored version keeps its own record


def test_versions_lists_newest_first(store: JobStore) -> None:
    for text in ("one", "two", "three"):
        store.add_version("job-a", job_files(text), record())
    assert [v.label for v in store.versions("job-a")] == ["v2", "v1", "v0"]
    assert store.versions("job-a")[0].aliases == ("latest",)


def test_jobs_are_versioned_independently(store: JobStore) -> None:
    store.add_version("job-a", job_files("one"), record())
    store.add_version("job-a", job_files("two"), record())
    other, created = store.add_version("job-b", job_files("one"), record())
    assert (other.label, created) == ("v0", True)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(contents=st.lists(st.sampled_from("abcdefg"), min_size=1, max_size=12))
def test_versions_are_the_distinct_contents_in_order_of_first_appearance(
    tmp_path_factory: pytest.TempPathFactory, contents: list[str]
) -> None:
    store = JobStore.open(tmp_path_factory.mktemp("store"))
    first_seen: list[str] = []
    for text in contents:
        stored, created = store.add_version("job-a", job_files(text), record())
        assert created == (text not in first_seen)
        first_seen += [text] if created else []
        assert stored.version == first_seen.index(text)
        assert store.resolve("job-a").version == stored.version
    assert [v.version for v in store.versions("job-a")] == list(range(len(first_seen)))[::-1]
    assert store.list_jobs()[0][0].versions == len(first_seen)


# ------------------------------------------------------------------------- aliases


def test_latest_moves_to_the_newest_created_or_reused_version(store: JobStore) -> None:
    store.add_version("job-a", job_files("one"), record())
    store.add_version("job-a", job_files("two"), record())
    assert store.resolve("job-a:latest").label == "v1"
    assert store.resolve("job-a:v0").aliases == ()
    store.add_version("job-a", job_files("one"), record())
    assert store.resolve("job-a").label == "v0"
    assert store.resolve("job-a:v1").aliases == ()
    assert index_rows(store, "SELECT version FROM aliases WHERE alias = 'latest'") == [(0,)]


def test_custom_alias_moves_off_the_older_version(store: JobStore) -> None:
    store.add_version("job-a", job_files("one"), record(), ["gpu", "keep"])
    store.add_version("job-a", job_files("two"), record(), ["gpu"])
    assert store.resolve("job-a:gpu").label == "v1"
    assert store.resolve("job-a:keep").label == "v0"
    assert store.resolve("job-a:v0").aliases == ("keep",)
    assert index_rows(store, "SELECT count(*) FROM aliases WHERE alias = 'gpu'") == [(1,)]


def test_reuse_adds_the_given_aliases(store: JobStore) -> None:
    store.add_version("job-a", job_files("one"), record())
    store.add_version("job-a", job_files("two"), record())
    reused, created = store.add_version("job-a", job_files("one"), record(), ["v1.2.0"])
    assert not created
    assert reused.aliases == ("latest", "v1.2.0")


def test_alias_names_are_validated(store: JobStore) -> None:
    for alias in ("v3", "has space", "", "a:b"):
        with pytest.raises(JobError, match="not a valid alias"):
            store.add_version("job-a", job_files("one"), record(), [alias])
    assert index_rows(store, "SELECT count(*) FROM versions") == [(0,)]


# ------------------------------------------------------------------------- resolve


def test_resolve_accepts_every_reference_form(store: JobStore) -> None:
    store.add_version("job-a", job_files("one"), record(), ["tagged"])
    store.add_version("job-a", job_files("two"), record())
    assert store.resolve("job-a").label == "v1"
    assert store.resolve("job-a:latest").label == "v1"
    assert store.resolve("job-a:v0").label == "v0"
    assert store.resolve("job-a:tagged").label == "v0"


def test_unknown_job_names_close_matches(store: JobStore) -> None:
    store.add_version("job-train-mnist", job_files("one"), record())
    store.add_version("job-evaluate", job_files("one"), record())
    with pytest.raises(JobError) as caught:
        store.resolve("job-train-mnst")
    assert "No job named 'job-train-mnst'" in str(caught.value)
    assert "did you mean 'job-train-mnist'" in str(caught.value)
    assert "\n" not in str(caught.value)
    with pytest.raises(JobError, match="jupyter jobs list"):
        store.resolve("zzzzzz")


def test_unknown_version_and_alias_say_what_exists(store: JobStore) -> None:
    store.add_version("job-a", job_files("one"), record(), ["prod"])
    with pytest.raises(JobError, match=r"has no version v7 \(its latest version is v0\)"):
        store.resolve("job-a:v7")
    with pytest.raises(JobError, match=r"has no alias 'staging' \(its aliases are: latest, prod\)"):
        store.resolve("job-a:staging")


@pytest.mark.parametrize("ref", ["", ":v1", "job-a:", "../etc:v1", "a/b", "..", "x" * 129])
def test_malformed_references_are_refused(store: JobStore, ref: str) -> None:
    with pytest.raises(JobError, match="is not a job reference"):
        store.resolve(ref)


def test_versions_of_an_unknown_job_is_an_error(store: JobStore) -> None:
    with pytest.raises(JobError, match="No job named 'job-a'"):
        store.versions("job-a")


# ------------------------------------------------------------------------- list


def test_list_is_newest_first_with_one_row_per_job(store: JobStore) -> None:
    store.add_version("job-a", job_files("one"), record("artifact"))
    store.add_version("job-b", job_files("one"), record("repo"), ["main"])
    store.add_version("job-c", job_files("one"), record("image"))
    store.add_version("job-a", job_files("two"), record("artifact"))
    jobs, total = store.list_jobs()
    assert total == 3
    assert [j.name for j in jobs] == ["job-a", "job-c", "job-b"]
    first = jobs[0]
    assert (first.version, first.versions, first.aliases, first.source_type) == ("v1", 2, ["latest"], "artifact")
    assert first.created_at == store.resolve("job-a").created_at
    assert jobs[2].aliases == ["latest", "main"] and jobs[2].source_type == "repo"


def test_reusing_a_version_moves_the_job_to_the_top(store: JobStore) -> None:
    store.add_version("job-a", job_files("one"), record())
    store.add_version("job-b", job_files("one"), record())
    store.add_version("job-a", job_files("one"), record())
    assert [j.name for j in store.list_jobs()[0]] == ["job-a", "job-b"]


def test_list_pages(store: JobStore) -> None:
    names = [f"job-{i:02d}" for i in range(7)]
    for name in names:
        store.add_version(name, job_files(name), record())
    newest_first = list(reversed(names))
    pages = [store.list_jobs(limit=3, offset=offset) for offset in (0, 3, 6, 9)]
    assert [[j.name for j in page] for page, _ in pages] == [newest_first[0:3], newest_first[3:6], newest_first[6:], []]
    assert {total for _, total in pages} == {7}
    with pytest.raises(JobError, match="limit and offset"):
        store.list_jobs(limit=-1)


def test_empty_store_lists_nothing(store: JobStore) -> None:
    assert store.list_jobs() == ([], 0)


# ------------------------------------------------------------------------- code artifacts


def test_code_artifact_is_content_addressed_and_idempotent(store: JobStore) -> None:
    files = {"train.py": b"print('hi')\n", "notebooks/train.ipynb": b"{}"}
    digest, folder = store.put_code_artifact(files)
    assert digest == content_digest(files)
    assert folder == store.root / "code" / digest
    on_disk = tree(folder)
    manifest = json.loads(on_disk.pop(".manifest.json"))
    assert on_disk == files
    assert manifest["digest"] == digest
    assert set(manifest["files"]) == set(files)
    assert store.put_code_artifact(dict(reversed(list(files.items())))) == (digest, folder)
    other_digest, other_folder = store.put_code_artifact({"train.py": b"print('bye')\n"})
    assert other_digest != digest and other_folder.is_dir()
    assert sorted(p.name for p in (store.root / "code").iterdir()) == sorted([digest, other_digest])
    assert [p.name for p in (store.root / "tmp").iterdir()] == [".lock"]


def test_code_artifact_refuses_unsafe_file_names(store: JobStore) -> None:
    for name in ("../escape.py", "/abs.py", ".manifest.json", "a//b.py", "a\\b.py", ""):
        with pytest.raises(JobError, match="cannot be stored as a file name"):
            store.put_code_artifact({name: b"x"})
    with pytest.raises(JobError, match="at least one file"):
        store.put_code_artifact({})
    assert list((store.root / "code").iterdir()) == []


# ------------------------------------------------------------------------- preview


def test_preview_names_the_version_and_writes_nothing(store: JobStore) -> None:
    assert store.preview("job-a", job_files("one")) == ("v0", True)
    store.add_version("job-a", job_files("one"), record())
    store.add_version("job-a", job_files("two"), record())
    before = tree(store.root)
    rows_before = index_rows(store, "SELECT * FROM versions")
    assert store.preview("job-a", job_files("one")) == ("v0", False)
    assert store.preview("job-a", job_files("three")) == ("v2", True)
    assert tree(store.root) == before
    assert index_rows(store, "SELECT * FROM versions") == rows_before
    assert store.resolve("job-a").label == "v1"


# ------------------------------------------------------------------------- validation


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "../x", "has space", "x" * 129, "name:tag", "tab\t", "ünïcode"])
def test_invalid_job_names_are_refused_everywhere(store: JobStore, name: str) -> None:
    for attempt in (
        lambda: store.add_version(name, job_files("one"), record()),
        lambda: store.preview(name, job_files("one")),
        lambda: store.versions(name),
    ):
        with pytest.raises(JobError, match="is not a valid job name"):
            attempt()
    assert list((store.root / "jobs").iterdir()) == []


def test_longest_valid_name_is_accepted(store: JobStore) -> None:
    name = "j" * 126 + ".-"
    assert store.add_version(name, job_files("one"), record())[0].path.parent.name == name


def test_job_files_may_not_shadow_the_record(store: JobStore) -> None:
    with pytest.raises(JobError, match="'record.json' cannot be stored"):
        store.add_version("job-a", {"record.json": b"{}"}, record())


# ------------------------------------------------------------------------- check and repair


def test_check_finds_nothing_in_a_healthy_store(store: JobStore) -> None:
    store.add_version("job-a", job_files("one"), record())
    store.add_version("job-a", job_files("two"), record())
    store.put_code_artifact({"train.py": b"x"})
    assert store.check() == []
    assert store.check(repair=True) == []


def test_repair_drops_a_tampered_version_and_moves_latest_back(store: JobStore) -> None:
    store.add_version("job-a", job_files("one"), record())
    newest, _ = store.add_version("job-a", job_files("two"), record(), ["gpu"])
    (newest.path / "wandb-job.json").write_bytes(b"edited by hand")
    problems = store.check()
    assert problems == ["job-a:v1: files do not match the digest"]
    assert store.resolve("job-a").label == "v1"  # check alone changes nothing
    repaired = store.check(repair=True)
    assert repaired[0] == "job-a:v1: files do not match the digest"
    assert store.check() == []
    assert store.resolve("job-a").label == "v0"
    assert not newest.path.exists()
    with pytest.raises(JobError, match="no alias 'gpu'"):
        store.resolve("job-a:gpu")
    jobs, _ = store.list_jobs()
    assert (jobs[0].version, jobs[0].versions) == ("v0", 1)
    # version numbers are never reused: new content after the repair is v2
    assert store.add_version("job-a", job_files("three"), record())[0].label == "v2"


def test_repair_of_a_missing_folder_and_of_a_job_with_no_version_left(store: JobStore) -> None:
    only, _ = store.add_version("job-a", job_files("one"), record())
    shutil.rmtree(only.path)
    assert store.check() == ["job-a:v0: folder is missing"]
    store.check(repair=True)
    assert store.check() == []
    assert store.list_jobs() == ([], 0)
    with pytest.raises(JobError, match="No job named 'job-a'"):
        store.resolve("job-a")
    assert store.add_version("job-a", job_files("two"), record())[0].label == "v1"


def test_repair_rewrites_a_lost_record(store: JobStore) -> None:
    stored, _ = store.add_version("job-a", job_files("one"), record())
    (stored.path / "record.json").write_text("{truncated")
    assert store.check() == ["job-a:v0: record.json is missing or unreadable"]
    store.check(repair=True)
    assert store.check() == []
    assert json.loads((stored.path / "record.json").read_text())["digest"] == stored.digest


def test_leftovers_of_killed_writers_are_reported_and_removed(store: JobStore) -> None:
    store.add_version("job-a", job_files("one"), record())
    (store.root / "tmp" / "stage-dead").mkdir()
    (store.root / "tmp" / "stage-dead" / "wandb-job.json").write_bytes(b"half")
    orphan = store.root / "jobs" / "job-a" / "v1"
    orphan.mkdir()
    (orphan / "wandb-job.json").write_bytes(b"renamed but never indexed")
    corrupt_code = store.root / "code" / ("0" * 64)
    corrupt_code.mkdir()
    problems = store.check()
    assert problems == [
        "tmp/stage-dead: left by an interrupted write",
        "jobs/job-a/v1: folder without an index row (left by an interrupted write)",
        f"code/{'0' * 64}: files do not match the digest",
    ]
    assert store.check(repair=True) == problems
    assert store.check() == []
    assert sorted(p.name for p in (store.root / "jobs" / "job-a").iterdir()) == ["v0"]
    assert [p.name for p in (store.root / "tmp").iterdir()] == [".lock"]


def test_next_writer_replaces_a_leftover_folder(store: JobStore) -> None:
    store.add_version("job-a", job_files("one"), record())
    orphan = store.root / "jobs" / "job-a" / "v1"
    orphan.mkdir()
    (orphan / "junk.txt").write_bytes(b"renamed but never indexed")
    stored, created = store.add_version("job-a", job_files("two"), record())
    assert (stored.label, created) == ("v1", True)
    assert set(tree(stored.path)) == {"wandb-job.json", "requirements.frozen.txt", "record.json"}
    assert store.check() == []


def test_check_repairs_a_dangling_alias(store: JobStore) -> None:
    store.add_version("job-a", job_files("one"), record())
    with sqlite3.connect(store.root / "index.sqlite") as conn:
        conn.execute("INSERT INTO aliases VALUES ('job-a', 'ghost', 9)")
    assert store.check() == ["job-a: alias 'ghost' points to missing version v9"]
    store.check(repair=True)
    assert store.check() == []


def test_runs_are_kept_newest_first_and_staged_like_versions(store: JobStore) -> None:
    store.add_version("job-a", job_files("one"), record())
    for exit_code in (0, 1, 2):
        store.record_run("job-a", sample_outcome(exit_code))
    assert [run.exit_code for run in store.runs("job-a")] == [2, 1, 0]
    assert [run.exit_code for run in store.runs("job-a", limit=2)] == [2, 1]
    with pytest.raises(JobError, match="No job named 'job-never-run'"):
        store.runs("job-never-run")
    assert [p.name for p in (store.root / "tmp").iterdir()] == [".lock"]
    assert store.check() == []


def test_without_posix_locks_the_store_is_read_but_not_written(
    store: JobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Windows has no fcntl: a store made elsewhere can be listed; writing says why it cannot."""
    from jupyter_jobs import store as store_module

    store.add_version("job-a", job_files("one"), record())
    monkeypatch.setattr(store_module, "fcntl", None)
    reader = JobStore.open_for_reading(store.root)
    assert [job.name for job in reader.list_jobs()[0]] == ["job-a"]
    with pytest.raises(JobError) as caught:
        reader.add_version("job-a", job_files("two"), record())
    assert str(caught.value) == (
        f"The job store at {store.root} cannot be written here: it needs POSIX file locks "
        "(create jobs on Linux, macOS or Windows Subsystem for Linux)"
    )
    assert [v.label for v in store.versions("job-a")] == ["v0"]


# ------------------------------------------------------------------------- unwritable stores


def test_store_below_a_regular_file_is_not_writable(tmp_path: Path) -> None:
    """ENOTDIR is the failure we can provoke as root anywhere: chmod does not stop root."""
    (tmp_path / "a-file").write_text("not a folder")
    with pytest.raises(JobError) as caught:
        JobStore.open(tmp_path / "a-file" / "store")
    message = str(caught.value)
    assert message.startswith(f"The job store at {tmp_path / 'a-file' / 'store'} is not writable:")
    assert "--store or JUPYTER_JOBS_STORE" in message and "\n" not in message


def test_store_at_a_regular_file_is_not_writable(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    with pytest.raises(JobError, match="is not writable"):
        JobStore.open(tmp_path / "a-file")


def test_damaged_index_is_a_one_line_error(store: JobStore) -> None:
    store.add_version("job-a", job_files("one"), record())
    (store.root / "index.sqlite").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(JobError, match="cannot be used: file is not a database"):
        JobStore.open(store.root).list_jobs()


MOUNT_CHILD = textwrap.dedent("""
    import json, sys
    from jupyter_jobs.errors import JobError
    from jupyter_jobs.store import JobStore
    from tests.helpers import sample_record
    root, size = sys.argv[1], int(sys.argv[2])
    outcome = {}
    try:
        store = JobStore.open(root)
        store.add_version("job-a", {"wandb-job.json": b"x" * size}, sample_record("image"))
        outcome["stored"] = True
    except JobError as err:
        outcome["error"] = str(err)
    print(json.dumps(outcome))
""")


READ_CHILD = textwrap.dedent("""
    import contextlib, io, json, sys
    from jupyter_jobs.cli import main
    from jupyter_jobs.errors import JobError
    from jupyter_jobs.store import JobStore
    from tests.helpers import sample_outcome
    store = JobStore.open_for_reading(sys.argv[1])
    jobs, total = store.list_jobs()
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        status = main(["list", "--store", sys.argv[1], "--json"])
    try:
        store.record_run("job-a", sample_outcome(0))
        recorded = "recorded"
    except JobError as err:
        recorded = err.message
    print(json.dumps({"jobs": [job.name for job in jobs], "total": total, "v0": store.resolve("job-a:v0").label,
                      "versions": [version.label for version in store.versions("job-a")],
                      "cli": [status, json.loads(printed.getvalue())["total"]], "run": recorded}))
""")

CHILDREN = {"CHILD": MOUNT_CHILD, "READER": READ_CHILD}  # the scripts run_in_mount_namespace's shell runs


def test_read_only_mount_is_a_one_line_error(store: JobStore) -> None:
    """A read-only bind mount of an existing store: the real read-only disk, even for root."""
    store.add_version("job-a", job_files("one"), record())
    root = store.root
    [outcome] = run_in_mount_namespace(
        f'mount --bind {root} {root}; mount -o remount,bind,ro {root}; {sys.executable} -c "$CHILD" {root} 10',
        CHILDREN,
    )
    assert outcome["error"].startswith(f"The job store at {root} is not writable:")
    assert "Read-only file system" in outcome["error"] or "readonly" in outcome["error"]
    assert store.check() == []
    assert [v.label for v in store.versions("job-a")] == ["v0"]


@pytest.mark.parametrize("writer_has_it_open", [False, True], ids=["closed", "open-elsewhere"])
def test_read_only_mount_can_still_be_listed_and_shown(store: JobStore, writer_has_it_open: bool) -> None:
    """A team's store on a read-only mount: list, show and the command line read it; a write
    is still the one-line error. With a writer's connection open elsewhere its -wal and -shm
    files exist; without one there are none and the index is read as immutable."""
    store.add_version("job-a", job_files("one"), record())
    store.add_version("job-a", job_files("two"), record())
    held = sqlite3.connect(store.root / "index.sqlite") if writer_has_it_open else None
    try:
        if held is not None:
            held.execute("SELECT count(*) FROM versions").fetchone()
        assert (store.root / "index.sqlite-wal").exists() is writer_has_it_open
        root = store.root
        read, write = run_in_mount_namespace(
            f"mount --bind {root} {root}; mount -o remount,bind,ro {root};"
            f' {sys.executable} -c "$READER" {root}; {sys.executable} -c "$CHILD" {root} 10',
            CHILDREN,
        )
    finally:
        if held is not None:
            held.close()
    assert read.pop("run").startswith(f"The job store at {root} is not writable:")
    assert read == {"jobs": ["job-a"], "total": 1, "v0": "v0", "versions": ["v1", "v0"], "cli": [0, 1]}
    assert write["error"].startswith(f"The job store at {root} is not writable:")
    assert store.check() == []


def test_full_disk_is_a_one_line_error_and_loses_nothing(tmp_path: Path) -> None:
    """A 1 MiB tmpfs: the first job fits, a 4 MiB one fails with ENOSPC halfway through."""
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    root = mount_point / "store"
    first, second = run_in_mount_namespace(
        f"mount -t tmpfs -o size=1m tmpfs {mount_point};"
        f' {sys.executable} -c "$CHILD" {root} 100;'
        f' {sys.executable} -c "$CHILD" {root} 4000000;'
        f" cp -a {root} {tmp_path / 'copy'}",
        CHILDREN,
    )
    assert first == {"stored": True}
    assert second["error"].startswith(f"The disk of the job store at {root} is full:")
    assert "No space left on device" in second["error"]
    copy = JobStore.open(tmp_path / "copy")
    assert copy.check() == []
    assert [v.label for v in copy.versions("job-a")] == ["v0"]


def test_index_of_another_schema_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "store"
    root.mkdir()
    sqlite3.connect(root / "index.sqlite").execute("PRAGMA user_version=7").connection.close()
    with pytest.raises(JobError, match="has schema version 7, this jupyter-jobs reads version 1"):
        JobStore.open(root)
