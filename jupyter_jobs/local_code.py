"""What a job carries beside its script: the local modules it imports and the small files it reads.

A job made of the exported script alone fails on its first `from helper import scale`. W&B's
`run.log_code()` answers with every `.py` file under the run's root; here the script is read
with `ast` and followed precisely: each import is looked up with importlib's own `FileFinder`
in the folders the notebook imports from (its own folder, literal `sys.path` additions, the
repository root's `src/` and the root itself), and each local module found is read in turn
(relative imports included). Files opened or loaded by a literal relative path (`open`,
`pd.read_csv`, `np.load`, `Path(...).read_text`, ...) come along while they are small. The
user adds or removes files with gitignore-style `--include` / `--exclude` patterns (pathspec),
as `log_code`'s `include_fn` / `exclude_fn` do.

Modules land at their path relative to the folder they were imported from, so the script's own
folder, Python's first import path, finds them; files read by relative path land at their path
relative to the notebook's folder, the job's working directory. Nothing outside the notebook's
folder or repository is ever taken, and nothing from `.git`, virtual environments,
`site-packages`, `wandb/` run folders or `__pycache__`.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import os
import posixpath
import re
import sys
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.machinery import SOURCE_SUFFIXES, FileFinder, ModuleSpec, SourceFileLoader
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import JobError

if TYPE_CHECKING:
    from pathspec import GitIgnoreSpec

    from .export import ExportResult

MB = 1_000_000
MAX_FILE_BYTES = 1 * MB  # the default for a file read by the code; larger ones are named, not carried
MAX_TOTAL_BYTES = 50 * MB  # everything carried beside the script and the notebook

# Folders whose files never travel: version control, environments, W&B's run folders, caches.
_NEVER_FOLDERS = frozenset({".git", "__pycache__", "site-packages", "dist-packages", ".ipynb_checkpoints"})
_ENVIRONMENT_MARKER = "pyvenv.cfg"
_WANDB_RUNS = "wandb"

# Calls whose first argument is a path the code reads: builtins, pandas, numpy, torch, PIL, ...
_READERS = frozenset(
    """open load loadtxt genfromtxt fromfile imread read_csv read_table read_json read_parquet
    read_excel read_feather read_pickle read_hdf read_fwf read_orc read_xml read_stata read_sas
    read_spss load_npz read_file""".split()
)
# Methods of a path object that read it (`Path("x").read_text()`), and those that write it.
_PATH_READS = frozenset({"read_text", "read_bytes", "open"})
_PATH_WRITES = frozenset({"write_text", "write_bytes"})
_PATH_KEYWORDS = ("file", "fname", "filepath_or_buffer", "path", "path_or_buf", "filename")
_PATH_TYPES = frozenset({"Path", "PurePath", "PosixPath", "PurePosixPath"})
_IDENTITY_CALLS = frozenset({"str", "abspath", "realpath", "normpath", "resolve", "absolute", "fspath"})
_IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})
# A part of the script without any of these neither imports nor reads, writes or adds to sys.path.
_MAY_MATTER = re.compile(r"import|open|read|load|fromfile|imread|write_|sys\.path")
# `NAME = ...` at the top level, and one whose value may be a literal path (a string, a path
# made of one, or a name joined to one): bindings that reads in other cells may use.
_TOP_LEVEL_BINDING = re.compile(r"([A-Za-z_]\w*)\s*(?::[^=\n]*)?=(?!=)")
_PATH_VALUE = re.compile(
    r"""\s*(?:[rRbBuU]?["']|(?:pathlib\.)?Path\(|os\.path\.|str\(|[A-Za-z_]\w*\s*/|[A-Za-z_]\w*\.parent)"""
)
# The uses of parts of scripts, by (length, hash of text, constants, script): least recently used first.
_CHUNK_USES: dict[tuple[Any, ...], _Uses] = {}
_CHUNK_USES_MAX = 16_384


@dataclass(frozen=True)
class Included:
    """One file the job carries beside its script, and why."""

    path: str  # inside the code artifact, POSIX style
    size: int
    reason: str  # "imported in cell 2", "read in helper.py, line 4", "--include '*.yaml'"

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "size": self.size, "reason": self.reason}


