"""The one notebook reader: typed cells, outputs left undecoded until asked for, and strip.

Every module that reads a notebook goes through here (the export, the secret scan, the
magic's check for unsaved cells), so a damaged notebook gets the same one-line error wherever
it is read.
"""

from .files import read_source_bytes, source_file
from .metadata import metadata_texts
from .outputs import code_cell_outputs, outputs_text
from .reader import Cell, Notebook, read_notebook
from .strip import strip_outputs

__all__ = [
    "Cell",
    "Notebook",
    "code_cell_outputs",
    "metadata_texts",
    "outputs_text",
    "read_notebook",
    "read_source_bytes",
    "source_file",
    "strip_outputs",
]
