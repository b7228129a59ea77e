"""Turn a saved notebook into one plain-Python script that a W&B job can run.

A W&B job runs its code with plain ``python``, where ``get_ipython()`` does not exist. So the
export recognises IPython syntax with IPython's own input transformers (the same ones Jupyter
uses to run a cell), finds the ``get_ipython()...`` calls they produce with ``ast``, and replaces
each with plain Python, reporting every change as a `Rewrite`:

* ``!cmd`` -> ``subprocess.run(cmd, shell=True, check=False)``; ``var = !cmd`` -> the command's
  output lines as a plain ``list`` (IPython's ``SList`` extras such as ``.s``/``.n`` are gone);
  ``$name``/``{expr}`` in commands and magic arguments become f-string fields when the names are
  bound in the notebook, and stay literal otherwise, as IPython does when it cannot expand;
* ``%pip``/``!pip``/``%conda install ...`` become requirements of the job, not code;
* ``%env``, ``%cd``, ``%run``, ``%time``/``%timeit``, ``%%time``/``%%timeit``/``%%capture``,
  ``%%writefile`` and ``%%bash``/``%%sh``/``%%script`` get plain-Python equivalents;
* interactive-only magics (``%matplotlib``, ``%load_ext``, ...), ``obj?`` help, the
  ``%wandb_job`` magic and ``wandb.login()``/``notebook_login()`` calls (a job reads
  ``WANDB_API_KEY`` from its environment) are dropped;
* unknown magics and non-Python cell magics (``%%html``, ``%%R``, ...) are commented out with a
  warning, never dropped silently;
* a cell using top-level ``await`` becomes an ``async def`` run by ``asyncio.run`` (its top-level
  names are declared ``global`` so later cells still see them; each such cell gets its own
  event loop);
* ``display(...)``, which IPython puts in builtins, gets a two-line fallback that prints, only
  when the notebook calls it without importing it: the script never needs IPython.

Any other use of ``get_ipython`` in the code stops the export: plain ``python`` has no such
function. A notebook without code is an error rather than an empty job. A ``.py`` file is
exported as it is, once it compiles; a script has no cells, so its ``line_origins`` are ``None``.

Notebooks are read with the standard ``json`` module's pieces, keeping only what an export
uses (``cell_type``, ``source``, the kernel's language) and skipping outputs without building
them, so memory does not grow with the outputs; anything unusual falls back to ``json.loads``.
The reader walks a str, or the UTF-8 bytes of the file (a read-only map of it for
``export_path``), decoding only the values it keeps.
nbformat, which costs about a second to import, is only loaded to upgrade notebooks older than
format 4. IPython is imported on the first cell that needs its transformer.
"""

from __future__ import annotations

import ast
import builtins
import codecs
import difflib
import inspect
import json
import mmap
import os
import re
import shlex
import stat
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from functools import lru_cache, partial
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

from jupyter_jobs.errors import JobError

if TYPE_CHECKING:
    from IPython.core.inputtransformer2 import TransformerManager


@dataclass(frozen=True)
class Rewrite:
    """One notebook construct the script holds in another form (shown to the user)."""

    cell: int
    line: int
    kind: str
    original: str
    replacement: str


@dataclass(frozen=True)
class ExportResult:
    """The exported script and everything the user should know about how it was made."""

    script: str
    rewrites: tuple[Rewrite, ...]
    requirements: tuple[str, ...]
    warnings: tuple[str, ...]
    line_origins: tuple[tuple[int, int] | None, ...]
    source_name: str
    is_notebook: bool
    # Every cell of the notebook as (1-based number, cell_type, source), so that later stages
    # (secret scan, Launch converter hazards) reuse this read instead of parsing the JSON again.
    cells: tuple[tuple[int, str, str], ...] = ()
    # The raw cells nbconvert copies into a script (no format, or a Python one).
    script_raw_cells: frozenset[int] = frozenset()
    # (cell number, start, end) of each code cell's outputs JSON in the text the export read, so
    # the secret scan of that same text need not walk it again; None when they were not located.
    output_spans: tuple[tuple[int, int, int], ...] | None = None


Origin = tuple[int, int]

# A cheap filter, not a parser: cells matching none of these cannot contain IPython syntax, so
# they skip the transformer. A false positive only costs one transformer call.
_IPYTHON_SYNTAX = re.compile(r"^[ \t]*(?:[%!?]|>>>|In \[)|\?[ \t]*$|=[ \t]*[!%]", re.MULTILINE)
_PROMPT = re.compile(r"^[ \t]*(?:>>>|In \[)", re.MULTILINE)
_BUILTIN_NAMES = frozenset(dir(builtins))
_UTF8_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class _EachItem:
    """In a member table (see _json_object): an array whose object items keep only `members`."""

    members: dict[str, object]


# In a member table: keep only where the value's JSON text starts and ends, never build it.
_SPAN = object()
_SKIP = object()  # what a member table's lookup gives for a member it does not list

# What an export reads from the notebook JSON (see _light_json); everything else is skipped.
_JSON = json.JSONDecoder()
# A notebook's JSON as the reader takes it: a str, or the UTF-8 bytes of its file (mapped).
_Json = str | bytes | mmap.mmap
# The reader's patterns, compiled for str input and for the UTF-8 bytes of a file (_syntax).
_SPACE = r"[ \t\n\r]*"
# One match instead of a call per token for what recurs in every object and array: a key
# without escapes with its colon, and the separator after a value, each with the space around.
_PLAIN_KEY = r'"([^"\\\x00-\x1f]*)"[ \t\n\r]*:[ \t\n\r]*'
_OBJECT_NEXT = r"[ \t\n\r]*([,}])[ \t\n\r]*"
_ARRAY_NEXT = r"[ \t\n\r]*([,\]])[ \t\n\r]*"
# In bytes, what the str reader leaves to json's C decoder: a number, a literal, or an array
# of strings, matched as strictly as json reads them (strings without control characters).
_STRING = r'"[^"\\\x00-\x1f]*+(?:\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})[^"\\\x00-\x1f]*+)*+"'
_BYTES_STRING = re.compile(_STRING.encode())
_BYTES_PRIMITIVE = re.compile(rb"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?|true|false|null|NaN|-?Infinity")
# Up to 1,000 strings of an array and the separators after them: a regex's memory grows with
# the items of one match, so a long array is matched a run at a time.
_BYTES_STRING_RUN = re.compile(rf"{_STRING}{_SPACE}(?:,{_SPACE}{_STRING}{_SPACE})" "{0,999}+".encode())
_CHECK_CHUNK = 1 << 18  # bytes decoded at a time when a file's UTF-8 is checked
_FIRST_WINDOW, _LAST_WINDOW = 1 << 12, 1 << 20  # the least a window grows to, the most it spans (bytes)


@dataclass(frozen=True)
class _Syntax:
    """The light reader's tokens for one kind of input: a str, or UTF-8 bytes (a mapped file),
    which it walks without decoding what it skips."""

    space: re.Pattern
    space_chars: frozenset
    plain_key: re.Pattern
    object_next: re.Pattern
    array_next: re.Pattern
    quote: str | bytes
    backslash: str | bytes
    colon: str | bytes
    open_object: str | bytes
    close_object: str | bytes
    open_array: str | bytes
    close_array: str | bytes
    containers: frozenset
    decode: Callable[[_Json, int], tuple[object, int]]  # (a value the reader keeps, its end)
    skip_string: Callable[[_Json, int], int]  # the end of the string whose opening quote is at pos
    skip_flat: Callable[[_Json, int], int]  # the end of what _skip_json_value does not walk
    key: Callable[[str | bytes], str]  # a plain key as matched, as a str


_CELL_MEMBERS: dict[str, object] = {
    "cell_type": None,
    "source": None,
    "metadata": {"raw_mimetype": None},
    "outputs": _SPAN,
}
_NOTEBOOK_MEMBERS: dict[str, object] = {
    "nbformat": None,
    "cells": _EachItem(_CELL_MEMBERS),
    "metadata": {"kernelspec": {"language": None}, "language_info": {"name": None}, "language": None},
}
# What the secret scan reads: where each cell's outputs are, to judge them block by block.
_OUTPUT_MEMBERS: dict[str, object] = {"cells": _EachItem({"cell_type": None, "outputs": _SPAN})}

_INTERACTIVE_MAGICS = frozenset(
    "load_ext reload_ext unload_ext autoreload aimport matplotlib config store who whos who_ls "
    "pdb xmode precision colors doctest_mode automagic autocall autosave autoawait history hist "
    "lsmagic magic quickref page qtconsole connect_info notebook debug tb recall dhist bookmark "
    "tensorboard wandb pycat reset reset_selective logstart logstop logon logoff logstate "
    "killbgscripts rehashx".split()
)
_HELP_MAGICS = frozenset("pinfo pinfo2 psearch pdoc pdef psource pfile".split())
_SHELL_ALIASES = frozenset("ls mkdir cp mv rm rmdir cat".split())
_INSTALLERS = frozenset({"pip", "conda", "mamba"})
_SCRIPT_MAGICS = frozenset("bash sh script perl ruby python python2 python3 pypy".split())
_BODY_MAGICS = {"capture": "capture", "time": "time", "timeit": "time", "prun": "time", "wandb": "wrapper"}
_NON_PYTHON_MAGICS = frozenset(
    "html HTML javascript js latex markdown svg R r sql bigquery ruby_inline octave julia".split()
)

