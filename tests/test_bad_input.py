"""SPEC §4's bad inputs at every surface: one actionable line, no traceback, nothing lost.

Each case is tried through the command line (its `main` in this process: exit status 1 and one
line on stderr; one case in a real process, where Python itself would print a traceback or a
warning) and the `%wandb_job` magic (a real IPython shell: one line, no traceback). The REST
API's 4xx answers are in test_handlers.py; the panel shows the REST/kernel message as it is
(see test_browser.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from IPython.core.interactiveshell import InteractiveShell

from jupyter_jobs.store import JobStore

from .helpers import notebook_json, run_cli, run_cli_here

AWS_KEY_ID = "AKIA" + "Z7QW3RT5YU8IOPLK"  # built here so no scanner mistakes this file for a leak


def with_damaged_output() -> str:
    """A notebook whose code is fine but whose one image output holds a raw tab, which JSON
    forbids in a string (as a broken editor or a bad merge leaves it)."""
    image = nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo+DAMAGE"})
    return notebook_json(nbformat.v4.new_code_cell("x = 1", outputs=[image])).replace("+DAMAGE", "\t")


DAMAGED_LINE = next(number for number, line in enumerate(with_damaged_output().splitlines(), 1) if "\t" in line)
DAMAGED = f"nb.ipynb is not valid JSON (line {DAMAGED_LINE}: invalid character)"


@dataclass(frozen=True)
class Case:
    id: str
    content: str | None  # the notebook's text; None: the file does not exist
    message: str  # a fragment every surface must show
    options: dict[str, Any] = field(default_factory=dict)
    name: str = "nb.ipynb"


CASES = [
    Case("corrupt-json", '{"cells": [', "nb.ipynb"),
    Case("not-v4", json.dumps({"nbformat": 2, "worksheets": []}), "nb.ipynb"),
    Case("r-kernel", notebook_json("x <- 1", language="R"), "R"),
    Case("no-code", notebook_json(), "no code"),
    Case("syntax-error", notebook_json("x = 1", "def broken(:\n    pass"), "Cell 2 is not valid Python"),
    Case("never-saved", None, "nb.ipynb"),
    Case("empty-name", notebook_json("x = 1"), "no usable characters", {"name": "///"}),
    Case("git-without-repo", notebook_json("x = 1"), "Cannot use the git source", {"source": "git"}),
    Case(
        "malformed-image",
        notebook_json("x = 1"),
        "not a valid docker image",
        {"source": "image", "image": "Bad_Image!!"},
    ),
    Case("secret", notebook_json(f"aws_access_key_id = '{AWS_KEY_ID}'"), "Secrets found: cell 1, line 1"),
    Case("damaged-output", with_damaged_output(), DAMAGED),
    Case(
        "damaged-output-stripped",
        with_damaged_output(),
        DAMAGED,
        {"strip_outputs": True},
    ),
    Case(
        "cell-without-source",
        json.dumps({"nbformat": 4, "metadata": {}, "cells": [{"cell_type": "code", "metadata": {}, "outputs": []}]}),
        "nb.ipynb is not a valid notebook (cell 1: object missing required field `source`)",
    ),
]


EXAMPLE_WITH_OUTPUTS = json.dumps(
    {
        **json.loads(notebook_json("import os\nprint(os.sep)", "x = [1, 2]\nx")),
        "cells": [
            {
                "cell_type": "code",
                "id": "a",
                "metadata": {},
                "execution_count": 1,
                "source": "import os\nprint(os.sep)",
                "outputs": [{"output_type": "stream", "name": "stdout", "text": ["/\n", 'a ] [ "q" \\\\ line\n']}],
            },
            {
                "cell_type": "code",
                "id": "b",
                "metadata": {},
                "execution_count": 2,
                "source": "x = [1, 2]\nx",
                "outputs": [
                    {
                        "output_type": "display_data",
                        "metadata": {},
                        "data": {"image/png": "iVBORw0KGgo=", "text/plain": ["[1, 2]"]},
                    }
                ],
            },
        ],
    },
    indent=1,
)
MUTATION_CHARS = ['"', "\\", "[", "]", "{", "}", ",", ":", "\t", "\x00", "a", "1", "\n", "é"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    edits=st.lists(
        st.tuples(
            st.floats(0, 1, exclude_max=True),
            st.sampled_from(["delete", "insert", "replace"]),
            st.sampled_from(MUTATION_CHARS),
        ),
        min_size=1,
        max_size=3,
    )
)
def test_a_damaged_notebook_is_a_job_error_never_a_traceback(edits: list, tmp_path: Path, store_dir: Path) -> None:
    """Random damage to a notebook with outputs (what a bad merge or a broken editor leaves):
    creating its job, outputs kept or stripped, succeeds or fails with a JobError, nothing else."""
    from jupyter_jobs.core import CreateRequest, create_job
    from jupyter_jobs.errors import JobError

    chars = list(EXAMPLE_WITH_OUTPUTS)
    for fraction, edit, char in edits:
        at = int(fraction * len(chars))
        if edit == "delete":
            del chars[at]
        elif edit == "insert":
            chars.insert(at, char)
        else:
            chars[at] = char
    path = tmp_path / "damaged.ipynb"
    path.write_text("".join(chars), encoding="utf-8")
    for strip in (False, True):
        try:
            create_job(CreateRequest(path=path, store=store_dir, dry_run=True, no_git=True, strip_outputs=strip))
        except JobError as err:
            assert "\n" not in str(err)


def write_case(case: Case, folder: Path) -> Path:
    path = folder / case.name
    if case.content is not None:
        path.write_text(case.content)
    return path


def assert_one_line(text: str, case: Case) -> None:
    assert case.message in text, text
    assert text.strip().count("\n") == 0 and "Traceback" not in text, text
    assert AWS_KEY_ID not in text


def cli_flags(options: dict[str, Any]) -> list[str]:
    """`--key value` for each option; a flag alone for True."""
    flags = []
    for key, value in options.items():
        flags += [f"--{key.replace('_', '-')}"] + ([] if value is True else [value])
    return flags


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_command_line(case: Case, tmp_path: Path, store_dir: Path) -> None:
    path = write_case(case, tmp_path)
    result = run_cli_here("create", str(path), "--store", str(store_dir), *cli_flags(case.options))
    assert result.returncode == 1
    assert result.stderr.startswith("error: ")
    assert_one_line(result.stderr, case)
    assert JobStore.open(store_dir).list_jobs()[1] == 0


@pytest.fixture(scope="module")
def shell() -> InteractiveShell:
    ipython = InteractiveShell.instance()
    ipython.run_line_magic("load_ext", "jupyter_jobs")
    return ipython


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_magic(case: Case, shell: InteractiveShell, tmp_path: Path, store_dir: Path, capsys) -> None:
    path = write_case(case, tmp_path)
    flags = " ".join(cli_flags(case.options))
    shell.run_line_magic("wandb_job", f"--dry-run --notebook {path} --store {store_dir} {flags}")
    captured = capsys.readouterr()
    assert captured.out == ""
    assert_one_line(captured.err, case)


def test_magic_without_a_run_says_how_to_start_one(shell: InteractiveShell, tmp_path: Path, capsys) -> None:
    path = write_case(Case("ok", notebook_json("x = 1"), ""), tmp_path)
    shell.run_line_magic("wandb_job", f"--notebook {path}")
    err = capsys.readouterr().err
    assert err.startswith("No active W&B run") and "wandb.init" in err and err.count("\n") == 1


def test_store_that_cannot_be_written(tmp_path: Path) -> None:
    """In a real process: the one line is all the interpreter prints too."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    path = write_case(Case("ok", notebook_json("x = 1"), ""), tmp_path)
    result = run_cli("create", str(path), "--store", str(blocker / "store"))
    assert result.returncode == 1
    assert result.stderr.startswith("error: The job store at") and "--store" in result.stderr
    assert result.stderr.count("\n") == 1
