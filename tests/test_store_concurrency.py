"""The job store under real concurrent writers and real kill -9, in separate processes."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from jupyter_jobs.digest import content_digest
from jupyter_jobs.store import JobStore

from .helpers import sample_record

REPO = Path(__file__).resolve().parents[1]

# A writer process: says "ready" once imported, waits for "go" on stdin (so all writers start
# together, creating the store if it is new), stores each content id given in argv, prints one
# JSON line per store.
WRITER = textwrap.dedent("""
    import json, sys
    from jupyter_jobs.store import JobStore
    from tests.helpers import sample_record
    root, name, ids = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
    print("ready", flush=True)
    sys.stdin.readline()
    store = JobStore.open(root)
    for content_id in ids:
        files = {"wandb-job.json": ("content " + content_id).encode(),
                 "requirements.frozen.txt": b"wandb==0.31.0\\n"}
        stored, created = store.add_version(name, files, sample_record())
        print(json.dumps([content_id, stored.version, created]), flush=True)
""")

# A writer looping forever with random content (a third of it repeated) on a few names,
# plus code artifacts: killed with SIGKILL by the test at a random moment.
ENDLESS_WRITER = textwrap.dedent("""
    import os, random, sys
    from jupyter_jobs.store import JobStore
    from tests.helpers import sample_record
    store = JobStore.open(sys.argv[1])
    print("ready", flush=True)
    while True:
        name = random.choice(["job-a", "job-b", "job-c"])
        body = os.urandom(64) if random.random() < 0.66 else b"repeat %d" % random.randrange(5)
        store.put_code_artifact({"train.py": body, "train.ipynb": b"{}"})
        store.add_version(name, {"wandb-job.json": body, "diff.patch": os.urandom(4096)},
                          sample_record(), ["tag%d" % random.randrange(3)])
""")


def start(script: str, *args: str) -> subprocess.Popen:
    child = subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert child.stdout is not None and child.stdout.readline() == "ready\n"
    return child


def release(writers: list[subprocess.Popen]) -> list[subprocess.Popen]:
    """Tell writers that are ready to go, all at once."""
    for writer in writers:
        assert writer.stdin is not None
        writer.stdin.write("go\n")
        writer.stdin.flush()
    return writers


def run_writers_together(root: Path, name: str, id_lists: list[list[str]]) -> list[list]:
    """Start one writer per id list, release them at once, collect what each stored."""
    writers = release([start(WRITER, str(root), name, ",".join(ids)) for ids in id_lists])
    results = []
    for writer in writers:
        out, _ = writer.communicate(timeout=240)
        assert writer.returncode == 0
        results += [json.loads(line) for line in out.splitlines()]
    return results


def expected_files(content_id: str) -> dict[str, bytes]:
    return {"wandb-job.json": f"content {content_id}".encode(), "requirements.frozen.txt": b"wandb==0.31.0\n"}


def folder_files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in folder.rglob("*")
        if p.is_file() and p.name != "record.json"
    }


def assert_every_version_is_whole(store: JobStore) -> None:
    """What readers can see is complete: each listed version's files match its digest."""
    jobs, total = store.list_jobs(limit=1000)
    assert len(jobs) == total
    for job in jobs:
        versions = store.versions(job.name)
        assert [v.version for v in versions] == list(range(len(versions) - 1, -1, -1))
        for version in versions:
            assert content_digest(folder_files(version.path)) == version.digest
            assert json.loads((version.path / "record.json").read_text())["digest"] == version.digest


def test_two_processes_creating_the_same_job_lose_nothing(tmp_path: Path) -> None:
    results = run_writers_together(
        tmp_path / "store", "job-a", [[f"first-{i}" for i in range(10)], [f"second-{i}" for i in range(10)]]
    )
    store = JobStore.open(tmp_path / "store")
    assert all(created for _, _, created in results)
    versions = store.versions("job-a")
    assert sorted(v.version for v in versions) == list(range(20))
    by_version = {version: content_id for content_id, version, _ in results}
    for version in versions:
        assert folder_files(version.path) == expected_files(by_version[version.version])
    assert store.check() == []


def test_eight_writers_with_overlapping_content_get_exactly_the_distinct_versions(tmp_path: Path) -> None:
    """The writers also race to create the store itself: none of them has opened it before."""
    draw = random.Random(8)
    id_lists = [[str(draw.randrange(60)) for _ in range(20)] for _ in range(8)]
    distinct = {content_id for ids in id_lists for content_id in ids}
    shared = [c for c in distinct if sum(c in ids for ids in id_lists) > 1]
    assert len(shared) > 20  # many contents are written by several processes
    results = run_writers_together(tmp_path / "store", "job-shared", id_lists)
    store = JobStore.open(tmp_path / "store")

    assert len(results) == 160
    version_of = {}
    for content_id, version, _ in results:
        assert version_of.setdefault(content_id, version) == version  # one version per content
    assert sorted(version_of.values()) == list(range(len(distinct)))  # v0..vK, no gaps
    assert sum(created for _, _, created in results) == len(distinct)  # each created once
    versions = store.versions("job-shared")
    assert len(versions) == len(distinct)
    for version in versions:
        content_id = next(c for c, v in version_of.items() if v == version.version)
        assert folder_files(version.path) == expected_files(content_id)
        assert version.digest == content_digest(expected_files(content_id))
    assert store.check() == []
    assert [p.name for p in (store.root / "tmp").iterdir()] == [".lock"]


def test_writers_killed_at_random_moments_never_leave_a_visible_half_version(tmp_path: Path) -> None:
    store = JobStore.open(tmp_path / "store")
    draw = random.Random()
    kills = 40
    for _ in range(kills):
        writer = start(ENDLESS_WRITER, str(store.root))
        time.sleep(draw.uniform(0, 0.08))  # a random point in the write loop, not a timed check
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=30)
        assert writer.returncode == -signal.SIGKILL
        assert_every_version_is_whole(store)

    found = store.check()
    print(f"{kills} kills left {len(found)} problems: {found[:5]}")
    assert all("interrupted write" in problem for problem in found), found
    assert store.check(repair=True) == found
    assert store.check() == []
    assert_every_version_is_whole(store)
    jobs, total = store.list_jobs()
    assert total >= 1 and all(job.versions >= 1 for job in jobs)
    # the store keeps working after all that: new content gets the next number
    existing = len(store.versions("job-a")) if any(j.name == "job-a" for j in jobs) else 0
    stored, created = store.add_version("job-a", {"wandb-job.json": b"after the crashes"}, sample_record())
    assert (stored.version, created) == (existing, True)


def test_repair_running_beside_writers_removes_only_debris(tmp_path: Path) -> None:
    """check holds the staging lock alone, so a writer's live staging dir is never 'debris'."""
    store = JobStore.open(tmp_path / "store")
    id_lists = [[f"w{w}-{i}" for i in range(25)] for w in range(3)]
    writers = release([start(WRITER, str(store.root), "job-a", ",".join(ids)) for ids in id_lists])
    repairs = []
    while any(writer.poll() is None for writer in writers):
        repairs += store.check(repair=True)
    for writer in writers:
        out, _ = writer.communicate(timeout=240)
        assert writer.returncode == 0
    assert repairs == []
    assert len(store.versions("job-a")) == 75
    assert_every_version_is_whole(store)