# pip/conda options that take a value: the value is never a package.
_VALUE_OPTIONS = frozenset(
    "-r --requirement -c --constraint -i --index-url --extra-index-url -f --find-links -t --target "
    "--prefix --root --src --upgrade-strategy --platform --python-version --implementation --abi "
    "--progress-bar --trusted-host --cache-dir --log --timeout --retries --exists-action --proxy "
    "-C --config-settings --global-option --no-binary --only-binary --report -e --editable "
    "--channel -n --name -p".split()
)
_WARNED_OPTIONS = {
    "-r": "its packages are not read into the job's requirements; list them yourself",
    "--requirement": "its packages are not read into the job's requirements; list them yourself",
    "-e": "editable installs cannot be requirements of a job",
    "--editable": "editable installs cannot be requirements of a job",
    "-i": "the job's requirements do not carry a package index",
    "--index-url": "the job's requirements do not carry a package index",
    "--extra-index-url": "the job's requirements do not carry a package index",
    "-f": "the job's requirements do not carry a package index",
    "--find-links": "the job's requirements do not carry a package index",
}
_SHELL_CHAIN = frozenset({"&&", ";", "||"})
_REDIRECT = re.compile(r"^(?:\d?>>?|&>>?|<)(.*)$")


def export_path(path: str | PathLike[str]) -> ExportResult:
    """Export a notebook (``.ipynb``) or take a script (``.py``) as it is, once it compiles.

    A notebook is read from a read-only map of its file: the reader walks its bytes and decodes
    only the values an export keeps, so memory does not grow with the size of the outputs.
    """
    file = _source_file(path)
    if file.suffix == ".py":
        return _script_as_is(_read_text(file), file.name)
    with _notebook_json_source(file) as (text, start):
        # The mapped text is gone once this returns: spans into it would locate nothing.
        return replace(export_notebook_text(text, file.name, start), output_spans=None)


def read_source_bytes(path: str | PathLike[str]) -> bytes:
    """The notebook's or script's bytes as saved, checked to be UTF-8, without a byte-order mark,
    read once.

    The code artifact keeps these bytes as its copy of the notebook, while the export and the
    secret scan walk them and decode only what they keep: no text of the notebook's size is
    built next to them.
    """
    file = _source_file(path)
    with _reading(file):
        data = file.read_bytes()
        _check_utf8(data)
    return data[_bom_length(data) :]


def export_text(text: str | bytes, name: str) -> ExportResult:
    """Export `text`, a notebook's JSON or a script's code (as a str, or the UTF-8 bytes of
    read_source_bytes), as its file `name` says it is."""
    if name.endswith(".py"):
        return _script_as_is(text if isinstance(text, str) else text.decode("utf-8"), name)
    return export_notebook_text(text, name)


def export_notebook_text(text: _Json, name: str, start: int = 0) -> ExportResult:
    """Export the code cells of the notebook JSON `text` (named `name` in messages) to a script.

    `text` may also be the UTF-8 bytes of the file, already checked to be UTF-8, with the JSON
    from `start` (past a byte-order mark)."""
    cells, output_spans = _cells(text, name, start)
    code_cells = [(number, source) for number, kind, source, _ in cells if kind == "code" and source.strip()]
    if not code_cells:
        raise JobError(f"{name} has no code to export", hint="add the code the job should run to a code cell and save")
    builder = _ScriptBuilder()
    for number, source in code_cells:
        builder.add_cell(number, source)
    return builder.result(
        name,
        tuple((number, kind, source) for number, kind, source, _ in cells),
        frozenset(number for number, kind, _, in_script in cells if kind == "raw" and in_script),
        output_spans,
    )


def launch_converter_hazards(export: ExportResult) -> list[str]:
    """What W&B Launch's own converter breaks in the exported notebook, one line per construct.

    A git-sourced job runs the committed notebook through W&B's converter, which drops lines
    starting with ``!`` and hands the rest to nbconvert: every other IPython construct becomes a
    ``get_ipython()`` call that fails under plain ``python``. The export's cells are reused, and
    a code cell with no IPython syntax and no ``await`` is skipped before any parse: the export
    already compiled it, so the converter leaves it working.
    """
    hazards: list[str] = []
    for number, kind, source in export.cells:
        if not source.strip():
            continue
        if kind == "code" and (_needs_transformer(source) or "await" in source):
            hazards.extend(_cell_hazards(number, source))
        elif number in export.script_raw_cells:
            hazards.extend(_raw_cell_hazards(number, source))
    return hazards


def code_cell_outputs(
    text: str | bytes, spans: tuple[tuple[int, int, int], ...] | None = None
) -> Iterator[tuple[int, str]]:
    """(1-based cell number, JSON text of its outputs list) for each code cell with outputs.

    The outputs are located, not decoded: the secret scan recognises an unchanged block by its
    text and decodes only the blocks it has not judged before. One block at a time, so that
    their copies never add up to the notebook's size. `spans` are the `output_spans` of an
    export of this very text, which spare walking it again. Unusual JSON falls back to
    ``json.loads``; text that is not JSON at all has no outputs to scan. `text` may also be
    UTF-8 bytes (see read_source_bytes): then only each block is decoded.
    """
    if spans is None:
        spans = _located_outputs(text)
    if spans is None:
        yield from _decoded_outputs(text)
        return
    for number, begin, end in spans:
        block = text[begin:end]
        block = block if isinstance(block, str) else block.decode("utf-8")
        if block != "[]":
            yield number, block


def _output_spans(cells: object) -> tuple[tuple[int, int, int], ...] | None:
    """(cell number, start, end) of each code cell's outputs, from cells read with outputs as
    `_SPAN`; None when they are not spans (the reader fell back to json, which built them)."""
    spans = []
    for number, cell in enumerate(cells if isinstance(cells, list) else [], 1):
        if not (isinstance(cell, dict) and cell.get("cell_type") == "code" and "outputs" in cell):
            continue
        if not isinstance(cell["outputs"], tuple):
            return None
        spans.append((number, *cell["outputs"]))
    return tuple(spans)


def _located_outputs(text: str | bytes) -> tuple[tuple[int, int, int], ...] | None:
    """Where the code cells' outputs are, by the light reader; None for JSON it does not take
    and for notebooks older than format 4, which keep their cells in worksheets."""
    try:
        notebook = _light_json(text, _OUTPUT_MEMBERS)
    except (ValueError, IndexError, RecursionError):
        return None
    cells = notebook.get("cells")
    return _output_spans(cells) if isinstance(cells, list) else None


def _decoded_outputs(text: str | bytes) -> Iterator[tuple[int, str]]:
    """code_cell_outputs for JSON the light reader does not take, or an old notebook (upgraded
    by nbformat as the export upgrades it, so that cell numbers agree): decoded whole."""
    try:
        notebook = json.loads(text)
    except (ValueError, RecursionError):
        return
    version = notebook.get("nbformat") if isinstance(notebook, dict) else None
    if isinstance(version, int) and 1 <= version < 4:
        notebook = _upgraded(_as_text(text, 0), "the notebook", version)
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    for number, cell in enumerate(cells if isinstance(cells, list) else [], 1):
        if isinstance(cell, dict) and cell.get("cell_type") == "code" and cell.get("outputs"):
            yield number, json.dumps(cell["outputs"])


def annotated_script(result: ExportResult) -> str:
    """The script with a comment above each rewrite, naming its kind and where it came from."""
    lines = result.script.split("\n")
    notes: dict[int, list[str]] = {}
    for rewrite in result.rewrites:
        index = _note_position(result.line_origins, lines, rewrite)
        what = "dropped" if not rewrite.replacement else "rewritten"
        notes.setdefault(index, []).append(
            f"# jupyter-jobs: {rewrite.kind} (cell {rewrite.cell}, line {rewrite.line}), {what}: "
            f"{rewrite.original.strip()}"
        )
    annotated: list[str] = []
    for index, line in enumerate(lines):
        indent = line[: len(line) - len(line.lstrip())]
        annotated.extend(indent + note for note in notes.get(index, ()))
        annotated.append(line)
    annotated.extend(notes.get(len(lines), ()))  # rewrites in the last cell after its last line
    return "\n".join(annotated)


# --------------------------------------------------------------------------- reading notebooks


def _source_file(path: str | PathLike[str]) -> Path:
    """`path`, refused unless it names a notebook or a script."""
    file = Path(path)
    if file.suffix not in (".ipynb", ".py"):
        raise JobError(
            f"{file.name} is neither a notebook (.ipynb) nor a script (.py)",
            hint="give the path of the notebook or script the job should run",
        )
    return file


def _read_text(file: Path) -> str:
    """The file's text, or a one-line reason it cannot be read.

    A regular file is decoded straight from a read-only memory map, so its bytes are never
    copied onto the heap next to the text: for a 55 MB notebook that halves the peak.
    """
    with _reading(file), file.open("rb") as stream:
        status = os.fstat(stream.fileno())
        if not stat.S_ISREG(status.st_mode) or not status.st_size:  # nothing to map
            return stream.read().decode("utf-8").removeprefix("\ufeff")
        with (
            mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ) as mapped,
            memoryview(mapped)[_bom_length(mapped) :] as content,
        ):
            return str(content, "utf-8")


@contextmanager
def _notebook_json_source(file: Path) -> Iterator[tuple[_Json, int]]:
    """The notebook's JSON and where it starts (past a byte-order mark), or a one-line reason
    the file cannot be read.

    A regular file as big as the reader's largest window is mapped read-only and handed over
    as bytes checked to be UTF-8, so neither its bytes nor its text lands on the heap. A smaller
    one is decoded whole: that is faster for the many small tokens of a small notebook.
    """
    with ExitStack() as stack:
        with _reading(file):
            stream = stack.enter_context(file.open("rb"))
            status = os.fstat(stream.fileno())
            if not stat.S_ISREG(status.st_mode) or status.st_size < _LAST_WINDOW:
                text: _Json = stream.read().decode("utf-8").removeprefix("\ufeff")
                start = 0
            else:
                text = stack.enter_context(mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ))
                _check_utf8(text)
                start = _bom_length(text)
        yield text, start


