"""Recognising IPython syntax in a cell, with IPython's own input transformers.

Jupyter runs each cell through IPython's `TransformerManager`, which turns ``!cmd``, ``%magic``
and ``obj?`` into ``get_ipython()...`` calls. The export runs the same transformer and finds
those calls with ``ast``; this module is that recognition, and the syntax-tree questions the
script builder and the converter-hazard check ask of a cell. IPython is imported on the first
cell that needs its transformer.
"""

from __future__ import annotations

import ast
import difflib
import inspect
import re
from collections.abc import Iterator
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from IPython.core.inputtransformer2 import TransformerManager

# A cheap filter, not a parser: cells matching none of these cannot contain IPython syntax, so
# they skip the transformer. A false positive only costs one transformer call.
_IPYTHON_SYNTAX = re.compile(r"^[ \t]*(?:[%!?]|>>>|In \[)|\?[ \t]*$|=[ \t]*[!%]", re.MULTILINE)


_PROMPT = re.compile(r"^[ \t]*(?:>>>|In \[)", re.MULTILINE)


@lru_cache(maxsize=1)
def transformer() -> TransformerManager:
    """IPython's input transformer, built once: it is what Jupyter itself runs on each cell."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager()


def split_lines(text: str) -> list[str]:
    """Lines as Python's tokenizer sees them (``str.splitlines`` also splits on form feeds)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def needs_transformer(source: str) -> bool:
    """Whether the cell may hold IPython syntax (or a common indent, which IPython removes)."""
    return bool(_IPYTHON_SYNTAX.search(source)) or source.lstrip("\r\n")[:1] in (" ", "\t")


def transformed(source: str) -> tuple[list[str], list[int], ast.Module | None]:
    """The cell as IPython would run it, for each of its lines the 0-based source line, and
    its syntax tree when transforming it produced one (shared between calls: read it, never
    change it)."""
    code_lines, line_map, tree = _transformed(source)
    return list(code_lines), list(line_map), tree


@lru_cache(maxsize=4096)
def _transformed(source: str) -> tuple[tuple[str, ...], tuple[int, ...], ast.Module | None]:
    """`transformed`, remembered per text: a warm kernel's next `%wandb_job` exports mostly
    unchanged cells, whose magics would otherwise be transformed and parsed again. (A magic
    cell's tree is ~10 kB: 4,096 cells hold a 2,000-cell notebook twice, in tens of MB at most.)"""
    source_lines = split_lines(source)
    if not needs_transformer(source):
        return tuple(source_lines), tuple(range(len(source_lines))), None
    by_line = transformed_by_line(source_lines)
    if by_line is not None:
        return tuple(by_line[0]), tuple(range(len(source_lines))), by_line[1]
    try:
        code_lines = split_lines(transformer().transform_cell(source))
    except Exception:  # the transformer gives up on broken code; compiling it names the error
        return tuple(source_lines), tuple(range(len(source_lines))), None
    return tuple(code_lines), tuple(_line_map(source_lines, code_lines)), None


def compiled_awaits(source: ast.Module | str) -> bool:
    """Compile the cell (the check that it is valid Python); True when it awaits at top level."""
    code = compile(source, "<cell>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True)
    return bool(code.co_flags & inspect.CO_COROUTINE)


@lru_cache(maxsize=16384)
def text_awaits_at_top_level(text: str) -> bool:
    """The same for a cell's text, compiled once per distinct text: a warm kernel's next
    `%wandb_job` re-exports mostly unchanged cells. A SyntaxError is raised, never cached."""
    return compiled_awaits(text)


@lru_cache(maxsize=4096)
def _transformed_line(line: str) -> str:
    """IPython's transform of one line alone. Remembered: the same magics (``%matplotlib
    inline``, ``!pip install ...``) recur across cells and notebooks, and a warm kernel exports
    the same notebook again and again."""
    return transformer().transform_cell(line).rstrip("\n")


def transformed_by_line(lines: list[str]) -> tuple[list[str], ast.Module] | None:
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
    statement_lines = {stmt.lineno for stmt, _nested in statements_with_parents(tree)}
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


def ipython_call(node: ast.AST) -> tuple[str, list[str]] | None:
    """(method, literal arguments) of a ``get_ipython().method('...', ...)`` call, else None."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and not node.keywords):
        return None
    owner = node.func.value
    if not (isinstance(owner, ast.Call) and isinstance(owner.func, ast.Name) and owner.func.id == "get_ipython"):
        return None
    if not all(isinstance(arg, ast.Constant) and isinstance(arg.value, str) for arg in node.args):
        return None
    return node.func.attr, [arg.value for arg in node.args]


def statements_with_parents(tree: ast.Module) -> Iterator[tuple[ast.stmt, bool]]:
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


def bound_names(tree: ast.AST) -> set[str]:
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


@lru_cache(maxsize=4096)
def string_rows(code: str) -> frozenset[int]:
    """The 1-based rows of `code` inside a multi-line string (whose text an indent would
    change), remembered per text like the cells' other parses: a warm kernel wraps the same
    ``%%capture`` bodies again."""
    return frozenset(
        row
        for node in ast.walk(ast.parse(code))
        if isinstance(node, (ast.Constant, ast.JoinedStr)) and node.end_lineno and node.end_lineno > node.lineno
        for row in range(node.lineno + 1, node.end_lineno + 1)
    )


def top_level_bindings(tree: ast.Module) -> list[str]:
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


def is_login_call(node: ast.AST) -> bool:
    """``wandb.login()`` without a key, or ``notebook_login()``: both wait for a person."""
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        if func.value.id == "wandb" and func.attr == "login":
            return not any(keyword.arg == "key" for keyword in node.keywords)
        return func.attr == "notebook_login"
    return isinstance(func, ast.Name) and func.id == "notebook_login"


def uses_get_ipython(tree: ast.AST) -> int | None:
    """The line of the first remaining reference to ``get_ipython``, if any."""
    for node in ast.walk(tree):
        if (isinstance(node, ast.Name) and node.id == "get_ipython") or (
            isinstance(node, ast.Attribute) and node.attr == "get_ipython"
        ):
            return node.lineno
    return None


def clear_caches() -> None:
    """Forget the transforms, parses and compile checks remembered across exports (a cold export)."""
    _transformed.cache_clear()
    _transformed_line.cache_clear()
    string_rows.cache_clear()
    text_awaits_at_top_level.cache_clear()
