"""What a notebook carries besides cells' sources and outputs: cell and notebook metadata and
the attachments of markdown cells. The reader skips them; the secret scan reads them, since
they travel with the notebook copy (with or without outputs) as much as the code does."""

from __future__ import annotations

from collections.abc import Iterator

import msgspec

from .outputs import bundle_text

_EMPTY_OBJECT = msgspec.Raw(b"{}")


class _Cell(msgspec.Struct):
    metadata: msgspec.Raw = _EMPTY_OBJECT
    attachments: msgspec.Raw = _EMPTY_OBJECT


class _Worksheet(msgspec.Struct):
    cells: list[_Cell] = msgspec.field(default_factory=list)


class _Extras(msgspec.Struct):
    cells: list[_Cell] = msgspec.field(default_factory=list)
    worksheets: list[_Worksheet] = msgspec.field(default_factory=list)  # nbformat 3
    metadata: msgspec.Raw = _EMPTY_OBJECT


def metadata_texts(data: str | bytes | memoryview) -> Iterator[tuple[int | None, str, str]]:
    """(cell number, or None for the notebook's own; "notebook metadata", "cell metadata" or
    "attachment"; its text) for each non-empty piece. Metadata reads as indented JSON, one
    member a line (`"api_key": "..."`, escapes kept); attachments as their text-like MIME data.

    The notebook has been read by `read_notebook` first, so its shape is known to be sound; a
    shape this cannot take (a cell that is no object) has no metadata to give."""
    try:
        extras = msgspec.json.decode(data, type=_Extras)
    except msgspec.MsgspecError:
        return
    cells = extras.cells or [cell for sheet in extras.worksheets for cell in sheet.cells]
    yield from _pieces(None, "notebook metadata", extras.metadata)
    for number, cell in enumerate(cells, 1):
        yield from _pieces(number, "cell metadata", cell.metadata)
        if bytes(cell.attachments).strip() != b"{}":
            attachments = msgspec.json.decode(cell.attachments)
            bundles = attachments.values() if isinstance(attachments, dict) else []
            text = "\n".join(bundle_text(bundle) for bundle in bundles)
            if text.strip():
                yield number, "attachment", text


def _pieces(number: int | None, where: str, raw: msgspec.Raw) -> Iterator[tuple[int | None, str, str]]:
    if bytes(raw).strip() in (b"{}", b"", b"null"):
        return
    yield number, where, msgspec.json.format(bytes(raw), indent=1).decode()