def _check_utf8(data: bytes | mmap.mmap) -> None:
    """Raise UnicodeDecodeError unless `data` is UTF-8, decoding a chunk at a time and dropping
    it, so that no text of the file's size is built."""
    with memoryview(data) as view:
        offset = 0
        while offset < len(view):  # a chunk may end inside a character: the next starts there
            offset += codecs.utf_8_decode(
                view[offset : offset + _CHECK_CHUNK], "strict", offset + _CHECK_CHUNK >= len(view)
            )[1]


def _bom_length(data: bytes | mmap.mmap) -> int:
    """The length of the UTF-8 byte-order mark that some editors write at the start, else 0."""
    return len(_UTF8_BOM) if data[: len(_UTF8_BOM)] == _UTF8_BOM else 0


def _as_text(text: _Json, start: int) -> str:
    """The notebook JSON as a str (the UTF-8 bytes of a file decoded from `start`), for the
    rare paths that need all of it: damaged JSON and notebooks older than format 4."""
    return text if isinstance(text, str) else str(text[start:], "utf-8")


@contextmanager
def _reading(file: Path) -> Iterator[None]:
    """Turn a failure to read `file` into a one-line reason."""
    try:
        yield
    except FileNotFoundError:
        raise JobError(f"{file} does not exist", hint="save the notebook first, or check the path") from None
    except IsADirectoryError:
        raise JobError(f"{file} is a folder, not a file", hint="give the path of a notebook") from None
    except UnicodeDecodeError:
        raise JobError(f"{file.name} is not UTF-8 text", hint="re-save it from Jupyter") from None
    except OSError as err:
        raise JobError(f"cannot read {file}: {err.strerror}", hint="check the file's permissions") from None


def _script_as_is(text: str, name: str) -> ExportResult:
    """A ``.py`` entrypoint, checked to compile; it has no cells, so nothing maps to one."""
    try:
        compile(text, name, "exec", dont_inherit=True)
    except SyntaxError as err:
        raise JobError(
            f"{name} is not valid Python (line {err.lineno}: {err.msg})",
            hint="fix the script so that `python` can run it",
        ) from None
    return ExportResult(
        script=text,
        rewrites=(),
        requirements=(),
        warnings=(),
        line_origins=(None,) * len(_split_lines(text)),
        source_name=name,
        is_notebook=False,
    )


def _cells(
    text: _Json, name: str, start: int
) -> tuple[list[tuple[int, str, str, bool]], tuple[tuple[int, int, int], ...] | None]:
    """(1-based cell number, cell_type, source, whether nbconvert puts it into a script) of every
    cell, and where the code cells' outputs are (see _output_spans). Code and script raw cells
    must have a text source; any other cell with a damaged source counts as empty, since nothing
    reads it as code."""
    notebook = _notebook_json(text, name, start)
    _check_language(notebook, name)
    cells = notebook.get("cells")
    if not isinstance(cells, list):
        raise JobError(
            f"{name} is not a valid notebook (it has no list of cells)", hint="open it in Jupyter and save it again"
        )
    found = []
    for number, cell in enumerate(cells, 1):
        in_script = _cell_kind(cell, number, name) is not None
        kind = cell.get("cell_type")
        source = _cell_source(cell, number, name) if in_script else _text_or_empty(cell.get("source"))
        found.append((number, kind if isinstance(kind, str) else "", source, in_script))
    return found, _output_spans(cells)


def _notebook_json(text: _Json, name: str, start: int) -> dict:
    """The notebook as nbformat 4 JSON; older formats go through nbformat's own upgrade."""
    try:
        notebook = _light_json(text, _NOTEBOOK_MEMBERS, start)
    except (ValueError, IndexError, RecursionError):  # not the usual shape: let json say what is wrong
        notebook = None
    try:
        notebook = notebook if notebook is not None else json.loads(_as_text(text, start))
    except json.JSONDecodeError as err:
        raise JobError(
            f"{name} is not valid JSON (line {err.lineno}: {err.msg})",
            hint="the file is damaged; restore it from a checkpoint or version control",
        ) from None
    if not isinstance(notebook, dict) or "nbformat" not in notebook:
        raise JobError(
            f"{name} is not a Jupyter notebook (no nbformat version)",
            hint="give the path of an .ipynb file saved by Jupyter",
        )
    version = notebook["nbformat"]
    if version == 4:
        return notebook
    if isinstance(version, int) and 1 <= version < 4:
        return _upgraded(_as_text(text, start), name, version)
    raise JobError(
        f"{name} has nbformat version {version!r}, which jupyter-jobs does not read",
        hint="open it in a current Jupyter and save it as nbformat 4",
    )


def _light_json(text: _Json, members: dict[str, object] = _NOTEBOOK_MEMBERS, start: int = 0) -> dict:
    """The notebook JSON without what an export never reads: cell outputs, attachments and
    metadata other than the kernel's language and a raw cell's format are skipped, never
    built, so memory does not grow with the size of the outputs. `text` is the JSON as a str,
    or the UTF-8 bytes of a file from `start` (past a byte-order mark), of which only the kept
    values are decoded."""
    syntax = _STR_SYNTAX if isinstance(text, str) else _BYTES_SYNTAX
    value, end = _json_object(text, _after_space(text, start, syntax), members, syntax)
    if _after_space(text, end, syntax) != len(text):
        raise ValueError("extra data after the notebook")
    return value


def _after_space(text: _Json, pos: int, syntax: _Syntax) -> int:
    """The position of the next JSON token (often `pos` itself, which a one-character look
    tells faster than the regex: this runs for every key and value of the notebook)."""
    if text[pos : pos + 1] not in syntax.space_chars:
        return pos
    return syntax.space.match(text, pos).end()


def _json_object(text: _Json, pos: int, members: dict[str, object], syntax: _Syntax) -> tuple[dict, int]:
    """Decode the JSON object at `pos`, keeping only `members`, each mapped to the member
    table of a nested object to filter in turn, an `_EachItem` for an array of such objects,
    `_SPAN` for the (start, end) of its JSON text, or None to decode it whole."""
    if text[pos : pos + 1] != syntax.open_object:
        raise ValueError("expected an object")
    result: dict = {}
    pos = _after_space(text, pos + 1, syntax)
    if text[pos : pos + 1] == syntax.close_object:
        return result, pos + 1
    while True:
        plain_key = syntax.plain_key.match(text, pos)
        if plain_key is not None:
            # An object skipped whole lists no members: its keys need not be decoded.
            key, pos = syntax.key(plain_key[1]) if members else "", plain_key.end()
        else:
            if text[pos : pos + 1] != syntax.quote:
                raise ValueError("expected a key")
            key, pos = syntax.decode(text, pos)
            pos = _after_space(text, pos, syntax)
            if text[pos : pos + 1] != syntax.colon:
                raise ValueError("expected ':'")
            pos = _after_space(text, pos + 1, syntax)
        member = members.get(key, _SKIP)
        if member is _SKIP:
            pos = _skip_json_value(text, pos, syntax)
        elif member is _SPAN:
            end = _skip_json_value(text, pos, syntax)
            result[key], pos = (pos, end), end
        elif isinstance(member, dict) and text[pos : pos + 1] == syntax.open_object:
            result[key], pos = _json_object(text, pos, member, syntax)
        elif isinstance(member, _EachItem) and text[pos : pos + 1] == syntax.open_array:
            result[key], pos = _json_array(text, pos, partial(_json_item, members=member.members), syntax)
        else:
            result[key], pos = syntax.decode(text, pos)
        separator = syntax.object_next.match(text, pos)
        if separator is None:
            raise ValueError("expected ',' or '}'")
        if separator[1] == syntax.close_object:
            return result, separator.end(1)
        pos = separator.end()


def _json_item(text: _Json, pos: int, syntax: _Syntax, members: dict[str, object]) -> tuple[object, int]:
    """One array item (a cell), filtered to `members` when it is an object."""
    if text[pos : pos + 1] == syntax.open_object:
        return _json_object(text, pos, members, syntax)
    return syntax.decode(text, pos)


def _json_array(
    text: _Json, pos: int, read_item: Callable[[_Json, int, _Syntax], tuple[object, int]], syntax: _Syntax
) -> tuple[list, int]:
    """The JSON array at `pos`, each item read by `read_item(text, pos, syntax) -> (item, end)`."""
    items: list = []
    pos = _after_space(text, pos + 1, syntax)
    if text[pos : pos + 1] == syntax.close_array:
        return items, pos + 1
    while True:
        item, pos = read_item(text, pos, syntax)
        items.append(item)
        separator = syntax.array_next.match(text, pos)
        if separator is None:
            raise ValueError("expected ',' or ']'")
        if separator[1] == syntax.close_array:
            return items, separator.end(1)
        pos = separator.end()


def _skip_json_value(text: _Json, pos: int, syntax: _Syntax) -> int:
    """The end of the JSON value at `pos`. Strings (a base64 image is one) are jumped over
    without being built; objects and arrays of them (outputs) are skipped item by item;
    anything else (numbers, arrays of strings: lines of text) goes to `syntax.skip_flat`."""
    first = text[pos : pos + 1]
    if first == syntax.quote:
        return syntax.skip_string(text, pos)
    if first == syntax.open_object:
        return _json_object(text, pos, {}, syntax)[1]
    if (
        first == syntax.open_array
        and text[(after := _after_space(text, pos + 1, syntax)) : after + 1] in syntax.containers
    ):
        return _json_array(text, pos, _skipped_item, syntax)[1]
    return syntax.skip_flat(text, pos)


def _skipped_item(text: _Json, pos: int, syntax: _Syntax) -> tuple[None, int]:
    """An array item skipped (see _skip_json_value)."""
    return None, _skip_json_value(text, pos, syntax)


