"""Reading a notebook's or script's file: its bytes, checked to be UTF-8, without a byte-order
mark, or a one-line reason it cannot be read."""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from contextlib import contextmanager
from os import PathLike
from pathlib import Path

from ..errors import JobError

_UTF8_BOM = b"\xef\xbb\xbf"
_CHECK_CHUNK = 1 << 18  # bytes decoded at a time when a file's UTF-8 is checked


def source_file(path: str | PathLike[str]) -> Path:
    """`path`, refused unless it names a notebook or a script."""
    file = Path(path)
    if file.suffix not in (".ipynb", ".py"):
        raise JobError(
            f"{file.name} is neither a notebook (.ipynb) nor a script (.py)",
            hint="give the path of the notebook or script the job should run",
        )
    return file


def read_source_bytes(path: str | PathLike[str]) -> bytes:
    """The notebook's or script's bytes as saved, checked to be UTF-8, without a byte-order mark,
    read once.

    The code artifact keeps these bytes as its copy of the notebook, and the reader decodes
    only what it keeps from them: no text of the notebook's size is built next to them.
    """
    file = source_file(path)
    with reading(file):
        data = file.read_bytes()
        check_utf8(data)
    return data[bom_length(data) :]


def check_utf8(data: bytes) -> None:
    """Raise UnicodeDecodeError unless `data` is UTF-8, decoding a chunk at a time and dropping
    it, so that no text of the file's size is built. (The JSON decoder checks the text it keeps,
    not the strings it skips.)"""
    if data.isascii():
        return
    with memoryview(data) as view:
        offset = 0
        while offset < len(view):  # a chunk may end inside a character: the next starts there
            offset += codecs.utf_8_decode(
                view[offset : offset + _CHECK_CHUNK], "strict", offset + _CHECK_CHUNK >= len(view)
            )[1]


def bom_length(data: bytes) -> int:
    """The length of the UTF-8 byte-order mark that some editors write at the start, else 0."""
    return len(_UTF8_BOM) if data[: len(_UTF8_BOM)] == _UTF8_BOM else 0


@contextmanager
def reading(file: Path) -> Iterator[None]:
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
