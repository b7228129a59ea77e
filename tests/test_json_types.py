"""W&B type JSON without wandb: equal to TypeRegistry's for every JSON-native value."""

from __future__ import annotations

import datetime
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wandb.sdk.data_types._dtypes import TypeRegistry

from jupyter_jobs import jobspec
from jupyter_jobs.json_types import NotJsonNative, type_json

from .helpers import REPO_ROOT, notebook_json

pytestmark = pytest.mark.wandb_facing

# Short keys and strings, so that dicts share keys and lists mix types: the merging rules
# (unions, typed dicts with missing keys, lists of lists, strings iterated as lists) are hit.
keys = st.sampled_from(["a", "b", "c", "lr", ""])
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from(["", "a", "ab", "abc", "wandb"])
    | st.text(max_size=4)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.tuples(children, children) | st.dictionaries(keys, children, max_size=4)
    ),
    max_leaves=25,
)


def registry(value: object) -> dict:
    return TypeRegistry.type_of(value).to_json()


@settings(max_examples=2000, deadline=None)
@given(value=json_values)
def test_json_native_values_are_typed_as_type_registry_types_them(value: object) -> None:
    assert type_json(value) == registry(value)


@settings(max_examples=300, deadline=None)
@given(config=st.dictionaries(st.text(max_size=8), json_values, max_size=6))
def test_configs_are_typed_as_type_registry_types_them(config: dict) -> None:
    assert jobspec.type_json(config) == registry(config)


@pytest.mark.parametrize(
    "value",
    [
        {"a": [1, "x", None, [1, 2], [1, 2, 3], {"a": 1}, {"b": "c"}, "xyz"]},
        [[1], "ab", {"a": 1}, {"a": None, "b": 2}],
        [None, None, {"a": 1}, {"a": "s"}, {"a": [1]}],
        [float("nan"), 1.0, math.inf],
        [[], [None], [[1]], "", {}],
    ],
)
def test_awkward_mixtures_are_typed_as_type_registry_types_them(value: object) -> None:
    assert type_json(value) == registry(value)


@pytest.mark.parametrize(
    "value",
    [
        {"when": datetime.date(2024, 1, 1)},
        {"model": "wandb-artifact://entity/project/model:v1"},
        {"data": {"_type": "artifactVersion", "id": "x"}},
        {1: "integer key"},
        {"nested": [object()]},
    ],
)
def test_anything_else_goes_to_type_registry(value: dict) -> None:
    with pytest.raises(NotJsonNative):
        type_json(value)
    assert jobspec.type_json(value) == registry(value)


@pytest.mark.parametrize("settings_file", [None, "[default]\n\n"], ids=["no settings file", "bare settings file"])
def test_a_store_only_create_never_imports_wandb(tmp_path: Path, settings_file: str | None) -> None:
    """`jupyter jobs create --dry-run` (and a create that only stores) types its config without
    wandb: checked on the modules the process imported, not on a timer. A settings file that
    sets nothing (a bare `[default]`) gives wandb nothing to say either."""
    notebook = tmp_path / "train.ipynb"
    notebook.write_text(
        notebook_json("import wandb\nrun = wandb.init(config={'lr': 0.1, 'layers': [64, 32], 'opt': {'name': 'adam'}})")
    )
    probe = (
        "import sys\n"
        "from jupyter_jobs.cli import main\n"
        "code = main(sys.argv[1:])\n"
        "print(sorted(name for name in sys.modules if name == 'wandb' or name.startswith('wandb.')))\n"
        "sys.exit(code)\n"
    )
    # A user without wandb settings files or credentials: nothing for wandb to say about the entity.
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("WANDB_", "NETRC"))}
    environment.update(PYTHONPATH=str(REPO_ROOT), HOME=str(tmp_path), WANDB_CONFIG_DIR=str(tmp_path / "config"))
    if settings_file is not None:
        (tmp_path / "config").mkdir()
        (tmp_path / "config" / "settings").write_text(settings_file)
    for extra in (["--dry-run"], []):
        command = ["create", str(notebook), "--store", str(tmp_path / "store"), "--json", "--no-git", *extra]
        done = subprocess.run(
            [sys.executable, "-c", probe, *command],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=environment,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        *record, imported = done.stdout.strip().splitlines()
        assert imported == "[]"
        types = json.loads("\n".join(record))["input_types"]
        assert types == registry({"lr": 0.1, "layers": [64, 32], "opt": {"name": "adam"}})
