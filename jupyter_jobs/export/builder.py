"""The script builder: each code cell's IPython constructs replaced by plain Python.

Every change is reported as a `Rewrite` (shown to the user and as notes in the annotated
script); what has no plain-Python form is commented out with a warning, never dropped silently.
See the package's docstring for the rules.
"""

from __future__ import annotations

import ast
import builtins
import json
import re
import shlex
from dataclasses import dataclass, field

from ..errors import JobError
from ..notebook import Notebook
from .installs import INSTALLERS, parse_install, shell_words
from .ipython import (
    bound_names,
    compiled_awaits,
    ipython_call,
    is_login_call,
    split_lines,
    statements_with_parents,
    string_rows,
    text_awaits_at_top_level,
    top_level_bindings,
    transformed,
    uses_get_ipython,
)


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
    # The notebook as read (None for a script): the secret scan of the same copy finds its
    # outputs, still undecoded, here instead of reading the notebook again.
    notebook: Notebook | None = None


Origin = tuple[int, int]


_BUILTIN_NAMES = frozenset(dir(builtins))


_INTERACTIVE_MAGICS = frozenset(
    "load_ext reload_ext unload_ext autoreload aimport matplotlib config store who whos who_ls "
    "pdb xmode precision colors doctest_mode automagic autocall autosave autoawait history hist "
    "lsmagic magic quickref page qtconsole connect_info notebook debug tb recall dhist bookmark "
    "tensorboard wandb pycat reset reset_selective logstart logstop logon logoff logstate "
    "killbgscripts rehashx".split()
)


_HELP_MAGICS = frozenset("pinfo pinfo2 psearch pdoc pdef psource pfile".split())


_SHELL_ALIASES = frozenset("ls mkdir cp mv rm rmdir cat".split())


_SCRIPT_MAGICS = frozenset("bash sh script perl ruby python python2 python3 pypy".split())


_BODY_MAGICS = {"time": "time", "timeit": "time", "prun": "time", "wandb": "wrapper"}
# IPython's CapturedIO outside Jupyter, put at the top of a script whose %%capture names its result.
_CAPTURED_IO = [
    "class _CapturedIO:",
    '    """What a %%capture cell printed (IPython\'s CapturedIO without IPython)."""',
    "",
    '    def __init__(self, stdout="", stderr=""):',
    "        self.stdout, self.stderr, self.outputs = stdout, stderr, []",
    "",
    "    def show(self):",
    "        sys.stdout.write(self.stdout)",
    "        sys.stderr.write(self.stderr)",
    "",
    "    __call__ = show",
]


_NON_PYTHON_MAGICS = frozenset(
    "html HTML javascript js latex markdown svg R r sql bigquery ruby_inline octave julia".split()
)


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


