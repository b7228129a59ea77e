"""Job inputs a run declares, recorded as W&B's own job builder (wandb-core) records them.

A run narrows what a job built from it may override with `manage_wandb_config(include,
exclude, schema)` and makes YAML/JSON files inputs with `manage_config_file(path, ...)`.
wandb-core then writes `wandb-job.json` with an empty `input_types` and puts the inputs in the
job artifact's *metadata*: `input_types` (`@wandb.config`: the filtered config's types,
`files`: each file's filtered types), `output_types` and, when schemas were given,
`input_schemas`. This module builds that metadata from the declarations, and checks the
overrides of a local run against it (the keys and, with a schema, type, enum and range).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from .errors import JobError

if TYPE_CHECKING:
    from .models import JobRecord

WANDB_CONFIG = "@wandb.config"
FILES = "files"
# Stored beside the job artifact's files (the store's digest covers it), never logged as a file.
METADATA_FILE = "artifact-metadata.json"
CONFIG_SUFFIXES = (".json", ".yaml", ".yml")
Key = tuple[str, ...]


@dataclass(frozen=True)
class Selection:
    """Which keys of a config are inputs (W&B's include/exclude key paths) and their JSON Schema."""

    include: tuple[Key, ...] = ()
    exclude: tuple[Key, ...] = ()
    schema: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class ConfigFile:
    """A config file declared as an input: its path relative to the code, and its snapshot."""

    path: str
    content: bytes = field(repr=False)
    selection: Selection = Selection()


@dataclass(frozen=True)
class JobInputs:
    """Everything a run declared; `config` is None when `wandb.config` was not declared."""

    config: Selection | None = None
    files: tuple[ConfigFile, ...] = ()

    def add_config(self, selection: Selection) -> JobInputs:
        """Another `manage_wandb_config`: key paths add up, the last schema wins (as in wandb-core)."""
        old = self.config or Selection()
        merged = Selection(old.include + selection.include, old.exclude + selection.exclude, selection.schema)
        return JobInputs(merged, self.files)

    def add_file(self, config_file: ConfigFile) -> JobInputs:
        """Another `manage_config_file`: a path declared again replaces its earlier declaration."""
        kept = tuple(f for f in self.files if f.path != config_file.path)
        return JobInputs(self.config, (*kept, config_file))


def split_key(dotted: str) -> Key:
    r"""`a.b` -> ("a", "b"); `a\.b` is the one key "a.b", as W&B spells key paths."""
    parts, part, escaped = [], "", False
    for char in dotted:
        if escaped:
            part += char if char == "." else "\\" + char
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ".":
            parts.append(part)
            part = ""
        else:
            part += char
    if escaped:
        raise JobError(f"Cannot read the key path {dotted!r}: it ends with a backslash", hint=r"write a\.b for a dot")
    return tuple([*parts, part] if part else parts)


def filter_tree(tree: Mapping[str, Any], include: Sequence[Key], exclude: Sequence[Key]) -> dict[str, Any]:
    """The leaves of `tree` under an `include` prefix (all, if none) and under no `exclude` prefix.

    wandb-core's rule: the tree is flattened to its leaf paths, excluded prefixes are pruned,
    then only paths with an included prefix are kept; empty sub-dicts have no leaves and go.
    """
    kept: dict[str, Any] = {}
    for path, value in _leaves(tree, ()):
        if any(path[: len(prefix)] == prefix for prefix in exclude):
            continue
        if include and not any(path[: len(prefix)] == prefix for prefix in include):
            continue
        node = kept
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value
    return kept


def _leaves(tree: Mapping[str, Any], prefix: Key) -> Iterable[tuple[Key, Any]]:
    for key, value in tree.items():
        if isinstance(value, Mapping):
            yield from _leaves(value, (*prefix, key))
        else:
            yield (*prefix, key), value


def read_config(path: str, content: bytes) -> dict[str, Any]:
    """A config file's content as a dict (YAML or JSON by its suffix)."""
    import yaml

    try:
        tree = json.loads(content) if path.endswith(".json") else yaml.safe_load(content)
    except (ValueError, yaml.YAMLError) as err:
        raise JobError(f"Cannot read the config file {path}: {' '.join(str(err).split())[:200]}") from None
    if not isinstance(tree, dict):
        raise JobError(f"The config file {path} does not hold a mapping of keys to values")
    return tree


def job_metadata(inputs: JobInputs, config: Mapping[str, Any], output_types: Mapping[str, Any]) -> dict[str, Any]:
    """The job artifact's metadata, in wandb-core's shape (`MakeJobMetadata`), keys sorted."""
    from .jobspec import type_json

    input_types: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    if inputs.files:
        input_types[FILES] = {path: type_json(values) for path, values in file_values(inputs).items()}
        file_schemas = {f.path: dict(f.selection.schema) for f in inputs.files if f.selection.schema}
        if file_schemas:
            schemas[FILES] = file_schemas
    if inputs.config is not None:
        selection = inputs.config
        own = {key: value for key, value in config.items() if key != "_wandb"}  # wandb-core leaves it out too
        input_types[WANDB_CONFIG] = type_json(filter_tree(own, selection.include, selection.exclude))
        if selection.schema:
            schemas[WANDB_CONFIG] = dict(selection.schema)
    metadata = {"input_types": input_types, "output_types": dict(output_types)}
    if schemas:
        metadata["input_schemas"] = schemas
    return dict(sorted(metadata.items()))


def file_values(inputs: JobInputs) -> dict[str, dict[str, Any]]:
    """Each declared file's kept keys with their values (the defaults a launch starts from)."""
    return {
        f.path: filter_tree(read_config(f.path, f.content), f.selection.include, f.selection.exclude)
        for f in inputs.files
    }


def metadata_bytes(metadata: Mapping[str, Any]) -> bytes:
    return json.dumps(metadata, indent=2, sort_keys=True).encode()


def config_types(record: JobRecord) -> dict[str, Any]:
    """The types of the `wandb.config` keys a launch may override: declared ones, else the spec's."""
    if record.metadata is None:
        return record.input_types
    return record.metadata["input_types"].get(WANDB_CONFIG) or {}


def file_types(record: JobRecord) -> dict[str, dict[str, Any]]:
    """Each declared config file's filtered types, by relative path."""
    return ((record.metadata or {}).get("input_types") or {}).get(FILES) or {}


def schemas(record: JobRecord) -> dict[str, Any]:
    return (record.metadata or {}).get("input_schemas") or {}


def check_relative_path(path: str) -> str:
    """W&B's rule for a config file path: relative, no `..`, JSON or YAML; in POSIX form."""
    posix = PurePosixPath(path.replace("\\", "/"))
    if posix.is_absolute() or ".." in posix.parts or not posix.parts:
        raise JobError(f"Invalid config file path {path}", hint="give a relative path without '..'")
    if posix.suffix not in CONFIG_SUFFIXES:
        raise JobError(f"Invalid config file path {path}: only JSON and YAML files can be inputs")
    return str(posix)


def check_config_overrides(record: JobRecord, overrides: Mapping[str, Any]) -> None:
    """Overrides of `wandb.config` name keys the job takes and, with a schema, obey it."""
    from .models import type_rows

    known = sorted({key.split(".")[0] for key, _ in type_rows(config_types(record))})
    unknown = sorted(set(overrides) - set(known))
    if unknown:
        raise JobError(
            f"The job has no config key {', '.join(unknown)}",
            hint=f"known keys: {', '.join(known) if known else 'none (the job takes no config)'}",
        )
    schema = schemas(record).get(WANDB_CONFIG)
    labels = dict(type_rows(config_types(record)))
    for key, value in overrides.items():
        _check_value(schema, (key,), value, "config key", _JSON_TYPES.get(labels.get(key, "")))


# A key without a schema still has the type W&B recorded for its default; a value of another
# type is refused by the same schema check (`learning_rate=abc` for a number).
_JSON_TYPES = {"number": "number", "string": "string", "boolean": "boolean"}


def check_file_overrides(record: JobRecord, overrides: Mapping[str, Mapping[str, Any]]) -> None:
    """Overrides of a config file name a declared file and keys it holds, and obey its schema."""
    from .models import type_rows

    declared = file_types(record)
    for path, tree in overrides.items():
        if path not in declared:
            names = ", ".join(sorted(declared)) or "none (the job declares no config file)"
            raise JobError(f"The job has no config file {path}", hint=f"its config files: {names}")
        known = [split_key(key) for key, _ in type_rows(declared[path])]
        schema = (schemas(record).get(FILES) or {}).get(path)
        for key, value in _leaves(tree, ()):
            if not any(known_key[: len(key)] == key or key[: len(known_key)] == known_key for known_key in known):
                shown = ", ".join(".".join(k) for k in known) or "none"
                raise JobError(f"{path} has no input key {'.'.join(key)}", hint=f"its input keys: {shown}")
            _check_value(schema, key, value, f"{path} key")


def _check_value(
    schema: Mapping[str, Any] | None, key: Key, value: Any, label: str, recorded_type: str | None = None
) -> None:
    """One line naming the key and the schema rule the value breaks (type, enum, minimum, ...);
    without a schema rule, the JSON type of the key's recorded W&B type is the rule."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    rule = _property(schema, key) or ({"type": recorded_type} if recorded_type else None)
    if rule is None:
        return
    error = best_match(Draft202012Validator(_standard(rule)).iter_errors(value))
    if error is not None:
        raise JobError(
            f"{label} {'.'.join(key)}={json.dumps(value)} breaks the schema's '{error.validator}' rule: "
            f"{error.message}",
            hint=describe(rule) or None,
        )


def _property(schema: Mapping[str, Any] | None, key: Key) -> Mapping[str, Any] | None:
    """The sub-schema for a key path, following `properties`; None when the schema says nothing."""
    node = schema
    for part in key:
        if not isinstance(node, Mapping):
            return None
        node = (node.get("properties") or {}).get(part)
    return node if isinstance(node, Mapping) else None


def _standard(schema: Any) -> Any:
    """W&B's schemas may say `"required": true` on a property (its Launch drawer reads it); JSON
    Schema's `required` is a list, so the boolean form is dropped before validating."""
    if isinstance(schema, Mapping):
        return {k: _standard(v) for k, v in schema.items() if not (k == "required" and isinstance(v, bool))}
    if isinstance(schema, list):
        return [_standard(item) for item in schema]
    return schema


def describe(rule: Mapping[str, Any]) -> str:
    """A property's constraints in a few words: `integer, 1 <= x <= 10`, `one of adam, sgd`."""
    words = [str(rule["type"])] if "type" in rule else []
    low = [f"{rule[k]} {op} " for k, op in (("minimum", "<="), ("exclusiveMinimum", "<")) if k in rule]
    high = [f" {op} {rule[k]}" for k, op in (("maximum", "<="), ("exclusiveMaximum", "<")) if k in rule]
    if low or high:
        words.append(f"{''.join(low)}x{''.join(high)}")
    if "enum" in rule:
        words.append("one of " + ", ".join(str(choice) for choice in rule["enum"]))
    if rule.get("description"):
        words.append(str(rule["description"]))
    return ", ".join(words)


def load_schema(path: str) -> dict[str, Any]:
    """A JSON Schema file for `--schema`, checked against W&B's meta-schema for Launch inputs."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match
    from wandb.sdk.launch.inputs.schema import META_SCHEMA

    try:
        schema = json.loads(Path(path).expanduser().read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise JobError(f"Cannot read the schema {path}: {' '.join(str(err).split())[:200]}") from None
    error = best_match(Draft202012Validator(META_SCHEMA).iter_errors(schema))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "the top level"
        raise JobError(f"The schema {path} is not one W&B Launch reads: at {where}, {error.message}")
    return schema


def from_options(
    folder: Path, files: Sequence[str], include: Sequence[str], exclude: Sequence[str], schemas: Sequence[str]
) -> JobInputs | None:
    """Inputs declared on the command line, as a run declares them.

    `--include`, `--exclude` and `--schema` shape `wandb.config`; prefixed with a declared
    file's path (`config.yaml:training`, `config.yaml:schema.json`) they shape that file.
    """
    paths = [check_relative_path(given) for given in files]
    scoped = {target: _scope(values, paths) for target, values in (("in", include), ("ex", exclude), ("sc", schemas))}
    inputs = JobInputs()
    if any(None in found for found in scoped.values()):
        inputs = inputs.add_config(_selection(scoped, None))
    for path in paths:
        try:
            content = (folder / path).read_bytes()
        except OSError:
            hint = f"paths are relative to {folder}"
            raise JobError(f"No config file {path} next to the notebook", hint=hint) from None
        read_config(path, content)
        inputs = inputs.add_file(ConfigFile(path, content, _selection(scoped, path)))
    return inputs if inputs.config is not None or inputs.files else None


def _scope(values: Sequence[str], paths: Sequence[str]) -> dict[str | None, list[str]]:
    """Option values by what they shape: a declared file's path, or None for `wandb.config`."""
    scoped: dict[str | None, list[str]] = {}
    for value in values:
        target, sep, rest = value.partition(":")
        if sep and target in paths:
            scoped.setdefault(target, []).append(rest)
        else:
            scoped.setdefault(None, []).append(value)
    return scoped


def _selection(scoped: Mapping[str, Mapping[str | None, list[str]]], target: str | None) -> Selection:
    schemas = scoped["sc"].get(target, [])
    if len(schemas) > 1:
        raise JobError(f"More than one --schema for {target or 'wandb.config'}", hint="give one schema each")
    return Selection(
        tuple(split_key(key) for key in scoped["in"].get(target, [])),
        tuple(split_key(key) for key in scoped["ex"].get(target, [])),
        load_schema(schemas[0]) if schemas else None,
    )


# ----------------------------------------------------------------------------- display


@dataclass(frozen=True)
class InputRow:
    """One key a launch may override: from `wandb.config` (source None) or a config file."""

    source: str | None
    key: str  # dotted
    type: str
    value: Any  # the default (the run's config or the file's value); MISSING when unknown
    rule: Mapping[str, Any] | None  # the schema's property for the key, when it says anything

    @property
    def default(self) -> str:
        return "" if self.value is MISSING else repr(self.value)

    @property
    def allowed(self) -> str:
        """The rule in words, "" without one."""
        return describe(self.rule) if self.rule else ""

    def to_json(self) -> dict[str, Any]:
        """What the panel's Run form is made from: typed fields, defaults and ranges."""
        facts = {"source": self.source, "key": self.key, "type": self.type, "allowed": self.allowed}
        facts |= {"default": self.value} if self.value is not MISSING else {}
        return facts | ({"rule": dict(self.rule)} if self.rule else {})


MISSING = object()


def input_rows(record: JobRecord) -> list[InputRow]:
    """The job's inputs with defaults and the declared schemas' rules, config keys first."""
    from .models import type_rows

    declared = schemas(record)
    sources: list[tuple[str | None, dict[str, Any], Mapping[str, Any], Mapping[str, Any] | None]] = [
        (None, config_types(record), record.config, declared.get(WANDB_CONFIG))
    ]
    files = record.config_files or {}
    sources += [
        (path, types, files.get(path) or {}, (declared.get(FILES) or {}).get(path))
        for path, types in file_types(record).items()
    ]
    return [
        InputRow(source, key, kind, value_at(values, key), rule_for(schema, key))
        for source, types, values, schema in sources
        for key, kind in type_rows(types)
    ]


def value_at(values: Mapping[str, Any], dotted_key: str) -> Any:
    """The value at `a.b.c`; MISSING when it is not there."""
    value: Any = values
    for part in dotted_key.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return MISSING
        value = value[part]
    return value


def rule_for(schema: Mapping[str, Any] | None, dotted_key: str) -> Mapping[str, Any] | None:
    """The schema's property for a dotted key (nested objects followed), if it says anything."""
    rule = _property(schema, split_key(dotted_key))
    return rule if rule and describe(rule) else None


def input_line(row: InputRow) -> str:
    """`key: type = default (constraints)`, prefixed with the config file it lives in."""
    where = f"{row.source}:" if row.source else ""
    default = f" = {row.default}" if row.default else ""
    allowed = f" ({row.allowed})" if row.allowed else ""
    return f"{where}{row.key}: {row.type}{default}{allowed}"
