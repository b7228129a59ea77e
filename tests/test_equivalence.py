"""The exported script does what the notebook did: a differential test.

Each case is a notebook using some construct the export rewrites. It runs twice, from an empty
folder each time: in a real kernel (nbclient, as Jupyter runs it) and as the exported script
under plain `python` (as a W&B job runs it). Then the two runs must agree on:

- what they printed to stdout, in order (a last cell prints the variables later code reads);
- whether they failed (a failing cell stops a notebook run; the script exits non-zero);
- the files they left behind, with their contents.

Interactive echoes are the one allowed difference, and only on the notebook's side; `ECHOES`
lists each (what IPython prints to tell a person what a magic did, which a job's log need not
repeat). Everything else a case shows is behaviour the script must reproduce.

What a notebook shows rather than prints is not compared: a cell's last value (`Out[n]`), which
the script drops, and `display(...)`, which the script prints. Two differences are by design
and no case relies on them: `%timeit`/`%%timeit` run the
statement once in the script (the notebook runs it many times, inside a timing function, so
its assignments vanish there), and `x = !cmd` is a plain list in the script (IPython's `SList`
adds `.s`, `.n`, `.grep`, ...).
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from jupyter_jobs.export import export_notebook_text

from .helpers import new_notebook, notebook_json

pytestmark = pytest.mark.kernel

# What IPython prints for a person that the script does not, each with the magic it comes from.
ECHOES = {
    "%env NAME=value": re.compile(r"^env: \w+=.*$"),
    "%cd and %pwd (the folder)": re.compile(r"^/.*$"),
    "%%writefile": re.compile(r"^(?:Writing|Overwriting|Appending to) \S+$"),
    "%time / %%time": re.compile(r"^(?:CPU times: .*|Wall time: .*)$"),
    "%timeit": re.compile(r"^.* per loop \(mean ± std\. dev\. of .*\)$"),
    "%pip": re.compile(r"^Note: you may need to restart the kernel to use updated packages\.$"),
    # pip's own output: the job installs its requirements before it starts, with its own log.
    "%pip / !pip install": re.compile(r"^(?:WARNING: Running pip as the 'root' user|\[notice\] )"),
}


ANSI = re.compile(r"\x1b\[[0-9;]*m")
SCRIPT = ".exported.py"


@dataclass(frozen=True)
class Run:
    stdout: list[str]
    failed: bool
    files: dict[str, bytes]


@dataclass(frozen=True)
class Case:
    id: str
    cells: tuple[str, ...]


CASES = [
    Case(
        "shell lines and captures",
        (
            "open('data.txt', 'w').write('a\\nb\\n')",
            "!echo hello",
            "files = !ls",
            "n = 3\n!echo $n {n + 1}",
            "lines = !cat data.txt",
            "for i in range(2):\n    !echo loop $i",
            "def listing():\n    found = !ls\n    return found\nprint(listing())",
            "!!echo double bang > bang.txt",
            "get_ipython().system('echo literal call')",
            "%mkdir made_by_alias\n%cp data.txt made_by_alias/copied.txt",
            "out = %sx echo from sx\nprint(out)",
            "print(files, lines)",
        ),
    ),
    Case(
        "env",
        (
            "%env CASE_ENV_A=1",
            "%env CASE_ENV_B two words",
            "%set_env CASE_ENV_C=3",
            "!echo $CASE_ENV_A",
            "import os\nprint(os.environ['CASE_ENV_A'], os.environ['CASE_ENV_B'], os.environ['CASE_ENV_C'])",
        ),
    ),
    Case(
        "cd",
        (
            "import os\nos.makedirs('sub/deeper')",
            "%cd sub",
            "open('inside.txt', 'w').write('x')",
            "here = %pwd\nprint(os.path.basename(here))",
            "%cd -q deeper",
            "!basename $(pwd) > ../from_shell.txt",
            "%cd ../..",
            "print(sorted(os.listdir('sub')))",
        ),
    ),
    Case(
        "writefile and run",
        (
            "%%writefile helper.py\nVALUE = 41\nprint('helper ran as', __name__)\n",
            "%%writefile -a helper.py\nVALUE += 1\n",
            "%run helper.py",
            "name = 'dyn.txt'",
            "%%writefile $name\nwritten by name\n",
            "%%writefile script.py\nimport sys\nprint('args', sys.argv[1:])\nRESULT = 7\n",
            "%run script.py one two",
            "%%file mod.py\nprint('module main:', __name__)\n",
            "%run -m mod",
            "print(VALUE, RESULT)",
        ),
    ),
    Case(
        "script cells",
        (
            "%%bash\necho from bash\nX=1; echo $X\necho made > made.txt",
            "%%sh\necho from sh",
            "%%script python3\nprint('from a python script')",
            "print(open('made.txt').read())",
        ),
    ),
    Case(
        "capture with and without a name",
        (
            "%%capture cap\nprint('hidden')\nvalue = 5",
            "print('captured:', repr(cap.stdout), value)",
            "%%capture\nprint('also hidden')",
            "%%capture shell\n!echo shell output captured",
            "print('shell captured:', repr(shell.stdout.strip()))  # a kernel's shell ends lines with \\r\\n",
            "%%capture --no-stdout visible\nprint('shown anyway')",
            "%%capture errors\nimport sys\nprint('to stderr', file=sys.stderr)",
            "print('stderr captured:', repr(errors.stderr))",
        ),
    ),
    Case(
        "time and timeit",
        (
            "%time y = 2 + 3",
            "%timeit -n 1 -r 1 sum(range(10))",
            "%%time\nw = y * 2\nprint('w', w)",
            "t = %time 5 * 5",
            "%%timeit -n 1 -r 1\nsum(range(3))",
            "print(y, w, t)",
        ),
    ),
    Case(
        "top-level await",
        (
            "import asyncio\n\nasync def three():\n    await asyncio.sleep(0)\n    return 3",
            "r = await three()\nprint('awaited', r)",
            "results = await asyncio.gather(three(), three())\nfor item in results:\n    print(item)",
            "print(r + 1, results)",
        ),
    ),
    Case(
        "installs",
        (
            "%pip install --quiet --no-index pip",
            "!pip install --quiet --no-index pip && echo after install",
            "print('installed')",
        ),
    ),
    Case(
        "help and interactive magics",
        (
            "len?",
            "%pinfo len",
            "%load_ext autoreload\n%autoreload 2",
            "%precision 3",
            "%%html\n<b>shown only in Jupyter</b>",
            "print('after help')",
        ),
    ),
    Case(
        "magics inside blocks and functions",
        (
            "if True:\n    %env CASE_INNER=1\n    !echo inner $CASE_INNER",
            "for i in range(2):\n    %time q = i * 10",
            "def greet(who):\n    out = !echo hi $who\n    return out\nprint(greet('you'))",
            "try:\n    %cd missing-folder-xyz\nexcept Exception:\n    pass",
            "print(q)",
        ),
    ),
    Case(
        "a failing cell stops the run",
        ("print('before')", "raise ValueError('boom')", "print('never printed')"),
    ),
]


def files_in(folder: Path) -> dict[str, bytes]:
    """Every file left in `folder` (relative path -> content), but the script and Python's caches."""
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != SCRIPT and "__pycache__" not in path.parts
    }


