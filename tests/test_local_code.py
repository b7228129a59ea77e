"""A job carries what its notebook needs (issue 17): local modules, small files it reads, and a
clear word about the rest. Each round trip is the command line (its `main`, in this process):
`jupyter jobs create`, then `jupyter jobs run` in a fresh folder with a config override (the job
itself runs in its own process), reading what the job printed and the offline run's config."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from . import wandb_log
from .cases import LAYOUTS, WANDB_V1_KEY, Layout
from .helpers import git, run_cli_here, write_files, write_notebook_file


def notebook(folder: Path, *cells: str, name: str = "train.ipynb") -> Path:
    return write_notebook_file(folder / name, *cells)


def create(path: Path, store: Path, *extra: str) -> dict:
    created = run_cli_here("create", str(path), "--store", str(store), "--json", *extra)
    assert created.returncode == 0, created.stderr
    return json.loads(created.stdout)


def run(record: dict, store: Path, workdir: Path, factor: int) -> str:
    """`jupyter jobs run NAME --config factor=N`: exit 0, the override in the run's config; the output."""
    ran = run_cli_here(
        "run",
        record["name"],
        "--config",
        f"factor={factor}",
        "--workdir",
        str(workdir),
        "--store",
        str(store),
        "--json",
    )
    output = (workdir / "output.log").read_text()
    assert ran.returncode == 0 and json.loads(ran.stdout)["exit_code"] == 0, output
    assert wandb_log.config(Path(json.loads(ran.stdout)["run_dir"]))["factor"] == factor
    return output


def included(record: dict) -> dict[str, str]:
    return {item["path"]: item["reason"] for item in record["code_artifact"]["included"]}


@pytest.mark.parametrize("layout", LAYOUTS.values(), ids=LAYOUTS.keys())
def test_round_trip_with_jupyter_jobs_run(layout: Layout, tmp_path: Path, store_dir: Path) -> None:
    """Created, then run in a fresh folder: the local code imports, the override takes effect."""
    record = create(layout.lay_out(tmp_path / "project"), store_dir, *layout.create_args)
    assert record["source_type"] == "artifact"
    assert included(record) == layout.included
    assert set(layout.included) <= set(record["code_artifact"]["files"])
    assert layout.printed in run(record, store_dir, tmp_path / "work", factor=layout.factor)


@pytest.mark.parametrize(
    "finding",
    [
        "import sys\nsys.path.insert(0, '../src')",
        "import sys\nfrom pathlib import Path\nsys.path.append(str(Path.cwd().parent / 'src'))",
    ],
    ids=["sys.path literal", "sys.path from Path.cwd()"],
)
def test_src_added_to_sys_path_by_the_notebook(tmp_path: Path, store_dir: Path, finding: str) -> None:
    """The layout above relies on the repository rule (as an editable install does); a notebook
    that adds `../src` to `sys.path` itself gets the same job, and it runs."""
    layout = LAYOUTS["a repository subfolder importing the root's src/"]
    record = create(layout.lay_out(tmp_path / "project", finding), store_dir, *layout.create_args)
    assert included(record) == {
        "trainer/__init__.py": "imported in cell 3",
        "trainer/steps.py": "imported in trainer/__init__.py, line 1",
    }
    assert layout.printed in run(record, store_dir, tmp_path / "work", factor=layout.factor)


@pytest.mark.parametrize(
    "read",
    [
        "pd.read_csv('data/table.csv')",
        "np.load(DATA / 'table.csv')",
        "Path('data/table.csv').read_text()",
        "yaml.safe_load(open(os.path.join('data', 'table.csv')))",
        "open(DATA / 'table.csv', 'rb')",
    ],
)
def test_reads_by_literal_path_are_found(tmp_path: Path, store_dir: Path, read: str) -> None:
    """Each reading idiom of the issue; the code is only read, never run, so no import is needed."""
    folder = tmp_path / "project"
    write_files(folder, {"data/table.csv": "a,b\n1,2\n"})
    path = notebook(folder, "import os\nfrom pathlib import Path\nDATA = Path('data')", f"rows = {read}")
    record = create(path, store_dir, "--dry-run")
    assert included(record) == {"data/table.csv": "read in cell 2"}


def test_a_large_data_file_is_warned_about_not_included(tmp_path: Path, store_dir: Path) -> None:
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "big.npy").write_bytes(os.urandom(1_500_000))
    (folder / "small.csv").write_text("x\n1\n")
    path = notebook(
        folder, "import numpy as np\nimport pandas as pd\nbig = np.load('big.npy')\nsmall = pd.read_csv('small.csv')"
    )
    record = create(path, store_dir)
    assert set(included(record)) == {"small.csv"}
    assert "big.npy" not in record["code_artifact"]["files"]
    warning = next(w for w in record["warnings"] if "big.npy" in w)
    assert "cell 1 reads big.npy (1.5 MB), over the 1.0 MB limit" in warning
    assert "--include big.npy" in warning and "run.use_artifact" in warning and "config input" in warning
    raised = create(path, store_dir, "--max-file-mb", "2")
    assert set(included(raised)) == {"big.npy", "small.csv"} and raised["version"] == "v1"
    explicit = create(path, store_dir, "--include", "big.npy", "--dry-run")
    assert set(included(explicit)) == {"big.npy", "small.csv"} and explicit["version"] == "v1"
    assert not any("big.npy" in warning for warning in explicit["warnings"])