def script_as_is(text: str, name: str) -> ExportResult:
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
        line_origins=(None,) * len(split_lines(text)),
        source_name=name,
        is_notebook=False,
    )


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
class ScriptBuilder:
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
    capturing: bool = False  # exporting a %%capture body: shell output must pass through sys.stdout
    defines_captured_io: bool = False
    cell_lines: list[str] = field(default_factory=list)

    # ----------------------------------------------------------------- cells

    def add_cell(self, number: int, source: str) -> None:
        """Export one code cell after a ``# %% cell N`` marker (kept even when nothing of the
        cell remains, so the reader sees where its dropped lines were)."""
        self.cell_lines = split_lines(source)
        exported = self._cell(number, source, first_line=1)
        self.lines.extend([("", None), (_cell_marker(number), None)])
        self.lines.extend(exported)

    def _cell(self, number: int, source: str, first_line: int) -> list[tuple[str, Origin]]:
        """The plain-Python lines for `source` (a cell, or a cell magic's body)."""
        code_lines, line_map, tree = transformed(source)
        origins = [(number, first_line + index) for index in line_map]
        code = "\n".join(code_lines)
        if "get_ipython" not in code and "login" not in code:  # plain Python: compiling is enough
            self.unparsed_sources.append(code)
            return self._checked(list(zip(code_lines, origins, strict=True)), number, unchanged_tree=None)
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
            awaits = compiled_awaits(unchanged_tree) if unchanged_tree else text_awaits_at_top_level(text)
        except SyntaxError as err:
            raise self._invalid(number, err, origins) from None
        if any(word in text for word in ("get_ipython", "display", "__future__")):
            lines = self._inspect(ast.parse(text), lines, number)
        if awaits:
            return self._awaited(lines, number)
        return lines

    def _inspect(self, tree: ast.Module, lines: list[tuple[str, Origin]], number: int) -> list[tuple[str, Origin]]:
        """Refuse leftover ``get_ipython``, note ``display`` use, move ``__future__`` imports up."""
        leftover = uses_get_ipython(tree)
        if leftover is not None:
            raise JobError(
                f"Cell {number} uses get_ipython() (line {lines[leftover - 1][1][1]}), "
                "which plain python does not have",
                hint="write the magic as %magic or !command, or remove the call",
            )
        self.calls_display |= any(
            isinstance(n, ast.Name) and n.id == "display" and isinstance(n.ctx, ast.Load) for n in ast.walk(tree)
        )
        self.binds_display |= "display" in bound_names(tree)
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
        function = f"_jupyter_jobs_cell_{number}"
        first = lines[0][1]
        names = top_level_bindings(tree)
        wrapped = [(f"async def {function}():", first)]
        if names:
            wrapped.append((f"    global {', '.join(names)}", first))
        wrapped.extend(_indented(lines))
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
        return list(zip(lines, line_origins, strict=True))

    # ----------------------------------------------------------------- statements

    def _edits(self, tree: ast.Module, code_lines: list[str], origins: list[Origin], number: int) -> list[_Edit]:
        """One edit per statement holding an IPython call (as itself or as its assigned value)
        or an interactive login call."""
        self.current_tree = tree
        edits: list[_Edit] = []
        for stmt, nested in statements_with_parents(tree):
            origin = origins[stmt.lineno - 1]
            value = getattr(stmt, "value", None)
            if isinstance(stmt, ast.Expr) and is_login_call(value):
                edits.append(self._login(stmt, origin, nested))
                continue
            call = ipython_call(value) if isinstance(value, ast.AST) else None
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
        if name in INSTALLERS or (name == "uv" and args.split()[:1] == ["pip"]):
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
        elif self.capturing:  # through sys.stdout, where %%capture catches it, as IPython's !cmd
            code = (
                f"print(subprocess.run({expression}, shell=True, check=False, stdout=subprocess.PIPE, "
                'stderr=subprocess.STDOUT, text=True).stdout, end="")'
            )
            kind = "shell"
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
        """``%cd dir`` changes the working folder of the whole script, as in the notebook; like
        IPython's, it prints why it cannot and goes on."""
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
        code = [
            "try:",
            f"    os.chdir({folder})",
            "except OSError as _cd_error:  # %cd reports a folder it cannot enter and goes on",
            "    print(_cd_error)",
        ]
        self._report((site.cell, site.line), "cd", site.original, code[1].strip())
        return code

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
        install = parse_install(command)
        if install is None:
            return None
        self.requirements.update(dict.fromkeys(install.packages))
        self.warnings.extend(f"{site.where}: {warning}" for warning in install.warnings)
        self._report((site.cell, site.line), "pip-install", site.original, "")
        return install.remainder

    # ----------------------------------------------------------------- cell magics

    def _cell_magic_call(self, tree: ast.Module, source: str) -> tuple[str, str, str] | None:
        """(name, arguments, body) when the whole cell is a ``%%magic`` cell."""
        if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Expr):
            return None
        call = ipython_call(tree.body[0].value)
        if call is None or call[0] != "run_cell_magic" or len(call[1]) != 3:
            return None
        if not source.lstrip("\r\n").startswith("%%"):
            return None
        name, args, body = call[1]
        return name, args, body

    def _cell_magic(self, number: int, line: int, name: str, args: str, body: str) -> list[tuple[str, Origin]]:
        """Plain-Python lines for a whole ``%%name args`` cell whose magic line is `line`."""
        site = _Site(number, line, self._original(line), True, False)
        if name == "capture":
            return self._capture(site, args, body)
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
        """``%%time`` / ``%%timeit``: keep the body (a ``%%timeit`` setup line too)."""
        self._report((site.cell, site.line), _BODY_MAGICS[name], site.original, "(cell body kept)")
        setup = _without_timeit_options(args) if name == "timeit" else ""
        if setup:
            return self._cell(site.cell, f"{setup}\n{body}", first_line=site.line)
        return self._cell(site.cell, body, first_line=site.line + 1) if body.strip() else []

    def _capture(self, site: _Site, args: str, body: str) -> list[tuple[str, Origin]]:
        """``%%capture [--no-stdout] [--no-stderr] [name]``: run the body with what it prints
        captured, as IPython does, and keep it in `name` (``.stdout``, ``.stderr``, ``.show()``)."""
        words = shell_words(args)
        names = [word for word in words if not word.startswith("-")]
        streams = [stream for stream in ("stdout", "stderr") if f"--no-{stream}" not in words]
        origin = (site.cell, site.line)
        self.capturing = True
        try:
            lines = self._cell(site.cell, body, first_line=site.line + 1) if body.strip() else []
        finally:
            self.capturing = False
        prefix = f"_captured_{site.cell}"
        if streams:
            self.imports.update({"contextlib", "io"})
            redirects = ", ".join(
                f"contextlib.redirect_{stream}(io.StringIO()) as {prefix}_{stream}" for stream in streams
            )
            lines = [(f"with {redirects}:", origin), *_indented(lines or [("pass", origin)])]
        if names:
            self.imports.add("sys")
            self.defines_captured_io = True
            values = ", ".join(
                f"{prefix}_{stream}.getvalue()" if stream in streams else '""' for stream in ("stdout", "stderr")
            )
            lines.append((f"{names[-1]} = _CapturedIO({values})", origin))
            self.known_names.add(names[-1])
        self._report(origin, "capture", site.original, lines[0][0] if lines else "")
        return lines

    def _writefile(self, site: _Site, args: str, body: str) -> list[tuple[str, Origin]]:
        """``%%writefile [-a] path``: write the body with pathlib, as the cell did."""
        words = shell_words(args)
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
                self.known_names |= bound_names(ast.parse(source))
            except SyntaxError:
                continue
        self.unparsed_sources.clear()
        self.known_names |= bound_names(self.current_tree)  # loop variables used by ``!echo $i``

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
        notebook: Notebook,
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
        if self.defines_captured_io:
            header.extend([("", None), *((text, None) for text in _CAPTURED_IO)])
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
            cells=tuple((number, cell.cell_type, cell.text) for number, cell in enumerate(notebook.cells, 1)),
            script_raw_cells=frozenset(
                number for number, cell in enumerate(notebook.cells, 1) if cell.cell_type == "raw" and cell.in_script
            ),
            notebook=notebook,
        )


def _indented(lines: list[tuple[str, Origin]]) -> list[tuple[str, Origin]]:
    """Lines moved one block in (into a ``with`` or an ``async def``), but for the inside of
    multi-line strings, whose text must not change."""
    inside_strings = string_rows("\n".join(line for line, _ in lines))
    return [(line if row in inside_strings else f"    {line}", origin) for row, (line, origin) in enumerate(lines, 1)]


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
