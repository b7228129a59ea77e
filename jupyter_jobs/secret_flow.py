"""Literals that reach a credential through the code: a value followed from where it is
assigned to where it is used as one.

`k = "..."` names nothing secret, and the line detectors judge a literal by the name it is
bound to on its own line; `wandb.login(key=k)` cells later is what makes `k` a key. This walks
the exported script's syntax tree (ast) once, in source order: it remembers each name bound to
a string or bytes literal (implicit concatenation, `+` of literals and `.encode()`/`.decode()`
included, which no line pattern sees whole), and at each place a value is given a name —
a keyword argument, a dict key, an attribute or variable it is assigned to, an environment
variable — reports the literal with that name, at the line where the literal is written.
Judging whether the name and value make a secret is the caller's (secrets.py).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

_ENVIRON_CALLS = {"setdefault", "putenv", "get", "getenv"}


@dataclass(frozen=True)
class Reached:
    """A literal and a name it reaches."""

    line: int  # 1-based line of the script where the literal starts
    name: str  # `key` of wandb.login, `api_key`, `WANDB_API_KEY`, `Authorization` ...
    value: str
    env_like: bool  # the name is an environment variable's
    login: bool  # given to a `...login(...)` call


def reached_credentials(script: str) -> list[Reached]:
    """Every (literal, name) pair the script makes; a script that does not parse has none
    (the export has compiled it, so only a pathological one gets here)."""
    try:
        tree = ast.parse(script)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    flow = _Flow()
    try:
        flow.visit(tree)
    except RecursionError:  # a nesting too deep to walk: what was found so far stands
        pass
    return flow.found


class _Flow(ast.NodeVisitor):
    def __init__(self) -> None:
        self.bound: dict[str, tuple[int, str]] = {}
        self.found: list[Reached] = []

    def _reach(self, name: str, node: ast.AST | None, *, env_like: bool = False, login: bool = False) -> None:
        literal = self._literal(node)
        if literal is not None and name:
            self.found.append(Reached(literal[0], name, literal[1], env_like, login))

    def _literal(self, node: ast.AST | None) -> tuple[int, str] | None:
        """(line, text) of the literal `node` is or evaluates to, as far as can be told."""
        if isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)):
            value = node.value if isinstance(node.value, str) else node.value.decode("latin-1")
            return node.lineno, value
        if isinstance(node, ast.Name):
            return self.bound.get(node.id)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = self._literal(node.left), self._literal(node.right)
            return (left[0], left[1] + right[1]) if left and right else None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and not node.args:
            if node.func.attr in ("encode", "decode", "strip"):
                return self._literal(node.func.value)
        return None

    def visit_Assign(self, node: ast.Assign) -> None:
        self.generic_visit(node)
        for target in node.targets:
            self._assign(target, node.value)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self.generic_visit(node)
        if node.value is not None:
            self._assign(node.target, node.value)

    def _assign(self, target: ast.AST, value: ast.AST) -> None:
        literal = self._literal(value)
        if isinstance(target, ast.Name):
            if literal is not None:
                self.bound[target.id] = literal
                self._reach(target.id, value)
            else:
                self.bound.pop(target.id, None)
        elif isinstance(target, ast.Attribute):
            self._reach(target.attr, value)
        elif isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Constant):
            key = target.slice.value
            if isinstance(key, str):
                self._reach(key, value, env_like=_is_environ(target.value))

    def visit_Call(self, node: ast.Call) -> None:
        self.generic_visit(node)
        function = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        login = function.endswith("login")
        for keyword in node.keywords:
            if keyword.arg:
                self._reach(keyword.arg, keyword.value, login=login)
        environ = isinstance(node.func, ast.Attribute) and _is_environ(node.func.value)
        if (environ or function == "putenv") and function in _ENVIRON_CALLS and len(node.args) == 2:
            name = node.args[0]
            if isinstance(name, ast.Constant) and isinstance(name.value, str):
                self._reach(name.value, node.args[1], env_like=True)

    def visit_Dict(self, node: ast.Dict) -> None:
        self.generic_visit(node)
        for key, value in zip(node.keys, node.values, strict=True):
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                self._reach(key.value, value)


def _is_environ(node: ast.AST) -> bool:
    """`os.environ` or a bare `environ`."""
    return (isinstance(node, ast.Attribute) and node.attr == "environ") or (
        isinstance(node, ast.Name) and node.id == "environ"
    )
