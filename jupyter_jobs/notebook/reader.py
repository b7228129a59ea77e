"""Decode a notebook's JSON into typed structs with msgspec, strictly, in one pass.

Only what jupyter-jobs reads is typed (cell type, source, a raw cell's format, the kernel's
language); every other member is skipped by the decoder, and each cell's outputs are kept as
`msgspec.Raw`, a view of their JSON text that is decoded only where they are needed (the
secret scan, strip). The decoder still checks the whole text is JSON, skipped parts included.

Anything that does not fit the types is refused with one line that names the place (`cell 3
source: expected `str | array`, got `int``), never a KeyError or a traceback. Notebooks
older than format 4 go through nbformat's own upgrade; nbformat, which costs about a second to
import, is loaded only then.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from ..errors import JobError

_EMPTY = msgspec.Raw(b"[]")


class CellMetadata(msgspec.Struct):
    """What is read of a cell's metadata: the format of a raw cell."""

    raw_mimetype: str | None = None


class Cell(msgspec.Struct):
    """One cell; nbformat stores its source as a string or a list of lines."""

    cell_type: str
    source: str | list[str]
    metadata: CellMetadata = msgspec.field(default_factory=CellMetadata)
    outputs: msgspec.Raw = _EMPTY

    @property
    def text(self) -> str:
        """The source as one string."""
        return self.source if isinstance(self.source, str) else "".join(self.source)

    @property
    def in_script(self) -> bool:
        """Whether nbconvert puts the cell into a Python script: code, and raw cells without a
        format or with a Python one."""
        if self.cell_type == "raw":
            return (self.metadata.raw_mimetype or "").lower() in ("", "text/x-python")
        return self.cell_type == "code"


class KernelSpec(msgspec.Struct):
    language: str | None = None


class LanguageInfo(msgspec.Struct):
    name: str | None = None


class NotebookMetadata(msgspec.Struct):
    """What is read of a notebook's metadata: the language of its kernel."""

    kernelspec: KernelSpec | None = None
    language_info: LanguageInfo | None = None
    language: str | None = None


class Notebook(msgspec.Struct):
    """A notebook as nbformat 4 (older formats are upgraded when read)."""

    cells: list[Cell]
    metadata: NotebookMetadata = msgspec.field(default_factory=NotebookMetadata)

    @property
    def language(self) -> str | None:
        """The kernel's language, as the first of the three places that name it says."""
        metadata = self.metadata
        return (
            (metadata.kernelspec.language if metadata.kernelspec else None)
            or (metadata.language_info.name if metadata.language_info else None)
            or metadata.language
        )


class _Version(msgspec.Struct):
    """The first look at a notebook that is not format 4: only its version."""

    nbformat: Any = msgspec.UNSET


class _Format4(Notebook):
    nbformat: Any = msgspec.UNSET


_DECODER = msgspec.json.Decoder(_Format4)
_VERSION_DECODER = msgspec.json.Decoder(_Version)
_AT_BYTE = re.compile(r" \(byte (\d+)\)$")
_PATH = re.compile(r"^\$\.cells\[(\d+)\]\.?")


def read_notebook(data: str | bytes | memoryview, name: str) -> Notebook:
    """The notebook in `data` (its JSON as text, or UTF-8 bytes already checked to be UTF-8),
    named `name` in messages; a one-line JobError for anything that is not a notebook."""
    try:
        return _read(data, name)
    except RecursionError:  # msgspec's decoder and nbformat's upgrade both stop at a depth
        raise JobError(
            f"{name} is not a notebook: its JSON is nested too deeply to read",
            hint="the file is damaged; restore it from a checkpoint or version control",
        ) from None


def _read(data: str | bytes | memoryview, name: str) -> Notebook:
    try:
        notebook = _DECODER.decode(data)
    except msgspec.ValidationError as err:  # (a DecodeError too: this one first)
        version = _version(data, name)
        if version == 4:
            raise _invalid(name, err) from None
        return _older(data, name, version)
    except msgspec.DecodeError as err:
        raise _not_json(data, name, err) from None
    if notebook.nbformat != 4:
        return _older(data, name, notebook.nbformat)
    return Notebook(notebook.cells, notebook.metadata)


def _version(data: str | bytes | memoryview, name: str) -> object:
    """The notebook's nbformat version (UNSET without one, None when `data` is no object), or
    the JSON error that a failed type check may have come before."""
    try:
        return _VERSION_DECODER.decode(data).nbformat
    except msgspec.ValidationError:
        return None
    except msgspec.DecodeError as err:
        raise _not_json(data, name, err) from None


def _older(data: str | bytes | memoryview, name: str, version: object) -> Notebook:
    """A notebook that is not format 4: upgraded by nbformat from formats 1 to 3, else refused."""
    if version is msgspec.UNSET or version is None:
        raise JobError(
            f"{name} is not a Jupyter notebook (no nbformat version)",
            hint="give the path of an .ipynb file saved by Jupyter",
        )
    if not (isinstance(version, int) and 1 <= version < 4):
        raise JobError(
            f"{name} has nbformat version {version!r}, which jupyter-jobs does not read",
            hint="open it in a current Jupyter and save it as nbformat 4",
        )
    import nbformat

    text = data if isinstance(data, str) else str(data, "utf-8")
    try:
        upgraded = nbformat.reads(text, as_version=4)
    except Exception as err:  # nbformat raises many types for damaged old notebooks
        raise JobError(
            f"{name} is an nbformat {version} notebook that cannot be upgraded ({err})",
            hint="open it in Jupyter and save it as nbformat 4",
        ) from None
    try:
        return msgspec.json.decode(msgspec.json.encode(upgraded), type=Notebook)
    except msgspec.ValidationError as err:
        raise _invalid(name, err) from None


def _not_json(data: str | bytes | memoryview, name: str, err: msgspec.DecodeError) -> JobError:
    """`name is not valid JSON (line L: what is wrong)`, the line counted from the byte offset
    msgspec gives."""
    message = str(err).removeprefix("JSON is malformed: ")
    at = _AT_BYTE.search(message)
    raw = data.encode() if isinstance(data, str) else data
    offset = int(at[1]) if at else len(raw)
    line = bytes(raw[:offset]).count(b"\n") + 1
    reason = _AT_BYTE.sub("", message)
    if reason == "Input data was truncated":
        reason = "the file ends too early"
    return JobError(
        f"{name} is not valid JSON (line {line}: {reason})",
        hint="the file is damaged; restore it from a checkpoint or version control",
    )


def _invalid(name: str, err: msgspec.ValidationError) -> JobError:
    """`name is not a valid notebook (cell 3 source: expected ...)`, naming the place."""
    message, _, path = str(err).partition(" - at `")
    path = path.rstrip("`")
    cell = _PATH.match(path)
    if cell is not None:
        rest = path[cell.end() :]
        where = f"cell {int(cell[1]) + 1}" + (f" {rest}" if rest else "")
    else:
        where = path.removeprefix("$.") or "the notebook"
    problem = message[:1].lower() + message[1:]
    return JobError(f"{name} is not a valid notebook ({where}: {problem})", hint="open it in Jupyter and save it again")