def test_a_secret_in_an_included_module_blocks_creation_naming_file_and_line(tmp_path: Path, store_dir: Path) -> None:
    folder = tmp_path / "project"
    write_files(folder, {"helper.py": f"import os\n\nWANDB_API_KEY = '{WANDB_V1_KEY}'\n", "conf.yaml": "lr: 0.1\n"})
    path = notebook(folder, "import helper\nimport yaml\ncfg = yaml.safe_load(open('conf.yaml'))")
    created = run_cli_here("create", str(path), "--store", str(store_dir))
    assert created.returncode == 1
    assert created.stderr.startswith("error: Secrets found: helper.py, line 3 (W&B API key)")
    assert WANDB_V1_KEY not in created.stderr + created.stdout
    assert not (store_dir / "jobs").exists()
    write_files(folder, {"helper.py": "import os\n", "conf.yaml": f"wandb_api_key: {WANDB_V1_KEY}\n"})
    in_config = run_cli_here("create", str(path), "--store", str(store_dir))
    assert in_config.returncode == 1 and "conf.yaml, line 1 (W&B API key)" in in_config.stderr
    write_files(
        folder,
        {"helper.py": f"import wandb\n\nk = '{WANDB_V1_KEY[:20]}' + '{WANDB_V1_KEY[20:]}'\nwandb.login(key=k)\n"},
    )
    through_code = run_cli_here("create", str(path), "--store", str(store_dir))
    assert through_code.returncode == 1 and "helper.py, line 3 (W&B API key)" in through_code.stderr
    allowed = create(path, store_dir, "--allow-secrets")
    assert "secret allowed by --allow-secrets: conf.yaml, line 1: W&B API key in file" in allowed["warnings"]


def test_include_and_exclude_patterns(tmp_path: Path, store_dir: Path) -> None:
    """gitignore-style patterns; what never travels stays home even when a pattern names it."""
    folder = tmp_path / "project"
    write_files(
        folder,
        {
            "helper.py": "X = 1\n",
            "prompts/a.txt": "a\n",
            "prompts/deep/b.txt": "b\n",
            "prompts/c.md": "c\n",
            "wandb/run-1/files/output.txt": "run\n",
            ".venv/pyvenv.cfg": "home = /usr\n",
            ".venv/lib/x.txt": "venv\n",
            "env2/pyvenv.cfg": "home = /usr\n",
            "env2/y.txt": "venv\n",
            "lib/site-packages/z.txt": "installed\n",
            "__pycache__/q.txt": "cache\n",
        },
    )
    (folder / ".git").mkdir()
    (folder / ".git" / "HEAD.txt").write_text("ref\n")
    path = notebook(folder, "import helper")
    record = create(path, store_dir, "--include", "*.txt", "--exclude", "prompts/deep/", "--dry-run")
    assert included(record) == {"helper.py": "imported in cell 1", "prompts/a.txt": "--include *.txt"}
    dropped = create(path, store_dir, "--exclude", "helper.py", "--dry-run")
    assert included(dropped) == {}
    outside = run_cli_here("create", str(path), "--store", str(store_dir), "--include", "../*.txt")
    assert outside.returncode == 1 and "--include ../*.txt reaches outside the notebook's folder" in outside.stderr
    nothing = create(path, store_dir, "--include", "*.parquet", "--dry-run")
    assert any("--include *.parquet matched no file" in warning for warning in nothing["warnings"])
    shown = run_cli_here("show", record["name"], "--store", str(store_dir))
    assert shown.returncode == 1  # a dry run stored nothing
    stored = create(path, store_dir, "--include", "prompts/**/*.txt")
    text = run_cli_here("show", stored["name"], "--store", str(store_dir)).stdout
    assert "Carries    prompts/deep/b.txt (--include prompts/**/*.txt)" in text


