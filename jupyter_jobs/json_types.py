"""W&B's type JSON for JSON-native values (numbers, strings, bools, None, lists and dicts of
them), computed without importing wandb.

A job's `input_types` and `output_types` are what wandb's `TypeRegistry.type_of(value)
.to_json()` gives for its config and summary. Importing wandb for that costs about 0.6 s,
most of a store-only `jupyter jobs create`. Config and summary values are almost always
JSON-native, and for those the registry's rules are few: this module is those rules, kept
to the letter (including how a list's element type is merged item by item, how unions are
ordered by their text, and that a list type accepts any iterable, a string's characters
included). A property test checks it against TypeRegistry on generated values. Anything else
(numpy numbers, dates, artifacts, subclasses of dict or str, ...) is `NotJsonNative`: the
caller asks TypeRegistry.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any


class NotJsonNative(Exception):
    """The value holds something only wandb's TypeRegistry knows how to type."""


class _Type:
    """One of TypeRegistry's types: a name and its parameters (types, a length, a type map)."""

    name = ""

    def params(self) -> dict[str, Any]:
        return {}

    def assign(self, value: Any) -> _Type:
        """The type after also holding `value` (TypeRegistry's `Type.assign`)."""
        return self.assign_type(type_of(value))

    def assign_type(self, other: _Type) -> _Type:
        """The type after also holding a value of type `other`, or Invalid."""
        return self if type(other) is type(self) and self == other else _INVALID

    def to_json(self) -> dict[str, Any]:
        params = _params_json(self.params())
        return {"wb_type": self.name, "params": params} if params else {"wb_type": self.name}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Type) and self.name == other.name and self.params() == other.params()

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        """TypeRegistry's text of the type, which orders the members of a union."""
        params = self.params()
        inner = ", ".join(f"{key}:{value}" for key, value in params.items())
        return self.name.capitalize() + (f"({inner})" if params else "")


class _Simple(_Type):
    def __init__(self, name: str) -> None:
        self.name = name


class _Invalid(_Type):
    name = "invalid"

    def assign_type(self, other: _Type) -> _Type:
        return self


class _Unknown(_Type):
    name = "unknown"

    def assign_type(self, other: _Type) -> _Type:
        return _INVALID if other == _NONE else other


class _List(_Type):
    name = "list"

    def __init__(self, element: _Type, length: int | None) -> None:
        self.element, self.length = element, length

    def params(self) -> dict[str, Any]:
        return {"element_type": self.element, "length": self.length}

    def assign(self, value: Any) -> _Type:
        if not isinstance(value, (str, list, tuple, dict)):  # what has __iter__ among JSON values
            return _INVALID
        element = self.element
        for item in value:
            element = element.assign(item)
            if element is _INVALID:
                return _INVALID
        return _List(element, len(value))

    def assign_type(self, other: _Type) -> _Type:
        if isinstance(other, _List):
            element = self.element.assign_type(other.element)
            if element is not _INVALID:
                return _List(element, self.length if self.length == other.length else None)
        return _INVALID

    def __repr__(self) -> str:
        return f"{self.element!r}[]"


class _Dict(_Type):
    name = "typedDict"

    def __init__(self, type_map: dict[str, _Type]) -> None:
        self.type_map = type_map

    def params(self) -> dict[str, Any]:
        return {"type_map": self.type_map}

    def assign(self, value: Any) -> _Type:
        if not (isinstance(value, dict) and value.keys() <= self.type_map.keys()):
            return _INVALID
        return self._merged(lambda key, member: member.assign(value.get(key)))

    def assign_type(self, other: _Type) -> _Type:
        if not (isinstance(other, _Dict) and other.type_map.keys() <= self.type_map.keys()):
            return _INVALID
        return self._merged(lambda key, member: member.assign_type(other.type_map.get(key, _Unknown())))

    def _merged(self, merge: Callable[[str, _Type], _Type]) -> _Type:
        """Each member merged in key order; Invalid as soon as one is."""
        type_map = {}
        for key, member in self.type_map.items():
            type_map[key] = merge(key, member)
            if type_map[key] is _INVALID:
                return _INVALID
        return _Dict(type_map)

    def __repr__(self) -> str:
        return repr(self.type_map)


