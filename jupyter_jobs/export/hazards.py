"""What W&B Launch's own converter breaks in a notebook.

A git-sourced job runs the committed notebook through W&B's converter, which drops lines
starting with ``!`` and hands the rest to nbconvert: every other IPython construct becomes a
``get_ipython()`` call that fails under plain ``python``. These are warnings for the user; the
artifact-sourced job runs the export's own script instead.
"""

from __future__ import annotations

import ast
from functools import lru_cache

from .builder import ExportResult
from .installs import INSTALLERS, install_arguments, shell_words
from .ipython import compiled_awaits, ipython_call, needs_transformer, split_lines, transformed


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
        if kind == "code" and (needs_transformer(source) or "await" in source):
            hazards.extend(cell_hazards(number, source))
        elif number in export.script_raw_cells:
            hazards.extend(raw_cell_hazards(number, source))
    return hazards


def cell_hazards(number: int, source: str) -> list[str]:
    """What W&B Launch's converter (drop lines starting with ``!``, then nbconvert) breaks,
    in line order."""
    return [f"cell {number}{f', line {row}' if row else ''}: {what}" for row, what in _source_hazards(source)]


@lru_cache(maxsize=16384)
def _source_hazards(source: str) -> tuple[tuple[int, str], ...]:
    """(line, hazard) of one cell's source, in line order. Remembered per text, as the export's
    transforms are: a warm kernel's next `%wandb_job` checks mostly unchanged cells again."""
    lines = split_lines(source)
    return tuple(sorted(_dropped_command_hazards(lines) + _converted_hazards(lines)))


def _dropped_command_hazards(lines: list[str]) -> list[tuple[int, str]]:
    """Shell lines the converter removes (installs aside: the job gets its requirements)."""
    return [
        (index + 1, f"`{line}` is dropped by the converter, so the command never runs in the job")
        for index, line in enumerate(lines)
        if line.startswith("!") and install_arguments(shell_words(line[1:])) is None
    ]


def _converted_hazards(lines: list[str]) -> list[tuple[int, str]]:
    """IPython syntax that survives the converter as ``get_ipython()`` calls or errors
    (line 0 stands for the whole cell)."""
    kept = [index for index, line in enumerate(lines) if not line.startswith("!")]
    remaining = "\n".join(lines[index] for index in kept)
    code_lines, line_map, tree = transformed(remaining)
    try:
        tree = tree or ast.parse("\n".join(code_lines))
    except SyntaxError as err:
        row = kept[line_map[min((err.lineno or 1) - 1, len(line_map) - 1)]] + 1 if line_map else 0
        return [(row, f"not valid Python after conversion ({err.msg})")]
    found = []
    for node in ast.walk(tree):
        call = ipython_call(node)
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


def raw_cell_hazards(number: int, source: str) -> list[str]:
    """nbconvert copies a raw cell without a format into the script as it is."""
    try:
        compile(source, "raw cell", "exec", dont_inherit=True)
    except SyntaxError:
        return [f"cell {number}: raw cell is copied into the script as it is, and it is not Python"]
    return []


def _hazard_name(method: str, args: list[str]) -> str:
    """What the user wrote, by the ``get_ipython()`` method it turned into."""
    if method == "system":
        return "indented shell line"
    if method == "getoutput":
        return "captured shell output"
    if method == "run_cell_magic":
        return f"cell magic %%{args[0]}"
    if args and args[0] in INSTALLERS:
        return f"%{args[0]} command"
    return f"line magic %{args[0]}" if args else "IPython call"


def _awaits_at_top_level(tree: ast.Module) -> bool:
    """Whether the cell awaits outside any function (fine in Jupyter, an error in a script)."""
    try:
        return compiled_awaits(tree)
    except SyntaxError:
        return False
