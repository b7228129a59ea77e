"""The panel's TypeScript types (js/src/tokens.ts) say what models.py says: same fields, and a
field may be null in one exactly when it may be None in the other. A record field added or
renamed on one side only fails here, before the panel reads a key that is not there."""

from __future__ import annotations

import re
from pathlib import Path

import msgspec
import pytest

from jupyter_jobs import models

TOKENS = Path(__file__).resolve().parents[1] / "js" / "src" / "tokens.ts"
# TypeScript interface -> the Struct it mirrors.
MIRRORS = {
    "IJobRecord": models.JobRecord,
    "IDecisionStep": models.SourceCheck,
    "INamePart": models.NamePart,
    "INaming": models.Naming,
    "ICodeArtifact": models.CodeArtifact,
    "IGitSource": models.GitSource,
    "IIncludedFile": models.IncludedFile,
    "IRewrite": models.Rewrite,
    "IJobSummary": models.JobSummary,
    "IJobList": models.JobList,
    "IJobRun": models.RunOutcome,
    "IJobRuns": models.JobRuns,
    "IChange": models.Change,
    "IComparison": models.Comparison,
    "IStoredFile": models.StoredFile,
}


def interfaces(source: str) -> dict[str, dict[str, str]]:
    """Each `export interface` of a TypeScript file: its top-level fields and their types."""
    found = {}
    for name, body in re.findall(r"^export interface (\w+) \{\n(.*?)^\}", source, re.M | re.S):
        fields = re.findall(r"^  (\w+)\??: (.+?);$", body, re.M)
        found[name] = dict(fields)
    return found


def nullable(field: msgspec.inspect.Field) -> bool:
    kind = field.type
    return isinstance(kind, msgspec.inspect.UnionType) and kind.includes_none


@pytest.mark.parametrize("interface", sorted(MIRRORS))
def test_the_panels_types_match_the_models(interface: str) -> None:
    declared = interfaces(TOKENS.read_text())
    assert interface in declared, f"{interface} is missing from {TOKENS.name}"
    fields = {field.name: field for field in msgspec.inspect.type_info(MIRRORS[interface]).fields}
    ts_fields = declared[interface]

    assert sorted(ts_fields) == sorted(fields), f"{interface} and {MIRRORS[interface].__name__} differ"
    for name, field in fields.items():
        assert ("null" in ts_fields[name]) == nullable(field), f"{interface}.{name}: nullable on one side only"


def test_the_check_reads_fields_and_nulls() -> None:
    """The parser sees what the test relies on: fields, optional fields and null."""
    parsed = interfaces("export interface IX {\n  a: string;\n  b?: number | null;\n}\n")
    assert parsed == {"IX": {"a": "string", "b": "number | null"}}