def _json_string_end(text: _Json, pos: int) -> int:
    """The end of the JSON string that opens at `pos`, found without checking or building it (a
    quote preceded by an even number of backslashes closes it)."""
    syntax = _STR_SYNTAX if isinstance(text, str) else _BYTES_SYNTAX
    pos += 1
    while True:
        quote = text.find(syntax.quote, pos)
        if quote < 0:
            raise ValueError("unterminated string")
        before = quote - 1
        while text[before : before + 1] == syntax.backslash:
            before -= 1
        if (quote - 1 - before) % 2 == 0:
            return quote + 1
        pos = quote + 1


def _decoded_bytes(data: bytes | mmap.mmap, pos: int) -> tuple[object, int]:
    """A value the reader keeps, from UTF-8 bytes: located first, then only its bytes decoded."""
    end = _skip_json_value(data, pos, _BYTES_SYNTAX)
    text = str(data[pos:end], "utf-8")
    value, stop = _JSON.raw_decode(text)
    if stop != len(text):
        raise ValueError("not one JSON value")
    return value, end


def _skipped_flat_bytes(data: bytes | mmap.mmap, pos: int) -> int:
    """The end of a number, literal or array of strings in UTF-8 bytes, checked as strictly as
    `json` would. An array is decoded and dropped, much faster than a regex matches lines of
    text: first up to its first "]", which closes it unless a line holds one, then through a
    window that doubles until the array fits. An array too big for the largest window is
    matched by a regex a run of strings at a time (or walked item by item when it holds more
    than strings), so memory stays bounded whatever the outputs hold."""
    if data[pos : pos + 1] == b"[":
        end = data.find(b"]", pos, pos + _LAST_WINDOW) + 1  # 0: none near enough
        while end:
            window = str(data[pos:end], "utf-8")
            try:
                stop = _JSON.raw_decode(window)[1]
            except ValueError:  # a "]" in a line, or not an array of strings
                end = 0 if end == len(data) or end - pos >= _LAST_WINDOW else _window_end(data, pos, end)
                continue
            return pos + (stop if window.isascii() else len(window[:stop].encode()))
    if data[pos : pos + 1] != b"[":
        primitive = _BYTES_PRIMITIVE.match(data, pos)
        if primitive is None:
            raise ValueError("expected a value")
        return primitive.end()
    end = _after_space(data, pos + 1, _BYTES_SYNTAX)
    while (run := _BYTES_STRING_RUN.match(data, end)) is not None:
        end = run.end()
        if data[end : end + 1] == b"]":
            return end + 1
        if data[end : end + 1] != b",":
            break
        end = _after_space(data, end + 1, _BYTES_SYNTAX)
    return _json_array(data, pos, _skipped_item, _CHECKED_BYTES_SYNTAX)[1]  # not only strings


def _window_end(data: bytes | mmap.mmap, pos: int, end: int) -> int:
    """The end of the next window from `pos` (twice the last, which ended at `end`), moved back
    to the start of a character."""
    end = min(len(data), pos + min(_LAST_WINDOW, max(_FIRST_WINDOW, 2 * (end - pos))))
    while end < len(data) and data[end] & 0xC0 == 0x80:
        end -= 1
    return end


def _checked_string_end(data: bytes | mmap.mmap, pos: int) -> int:
    """The end of the JSON string that opens at `pos`, checked as strictly as json reads it."""
    string = _BYTES_STRING.match(data, pos)
    if string is None:
        raise ValueError("invalid string")
    return string.end()


def _skipped_flat_text(text: str, pos: int) -> int:
    """The end of a number, literal or array of strings in a str: decoding and dropping them
    is faster than walking them."""
    return _JSON.raw_decode(text, pos)[1]


def _syntax(
    encode: Callable[[str], str | bytes],
    decode: Callable[[_Json, int], tuple[object, int]],
    skip_flat: Callable[[_Json, int], int],
    key: Callable[[str | bytes], str],
) -> _Syntax:
    """The reader's tokens and patterns for str input (`encode` is the identity) or bytes."""
    return _Syntax(
        space=re.compile(encode(_SPACE)),
        space_chars=frozenset(encode(char) for char in " \t\n\r"),
        plain_key=re.compile(encode(_PLAIN_KEY)),
        object_next=re.compile(encode(_OBJECT_NEXT)),
        array_next=re.compile(encode(_ARRAY_NEXT)),
        quote=encode('"'),
        backslash=encode("\\"),
        colon=encode(":"),
        open_object=encode("{"),
        close_object=encode("}"),
        open_array=encode("["),
        close_array=encode("]"),
        containers=frozenset((encode("["), encode("{"))),
        decode=decode,
        skip_string=_json_string_end,
        skip_flat=skip_flat,
        key=key,
    )


_STR_SYNTAX = _syntax(str, _JSON.raw_decode, _skipped_flat_text, str)
_BYTES_SYNTAX = _syntax(str.encode, _decoded_bytes, _skipped_flat_bytes, bytes.decode)
# Where the str reader hands a whole array to json (one whose first item is no container), the
# bytes reader walks it with every string checked, so that both refuse the same damage.
_CHECKED_BYTES_SYNTAX = replace(_BYTES_SYNTAX, skip_string=_checked_string_end)


def _upgraded(text: str, name: str, version: int) -> dict:
    """An nbformat < 4 notebook converted by nbformat, or a one-line reason it cannot be."""
    import nbformat

    try:
        return nbformat.reads(text, as_version=4)
    except Exception as err:  # nbformat raises many types for damaged old notebooks
        raise JobError(
            f"{name} is an nbformat {version} notebook that cannot be upgraded ({err})",
            hint="open it in Jupyter and save it as nbformat 4",
        ) from None


def _check_language(notebook: dict, name: str) -> None:
    """Refuse notebooks of other languages: a W&B job runs Python."""
    metadata = notebook.get("metadata") if isinstance(notebook.get("metadata"), dict) else {}
    kernelspec = metadata.get("kernelspec") if isinstance(metadata.get("kernelspec"), dict) else {}
    language_info = metadata.get("language_info") if isinstance(metadata.get("language_info"), dict) else {}
    language = kernelspec.get("language") or language_info.get("name") or metadata.get("language")
    if isinstance(language, str) and language.strip().lower() not in ("python", "python3", "python2", "ipython"):
        raise JobError(
            f"{name}: kernel language is {language}; only Python notebooks can become W&B jobs",
            hint="open the notebook with a Python kernel",
        )


def _cell_kind(cell: object, number: int, name: str) -> str | None:
    """ "code", "raw" for a raw cell nbconvert copies into scripts, else None (a cell that is
    not a JSON object means a damaged notebook)."""
    if not isinstance(cell, dict):
        raise JobError(
            f"{name} is not a valid notebook (cell {number} is not an object)",
            hint="open it in Jupyter and save it again",
        )
    kind = cell.get("cell_type")
    metadata = cell.get("metadata") if isinstance(cell.get("metadata"), dict) else {}
    if kind == "raw" and str(metadata.get("raw_mimetype", "")).lower() in ("", "text/x-python"):
        return "raw"
    return "code" if kind == "code" else None


def _text_or_empty(source: object) -> str:
    """A markdown (or other non-script) cell's source, "" when it is not text."""
    if isinstance(source, list) and all(isinstance(part, str) for part in source):
        return "".join(source)
    return source if isinstance(source, str) else ""


def _cell_source(cell: dict, number: int, name: str) -> str:
    """The cell's source, which nbformat stores as a string or a list of lines."""
    source = cell.get("source", "")
    if isinstance(source, list) and all(isinstance(part, str) for part in source):
        return "".join(source)
    if isinstance(source, str):
        return source
    raise JobError(
        f"{name} is not a valid notebook (cell {number} has no text source)",
        hint="open it in Jupyter and save it again",
    )


# --------------------------------------------------------------------------- recognising IPython


@lru_cache(maxsize=1)
def _transformer() -> TransformerManager:
    """IPython's input transformer, built once: it is what Jupyter itself runs on each cell."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager()


def _split_lines(text: str) -> list[str]:
    """Lines as Python's tokenizer sees them (``str.splitlines`` also splits on form feeds)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def _needs_transformer(source: str) -> bool:
    """Whether the cell may hold IPython syntax (or a common indent, which IPython removes)."""
    return bool(_IPYTHON_SYNTAX.search(source)) or source.lstrip("\r\n")[:1] in (" ", "\t")


def _transformed(source: str) -> tuple[list[str], list[int], ast.Module | None]:
    """The cell as IPython would run it, for each of its lines the 0-based source line, and
    its syntax tree when transforming it produced one."""
    source_lines = _split_lines(source)
    if not _needs_transformer(source):
        return source_lines, list(range(len(source_lines))), None
    by_line = _transformed_by_line(source_lines)
    if by_line is not None:
        return by_line[0], list(range(len(source_lines))), by_line[1]
    try:
        code_lines = _split_lines(_transformer().transform_cell(source))
    except Exception:  # the transformer gives up on broken code; compiling it names the error
        return source_lines, list(range(len(source_lines))), None
    return code_lines, _line_map(source_lines, code_lines), None


