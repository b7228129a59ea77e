"""Benchmark of job creation in a warm kernel (issue #7): `%wandb_job` against `run.log_code()`.

A real ipykernel (jupyter_client) loads the extension and starts an offline W&B run; then, in
one loop, `%wandb_job --notebook PATH` and the SDK's own `run.log_code()` of the notebook's
folder (the reference: what a W&B user runs to get a code-artifact job) take turns. Each call
is timed inside the kernel (`time.perf_counter()` around it, read back through
`user_expressions`, so kernel messaging is not counted) and end to end (execute request sent →
kernel idle again, as the user waits for it). Two notebooks:

* the example notebook, copied to a folder outside any git repository (an artifact job);
* a large notebook (2,000 code cells, ~50 MB of outputs) inside a git repository of 50,000
  files with an `origin` remote and a dirty working tree (a git job with a `diff.patch`).

Each in two modes: "unchanged" (same content again: the store's dedup path) and "changed" (a
cell edited before each call, outside the timing: a new version each time).

    .venv/bin/python bench/bench_create.py [--smoke]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import REPO, Stats, bench_env, ms, print_table, size_mb, write_notebook  # noqa: E402

MARKER = "# bench-edit 000000"
OURS, REF = "%wandb_job", "log_code"
REMOTE = "https://github.com/example/bench-repo.git"


@dataclass(frozen=True)
class Scale:
    repo_files: int
    large_cells: int
    large_output_bytes: int
    example_repeats: int
    large_repeats: int


FULL = Scale(repo_files=50_000, large_cells=2000, large_output_bytes=50_000_000, example_repeats=30, large_repeats=8)
SMOKE = Scale(repo_files=200, large_cells=50, large_output_bytes=500_000, example_repeats=3, large_repeats=2)


@dataclass
class Case:
    """A notebook to create jobs from, with a same-length marker we can rewrite in place."""

    label: str
    notebook: Path
    target_ms: float
    edits: int = 0
    offset: int = field(init=False)

    def __post_init__(self) -> None:
        self.offset = self.notebook.read_bytes().index(MARKER.encode())

    def edit(self) -> None:
        """Change one cell without reserialising the notebook (cheap even at 50 MB)."""
        self.edits += 1
        with self.notebook.open("r+b") as handle:
            handle.seek(self.offset)
            handle.write(f"# bench-edit {self.edits:06d}".encode())


# ----------------------------------------------------------------------------- fixtures


def add_marker(notebook: Path) -> Path:
    """Append the edit marker to the first code cell."""
    content = json.loads(notebook.read_text(encoding="utf-8"))
    cell = next(cell for cell in content["cells"] if cell["cell_type"] == "code")
    source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
    cell["source"] = f"{source}\n{MARKER}"
    notebook.write_text(json.dumps(content, indent=1), encoding="utf-8")
    return notebook


def example_case(folder: Path) -> Case:
    source = REPO / "notebooks" / "canonical_job_example.ipynb"
    folder.mkdir()
    if source.exists():
        notebook = folder / source.name
        shutil.copyfile(source, notebook)
    else:
        notebook = write_notebook(folder / "example.ipynb", 8, 5_000)
    return Case("example notebook", add_marker(notebook), target_ms=200)


def large_repo_case(root: Path, scale: Scale) -> Case:
    """A committed repository of `repo_files` files plus the large notebook, then made dirty."""
    started = time.perf_counter()
    for index in range(scale.repo_files - 1):
        module = root / "src" / f"pkg{index // 100:04d}" / f"mod{index % 100:02d}.py"
        module.parent.mkdir(parents=True, exist_ok=True)
        module.write_text(f'"""Module {index}."""\n\n\ndef f{index}(x):\n    return x + {index}\n')
    (root / "notebooks").mkdir()
    notebook = add_marker(
        write_notebook(root / "notebooks" / "large.ipynb", scale.large_cells, scale.large_output_bytes)
    )
    for args in (
        ["init", "-q", "-b", "main"],
        ["remote", "add", "origin", REMOTE],
        ["add", "-A"],
        ["commit", "-q", "-m", "bench fixture"],
    ):
        _git(root, *args)
    for index in range(5):  # a dirty tree: a few modified files
        with (root / "src" / "pkg0000" / f"mod{index:02d}.py").open("a") as handle:
            handle.write("# changed\n")
    case = Case(f"large notebook ({size_mb(notebook)}) in a {scale.repo_files:,}-file git repo", notebook, 400)
    case.edit()  # ... and the notebook itself
    print(f"(large repository built in {time.perf_counter() - started:.1f} s)", file=sys.stderr, flush=True)
    return case


def _git(root: Path, *args: str) -> None:
    identity = ["-c", "user.name=bench", "-c", "user.email=bench@example.com", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", *identity, *args], cwd=root, check=True, capture_output=True)


# ----------------------------------------------------------------------------- the kernel


class Kernel:
    """A real ipykernel with an offline W&B run, run through jupyter_client."""

    def __init__(self, workdir: Path) -> None:
        from jupyter_client.manager import KernelManager

        self.manager = KernelManager(kernel_name="python3")
        env = bench_env(
            JUPYTER_JOBS_STORE=str(workdir / "store"),
            WANDB_DIR=str(workdir),
            WANDB_DATA_DIR=str(workdir / "wandb-data"),
            WANDB_CACHE_DIR=str(workdir / "wandb-cache"),
        )
        self.log = (workdir / "kernel.log").open("w")  # the kernel's own warnings stay out of the tables
        self.manager.start_kernel(env=env, cwd=str(workdir), stdout=self.log, stderr=subprocess.STDOUT)
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=120)

    def run(self, code: str, expression: str | None = None) -> tuple[str | None, float, dict[str, str]]:
        """Execute `code`: (the expression's value, end-to-end ms, printed text by stream); raise on error."""
        printed = {"stdout": "", "stderr": ""}

        def hook(message: dict) -> None:
            if message["msg_type"] == "stream":
                printed[message["content"]["name"]] += message["content"]["text"]

        started = time.perf_counter()
        reply = self.client.execute_interactive(
            code,
            user_expressions={"value": expression} if expression else {},
            output_hook=hook,
            allow_stdin=False,
            timeout=600,
        )
        elapsed = (time.perf_counter() - started) * 1000
        content = reply["content"]
        if content["status"] != "ok":
            raise RuntimeError(f"kernel error: {content.get('ename')}: {content.get('evalue')}")
        value = content["user_expressions"].get("value", {}).get("data", {}).get("text/plain")
        return value, elapsed, printed

    def close(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=False)
        self.log.close()


SETUP = """
%load_ext jupyter_jobs
import time, wandb
run = wandb.init(mode="offline", project="bench-create", config={"learning_rate": 0.01, "epochs": 10})
run.summary["loss"] = 0.25
_bench_has_magic = "wandb_job" in get_ipython().magics_manager.magics["line"]
"""

# When the magic cannot be loaded: the core call with the active run, saying what it did.
CORE_CALL = (
    "from jupyter_jobs import CreateRequest, create_job\n"
    "_bench_result = create_job(CreateRequest(path={path!r}, project=run.project, "
    "config=dict(run.config), summary=dict(run.summary)), run=run)\n"
    "print('Created' if _bench_result.created else 'Unchanged')"
)
OURS_MAGIC = "%wandb_job --notebook {path}"
REFERENCE = "run.log_code(root={folder!r}, include_fn=lambda path, root: path.endswith(('.py', '.ipynb')))"
TIMED = "_bench_t0 = time.perf_counter()\n{call}\n_bench_ms = (time.perf_counter() - _bench_t0) * 1000"


@dataclass
class Samples:
    inside: list[float] = field(default_factory=list)
    end_to_end: list[float] = field(default_factory=list)
    outcomes: dict[str, int] = field(default_factory=dict)


def timed_call(kernel: Kernel, call: str, samples: Samples | None, creates: bool) -> float:
    """Run `call` timed inside the kernel and record both timings; a job creation must say
    "Created" or "Unchanged" (the magic prints its errors as one line instead of raising)."""
    value, end_to_end, printed = kernel.run(TIMED.format(call=call), "_bench_ms")
    outcome = "created" if "Created" in printed["stdout"] else "unchanged" if "Unchanged" in printed["stdout"] else None
    if creates and outcome is None:
        raise RuntimeError(f"{call!r} created no job: {(printed['stderr'] or printed['stdout']).strip()[-500:]}")
    inside = float(value or "nan")
    if samples is not None:
        samples.inside.append(inside)
        samples.end_to_end.append(end_to_end)
        samples.outcomes[outcome or "logged"] = samples.outcomes.get(outcome or "logged", 0) + 1
    return inside


def measure_case(kernel: Kernel, case: Case, ours_call: str, repeats: int) -> list[list[object]]:
    """First (cold) calls, then each mode with ours and the reference alternating."""
    calls = {OURS: ours_call.format(path=str(case.notebook)), REF: REFERENCE.format(folder=str(case.notebook.parent))}
    first = {tool: timed_call(kernel, call, None, tool == OURS) for tool, call in calls.items()}
    rows: list[list[object]] = [
        [
            case.label,
            "first call",
            1,
            ms(first[OURS]),
            "",
            "",
            ms(first[REF]),
            "",
            f"{first[OURS] / first[REF]:.2f}",
            "",
        ]
    ]
    for mode, before in (("unchanged", lambda: None), ("changed", case.edit)):
        results = {tool: Samples() for tool in calls}
        for round_ in range(repeats):
            before()
            for tool in list(calls) if round_ % 2 else list(calls)[::-1]:
                timed_call(kernel, calls[tool], results[tool], tool == OURS)
        rows.append(_row(case, mode, results))
    return rows


def _row(case: Case, mode: str, results: dict[str, Samples]) -> list[object]:
    ours, reference = results[OURS], results[REF]
    inside, outside, ref_inside = Stats.of(ours.inside), Stats.of(ours.end_to_end), Stats.of(reference.inside)
    met = "met" if inside.median <= case.target_ms else "MISSED"
    outcomes = ", ".join(f"{count} {what}" for what, count in sorted(ours.outcomes.items()))
    return [
        case.label,
        mode,
        inside.count,
        ms(inside.median),
        ms(inside.p95),
        f"{ms(outside.median)}/{ms(outside.p95)}",
        ms(ref_inside.median),
        ms(Stats.of(reference.end_to_end).median),
        f"{inside.median / ref_inside.median:.2f}",
        f"{met} (<= {case.target_ms:.0f}); {outcomes}",
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds")
    scale = SMOKE if parser.parse_args(argv).smoke else FULL
    with tempfile.TemporaryDirectory(prefix="bench-create-") as tmp:
        workdir = Path(tmp)
        cases: list[tuple[Case, int]] = [(example_case(workdir / "example"), scale.example_repeats)]
        repo = workdir / "repo"
        repo.mkdir()
        cases.append((large_repo_case(repo, scale), scale.large_repeats))
        kernel = Kernel(workdir)
        try:
            has_magic, _, _ = kernel.run(SETUP, "_bench_has_magic")
            ours_call = OURS_MAGIC if has_magic == "True" else CORE_CALL
            rows = [row for case, repeats in cases for row in measure_case(kernel, case, ours_call, repeats)]
            kernel.run("run.finish()")
        finally:
            kernel.close()
    what = "%wandb_job" if ours_call == OURS_MAGIC else "create_job(..., run=run) (the magic was not loadable)"
    print_table(
        f"Job creation in a warm kernel: {what} vs run.log_code() of the notebook's folder (ms)",
        [
            "notebook",
            "mode",
            "n",
            "ours",
            "ours p95",
            "ours e2e med/p95",
            "log_code",
            "log_code e2e",
            "ours/log_code",
            "target (ours, in kernel)",
        ],
        rows,
    )
    print(
        "ours/log_code/p95 = timed inside the kernel; e2e = execute request sent -> kernel idle (incl. the widget "
        "and messaging). Median unless marked p95; ratio of in-kernel medians, measured alternating in one loop."
    )


if __name__ == "__main__":
    main()
