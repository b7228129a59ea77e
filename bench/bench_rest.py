"""Benchmark of the REST API on a full store (issue #7): is the side panel's list fast?

Fills a fresh store with 10,000 versions across 500 job names through the real
`JobStore.add_version` (bench_store.py's filler, in 4 writer processes at once: the fill is
fsync-bound and is setup, not what is measured), starts a real `jupyter server` with the
`jupyter_jobs` server extension on 127.0.0.1, and times with urllib, interleaved in one loop:
`GET /jupyter-jobs/jobs?limit=50` (first and last page), `GET /jupyter-jobs/jobs/<name>` (with
and without `?ref=`), and jupyter_server's own `GET /api/status` as the floor of any request.

    .venv/bin/python bench/bench_rest.py [--smoke]
"""

from __future__ import annotations

import argparse
import json
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import PYTHON, Stats, bench_env, ms, print_table  # noqa: E402

WRITERS = 4


@dataclass(frozen=True)
class Scale:
    names: int
    versions: int
    repeats: int


FULL = Scale(names=500, versions=10_000, repeats=200)
SMOKE = Scale(names=20, versions=200, repeats=20)
TARGET_MS = 50


def fill_part(store: str, names: list[str], versions: int) -> int:
    """One writer process: `versions` versions round-robin over its own job names."""
    from bench_store import Filler

    from jupyter_jobs.store import JobStore

    filler = Filler(JobStore.open(store), len(names))
    filler.names = names
    filler.fill_to(versions)
    return filler.added


def fill(store: Path, scale: Scale) -> None:
    names = [f"job-bench-{i:03d}" for i in range(scale.names)]
    started = time.perf_counter()
    with ProcessPoolExecutor(WRITERS) as pool:
        parts = [
            pool.submit(fill_part, str(store), names[i::WRITERS], scale.versions // WRITERS) for i in range(WRITERS)
        ]
        added = sum(part.result() for part in parts)
    print(
        f"(store filled with {added:,} versions in {time.perf_counter() - started:.0f} s)", file=sys.stderr, flush=True
    )


class Server:
    """A real `jupyter server` on a free loopback port, with a token, serving the store."""

    def __init__(self, store: Path, root: Path) -> None:
        self.port = _free_port()
        self.token = secrets.token_hex(16)
        self.log = (root / "server.log").open("w")
        command = [
            PYTHON,
            "-m",
            "jupyter_server",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            f"--IdentityProvider.token={self.token}",
            "--allow-root",
            "--no-browser",
            f"--ServerApp.root_dir={root}",
            "--ServerApp.jpserver_extensions={'jupyter_jobs': True}",
        ]
        env = bench_env(JUPYTER_JOBS_STORE=str(store), JUPYTER_RUNTIME_DIR=str(root / "runtime"))
        self.process = subprocess.Popen(command, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def get(self, path: str) -> tuple[int, bytes]:
        request = urllib.request.Request(self.url(path), headers={"Authorization": f"token {self.token}"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter server exited with status {self.process.returncode}")
            try:
                if self.get("/api/status")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"jupyter server not ready after {timeout:.0f} s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def check_api(server: Server, scale: Scale) -> str | None:
    """Why the REST side cannot be measured, or None when the list endpoint answers right."""
    status, body = server.get("/jupyter-jobs/jobs?limit=50")
    if status != 200:
        return f"GET /jupyter-jobs/jobs answered {status}: {body[:200].decode(errors='replace')}"
    listing = json.loads(body)
    if listing.get("total") != scale.names or len(listing.get("jobs", [])) != min(50, scale.names):
        return f"unexpected listing: total={listing.get('total')}, {len(listing.get('jobs', []))} jobs"
    return None


def measure(server: Server, scale: Scale) -> dict[str, list[float]]:
    """Each request once per round, in a shuffled order; responses must be 200."""
    draw = random.Random(7)
    names = [f"job-bench-{i:03d}" for i in range(scale.names)]
    per_name = scale.versions // scale.names
    requests = {
        "GET /api/status (floor)": lambda: "/api/status",
        "GET jobs?limit=50 (first page)": lambda: "/jupyter-jobs/jobs?limit=50",
        "GET jobs?limit=50 (last page)": lambda: f"/jupyter-jobs/jobs?limit=50&offset={max(0, scale.names - 50)}",
        "GET jobs/<name>": lambda: f"/jupyter-jobs/jobs/{draw.choice(names)}",
        "GET jobs/<name>?ref=vN": lambda: f"/jupyter-jobs/jobs/{draw.choice(names)}?ref=v{draw.randrange(per_name)}",
    }
    samples: dict[str, list[float]] = {label: [] for label in requests}
    for _ in range(scale.repeats):
        for label in draw.sample(list(requests), len(requests)):
            path = requests[label]()
            start = time.perf_counter()
            status, _ = server.get(path)
            samples[label].append((time.perf_counter() - start) * 1000)
            if status != 200:
                raise RuntimeError(f"GET {path} answered {status}")
    return samples


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="small numbers, a few seconds")
    scale = SMOKE if parser.parse_args(argv).smoke else FULL
    title = f"REST API of the server extension, store of {scale.versions:,} versions / {scale.names} jobs (ms)"
    with tempfile.TemporaryDirectory(prefix="bench-rest-") as tmp:
        root = Path(tmp)
        store = root / "store"
        fill(store, scale)
        server = Server(store, root)
        try:
            server.wait_ready()
            reason = check_api(server, scale)
            samples = None if reason else measure(server, scale)
        except (RuntimeError, OSError) as err:
            reason, samples = str(err), None
        finally:
            server.stop()
        if samples is None:
            log_tail = (root / "server.log").read_text(errors="replace").strip().splitlines()[-3:]
            print(f"\n## {title}\nskipped: {reason}\n" + "\n".join(f"  server log: {line}" for line in log_tail))
            return
    rows = []
    for label, values in samples.items():
        stats = Stats.of(values)
        target = "" if "floor" in label else ("met" if stats.median <= TARGET_MS else "MISSED") + f" (<= {TARGET_MS})"
        rows.append([label, stats.count, ms(stats.median), ms(stats.p95), target])
    print_table(title, ["request (urllib, new connection each)", "n", "median", "p95", "target"], rows)


if __name__ == "__main__":
    main()