def _compiled_awaits(source: ast.Module | str) -> bool:
    """Compile the cell (the check that it is valid Python); True when it awaits at top level."""
    code = compile(source, "<cell>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True)
    return bool(code.co_flags & inspect.CO_COROUTINE)


@lru_cache(maxsize=16384)
def _text_awaits_at_top_level(text: str) -> bool:
    """The same for a cell's text, compiled once per distinct text: a warm kernel's next
    `%wandb_job` re-exports mostly unchanged cells. A SyntaxError is raised, never cached."""
    return _compiled_awaits(text)


@lru_cache(maxsize=4096)
def _transformed_line(line: str) -> str:
    """IPython's transform of one line alone. Remembered: the same magics (``%matplotlib
    inline``, ``!pip install ...``) recur across cells and notebooks, and a warm kernel exports
    the same notebook again and again."""
    return _transformer().transform_cell(line).rstrip("\n")


def _transformed_by_line(lines: list[str]) -> tuple[list[str], ast.Module] | None:
    """The fast path: IPython's transformer on each IPython-looking line alone, instead of on
    the whole cell (which it re-tokenizes once per construct). Accepted only when the result
    parses and every changed line starts a statement (not the inside of a string); anything
    subtler (continuation lines, strings, cell magics, indented cells) returns None."""
    first = next((line for line in lines if line.strip()), "")
    if first.startswith(("%%", " ", "\t")) or _PROMPT.search("\n".join(lines)):
        return None
    code_lines = list(lines)
    changed: set[int] = set()
    for index, line in enumerate(lines):
        if not _IPYTHON_SYNTAX.search(line):
            continue
        if line.rstrip().endswith("\\") or line.lstrip().startswith("%%"):
            return None
        new = _transformed_line(line)
        if new != line.rstrip():
            code_lines[index] = line[: len(line) - len(line.lstrip())] + new.lstrip()
            changed.add(index + 1)
    try:
        tree = ast.parse("\n".join(code_lines))
    except SyntaxError:
        return None
    if "\n" in "".join(code_lines):
        return None
    if changed <= {stmt.lineno for stmt in tree.body}:  # the usual case: magics at the top level
        return code_lines, tree
    statement_lines = {stmt.lineno for stmt, _nested in _statements_with_parents(tree)}
    return (code_lines, tree) if changed <= statement_lines else None


def _line_map(source_lines: list[str], code_lines: list[str]) -> list[int]:
    """Match transformed lines to source lines: IPython keeps lines, except that it drops
    leading blank lines and joins a backslash-continued magic into its first line."""
    if len(source_lines) == len(code_lines):
        return list(range(len(code_lines)))
    origin = [0] * len(code_lines)
    matcher = difflib.SequenceMatcher(
        None, [line.strip() for line in source_lines], [line.strip() for line in code_lines], autojunk=False
    )
    for _tag, src_start, src_end, code_start, code_end in matcher.get_opcodes():
        for offset in range(code_end - code_start):
            origin[code_start + offset] = min(src_start + offset, max(src_end - 1, src_start))
    return origin


def _ipython_call(node: ast.AST) -> tuple[str, list[str]] | None:
    """(method, literal arguments) of a ``get_ipython().method('...', ...)`` call, else None."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and not node.keywords):
        return None
    owner = node.func.value
    if not (isinstance(owner, ast.Call) and isinstance(owner.func, ast.Name) and owner.func.id == "get_ipython"):
        return None
    if not all(isinstance(arg, ast.Constant) and isinstance(arg.value, str) for arg in node.args):
        return None
    return node.func.attr, [arg.value for arg in node.args]


def _statements_with_parents(tree: ast.Module) -> Iterator[tuple[ast.stmt, bool]]:
    """Every statement, with whether it sits inside a block (so removing it needs a ``pass``)."""
    pending: list[tuple[ast.AST, bool]] = [(tree, False)]
    while pending:
        node, nested = pending.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt):
                yield child, nested or not isinstance(node, ast.Module)
                pending.append((child, True))
            elif not isinstance(child, ast.expr):
                pending.append((child, nested))  # except handlers, match cases


def _bound_names(tree: ast.AST) -> set[str]:
    """Every name the code binds anywhere (assignments, loops, imports, defs, parameters)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
    return names


def _top_level_bindings(tree: ast.Module) -> list[str]:
    """Names a cell binds in its own (module) scope, which an ``async def`` wrapper must
    declare ``global`` so that later cells still see them."""
    names: dict[str, None] = {}
    pending: list[ast.AST] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names[node.name] = None
            pending.extend(node.decorator_list)
            continue
        if isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names[node.id] = None
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update(dict.fromkeys((a.asname or a.name).split(".")[0] for a in node.names if a.name != "*"))
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names[node.name] = None
        pending.extend(ast.iter_child_nodes(node))
    return sorted(names)


def _is_login_call(node: ast.AST) -> bool:
    """``wandb.login()`` without a key, or ``notebook_login()``: both wait for a person."""
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        if func.value.id == "wandb" and func.attr == "login":
            return not any(keyword.arg == "key" for keyword in node.keywords)
        return func.attr == "notebook_login"
    return isinstance(func, ast.Name) and func.id == "notebook_login"


def _uses_get_ipython(tree: ast.AST) -> int | None:
    """The line of the first remaining reference to ``get_ipython``, if any."""
    for node in ast.walk(tree):
        if (isinstance(node, ast.Name) and node.id == "get_ipython") or (
            isinstance(node, ast.Attribute) and node.attr == "get_ipython"
        ):
            return node.lineno
    return None


# --------------------------------------------------------------------------- building the script


def _literal(text: str) -> str:
    """A Python string literal for `text`, with double quotes when possible."""
    if '"' in text and "'" not in text:
        return repr(text)
    return json.dumps(text, ensure_ascii=False)


def _block_literal(text: str) -> list[str]:
    """`text` as a literal spread over lines when that reads well, else one line."""
    if "\n" not in text.rstrip("\n") or any(bad in text for bad in ("\\", "\r", "'''")) or text.endswith("'"):
        return [_literal(text)]
    lines = text.split("\n")
    return ["'''\\", *lines[:-1], lines[-1] + "'''"]


def _char_column(line: str, byte_column: int) -> int:
    """ast reports columns in UTF-8 bytes; string slicing needs characters."""
    return len(line.encode("utf-8")[:byte_column].decode("utf-8", errors="ignore"))


def _cell_marker(number: int) -> str:
    """The comment that opens a cell in the script (Jupytext / VS Code percent format)."""
    return f"# %% cell {number}"


def _note_position(origins: tuple[Origin | None, ...], lines: list[str], rewrite: Rewrite) -> int:
    """Where the note on `rewrite` goes: above the first script line its cell has from that
    line on, else (the rest of the cell was dropped) at the end of the cell."""
    for index, origin in enumerate(origins):
        if origin is not None and origin[0] == rewrite.cell and origin[1] >= rewrite.line:
            return index
    marker = lines.index(_cell_marker(rewrite.cell))
    following = [
        index
        for index, origin in enumerate(origins[marker + 1 :], marker + 1)
        if origin is None or origin[0] != rewrite.cell
    ]
    return following[0] if following else len(lines)


@dataclass
class _Site:
    """Where a construct sits: its cell and line, the line as written, and its context."""

    cell: int
    line: int
    original: str
    statement: bool
    nested: bool

    @property
    def where(self) -> str:
        """How warnings name the place."""
        return f"Cell {self.cell}, line {self.line}"


@dataclass
class _Edit:
    """Replace transformed-code text from (line, column) to (end line, end column) with `text`."""

    line: int
    column: int
    end_line: int
    end_column: int
    text: str


@dataclass
class _ScriptBuilder:
    """Accumulates the script cell by cell, with everything the user must be told."""

    lines: list[tuple[str, Origin | None]] = field(default_factory=list)
    rewrites: list[Rewrite] = field(default_factory=list)
    requirements: dict[str, None] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    imports: set[str] = field(default_factory=set)
    future_imports: list[str] = field(default_factory=list)
    known_names: set[str] = field(default_factory=lambda: set(_BUILTIN_NAMES))
    unparsed_sources: list[str] = field(default_factory=list)
    current_tree: ast.Module = field(default_factory=ast.Module)
    calls_display: bool = False
    binds_display: bool = False
    cell_lines: list[str] = field(default_factory=list)

    # ----------------------------------------------------------------- cells

    def add_cell(self, number: int, source: str) -> None:
        """Export one code cell after a ``# %% cell N`` marker (kept even when nothing of the
        cell remains, so the reader sees where its dropped lines were)."""
        self.cell_lines = _split_lines(source)
        exported = self._cell(number, source, first_line=1)
        self.lines.extend([("", None), (_cell_marker(number), None)])
        self.lines.extend(exported)

    def _cell(self, number: int, source: str, first_line: int) -> list[tuple[str, Origin]]:
        """The plain-Python lines for `source` (a cell, or a cell magic's body)."""
        code_lines, line_map, tree = _transformed(source)
        origins = [(number, first_line + index) for index in line_map]
        code = "\n".join(code_lines)
        if "get_ipython" not in code and "login" not in code:  # plain Python: compiling is enough
            self.unparsed_sources.append(code)
            return self._checked(list(zip(code_lines, origins)), number, unchanged_tree=None)
        tree = tree or self._parse(code, number, origins)
        magic = self._cell_magic_call(tree, source)
        if magic is not None:
            return self._cell_magic(number, first_line + line_map[0], *magic)
        edits = self._edits(tree, code_lines, origins, number)
        lines = self._apply(edits, code_lines, origins)
        self.unparsed_sources.append("\n".join(text for text, _ in lines))
        return self._checked(lines, number, unchanged_tree=None if edits else tree)

    def _parse(self, code: str, number: int, origins: list[Origin]) -> ast.Module:
        """The cell's syntax tree, or the error naming the cell and its line."""
        try:
            return ast.parse(code)
        except SyntaxError as err:
            raise self._invalid(number, err, origins) from None

    def _invalid(self, number: int, err: SyntaxError, origins: list[Origin]) -> JobError:
        """`Cell N is not valid Python (line L: ...)`, with L counted in the notebook's cell."""
        index = (err.lineno or 1) - 1
        line = origins[min(index, len(origins) - 1)][1] if origins else 1
        return JobError(
            f"Cell {number} is not valid Python (line {line}: {err.msg})",
            hint="fix the cell, save the notebook and export again",
        )

    def _checked(
        self, lines: list[tuple[str, Origin]], number: int, unchanged_tree: ast.Module | None
    ) -> list[tuple[str, Origin]]:
        """Compile the exported cell; wrap it in ``asyncio.run`` when it awaits at top level."""
        origins = [origin for _, origin in lines]
        text = "\n".join(line for line, _ in lines)
        try:
            awaits = _compiled_awaits(unchanged_tree) if unchanged_tree else _text_awaits_at_top_level(text)
        except SyntaxError as err:
            raise self._invalid(number, err, origins) from None
        if any(word in text for word in ("get_ipython", "display", "__future__")):
            lines = self._inspect(ast.parse(text), lines, number)
        if awaits:
            return self._awaited(lines, number)
        return lines

    def _inspect(self, tree: ast.Module, lines: list[tuple[str, Origin]], number: int) -> list[tuple[str, Origin]]:
        """Refuse leftover ``get_ipython``, note ``display`` use, move ``__future__`` imports up."""
        leftover = _uses_get_ipython(tree)
        if leftover is not None:
            raise JobError(
                f"Cell {number} uses get_ipython() (line {lines[leftover - 1][1][1]}), "
                "which plain python does not have",
                hint="write the magic as %magic or !command, or remove the call",
            )
        self.calls_display |= any(
            isinstance(n, ast.Name) and n.id == "display" and isinstance(n.ctx, ast.Load) for n in ast.walk(tree)
        )
        self.binds_display |= "display" in _bound_names(tree)
        futures = [stmt for stmt in tree.body if isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__"]
        for stmt in reversed(futures):
            text = "\n".join(line for line, _ in lines[stmt.lineno - 1 : stmt.end_lineno])
            origin = lines[stmt.lineno - 1][1]
            self.future_imports.insert(0, text)
            self._report(origin, "future-import", self._original(origin[1]), "(moved to the top of the script)")
            del lines[stmt.lineno - 1 : stmt.end_lineno]
        return lines

    def _awaited(self, lines: list[tuple[str, Origin]], number: int) -> list[tuple[str, Origin]]:
        """A top-level-await cell as ``async def`` + ``asyncio.run``, keeping its names global."""
        tree = ast.parse("\n".join(line for line, _ in lines))
        inside_strings = {
            row
            for node in ast.walk(tree)
            if isinstance(node, (ast.Constant, ast.JoinedStr)) and node.end_lineno and node.end_lineno > node.lineno
            for row in range(node.lineno + 1, node.end_lineno + 1)
        }
        function = f"_jupyter_jobs_cell_{number}"
        first = lines[0][1]
        names = _top_level_bindings(tree)
        wrapped = [(f"async def {function}():", first)]
        if names:
            wrapped.append((f"    global {', '.join(names)}", first))
        wrapped.extend(
            (line if row in inside_strings else f"    {line}", origin) for row, (line, origin) in enumerate(lines, 1)
        )
        wrapped.append((f"asyncio.run({function}())", lines[-1][1]))
        self.imports.add("asyncio")
        self._report(first, "await", self._original(first[1]), f"async def {function}(): ... asyncio.run({function}())")
        try:
            compile("\n".join(line for line, _ in wrapped), f"cell {number}", "exec", dont_inherit=True)
        except SyntaxError as err:
            raise JobError(
                f"Cell {number} uses top-level await in a way jupyter-jobs cannot wrap ({err.msg})",
                hint="move the awaited code into an async function run with asyncio.run()",
            ) from None
        return wrapped

    def _apply(self, edits: list[_Edit], code_lines: list[str], origins: list[Origin]) -> list[tuple[str, Origin]]:
        """The cell's lines after the edits (applied bottom-up so positions stay valid)."""
        lines = list(code_lines)
        line_origins = list(origins)
        for edit in sorted(edits, key=lambda e: (e.line, e.column), reverse=True):
            start = edit.line - 1
            prefix = lines[start][: _char_column(lines[start], edit.column)]
            suffix = lines[edit.end_line - 1][_char_column(lines[edit.end_line - 1], edit.end_column) :]
            replaced = (prefix + edit.text + suffix).split("\n")
            if not any(part.strip() for part in replaced):
                replaced = []
            lines[start : edit.end_line] = replaced
            line_origins[start : edit.end_line] = [line_origins[start]] * len(replaced)
        return list(zip(lines, line_origins))

    # ----------------------------------------------------------------- statements

    def _edits(self, tree: ast.Module, code_lines: list[str], origins: list[Origin], number: int) -> list[_Edit]:
        """One edit per statement holding an IPython call (as itself or as its assigned value)
        or an interactive login call."""
        self.current_tree = tree
        edits: list[_Edit] = []
        for stmt, nested in _statements_with_parents(tree):
            origin = origins[stmt.lineno - 1]
            value = getattr(stmt, "value", None)
            if isinstance(stmt, ast.Expr) and _is_login_call(value):
                edits.append(self._login(stmt, origin, nested))
                continue
            call = _ipython_call(value) if isinstance(value, ast.AST) else None
            if call is not None:
                site = _Site(number, origin[1], self._original(origin[1]), isinstance(stmt, ast.Expr), nested)
                edits.append(self._call_edit(stmt, value, call, site, code_lines))
        return edits

    def _call_edit(
        self, stmt: ast.stmt, value: ast.expr, call: tuple[str, list[str]], site: _Site, code_lines: list[str]
    ) -> _Edit:
        """Replace the statement (or just its value, for ``x = !cmd``) holding one IPython call."""
        method, args = call
        replacement = self._rewrite(method, args, site)
        target: ast.AST = stmt if site.statement else value
        if replacement is None:
            replacement, target = self._unknown_magic(site, "no plain-Python form"), stmt
        indent = re.match(r"[ \t]*", code_lines[stmt.lineno - 1]).group()
        text = ("\n" + indent).join(replacement) if replacement else ("pass" if site.nested else "")
        return _Edit(
            target.lineno, target.col_offset, target.end_lineno or target.lineno, target.end_col_offset or 0, text
        )

    def _login(self, stmt: ast.Expr, origin: Origin, nested: bool) -> _Edit:
        """Drop an interactive login: a job authenticates with WANDB_API_KEY / HF_TOKEN."""
        original = self._original(origin[1])
        self._report(origin, "login", original, "")
        self.warnings.append(
            f"Cell {origin[0]}, line {origin[1]}: `{original.strip()}` waits for a person; "
            "it is dropped (set WANDB_API_KEY or HF_TOKEN where the job runs)"
        )
        return _Edit(
            stmt.lineno,
            stmt.col_offset,
            stmt.end_lineno or stmt.lineno,
            stmt.end_col_offset or 0,
            "pass" if nested else "",
        )

    # ----------------------------------------------------------------- IPython calls

    def _rewrite(self, method: str, args: list[str], site: _Site) -> list[str] | None:
        """Plain-Python lines for one ``get_ipython()`` call ([] drops it, None: no equivalent)."""
        if method == "system" and len(args) == 1:
            return self._shell(args[0], site, capture=False)
        if method == "getoutput" and len(args) == 1:
            return self._shell(args[0], site, capture=not site.statement)
        if method == "run_line_magic" and len(args) == 2:
            return self._line_magic(args[0], args[1], site)
        return None

    def _line_magic(self, name: str, args: str, site: _Site) -> list[str] | None:
        """Plain-Python lines for ``%name args``."""
        if name in _INSTALLERS or (name == "uv" and args.split()[:1] == ["pip"]):
            return self._shell(f"{name} {args}", site, capture=False)
        handlers = {
            "env": self._env,
            "set_env": self._env,
            "cd": self._cd,
            "time": self._time,
            "timeit": self._time,
            "run": self._run,
            "sx": self._sx,
            "system": self._sx,
            "pwd": self._pwd,
        }
        if name in handlers:
            return handlers[name](name, args, site)
        if name in _SHELL_ALIASES:
            return self._shell(f"{name} {args}".strip(), site, capture=not site.statement)
        if not site.statement:
            return None
        if name == "wandb_job" or (name in ("load_ext", "reload_ext") and args.strip() == "jupyter_jobs"):
            return self._drop(site, "jupyter-jobs")
        if name in _HELP_MAGICS:
            return self._drop(site, "help")
        if name in _INTERACTIVE_MAGICS:
            return self._drop(site, "dropped")
        return self._unknown_magic(site)

    def _drop(self, site: _Site, kind: str) -> list[str]:
        """Remove a construct that only matters interactively (reported, not warned)."""
        self._report((site.cell, site.line), kind, site.original, "")
        return []

    def _unknown_magic(self, site: _Site, reason: str = "unknown magic") -> list[str]:
        """Comment out what has no plain-Python form: never a silent drop, the user decides."""
        comment = f"# {site.original.strip()}  (jupyter-jobs: {reason}, not exported)"
        self._report((site.cell, site.line), "unknown-magic", site.original, comment)
        self.warnings.append(f"{site.where}: `{site.original.strip()}` ({reason}) is commented out of the script")
        return [f"pass  {comment}" if site.nested else comment]

    def _shell(self, command: str, site: _Site, capture: bool) -> list[str]:
        """``!cmd``: installs become requirements, anything else a subprocess."""
        remainder = self._install(command, site)
        if remainder == "":
            return [] if site.statement else ["[]"]
        command = remainder or command
        self.imports.add("subprocess")
        expression = self._expand(command, site)
        if capture:
            code = (
                f"subprocess.run({expression}, shell=True, check=False, stdout=subprocess.PIPE, "
                "stderr=subprocess.STDOUT, text=True).stdout.splitlines()"
            )
            kind = "shell-capture"
        else:
            code = f"subprocess.run({expression}, shell=True, check=False)"
            kind = "shell"
        self._report((site.cell, site.line), kind, site.original, code)
        return [code]

    def _sx(self, _name: str, args: str, site: _Site) -> list[str]:
        """``%sx cmd`` / ``!!cmd``: the command's output lines (just run it as a statement)."""
        return self._shell(args, site, capture=not site.statement)

    def _pwd(self, _name: str, _args: str, site: _Site) -> list[str]:
        """``%pwd`` only displays the folder; ``x = %pwd`` keeps the value."""
        if site.statement:
            return self._drop(site, "dropped")
        self.imports.add("os")
        self._report((site.cell, site.line), "cd", site.original, "os.getcwd()")
        return ["os.getcwd()"]

    def _env(self, _name: str, args: str, site: _Site) -> list[str] | None:
        """``%env A=B`` / ``%env A B`` set a variable (IPython's own split); reading one is display."""
        separator = "=" if "=" in args else " "
        parts = args.split(separator, 1)
        if len(parts) == 1 or not args.strip():
            return self._drop(site, "dropped") if site.statement else None
        if not site.statement:
            return None
        variable, value = parts[0].strip(), parts[1].lstrip()
        self.imports.add("os")
        code = f"os.environ[{_literal(variable)}] = {self._expand(value, site)}"
        self._report((site.cell, site.line), "env", site.original, code)
        return [code]

    def _cd(self, _name: str, args: str, site: _Site) -> list[str] | None:
        """``%cd dir`` changes the working folder of the whole script, as in the notebook."""
        target = args.strip()
        if target.startswith("-q"):
            target = target[2:].strip()
        if target.startswith("-") or not site.statement:
            return None
        if len(target) > 1 and target[0] == target[-1] and target[0] in "'\"":
            target = target[1:-1]
        self.imports.add("os")
        folder = self._expand(target or "~", site)
        if (target or "~").startswith("~"):
            folder = f"os.path.expanduser({folder})"
        code = f"os.chdir({folder})"
        self._report((site.cell, site.line), "cd", site.original, code)
        return [code]

    def _time(self, name: str, args: str, site: _Site) -> list[str] | None:
        """``%time stmt`` / ``%timeit [options] stmt``: the statement, run once, untimed."""
        statement = _without_timeit_options(args) if name == "timeit" else args.strip()
        if not statement or (not site.statement and not _is_expression(statement)):
            return self._drop(site, "time") if site.statement else None
        self._report((site.cell, site.line), "time", site.original, statement)
        return [statement]

    def _run(self, _name: str, args: str, site: _Site) -> list[str] | None:
        """``%run script.py args``: run it as ``__main__`` with its own ``sys.argv``, as IPython
        does, and keep the names it defines."""
        try:
            words = shlex.split(args)
        except ValueError:
            return None
        in_namespace = "-i" in words[:1]
        words = words[1:] if in_namespace else words
        if not site.statement or not words or (words[0].startswith("-") and words[0] != "-m"):
            return None
        self.imports.add("runpy")
        if words[0] == "-m" and len(words) > 1:
            call, argv = f'runpy.run_module({_literal(words[1])}, run_name="__main__")', [words[1], *words[2:]]
        elif words[0].endswith(".py"):
            init = ", init_globals=globals()" if in_namespace else ""
            call, argv = f'runpy.run_path({_literal(words[0])}{init}, run_name="__main__")', words
        else:
            return None
        self.imports.add("sys")
        code = [
            f"sys.argv = {argv!r}",
            f"globals().update({{name: value for name, value in {call}.items() if not name.startswith('__')}})",
        ]
        self._report((site.cell, site.line), "run", site.original, "\n".join(code))
        return code

    # ----------------------------------------------------------------- installs

    def _install(self, command: str, site: _Site) -> str | None:
        """For an install command: record its packages and return what else the line runs
        ("" when nothing). None when `command` installs nothing."""
        if "install" not in command:
            return None
        words = _words(command)
        packages_at = _install_arguments(words)
        if packages_at is None:
            return None
        install_words, remainder = _split_chain(words[packages_at:])
        packages = self._packages(install_words, site, conda=words[0] in ("conda", "mamba"))
        self.requirements.update(dict.fromkeys(packages))
        self._report((site.cell, site.line), "pip-install", site.original, "")
        return shlex.join(remainder)

    def _packages(self, words: list[str], site: _Site, conda: bool) -> list[str]:
        """The requirement strings among pip/conda install arguments (options understood)."""
        packages: list[str] = []
        skip_value = False
        for word in words:
            if skip_value:
                skip_value = False
                continue
            option = word.split("=", 1)[0] if word.startswith("--") else word[:2] if word.startswith("-") else None
            if option is not None:
                if option in _WARNED_OPTIONS:
                    self.warnings.append(f"{site.where}: install option {option}: {_WARNED_OPTIONS[option]}")
                skip_value = option in _VALUE_OPTIONS and (word == option)
                continue
            if "{" in word or "$" in word:
                self.warnings.append(
                    f"{site.where}: package `{word}` is computed when the cell runs; "
                    "add it to the job's requirements yourself"
                )
            elif word.startswith((".", "/", "~")):
                self.warnings.append(f"{site.where}: local package `{word}` cannot be a requirement of the job")
            else:
                packages.append(_conda_to_pip(word) if conda else word)
        if conda and packages:
            self.warnings.append(f"{site.where}: conda packages become pip requirements; check their PyPI names")
        return packages

    # ----------------------------------------------------------------- cell magics

    def _cell_magic_call(self, tree: ast.Module, source: str) -> tuple[str, str, str] | None:
        """(name, arguments, body) when the whole cell is a ``%%magic`` cell."""
        if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Expr):
            return None
        call = _ipython_call(tree.body[0].value)
        if call is None or call[0] != "run_cell_magic" or len(call[1]) != 3:
            return None
        if not source.lstrip("\r\n").startswith("%%"):
            return None
        name, args, body = call[1]
        return name, args, body

    def _cell_magic(self, number: int, line: int, name: str, args: str, body: str) -> list[tuple[str, Origin]]:
        """Plain-Python lines for a whole ``%%name args`` cell whose magic line is `line`."""
        site = _Site(number, line, self._original(line), True, False)
        if name in _BODY_MAGICS:
            return self._kept_body(site, name, args, body)
        if name in ("writefile", "file"):
            return self._writefile(site, args, body)
        if name == "wandb_job":
            self._drop(site, "jupyter-jobs")
            return []
        if name in _SCRIPT_MAGICS:
            script = self._script(site, name, args, body)
            if script is not None:
                return script
        kind = "non-python" if name in _NON_PYTHON_MAGICS or name in _SCRIPT_MAGICS else "unknown-magic"
        reason = "not Python" if kind == "non-python" else "unknown cell magic"
        self.warnings.append(f"{site.where}: %%{name} cell is {reason}; it is commented out of the script")
        commented = [
            (f"# {text}" if text else "#", (number, line + offset))
            for offset, text in enumerate(self.cell_lines[line - 1 :])
        ]
        commented[0] = (f"{commented[0][0]}  (jupyter-jobs: {reason}, not exported)", commented[0][1])
        self._report((number, line), kind, site.original, commented[0][0])
        return commented

    def _kept_body(self, site: _Site, name: str, args: str, body: str) -> list[tuple[str, Origin]]:
        """``%%capture`` / ``%%time`` / ``%%timeit``: keep the body (a ``%%timeit`` setup line too)."""
        self._report((site.cell, site.line), _BODY_MAGICS[name], site.original, "(cell body kept)")
        if name == "capture" and args.split():
            self.warnings.append(
                f"{site.where}: output captured into `{args.split()[-1]}` by %%capture is not available in the script"
            )
        setup = _without_timeit_options(args) if name == "timeit" else ""
        if setup:
            return self._cell(site.cell, f"{setup}\n{body}", first_line=site.line)
        return self._cell(site.cell, body, first_line=site.line + 1) if body.strip() else []

    def _writefile(self, site: _Site, args: str, body: str) -> list[tuple[str, Origin]]:
        """``%%writefile [-a] path``: write the body with pathlib, as the cell did."""
        words = _words(args)
        append = "-a" in words or "--append" in words
        paths = [word for word in words if not word.startswith("-")]
        if len(paths) != 1:
            return [(self._unknown_magic(site, "writefile needs one file name")[0], (site.cell, site.line))]
        self.imports.add("pathlib")
        path = self._expand(paths[0], site)
        if paths[0].startswith("~"):
            path = f"pathlib.Path({path}).expanduser()"
        else:
            path = f"pathlib.Path({path})"
        literal = _block_literal(body)
        if append:
            head = f'with {path}.open("a", encoding="utf-8") as stream: stream.write({literal[0]}'
        else:
            head = f"{path}.write_text({literal[0]}"
        tail = ")" if append else ', encoding="utf-8")'
        code = [head, *literal[1:]]
        code[-1] += tail
        self._report((site.cell, site.line), "writefile", site.original, code[0])
        return [(text, (site.cell, site.line + offset)) for offset, text in enumerate(code)]

    def _script(self, site: _Site, name: str, args: str, body: str) -> list[tuple[str, Origin]] | None:
        """``%%bash`` / ``%%sh`` / ``%%script CMD``: pipe the body to that program."""
        try:
            words = shlex.split(args)
        except ValueError:
            return None
        program = words if name == "script" else [name, *words]
        if not program or any(word.startswith("-") for word in words):
            return None
        self.imports.add("subprocess")
        literal = _block_literal(body)
        code = [f"subprocess.run({program!r}, input={literal[0]}", *literal[1:]]
        code[-1] += ", text=True, check=False)"
        self._report((site.cell, site.line), "shell", site.original, code[0])
        return [(text, (site.cell, site.line + offset)) for offset, text in enumerate(code)]

    # ----------------------------------------------------------------- expansion and reports

    def _expand(self, text: str, site: _Site) -> str:
        """IPython's ``$name`` / ``{expr}`` expansion as an f-string when every name is bound in
        the notebook so far; otherwise the text as written, as IPython leaves it when it cannot
        expand (``$HOME`` then reaches the shell)."""
        if "$" not in text and "{" not in text:
            return _literal(text)
        from IPython.utils.text import DollarFormatter

        try:
            pieces = list(DollarFormatter().parse(text))
        except ValueError:
            return _literal(text)
        fields = [(expr, conversion, spec) for _lit, expr, spec, conversion in pieces if expr is not None]
        if not fields:
            return _literal("".join(literal for literal, *_ in pieces))
        unbound = self._unbound(fields)
        if unbound:
            if any(f"{{{expr}}}" in text for expr, _c, _s in fields):
                self.warnings.append(
                    f"{site.where}: `{text}` needs {', '.join(sorted(unbound))}, which the "
                    "notebook does not define before; the braces are kept literally"
                )
            return _literal(text)
        return _fstring(pieces)

    def _unbound(self, fields: list[tuple[str, str | None, str]]) -> set[str]:
        """Names used by expansion fields that the notebook has not bound (or unparsable fields)."""
        self._learn_names()
        missing: set[str] = set()
        for expr, _conversion, spec in fields:
            try:
                tree = ast.parse(expr.strip(), mode="eval")
            except SyntaxError:
                missing.add(expr)
                continue
            if "{" in (spec or "") or any(q in expr for q in "\"'\\"):
                missing.add(expr)
            missing.update(
                node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and node.id not in self.known_names
            )
        return missing

    def _learn_names(self) -> None:
        """Add the names bound by the cells exported so far (parsed only when needed)."""
        for source in self.unparsed_sources:
            try:
                self.known_names |= _bound_names(ast.parse(source))
            except SyntaxError:
                continue
        self.unparsed_sources.clear()
        self.known_names |= _bound_names(self.current_tree)  # loop variables used by ``!echo $i``

    def _original(self, line: int) -> str:
        """The source line as the user wrote it."""
        return self.cell_lines[line - 1] if 0 < line <= len(self.cell_lines) else ""

    def _report(self, origin: Origin, kind: str, original: str, replacement: str) -> None:
        """Record a rewrite: every change to the user's code is shown to them."""
        self.rewrites.append(Rewrite(origin[0], origin[1], kind, original, replacement))

    # ----------------------------------------------------------------- result

    def result(
        self,
        name: str,
        cells: tuple[tuple[int, str, str], ...],
        script_raw_cells: frozenset[int],
        output_spans: tuple[tuple[int, int, int], ...] | None,
    ) -> ExportResult:
        """The finished script: header, imports the rewrites need, then the cells."""
        header: list[tuple[str, Origin | None]] = [
            (f"# Exported by jupyter-jobs from {name}: its code cells as a plain Python script.", None)
        ]
        header.extend((text, None) for text in self.future_imports)
        if "subprocess" in self.imports:
            self.imports.add("sys")
        header.extend((f"import {module}", None) for module in sorted(self.imports))
        if "subprocess" in self.imports:  # print() and command output, in notebook order
            header.extend(
                [
                    ('if hasattr(sys.stdout, "reconfigure"):', None),
                    ("    sys.stdout.reconfigure(line_buffering=True)", None),
                ]
            )
        if self.calls_display and not self.binds_display:
            header.extend(
                [
                    ("", None),
                    ("def display(*objects, **_options):", None),
                    ('    """IPython\'s display() outside Jupyter: print what it would show."""', None),
                    ("    print(*objects)", None),
                ]
            )
        lines = header + self.lines
        script = "\n".join(text for text, _ in lines) + "\n"
        rewrites = sorted(self.rewrites, key=lambda rewrite: (rewrite.cell, rewrite.line))
        return ExportResult(
            script=script,
            rewrites=tuple(rewrites),
            requirements=tuple(self.requirements),
            warnings=tuple(self.warnings),
            line_origins=tuple(origin for _, origin in lines),
            source_name=name,
            is_notebook=True,
            cells=cells,
            script_raw_cells=script_raw_cells,
            output_spans=output_spans,
        )


def _fstring(pieces: list[tuple[str, str | None, str | None, str | None]]) -> str:
    """An f-string from DollarFormatter pieces (literal, field, spec, conversion)."""
    parts: list[str] = []
    for literal, expr, spec, conversion in pieces:
        escaped = json.dumps(literal, ensure_ascii=False)[1:-1]
        parts.append(escaped.replace("{", "{{").replace("}", "}}"))
        if expr is not None:
            parts.append(
                "{" + expr.strip() + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            )
    return 'f"' + "".join(parts) + '"'


def _is_expression(code: str) -> bool:
    """Whether ``x = %time code`` can keep `code` as the assigned value."""
    try:
        ast.parse(code, mode="eval")
    except SyntaxError:
        return False
    return True


def _without_timeit_options(args: str) -> str:
    """The statement of ``%timeit -n 10 -r 3 stmt`` (IPython's options: -n N -r R -p P -t -c -q -o)."""
    return re.sub(r"^\s*(?:-(?:[nrp]\s*\d+|[tcqo])(?:\s+|$))*", "", args).strip()


def _install_arguments(words: list[str]) -> int | None:
    """Index of the first argument after ``pip install`` (or its variants), else None."""
    if not words:
        return None
    if re.match(r"^(?:.*/)?pip[\d.]*$", words[0]) or words[0] in ("conda", "mamba"):
        start = 1
    elif re.match(r"^(?:.*/)?python[\d.]*$|^[{$]sys\.executable}?$", words[0]) and words[1:3] == ["-m", "pip"]:
        start = 3
    elif words[:2] == ["uv", "pip"]:
        start = 2
    else:
        return None
    return start + 1 if words[start : start + 1] == ["install"] else None


def _split_chain(words: list[str]) -> tuple[list[str], list[str]]:
    """Split install arguments from what follows ``&&``/``;``/``||``; drop redirects and pipes."""
    kept: list[str] = []
    skip_target = False
    for index, word in enumerate(words):
        if skip_target:
            skip_target = False
        elif word in _SHELL_CHAIN:
            return kept, words[index + 1 :]
        elif word == "|":
            return kept, []
        elif (redirect := _REDIRECT.match(word)) is not None:
            skip_target = not redirect.group(1)
        else:
            kept.append(word)
    return kept, []


def _conda_to_pip(spec: str) -> str:
    """conda's ``name=1.2`` pins as pip's ``name==1.2``."""
    return re.sub(r"^([A-Za-z0-9_.\-\[\]]+)=(?!=)", r"\1==", spec)


# --------------------------------------------------------------------------- Launch converter hazards


def _cell_hazards(number: int, source: str) -> list[str]:
    """What W&B Launch's converter (drop lines starting with ``!``, then nbconvert) breaks,
    in line order."""
    lines = _split_lines(source)
    found = _dropped_command_hazards(lines) + _converted_hazards(lines)
    return [f"cell {number}{f', line {row}' if row else ''}: {what}" for row, what in sorted(found)]


def _dropped_command_hazards(lines: list[str]) -> list[tuple[int, str]]:
    """Shell lines the converter removes (installs aside: the job gets its requirements)."""
    return [
        (index + 1, f"`{line}` is dropped by the converter, so the command never runs in the job")
        for index, line in enumerate(lines)
        if line.startswith("!") and _install_arguments(_words(line[1:])) is None
    ]


def _converted_hazards(lines: list[str]) -> list[tuple[int, str]]:
    """IPython syntax that survives the converter as ``get_ipython()`` calls or errors
    (line 0 stands for the whole cell)."""
    kept = [index for index, line in enumerate(lines) if not line.startswith("!")]
    remaining = "\n".join(lines[index] for index in kept)
    code_lines, line_map, tree = _transformed(remaining)
    try:
        tree = tree or ast.parse("\n".join(code_lines))
    except SyntaxError as err:
        row = kept[line_map[min((err.lineno or 1) - 1, len(line_map) - 1)]] + 1 if line_map else 0
        return [(row, f"not valid Python after conversion ({err.msg})")]
    found = []
    for node in ast.walk(tree):
        call = _ipython_call(node)
        if call is not None:
            row = kept[line_map[node.lineno - 1]]
            found.append(
                (
                    row + 1,
                    f"{_hazard_name(*call)} `{lines[row].strip()}` becomes a get_ipython() call, "
                    "which fails under plain python",
                )
            )
    if "await" in remaining and _awaits_at_top_level(tree):
        found.append((0, "top-level await is a syntax error in a script"))
    return found


def _raw_cell_hazards(number: int, source: str) -> list[str]:
    """nbconvert copies a raw cell without a format into the script as it is."""
    try:
        compile(source, "raw cell", "exec", dont_inherit=True)
    except SyntaxError:
        return [f"cell {number}: raw cell is copied into the script as it is, and it is not Python"]
    return []


def _words(command: str) -> list[str]:
    """Shell words of `command` (none when its quotes do not balance: then it is no install)."""
    try:
        return shlex.split(command)
    except ValueError:
        return []


def _hazard_name(method: str, args: list[str]) -> str:
    """What the user wrote, by the ``get_ipython()`` method it turned into."""
    if method == "system":
        return "indented shell line"
    if method == "getoutput":
        return "captured shell output"
    if method == "run_cell_magic":
        return f"cell magic %%{args[0]}"
    if args and args[0] in _INSTALLERS:
        return f"%{args[0]} command"
    return f"line magic %{args[0]}" if args else "IPython call"


def _awaits_at_top_level(tree: ast.Module) -> bool:
    """Whether the cell awaits outside any function (fine in Jupyter, an error in a script)."""
    try:
        return _compiled_awaits(tree)
    except SyntaxError:
        return False
