"""A notebook without its outputs, for a stored copy that leaks nothing printed."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import msgspec

from .reader import read_notebook

# Objects and arrays with their members left undecoded: the outputs that are dropped anyway
# (most of a large notebook's bytes) are then only checked as JSON, never made Python strings.
_OBJECT = msgspec.json.Decoder(dict[str, msgspec.Raw])
_ARRAY = msgspec.json.Decoder(list[msgspec.Raw])


def strip_outputs(notebook: bytes, name: str) -> bytes:
    """The notebook without outputs and execution counts, everything else kept; written as
    nbformat writes (sorted keys, one-space indent).

    Read strictly first (the one reader's errors), then as plain JSON rather than through
    nbformat's schema, which refuses what Jupyter repairs when it opens a notebook (a cell
    without metadata).
    """
    read_notebook(notebook, name)
    return without_outputs(notebook)


def without_outputs(notebook: bytes) -> bytes:
    """`strip_outputs` of a notebook already read strictly (the export has read it): the same
    bytes, without a second strict read."""
    document = _members(notebook, {"cells": _cells, "worksheets": _worksheets})
    return (json.dumps(document, sort_keys=True, indent=1, ensure_ascii=False) + "\n").encode()


def _members(raw: bytes, special: dict[str, Callable[[bytes], Any]]) -> Any:
    """An object's members decoded, those named in `special` by their own function; anything
    that is not an object is decoded as it is."""
    try:
        members = _OBJECT.decode(raw)
    except msgspec.ValidationError:
        return msgspec.json.decode(raw)
    return {
        key: special[key](value) if key in special else msgspec.json.decode(value) for key, value in members.items()
    }


def _items(raw: bytes, item: Callable[[bytes], Any]) -> Any:
    """An array's items, each by `item`; anything that is not an array is decoded as it is."""
    try:
        items = _ARRAY.decode(raw)
    except msgspec.ValidationError:
        return msgspec.json.decode(raw)
    return [item(value) for value in items]


def _worksheets(raw: bytes) -> Any:
    """Format 3 keeps its cells in worksheets."""
    return _items(raw, lambda sheet: _members(sheet, {"cells": _cells}))


def _cells(raw: bytes) -> Any:
    return _items(raw, _cell)


def _cell(raw: bytes) -> Any:
    """A cell; a code cell without its outputs (never decoded) and its execution count."""
    cell = _members(raw, {"outputs": lambda value: value})
    if not isinstance(cell, dict):
        return cell
    outputs = cell.pop("outputs", None)
    if cell.get("cell_type") != "code":
        if outputs is not None:
            cell["outputs"] = msgspec.json.decode(outputs)
        return cell
    cell["outputs"] = []
    cell.pop("prompt_number", None)  # format 3's execution count
    if "execution_count" in cell:
        cell["execution_count"] = None
    return cell