def in_kernel(cells: tuple[str, ...], folder: Path) -> Run:
    """The notebook in a real kernel started in `folder`; a failing cell stops it."""
    notebook = new_notebook(*cells)
    client = NotebookClient(notebook, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(folder)}})
    try:
        client.execute()
        failed = False
    except CellExecutionError:
        failed = True
    printed = "".join(
        output.get("text", "")
        for cell in notebook.cells
        for output in cell.outputs
        if output.get("output_type") == "stream" and output.get("name") == "stdout"
    )
    printed = ANSI.sub("", printed)  # pip colours its warnings; the reset can land on the next line
    lines = [line for line in printed.splitlines() if not any(echo.match(line) for echo in ECHOES.values())]
    return Run(lines, failed, files_in(folder))


def as_script(cells: tuple[str, ...], folder: Path) -> Run:
    """The exported script under plain python in `folder`."""
    # Run from its folder as a job runs it (`python train.py`); a dot file, which `ls` does not list.
    script = folder / SCRIPT
    script.write_text(export_notebook_text(notebook_json(*cells), "case.ipynb").script)
    done = subprocess.run([sys.executable, SCRIPT], cwd=folder, capture_output=True, text=True, timeout=120)
    return Run(done.stdout.splitlines(), done.returncode != 0, files_in(folder))


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_the_script_does_what_the_notebook_did(case: Case, tmp_path: Path) -> None:
    (tmp_path / "kernel").mkdir()
    (tmp_path / "script").mkdir()
    notebook = in_kernel(case.cells, tmp_path / "kernel")
    script = as_script(case.cells, tmp_path / "script")
    assert script.stdout == notebook.stdout
    assert script.failed == notebook.failed
    assert script.files == notebook.files
