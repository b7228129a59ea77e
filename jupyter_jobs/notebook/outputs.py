"""Cell outputs, decoded only where they are needed: the secret scan reads their text."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import msgspec

from .reader import Notebook

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def code_cell_outputs(notebook: Notebook) -> Iterator[tuple[int, bytes]]:
    """(1-based cell number, JSON text of its outputs list) for each code cell with outputs.

    The text is what the reader kept undecoded: a caller that judged the same block before
    (the secret scan remembers its findings by block) need not decode it again.
    """
    for number, cell in enumerate(notebook.cells, 1):
        if cell.cell_type == "code":
            block = bytes(cell.outputs)
            if block and block.strip() != b"[]":
                yield number, block


def outputs_text(block: bytes) -> str:
    """The readable text of a cell's outputs (their JSON text): streams, errors (their ANSI
    colours removed) and text-like MIME data; images and other binary data are skipped."""
    outputs = msgspec.json.decode(block)
    if not isinstance(outputs, list):
        return ""
    return "\n".join(_output_text(output) for output in outputs if isinstance(output, dict))


def _output_text(output: dict[str, Any]) -> str:
    """The readable text of one output."""
    output_type = output.get("output_type")
    if output_type == "stream":
        return _joined(output.get("text", ""))
    if output_type == "error":
        traceback = output.get("traceback", [])
        lines = [output.get("ename", ""), output.get("evalue", ""), *(traceback if isinstance(traceback, list) else [])]
        return _ANSI.sub("", "\n".join(str(line) for line in lines))
    return bundle_text(output.get("data", {}))


def bundle_text(bundle: object) -> str:
    """The text-like members of a MIME bundle (an output's `data`, a markdown attachment)."""
    if not isinstance(bundle, dict):
        return ""
    return "\n".join(_mime_text(value) for mime, value in bundle.items() if _is_text_mime(str(mime)))


def _is_text_mime(mime: str) -> bool:
    return mime.startswith("text/") or mime.endswith("json") or mime == "application/javascript"


def _mime_text(value: Any) -> str:
    """Text MIME data is a string or a list of lines; JSON MIME data is any JSON value."""
    if isinstance(value, str) or (isinstance(value, list) and all(isinstance(item, str) for item in value)):
        return _joined(value)
    return json.dumps(value, indent=1)


def _joined(source: object) -> str:
    """nbformat stores multi-line strings either whole or as a list of lines; anything else (a
    damaged output: null, a number, an object) is scanned as its text, never a crash."""
    if isinstance(source, str):
        return source
    if isinstance(source, list):
        return "".join(str(part) for part in source)
    return "" if source is None else json.dumps(source)