class _Union(_Type):
    name = "union"

    def __init__(self, allowed: list[_Type]) -> None:
        self.allowed = sorted(_flattened(allowed), key=repr)

    def params(self) -> dict[str, Any]:
        return {"allowed_types": self.allowed}

    def assign(self, value: Any) -> _Type:
        return self._resolved([value], type_mode=False)

    def assign_type(self, other: _Type) -> _Type:
        return self._resolved(other.allowed if isinstance(other, _Union) else [other], type_mode=True)

    def _resolved(self, assignees: list[Any], type_mode: bool) -> _Type:
        allowed = self.allowed
        for assignee in assignees:
            assigned = _union_assigned(allowed, assignee, type_mode)
            if assigned is None:
                return _INVALID
            allowed = assigned
        return _Union(allowed)

    def __repr__(self) -> str:
        return " or ".join(repr(member) for member in self.allowed)


_INVALID = _Invalid()
_NONE = _Simple("none")
_SCALARS = {type(None): _NONE, str: _Simple("string"), int: _Simple("number"), float: _Simple("number")}
_SCALARS[bool] = _Simple("boolean")


def type_json(value: Any) -> dict[str, Any]:
    """TypeRegistry.type_of(value).to_json(), or NotJsonNative."""
    return type_of(value).to_json()


def type_of(value: Any) -> _Type:
    """TypeRegistry.type_of for a JSON-native value (by exact class, as the registry looks up)."""
    kind = type(value)
    if kind is float and math.isnan(value):
        return _NONE
    if kind is str and value.startswith("wandb-artifact://"):
        raise NotJsonNative("an artifact reference")
    if kind in _SCALARS:
        return _SCALARS[kind]
    if kind is dict:
        if value.get("_type") == "artifactVersion" or not all(type(key) is str for key in value):
            raise NotJsonNative("an artifact, or keys that are not strings")
        return _Dict({key: type_of(member) for key, member in value.items()})
    if kind in (list, tuple):
        element: _Type = _Union([_Unknown(), _NONE]) if None in value else _Unknown()
        for item in value:
            element = element.assign(item)
        return _List(element, len(value))
    raise NotJsonNative(kind.__name__)


def _union_assigned(allowed: list[_Type], assignee: Any, type_mode: bool) -> list[_Type] | None:
    """TypeRegistry's `_union_assigner`: the first member that takes `assignee` absorbs it,
    else an unknown member becomes its type; None when nothing can take it."""
    resolved: list[_Type] = []
    valid = False
    unknowns = 0
    for member in allowed:
        if valid:
            resolved.append(member)
        elif isinstance(member, _Unknown):
            unknowns += 1
        else:
            assigned = member.assign_type(assignee) if type_mode else member.assign(assignee)
            valid = assigned is not _INVALID
            resolved.append(assigned if valid else member)
    if not valid:
        if not unknowns:
            return None
        new = assignee if type_mode else _Unknown().assign(assignee)
        if new is _INVALID:
            return None
        resolved.append(new)
        unknowns -= 1
    resolved.extend(_Unknown() for _ in range(unknowns))
    return sorted(_flattened(resolved), key=repr)


def _flattened(types: list[_Type]) -> list[_Type]:
    flat: list[_Type] = []
    for member in types:
        flat.extend(_flattened(member.allowed) if isinstance(member, _Union) else [member])
    return flat


def _params_json(params: Any) -> Any:
    """TypeRegistry's `_params_obj_to_json_obj`."""
    if isinstance(params, dict):
        return {key: _params_json(value) for key, value in params.items()}
    if isinstance(params, list):
        return [_params_json(item) for item in params]
    if isinstance(params, _Type):
        return params.to_json()
    return params