@dataclass(frozen=True)
class LocalCode:
    files: dict[str, bytes] = field(repr=False)
    included: tuple[Included, ...]
    warnings: tuple[str, ...]
    sources: tuple[Path, ...] = ()  # where the carried files are on disk


@dataclass(frozen=True)
class Limits:
    """What the user chose: extra patterns, patterns to leave out, the largest file read."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    max_file_bytes: int = MAX_FILE_BYTES
    within: Path | None = None  # nothing outside it travels either (over REST: the server's root)


def collect(export: ExportResult, notebook: Path, script_name: str, limits: Limits = Limits()) -> LocalCode:
    """The files the exported script needs from the notebook's folder or repository.

    `script_name` and the notebook's own name are taken already in the code artifact.
    """
    folder = notebook.resolve().parent
    collector = _Collector(folder, _repository_root(folder), limits, taken={script_name, notebook.name})
    script = _Source(export.script, folder / script_name, folder, None, False, _cell_locator(export))
    collector.follow(script, _script_uses(script, export.line_origins))
    collector.add_included()
    return collector.result()


def size_text(size: int) -> str:
    """`1.2 MB`, `340 kB`, `12 bytes`: decimal units, as the limits are given."""
    if size >= MB:
        return f"{size / MB:.1f} MB"
    return f"{size / 1000:.0f} kB" if size >= 1000 else f"{size} bytes"


@dataclass(frozen=True)
class _Source:
    """A piece of code to follow: the script or a local module, and where it sits."""

    text: str
    file: Path  # where it is (the script: as if beside the notebook)
    root: Path  # the folder it was imported from: its place in the artifact is relative to it
    module: str | None  # its dotted name (None for the script)
    is_package: bool
    locate: Callable[[int], str]  # line number -> "cell 3" / "helper.py, line 4"

    @property
    def package(self) -> str | None:
        """What a relative import is relative to."""
        if self.module is None:
            return None
        return self.module if self.is_package else self.module.rpartition(".")[0] or None


def _cell_locator(export: ExportResult) -> Callable[[int], str]:
    """Name a script line by the notebook cell it came from (the export's line origins)."""

    def locate(line: int) -> str:
        origins = export.line_origins
        origin = origins[line - 1] if 0 < line <= len(origins) else None
        if origin is None or not export.is_notebook:
            return f"{export.source_name}, line {origin[1] if origin else line}"
        return f"cell {origin[0]}"

    return locate


def _repository_root(folder: Path) -> Path | None:
    """The enclosing git working tree (a `.git` folder or file), without asking git."""
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


class _Collector:
    def __init__(self, folder: Path, repo: Path | None, limits: Limits, taken: set[str]) -> None:
        self.folder = folder
        self.boundary = repo or folder
        self.repo = repo
        self.limits = limits
        self.taken = taken
        self.exclude = _spec(limits.exclude)
        self.include = _spec(limits.include)
        self.found: dict[str, tuple[Path, str]] = {}  # artifact path -> (file, reason)
        self.warnings: list[str] = []
        self.roots: list[Path] = [folder]
        self.written: set[Path] = set()
        self.tops: dict[str, tuple[ModuleSpec, Path] | str | None] = {}

    # ------------------------------------------------------------------ following code

    def follow(self, script: _Source, script_uses: list[tuple[int, _Uses]]) -> None:
        """The script first (its `sys.path` additions name import folders), then each module
        found. `script_uses`: (line offset, uses) of the script's parts that may matter."""
        self.written = {path for _, uses in script_uses for path in uses.written}
        import_paths = [path for _, uses in script_uses for path in uses.import_paths]
        self.roots = _unique([self.folder, *self._import_folders(import_paths), *self._repository_folders()])
        queue = [(script, offset, uses) for offset, uses in script_uses]
        while queue:
            source, offset, uses = queue.pop(0)
            for name, names, line, guarded in uses.imports:
                queue += self._import(name, names, source.locate(offset + line), guarded)
            for anchor, relative, line in uses.reads:
                self._read(source, anchor, relative, source.locate(offset + line))

    def _import_folders(self, paths: list[tuple[str, str]]) -> Iterator[Path]:
        """Folders the script adds to `sys.path` by literal path, inside the boundary."""
        for _anchor, relative in paths:  # the script's own file sits in the notebook's folder too
            folder = Path(posixpath.normpath((self.folder / relative).as_posix()))
            if folder.is_dir() and self._allowed(folder):
                yield folder

    def _repository_folders(self) -> Iterator[Path]:
        if self.repo is not None:
            yield from (folder for folder in (self.repo / "src", self.repo) if folder.is_dir())

    def _import(
        self, wanted: str, names: tuple[str, ...], where: str, guarded: bool
    ) -> list[tuple[_Source, int, _Uses]]:
        """Follow `wanted` (and the submodules `from wanted import a, b` may name) to local files."""
        located = self._top(wanted.split(".")[0])
        if located is None:
            if not guarded and not self._written_module(wanted):
                self.warnings.append(
                    f"{where} imports {wanted}, which is neither a local module nor installed here: "
                    "the job will fail to import it (add it beside the notebook, or install it)"
                )
            return []
        if isinstance(located, str):  # installed: a requirement, not a file
            return []
        spec, root = located
        sources = []
        for fullname in [wanted, *(f"{wanted}.{name}" for name in names)]:
            for module_spec in self._chain(spec, fullname):
                sources += self._module(module_spec, root, where)
        return sources

    def _top(self, top: str) -> tuple[ModuleSpec, Path] | str | None:
        """A top-level module: local (its spec and import folder), "installed", or None."""
        if top not in self.tops:
            self.tops[top] = self._find_top(top)
        return self.tops[top]

    def _find_top(self, top: str) -> tuple[ModuleSpec, Path] | str | None:
        namespace = None
        for root in self.roots:
            spec = _finder(root).find_spec(top)
            if spec is None or not self._allowed(Path(spec.origin or (spec.submodule_search_locations or [""])[0])):
                continue
            if spec.origin is not None:
                return spec, root
            namespace = namespace or (spec, root)
        if _installed(top):  # an installed package wins over a folder that merely has its name
            return "installed"
        return namespace

    def _chain(self, spec: ModuleSpec, fullname: str) -> Iterator[ModuleSpec]:
        """The specs of `fullname` and every package above it, found in their parents' folders."""
        yield spec
        for depth in range(1, len(fullname.split("."))):
            name = ".".join(fullname.split(".")[: depth + 1])
            found = None
            for location in spec.submodule_search_locations or ():
                found = _finder(Path(location)).find_spec(name)
                if found is not None:
                    break
            if found is None:  # an attribute (`from pkg import name`), or made at run time
                return
            spec = found
            yield spec

    def _module(self, spec: ModuleSpec, root: Path, where: str) -> list[tuple[_Source, int, _Uses]]:
        if spec.origin is None:  # a namespace package: nothing to carry for the folder itself
            return []
        file = Path(spec.origin)
        relative = file.relative_to(root).as_posix()
        if relative in self.found or not self._take(relative, file, f"imported in {where}"):
            return []
        source = _Source(
            file.read_text(encoding="utf-8", errors="replace"),
            file,
            root,
            spec.name,
            file.name == "__init__.py",
            functools.partial(_line_label, relative),
        )
        try:
            return [(source, 0, _Uses(source, _parse(source)))]
        except (SyntaxError, ValueError, RecursionError) as err:
            line = f" (line {err.lineno})" if isinstance(err, SyntaxError) else ""
            self.warnings.append(f"{relative} could not be read as Python{line}: its imports are not followed")
            return []

    def _written_module(self, name: str) -> bool:
        """True when the script itself writes the module (`%%writefile helper.py`)."""
        stem = self.folder / name.replace(".", "/")
        return stem.with_suffix(".py") in self.written or stem / "__init__.py" in self.written

    # ------------------------------------------------------------------ files read

    def _read(self, source: _Source, anchor: str, relative: str, where: str) -> None:
        """A file read by literal path: carried when small, named in a warning otherwise."""
        base, place = (
            (self.folder, "") if anchor == "cwd" else (source.file.parent, source.file.parent.relative_to(source.root))
        )
        file = Path(posixpath.normpath((base / relative).as_posix()))
        artifact = posixpath.normpath(posixpath.join(Path(place).as_posix(), relative))
        if file in self.written or not file.is_file() or artifact in self.found:
            return
        if artifact.startswith("../") or not self._allowed(file):
            self.warnings.append(
                f"{where} reads {relative}, outside the notebook's folder: the job cannot carry it "
                "(log it as an artifact and read it with run.use_artifact, or make its path a config input)"
            )
            return
        size = file.stat().st_size
        if size > self.limits.max_file_bytes and not _matches(self.include, artifact):
            self.warnings.append(
                f"{where} reads {artifact} ({size_text(size)}), over the {size_text(self.limits.max_file_bytes)} "
                f"limit for files the job carries, so it is left out: include it with --include {artifact} "
                "(or raise --max-file-mb), or log it as an artifact and read it with run.use_artifact, "
                "or make its path a config input"
            )
            return
        self._take(artifact, file, f"read in {where}")

    # ------------------------------------------------------------------ --include

    def add_included(self) -> None:
        """Files under the notebook's folder matching `--include`, whatever their size."""
        if not self.limits.include:
            return
        for pattern in self.limits.include:
            if pattern.startswith("/") or ".." in pattern.split("/"):
                raise JobError(
                    f"--include {pattern} reaches outside the notebook's folder",
                    hint="give a pattern relative to the notebook's folder, e.g. 'configs/*.yaml'",
                )
        matched = False
        for relative, file in self._walk():
            if _matches(self.include, relative):
                matched = True
                if relative not in self.found:
                    self._take(relative, file, "--include " + " ".join(self.limits.include))
        if not matched:
            self.warnings.append(f"--include {' '.join(self.limits.include)} matched no file in {self.folder}")

    def _walk(self) -> Iterator[tuple[str, Path]]:
        """Every file under the notebook's folder, never entering the folders that never travel."""
        for top, folders, files in os.walk(self.folder):
            folders[:] = sorted(name for name in folders if not _never_folder(Path(top, name)))
            for name in sorted(files):
                file = Path(top, name)
                yield file.relative_to(self.folder).as_posix(), file

    # ------------------------------------------------------------------ shared

    def _allowed(self, path: Path) -> bool:
        """Inside the boundary (symbolic links followed) and in no folder that never travels."""
        resolved = path.resolve()
        if not resolved.is_relative_to(self.boundary):
            return False
        if self.limits.within is not None and not resolved.is_relative_to(self.limits.within.resolve()):
            return False
        parents = path.relative_to(self.boundary).parents if path.is_relative_to(self.boundary) else ()
        return not any(_never_folder(self.boundary / parent) for parent in parents if parent != Path("."))

    def _take(self, artifact: str, file: Path, reason: str) -> bool:
        if artifact in self.taken or _matches(self.exclude, artifact) or not self._allowed(file):
            return False
        self.found[artifact] = (file, reason)
        return True

    def result(self) -> LocalCode:
        """The files read (after the total is checked from their sizes), what is in them, warnings."""
        sizes = {artifact: file.stat().st_size for artifact, (file, _) in self.found.items()}
        total = sum(sizes.values())
        if total > MAX_TOTAL_BYTES:
            largest = sorted(sizes, key=lambda name: -sizes[name])[:3]
            raise JobError(
                f"The files the job carries beside its script add up to {size_text(total)}, over the "
                f"{size_text(MAX_TOTAL_BYTES)} limit; the largest: "
                + ", ".join(f"{name} {size_text(sizes[name])}" for name in largest),
                hint="leave some out with --exclude GLOB, or log large data as an artifact and read it with "
                "run.use_artifact",
            )
        files = {artifact: file.read_bytes() for artifact, (file, _) in sorted(self.found.items())}
        included = tuple(Included(name, len(files[name]), self.found[name][1]) for name in files)
        sources = tuple(self.found[name][0] for name in files)
        return LocalCode(files, included, tuple(dict.fromkeys(self.warnings)), sources)


class _Uses(ast.NodeVisitor):
    """What one piece of code imports, reads, writes and adds to `sys.path`, by literal names.

    Imports are kept as (module, names it imports that may be submodules, line, guarded by a
    `try: ... except ImportError`); reads as (anchor, path, line), lines counted in the text parsed.
    Paths are (anchor, relative path): anchored at the working directory, or at the code's own
    file (`Path(__file__).parent / "vocab.txt"`).
    """

    def __init__(self, source: _Source, tree: ast.AST, constants: Mapping[str, tuple[str, str]] | None = None) -> None:
        self.source = source
        self.imports: list[tuple[str, tuple[str, ...], int, bool]] = []
        self.reads: list[tuple[str, str, int]] = []
        self.import_paths: list[tuple[str, str]] = []
        self.written: set[Path] = set()
        self.constants: dict[str, tuple[str, str]] = dict(constants or {})
        _bind_constants(tree, self._path_of, self.constants)
        self.guarded = 0
        self.visit(tree)

    def visit_Try(self, node: ast.Try) -> None:
        guards = any(_catches_import_error(handler) for handler in node.handlers)
        self.guarded += guards
        for statement in node.body:
            self.visit(statement)
        self.guarded -= guards
        for part in [*node.handlers, *node.orelse, *node.finalbody]:
            self.visit(part)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._imported(alias.name, (), node.lineno)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = _absolute(node.module, node.level, self.source.package)
        if base is not None:
            self._imported(base, tuple(alias.name for alias in node.names if alias.name != "*"), node.lineno)

    def visit_Call(self, node: ast.Call) -> None:
        self.generic_visit(node)
        function = node.func
        name = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", None)
        argument = node.args[0] if node.args else _keyword(node, _PATH_KEYWORDS)
        if name in ("import_module", "__import__") and isinstance(argument, ast.Constant):
            if isinstance(argument.value, str):
                self._imported(argument.value, (), node.lineno)
        elif (
            name in ("insert", "append")
            and isinstance(function, ast.Attribute)
            and _is_sys_path(function)
            and node.args
        ):
            path = self._path_of(node.args[-1])
            if path is not None:
                self.import_paths.append(path)
        elif isinstance(function, ast.Attribute) and name in _PATH_READS | _PATH_WRITES:
            self._path_method(function, name, node)
        elif name == "open" and argument is not None:
            self._opened(argument, _mode(node), node.lineno)
        elif name in _READERS and argument is not None:
            self._found_read(self._path_of(argument), node.lineno)

    def _path_method(self, function: ast.Attribute, name: str, node: ast.Call) -> None:
        """`Path("x").read_text()` reads, `Path("x").write_text(...)` writes; `Image.open("x")` reads."""
        receiver = self._path_of(function.value) if _is_path_expression(function.value) else None
        if receiver is None:
            if name == "open" and node.args:
                self._opened(node.args[0], _mode(node, position=1), node.lineno)
            return
        mode = _mode(node, position=0) if name == "open" else ("w" if name in _PATH_WRITES else "r")
        self._found_read(receiver, node.lineno) if not _writes(mode) else self._found_write(receiver)

    def _opened(self, argument: ast.expr, mode: str, line: int) -> None:
        path = self._path_of(argument)
        self._found_write(path) if _writes(mode) else self._found_read(path, line)

    def _found_read(self, path: tuple[str, str] | None, line: int) -> None:
        if path is not None:
            self.reads.append((*path, line))

    def _found_write(self, path: tuple[str, str] | None) -> None:
        if path is not None and path[0] == "cwd" and self.source.module is None:
            self.written.add(Path(posixpath.normpath((self.source.root / path[1]).as_posix())))

    def _imported(self, name: str, names: tuple[str, ...], line: int) -> None:
        self.imports.append((name, names, line, self.guarded > 0))

    def _path_of(self, node: ast.expr) -> tuple[str, str] | None:
        """A literal relative path as (anchor, path), or None when it is not one."""
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, str) and value and not os.path.isabs(value) and not value.startswith("~"):
                return "cwd", value
            return None
        if isinstance(node, ast.Name):
            return ("file", self.source.file.name) if node.id == "__file__" else self.constants.get(node.id)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            return _joined(self._path_of(node.left), self._path_of(node.right))
        if isinstance(node, ast.Attribute) and node.attr == "parent":
            return _joined(self._path_of(node.value), ("cwd", ".."))
        if isinstance(node, ast.Call):
            return self._called_path(node)
        return None

    def _called_path(self, node: ast.Call) -> tuple[str, str] | None:
        function = node.func
        name = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", None)
        if name in ("cwd", "getcwd") and not node.args:
            return "cwd", "."
        if name in ("dirname",) and len(node.args) == 1:
            return _joined(self._path_of(node.args[0]), ("cwd", ".."))
        if name in _PATH_TYPES or name == "join":
            parts = [self._path_of(argument) for argument in node.args]
            if not parts or None in parts:
                return None
            path = parts[0]
            for part in parts[1:]:
                path = _joined(path, part)
            return path
        if name in _IDENTITY_CALLS:
            if node.args:
                return self._path_of(node.args[0])
            if isinstance(function, ast.Attribute):
                return self._path_of(function.value)
        return None


