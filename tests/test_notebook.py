"""The one notebook reader: typed cells, strict one-line errors, outputs on demand, and strip."""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from jupyter_jobs.errors import JobError
from jupyter_jobs.export import export_notebook_text
from jupyter_jobs.notebook import code_cell_outputs, outputs_text, read_notebook, strip_outputs
from jupyter_jobs.notebook.strip import without_outputs
from jupyter_jobs.notebook_path import CellsRun
from jupyter_jobs.secrets import scan

CORPUS = Path(__file__).parent / "corpus"
WANDB_KEY = "wandb_v1_" + "Q7xK2pL9" * 6  # built here so no scanner mistakes this file for a leak


def notebook(*cells: dict) -> str:
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": list(cells)})


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        (
            {"cell_type": "code", "metadata": {}, "outputs": []},
            "nb.ipynb is not a valid notebook (cell 2: object missing required field `source`)",
        ),
        (
            {"cell_type": "code", "source": ["x", 1], "outputs": []},
            "nb.ipynb is not a valid notebook (cell 2 source[1]: expected `str`, got `int`)",
        ),
        (
            {"cell_type": 4, "source": "x"},
            "nb.ipynb is not a valid notebook (cell 2 cell_type: expected `str`, got `int`)",
        ),
        ("a cell", "nb.ipynb is not a valid notebook (cell 2: expected `object`, got `str`)"),
        (
            {"cell_type": "raw", "source": "x", "metadata": {"raw_mimetype": 3}},
            "nb.ipynb is not a valid notebook (cell 2 metadata.raw_mimetype: expected `str | null`, got `int`)",
        ),
    ],
)
def test_bad_cells_are_one_line_errors_naming_the_cell(cell: object, message: str) -> None:
    text = notebook({"cell_type": "code", "source": "x = 1", "metadata": {}, "outputs": []}, cell)
    with pytest.raises(JobError) as caught:
        read_notebook(text, "nb.ipynb")
    assert caught.value.message == message
    assert "\n" not in str(caught.value)


def test_a_cell_without_source_is_a_job_error_for_the_unsaved_cells_check(tmp_path: Path) -> None:
    """`%wandb_job`'s check for cells run but not saved reads the notebook too: a damaged one is
    the same one-line error there, never a KeyError."""
    from IPython.core.interactiveshell import ExecutionInfo, ExecutionResult

    path = tmp_path / "nb.ipynb"
    path.write_text(notebook({"cell_type": "code", "metadata": {}, "outputs": []}))
    os.utime(path, (0, 0))  # saved long before the cell below ran
    cells = CellsRun()
    # Every line of this code is somewhere in the file, so only reading its cells can tell.
    info = ExecutionInfo("cell_type", store_history=True, silent=False, shell_futures=True, cell_id="a")
    cells.record(ExecutionResult(info))
    with pytest.raises(JobError, match=r"^nb.ipynb is not a valid notebook \(cell 1: object missing"):
        cells.unsaved(path)


def test_outputs_stay_undecoded_until_asked_for() -> None:
    outputs = [
        {"output_type": "stream", "name": "stdout", "text": ["a\n", "b\n"]},
        {"output_type": "error", "ename": "E", "evalue": "v", "traceback": ["\x1b[31mred\x1b[0m"]},
        {"output_type": "display_data", "metadata": {}, "data": {"image/png": "iVBOR", "text/plain": "shown"}},
    ]
    text = notebook(
        {"cell_type": "markdown", "source": "x", "metadata": {}},
        {"cell_type": "code", "source": "y", "metadata": {}, "outputs": outputs, "execution_count": 1},
        {"cell_type": "code", "source": "z", "metadata": {}, "outputs": [], "execution_count": 2},
    )
    read = read_notebook(text, "nb.ipynb")
    blocks = list(code_cell_outputs(read))
    assert [(number, json.loads(block)) for number, block in blocks] == [(2, outputs)]
    assert outputs_text(blocks[0][1]) == "a\nb\n\nE\nv\nred\nshown"


def _strip_by_full_decode(data: bytes) -> bytes:
    """Strip as it was done before outputs were left undecoded: decode the whole document,
    empty each code cell's outputs, write it as nbformat does."""
    document = json.loads(data)
    sheets = [document, *document.get("worksheets", [])] if isinstance(document, dict) else []
    for sheet in sheets:
        for cell in sheet.get("cells", []) if isinstance(sheet, dict) else []:
            if isinstance(cell, dict) and cell.get("cell_type") == "code":
                cell["outputs"] = []
                cell.pop("prompt_number", None)
                if "execution_count" in cell:
                    cell["execution_count"] = None
    return (json.dumps(document, sort_keys=True, indent=1, ensure_ascii=False) + "\n").encode()


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=8,
)
_CELL = st.fixed_dictionaries(
    {"cell_type": st.sampled_from(["code", "markdown", "raw"]), "source": st.text() | st.lists(st.text())},
    optional={
        "metadata": st.dictionaries(st.text(max_size=5), _JSON, max_size=3),
        "outputs": st.lists(st.dictionaries(st.text(max_size=5), _JSON, max_size=3), max_size=2),
        "execution_count": st.none() | st.integers(0, 99),
        "prompt_number": st.integers(0, 99),
        "id": st.text(max_size=8),
    },
)