def test_the_total_size_limit_is_a_clear_error(tmp_path: Path, store_dir: Path) -> None:
    folder = tmp_path / "project"
    (folder / "data").mkdir(parents=True)
    for index in range(3):
        (folder / "data" / f"part{index}.bin").write_bytes(b"\0" * 20_000_000)
    path = notebook(folder, "x = 1")
    created = run_cli_here("create", str(path), "--store", str(store_dir), "--include", "data/*.bin")
    assert created.returncode == 1
    assert created.stderr.splitlines() == [
        "error: The files the job carries beside its script add up to 60.0 MB, over the 50.0 MB limit; the largest: "
        "data/part0.bin 20.0 MB, data/part1.bin 20.0 MB, data/part2.bin 20.0 MB (leave some out with --exclude GLOB, "
        "or log large data as an artifact and read it with run.use_artifact)"
    ]


def test_a_module_found_nowhere_is_named_with_its_cell(tmp_path: Path, store_dir: Path) -> None:
    folder = tmp_path / "project"
    write_files(folder, {"helper.py": "import also_missing\n"})
    path = notebook(
        folder,
        "import os, json, wandb",
        "import helper\nimport not_a_module_anywhere",
        "try:\n    import optional_speedup\nexcept ImportError:\n    optional_speedup = None",
        "%%writefile written.py\nVALUE = 1",
        "import written",
    )
    warnings = create(path, store_dir, "--dry-run")["warnings"]
    missing = [w for w in warnings if "neither a local module nor installed" in w]
    assert [w.split(", which")[0] for w in missing] == [
        "cell 2 imports not_a_module_anywhere",
        "helper.py, line 1 imports also_missing",
    ]


def test_a_change_to_a_local_module_makes_a_new_version_and_shows_in_compare(tmp_path: Path, store_dir: Path) -> None:
    folder = tmp_path / "project"
    write_files(folder, {"helper.py": "def scale(x):\n    return x * 3\n"})
    path = notebook(folder, "from helper import scale")
    first = create(path, store_dir)
    assert create(path, store_dir)["version"] == first["version"] == "v0"
    write_files(folder, {"helper.py": "def scale(x):\n    return x * 4\n"})
    second = create(path, store_dir)
    assert second["version"] == "v1"
    compared = json.loads(run_cli_here("compare", second["name"], "--store", str(store_dir), "--json").stdout)
    parts = {change["part"]: change["diff"] for change in compared["changes"]}
    assert "files" in parts and "file helper.py" in parts
    assert "-    return x * 3" in parts["file helper.py"] and "+    return x * 4" in parts["file helper.py"]


def test_files_outside_the_notebook_folder_never_travel(tmp_path: Path, store_dir: Path) -> None:
    (tmp_path / "shared.json").write_text("{}")
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "linked.json").symlink_to(tmp_path / "shared.json")
    path = notebook(folder, "import json\na = json.load(open('../shared.json'))\nb = json.load(open('linked.json'))")
    record = create(path, store_dir, "--dry-run")
    assert included(record) == {}
    assert any("reads ../shared.json, outside the notebook's folder" in w for w in record["warnings"])


def test_a_git_job_names_the_local_code_its_clone_would_lack(git_repo, store_dir: Path) -> None:
    """A git job runs a clone of the commit: an uncommitted module it imports is named."""
    root = git_repo()
    write_files(root, {"helper.py": "X = 1\n", "configs/base.json": "{}"})
    path = notebook(root, "import json\nimport helper\ncfg = json.load(open('configs/base.json'))")
    git(root, "add", "train.ipynb", "configs/base.json")
    git(root, "commit", "-q", "-m", "notebook")
    record = create(path, store_dir)
    assert record["source_type"] == "repo"
    lacking = [w for w in record["warnings"] if "git job's clone lacks it" in w]
    assert lacking == [
        "helper.py is not committed, so the git job's clone lacks it (commit it, or use --source artifact)"
    ]
    git(root, "add", "helper.py")
    git(root, "commit", "-q", "-m", "helper")
    assert not any("clone lacks" in w for w in create(path, store_dir)["warnings"])


def _stdlib_and_own_sources() -> list[Path]:
    """Python sources of many shapes: this package, its tests, and a slice of the standard library."""
    stdlib = Path(os.__file__).parent
    return sorted(
        [
            *Path(__file__).parents[1].joinpath("jupyter_jobs").rglob("*.py"),
            *Path(__file__).parent.glob("*.py"),
            *stdlib.joinpath("asyncio").glob("*.py"),
            *stdlib.glob("[a-c]*.py"),
        ]
    )


def test_statement_walk_finds_what_ast_walk_finds_in_the_same_order() -> None:
    """The constants binder walks statements only (assignments never sit inside an expression);
    a later constant may be built from an earlier one, so the order must be ast.walk's too."""
    import ast

    from jupyter_jobs.local_code import _statements

    sources = _stdlib_and_own_sources()
    assert len(sources) > 100
    for source in sources:
        tree = ast.parse(source.read_text(encoding="utf-8", errors="replace"))
        walked = [node for node in ast.walk(tree) if isinstance(node, ast.stmt)]
        assert [node for node in _statements(tree) if isinstance(node, ast.stmt)] == walked, source