def _bind_constants(
    tree: ast.AST, path_of: Callable[[ast.expr], tuple[str, str] | None], constants: dict[str, tuple[str, str]]
) -> None:
    """Names bound once to a literal path (`CONFIG = "configs/base.json"`, `DATA = Path("data")`),
    for reads through them; `constants` fills as it goes, so a later one may use an earlier."""
    bindings: dict[str, list[ast.expr | None]] = {}  # name -> the value of each plain `name = value`
    for node in _statements(tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    single = isinstance(node, ast.Assign) and len(targets) == 1
                    bindings.setdefault(target.id, []).append(node.value if single else None)
    for name, values in bindings.items():
        path = path_of(values[0]) if len(values) == 1 and values[0] is not None else None
        if path is not None:
            constants[name] = path


def _statements(tree: ast.AST) -> Iterator[ast.AST]:
    """`ast.walk` without descending into expressions, which never hold a statement: the same
    statements in the same (breadth-first) order, for a fraction of the nodes visited."""
    pending = deque([tree])
    while pending:
        node = pending.popleft()
        pending.extend(child for child in ast.iter_child_nodes(node) if not isinstance(child, ast.expr))
        yield node


def _script_uses(script: _Source, origins: Sequence[tuple[int, int] | None]) -> list[tuple[int, _Uses]]:
    """(line offset, uses) of each cell's part of the script that may import, read, write or
    extend `sys.path`. Only those parts are parsed (a 2,000-cell script parsed whole costs most
    of a second), and each part's uses are remembered by its text, so a warm kernel's repeated
    `%wandb_job` parses only the cells that changed."""
    lines = script.text.splitlines(keepends=True)
    constants = _script_constants(script, lines)
    found = []
    for start, end in _cell_spans(origins, len(lines)):
        text = "".join(lines[start:end])
        if _MAY_MATTER.search(text):
            uses = _chunk_uses(script, text, constants)
            if uses is None:  # a part that does not parse on its own: read the whole script
                return [(0, _Uses(script, _parse(script), constants))]
            found.append((start, uses))
    return found


def _cell_spans(origins: Sequence[tuple[int, int] | None], count: int) -> Iterator[tuple[int, int]]:
    """(first, end) line indexes of each cell's part of the script: a part starts where the
    lines' origin moves to another cell (lines of no cell stay with the part before)."""
    start, cell = 0, None
    for index in range(count):
        origin = origins[index] if index < len(origins) else None
        if origin is not None and origin[0] != cell:
            if index > start:
                yield start, index
            start, cell = index, origin[0]
    if count > start:
        yield start, count


def _script_constants(script: _Source, lines: list[str]) -> dict[str, tuple[str, str]]:
    """Names bound once, at the script's top level, to a literal path, wherever they are: a
    read in one cell may use a name bound in another. Found by line, parsed one line each."""
    bound: dict[str, list[str]] = {}
    for line in lines:
        match = _TOP_LEVEL_BINDING.match(line)
        if match:
            bound.setdefault(match.group(1), []).append(line if _PATH_VALUE.match(line, match.end()) else "")
    constants: dict[str, tuple[str, str]] = {}
    evaluator = _Uses(script, ast.Module(body=[], type_ignores=[]), constants)
    for _name, statements in bound.items():
        if len(statements) == 1 and statements[0]:
            try:
                tree = ast.parse(statements[0])
            except (SyntaxError, ValueError):
                continue
            _bind_constants(tree, evaluator._path_of, evaluator.constants)
    return evaluator.constants


def _chunk_uses(script: _Source, text: str, constants: Mapping[str, tuple[str, str]]) -> _Uses | None:
    """The uses of one part of the script, from the cache when the same text was read before."""
    key = (len(text), hash(text), tuple(sorted(constants.items())), str(script.file))
    uses = _CHUNK_USES.pop(key, None)
    if uses is None:
        try:
            uses = _Uses(script, ast.parse(text), constants)
        except (SyntaxError, ValueError, RecursionError):
            return None
        if len(_CHUNK_USES) >= _CHUNK_USES_MAX:
            _CHUNK_USES.pop(next(iter(_CHUNK_USES), key), None)
    _CHUNK_USES[key] = uses  # re-inserted: now the most recently used
    return uses


def _joined(left: tuple[str, str] | None, right: tuple[str, str] | None) -> tuple[str, str] | None:
    """`left / right`: the right side must be relative; the anchor is the left side's."""
    if left is None or right is None or right[0] != "cwd":
        return None
    anchor, base = left
    return anchor, posixpath.normpath(posixpath.join(base, right[1]))


def _parse(source: _Source) -> ast.AST:
    return ast.parse(source.text, filename=str(source.file))


def _absolute(module: str | None, level: int, package: str | None) -> str | None:
    """The absolute name of `from <level dots><module> import ...`, or None outside a package."""
    if level == 0:
        return module
    if package is None:
        return None
    parts = package.split(".")
    if level - 1 >= len(parts):
        return None
    base = ".".join(parts[: len(parts) - (level - 1)])
    return f"{base}.{module}" if module else base


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    if handler.type is None:
        return True
    kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(getattr(kind, "id", getattr(kind, "attr", None)) in _IMPORT_ERRORS for kind in kinds)


def _keyword(node: ast.Call, names: Sequence[str]) -> ast.expr | None:
    return next((keyword.value for keyword in node.keywords if keyword.arg in names), None)


def _mode(node: ast.Call, position: int = 1) -> str:
    """The literal mode of an `open` call ("r" when not given or not literal)."""
    mode = node.args[position] if len(node.args) > position else _keyword(node, ("mode",))
    return mode.value if isinstance(mode, ast.Constant) and isinstance(mode.value, str) else "r"


def _writes(mode: str) -> bool:
    return any(flag in mode for flag in "wax")


def _is_sys_path(function: ast.Attribute) -> bool:
    """`sys.path.insert` / `sys.path.append`."""
    value = function.value
    return isinstance(value, ast.Attribute) and value.attr == "path" and getattr(value.value, "id", None) == "sys"


def _is_path_expression(node: ast.expr) -> bool:
    """`Path(...)`, `Path(...) / "x"`, `(...).parent`: a receiver whose `open` is a path's."""
    if isinstance(node, ast.Call):
        function = node.func
        name = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", None)
        return name in _PATH_TYPES or (name in _IDENTITY_CALLS and isinstance(function, ast.Attribute))
    return isinstance(node, (ast.BinOp, ast.Name)) or (isinstance(node, ast.Attribute) and node.attr == "parent")


def _finder(folder: Path) -> FileFinder:
    """importlib's own finder for Python source in one folder (no compiled or cached modules)."""
    return FileFinder(str(folder), (SourceFileLoader, SOURCE_SUFFIXES))


def _installed(top: str) -> bool:
    """Whether this Python can import `top` from outside the notebook's folder (stdlib, site-packages)."""
    if top in sys.stdlib_module_names or top in sys.builtin_module_names:
        return True
    try:
        return importlib.util.find_spec(top) is not None
    except (ImportError, ValueError):
        return False


def _never_folder(folder: Path) -> bool:
    """`.git`, caches, installed packages, a virtual environment, or a W&B run folder."""
    name = folder.name
    if name in _NEVER_FOLDERS or (folder / _ENVIRONMENT_MARKER).is_file():
        return True
    return name == _WANDB_RUNS and not (folder / "__init__.py").is_file()


def _spec(patterns: Sequence[str]) -> GitIgnoreSpec | None:
    """The patterns, or None when there are none: nothing matches, and pathspec (tens of ms to
    import) is not loaded for the usual create without --include or --exclude."""
    if not patterns:
        return None
    from pathspec import GitIgnoreSpec

    return GitIgnoreSpec.from_lines(patterns)


def _matches(spec: GitIgnoreSpec | None, path: str) -> bool:
    return spec is not None and bool(spec.match_file(path))


def _unique(folders: list[Path]) -> list[Path]:
    return list(dict.fromkeys(folder.resolve() for folder in folders))


def _line_label(name: str, line: int) -> str:
    """Where in a carried module a read or import was found, e.g. `helper.py, line 3`."""
    return f"{name}, line {line}"