@settings(max_examples=300, deadline=None)
@given(
    cells=st.lists(_CELL, max_size=4),
    sheets=st.lists(st.lists(_CELL, max_size=3), max_size=2),
    extra=st.dictionaries(st.sampled_from(["metadata", "nbformat", "nbformat_minor", "other"]), _JSON, max_size=3),
)
def test_strip_leaves_outputs_undecoded_and_writes_the_same_bytes(
    cells: list[dict], sheets: list[list[dict]], extra: dict
) -> None:
    """`without_outputs` never decodes the outputs it drops; the bytes it writes (and hashes into
    the job's version) are those of a full decode, for format 4 cells and format 3 worksheets."""
    document = {**extra, "cells": cells, "worksheets": [{"cells": sheet} for sheet in sheets]}
    data = json.dumps(document, indent=1).encode()
    assert without_outputs(data) == _strip_by_full_decode(data)


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.ipynb")), ids=lambda path: path.name)
def test_strip_of_the_corpus_writes_the_same_bytes_as_a_full_decode(path: Path) -> None:
    data = path.read_bytes()
    assert strip_outputs(data, path.name) == _strip_by_full_decode(data)


def test_strip_outputs_keeps_code_and_metadata() -> None:
    nb = new_notebook(
        cells=[
            new_markdown_cell("# Title", metadata={"tags": ["intro"]}),
            new_code_cell(
                "print(key)",
                execution_count=7,
                metadata={"tags": ["parameters"], "collapsed": False},
                outputs=[new_output("stream", name="stdout", text=f"{WANDB_KEY}\n")],
            ),
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )
    original = nbformat.writes(nb)

    stripped = nbformat.reads(strip_outputs(original.encode(), "train.ipynb"), as_version=4)

    nbformat.validate(stripped)
    assert WANDB_KEY.encode() not in strip_outputs(original.encode(), "train.ipynb")
    assert stripped.cells[1].outputs == [] and stripped.cells[1].execution_count is None
    assert [c.source for c in stripped.cells] == ["# Title", "print(key)"]
    assert [c.metadata for c in stripped.cells] == [c.metadata for c in nb.cells]
    assert [c.id for c in stripped.cells] == [c.id for c in nb.cells]
    assert stripped.metadata == nb.metadata
    assert (
        scan(
            export_notebook_text(strip_outputs(original.encode(), "train.ipynb"), "train.ipynb"),
            strip_outputs(original.encode(), "train.ipynb"),
        )
        == []
    )


def test_strip_outputs_takes_every_notebook_the_export_takes() -> None:
    """nbformat's schema refuses a cell without metadata or a notebook without it; Jupyter
    repairs both on open, and so does the export: stripping must not be the step that fails."""
    notebook = json.loads(
        nbformat.writes(
            new_notebook(
                cells=[
                    new_code_cell(
                        "print(key)",
                        execution_count=3,
                        outputs=[new_output("stream", name="stdout", text=f"{WANDB_KEY}\n")],
                    )
                ]
            )
        )
    )
    del notebook["cells"][0]["metadata"], notebook["metadata"]
    text = json.dumps(notebook)
    export_notebook_text(text, "train.ipynb")

    stripped = json.loads(strip_outputs(text.encode(), "train.ipynb"))

    assert stripped["cells"][0]["outputs"] == [] and stripped["cells"][0]["execution_count"] is None
    assert stripped["cells"][0]["source"] == ["print(key)"]  # as nbformat wrote it


def test_strip_outputs_of_an_nbformat_3_notebook() -> None:
    old = json.loads((Path(__file__).parent / "corpus" / "legacy_v3.ipynb").read_text())
    old["worksheets"][0]["cells"][2]["outputs"] = [
        {"output_type": "stream", "stream": "stdout", "text": [f"WANDB_API_KEY={WANDB_KEY}\n"]}
    ]

    stripped = strip_outputs(json.dumps(old).encode(), "old.ipynb")

    assert WANDB_KEY.encode() not in stripped
    assert nbformat.reads(stripped, as_version=4).cells[2].source == "%matplotlib inline\nx = 2\nprint(x * 21)"


def test_damaged_outputs_are_read_as_their_text() -> None:
    """A hand-edited output with a null, numeric or object `text` or `data` is scanned as what it
    holds (a key inside an object still found), never a crash."""
    block = json.dumps(
        [
            {"output_type": "stream", "name": "stdout", "text": None},
            {"output_type": "stream", "name": "stdout", "text": 7},
            {"output_type": "stream", "name": "stdout", "text": {"key": WANDB_KEY}},
            {"output_type": "display_data", "data": {"text/plain": None}, "metadata": {}},
            {"output_type": "error", "ename": None, "evalue": None, "traceback": None},
        ]
    ).encode()

    assert outputs_text(block).split("\n")[:3] == ["", "7", json.dumps({"key": WANDB_KEY})]
