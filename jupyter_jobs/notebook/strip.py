"""A notebook without its outputs, for a stored copy that leaks nothing printed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import msgspec

from .reader import read_notebook


def strip_outputs(notebook: bytes, name: str) -> bytes:
    """The notebook without outputs and execution counts, everything else kept; written as
    nbformat writes (sorted keys, one-space indent).

    Read strictly first (the one reader's errors), then as plain JSON rather than through
    nbformat's schema, which refuses what Jupyter repairs when it opens a notebook (a cell
    without metadata).
    """
    read_notebook(notebook, name)
    document = msgspec.json.decode(notebook)
    for cell in _all_cells(document):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell.pop("prompt_number", None)  # format 3's execution count
            if "execution_count" in cell:
                cell["execution_count"] = None
    return (json.dumps(document, sort_keys=True, indent=1, ensure_ascii=False) + "\n").encode()


def _all_cells(notebook: object) -> Iterator[dict[str, Any]]:
    """Every cell object: a format 4 notebook's `cells`, or those of format 3's worksheets."""
    if not isinstance(notebook, dict):
        return
    worksheets = notebook.get("worksheets")
    sheets = [
        notebook,
        *(sheet for sheet in (worksheets if isinstance(worksheets, list) else []) if isinstance(sheet, dict)),
    ]
    for sheet in sheets:
        cells = sheet.get("cells")
        yield from (cell for cell in (cells if isinstance(cells, list) else []) if isinstance(cell, dict))
