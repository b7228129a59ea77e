"""The export on a corpus of W&B-style notebooks, compared with nbconvert and W&B Launch's converter.

The notebooks are written by ``tests/corpus/make_corpus.py``; what each must export to is listed
here (requirements in order, and the set of rewrite kinds reported).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from jupyter_jobs.export import launch_converter_hazards

from .helpers import export_file, run_plain

CORPUS = Path(__file__).parent / "corpus"

EXPECTED: dict[str, tuple[tuple[str, ...], set[str]]] = {
    "artifacts_and_job": ((), {"jupyter-jobs"}),
    "autoreload": ((), {"dropped"}),
    "bash_cell": ((), {"shell"}),
    "capture_install": (("wandb", "torch", "torchvision"), {"capture", "pip-install"}),
    "captured_shell": ((), {"shell-capture"}),
    "colab_drive": ((), {"cd", "shell"}),
    "conda_install": (("scikit-learn==1.4", "xgboost"), {"pip-install"}),
    "data_prep_wget": ((), {"cd", "shell", "shell-capture"}),
    "env_magics": ((), {"env"}),
    "help_and_timing": ((), {"help", "time"}),
    "hf_finetune": (("transformers", "datasets", "accelerate", "evaluate>=0.4"), {"env", "login", "pip-install"}),
    "indented_shell_loops": ((), {"shell"}),
    "keras_tutorial": (("tensorflow>=2.15", "wandb"), {"pip-install"}),
    "large_outputs": (("pandas",), {"pip-install"}),
    "legacy_v3": (("wandb",), {"dropped", "pip-install"}),
    "markdown_heavy": ((), set()),
    "matplotlib_inline": ((), {"dropped"}),
    "nbformat_4_0": (("wandb",), {"dropped", "pip-install"}),
    "nbformat_4_2": ((), {"dropped", "time"}),
    "no_outputs": ((), set()),
    "non_python_cells": ((), {"non-python", "unknown-magic"}),
    "pytorch_lightning": (("lightning", "wandb", "torchmetrics>=1.0"), {"pip-install"}),
    "quickstart_tutorial": (("wandb",), {"login", "pip-install"}),
    "raw_cells": ((), set()),
    "requirements_file": (("torch",), {"pip-install"}),
    "run_script_args": ((), {"run", "writefile"}),
    "sweeps": (("wandb",), {"pip-install"}),
    "sys_executable_pip": (("xgboost>=2.0", "lightgbm"), {"pip-install"}),
    "top_level_await": ((), {"await"}),
    "wandb_cell_magic": ((), {"dropped", "wrapper"}),
    "writefile_then_run": ((), {"run", "shell", "writefile"}),
}

# Notebooks whose code needs nothing beyond the standard library and a shell, and what they print.
RUNNABLE: dict[str, str] = {
    "bash_cell": "done\nfrom sh\ndone\n\n",
    "env_magics": "my-project my-team offline\n",
    "indented_shell_loops": "processing a\nprocessing b\nfetching https://example.com\n",
    "no_outputs": '{"lr": 0.1}\n45\n',
    "raw_cells": "1\n",
    "markdown_heavy": "only code\n",
    "run_script_args": "['--size', '10']\n",
    "top_level_await": "[0, 2, 4]\n6\n",
    "captured_shell": None,
}


def corpus_paths() -> list[Path]:
    return sorted(CORPUS.glob("*.ipynb"))


def is_plain_python(script: str) -> bool:
    """What a W&B job needs: the script compiles and does not call into IPython."""
    try:
        compile(script, "script.py", "exec", dont_inherit=True)
    except SyntaxError:
        return False
    return "get_ipython" not in script


def test_corpus_is_complete_and_large_enough() -> None:
    names = {path.stem for path in corpus_paths()}
    assert names == set(EXPECTED)
    assert len(names) >= 25


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_notebook_exports_to_plain_python(name: str) -> None:
    result = export_file(CORPUS / f"{name}.ipynb")
    requirements, kinds = EXPECTED[name]
    assert is_plain_python(result.script)
    assert result.requirements == requirements
    assert {rewrite.kind for rewrite in result.rewrites} == kinds
    assert len(result.line_origins) == len(result.script.splitlines())


@pytest.mark.parametrize("name", sorted(RUNNABLE))
def test_offline_corpus_notebooks_run_under_plain_python(name: str, tmp_path: Path) -> None:
    printed = run_plain(export_file(CORPUS / f"{name}.ipynb").script, tmp_path)
    if RUNNABLE[name] is not None:
        assert printed == RUNNABLE[name]


def test_nbconvert_fails_where_jupyter_jobs_succeeds() -> None:
    """nbconvert's PythonExporter (what W&B Launch uses) vs ours, on the same notebooks."""
    from nbconvert import PythonExporter

    exporter = PythonExporter()
    broken_by_nbconvert = {
        path.stem for path in corpus_paths() if not is_plain_python(exporter.from_filename(str(path))[0])
    }
    ours_plain = {path.stem for path in corpus_paths() if is_plain_python(export_file(path).script)}
    assert ours_plain == set(EXPECTED)
    assert len(broken_by_nbconvert) >= 20
    assert broken_by_nbconvert <= ours_plain
    assert {"no_outputs", "markdown_heavy"}.isdisjoint(broken_by_nbconvert)


@pytest.mark.parametrize("path", [path for path in corpus_paths() if path.stem != "legacy_v3"], ids=lambda p: p.stem)
def test_hazards_predict_wandb_launch_converter_failures(path: Path, tmp_path: Path) -> None:
    """Run W&B's own converter: its script breaks exactly when we report a breaking hazard.
    (The v3 notebook is left out: W&B's converter cannot read nbformat 3 at all.)"""
    from wandb.sdk.launch.utils import convert_jupyter_notebook_to_script

    shutil.copy(path, tmp_path / path.name)
    converted = tmp_path / convert_jupyter_notebook_to_script(path.name, str(tmp_path))
    hazards = launch_converter_hazards(export_file(path))
    breaking = [hazard for hazard in hazards if "dropped by the converter" not in hazard]
    assert bool(breaking) == (not is_plain_python(converted.read_text(encoding="utf-8")))
    assert all(hazard.startswith("cell ") for hazard in hazards)


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.ipynb")), ids=lambda p: p.name)
def test_an_export_from_remembered_parses_equals_a_cold_one(path: Path) -> None:
    """A warm kernel's export reuses each cell's remembered transform, syntax tree and compile
    check (and the hazards' own): the script, rewrites, warnings and hazards are those of an
    export that remembered nothing."""
    from jupyter_jobs.export.ipython import clear_caches

    clear_caches()
    cold = export_file(path)
    cold_hazards = launch_converter_hazards(cold)
    for _ in range(2):  # the second and third exports find everything remembered
        warm = export_file(path)
        assert (warm.script, warm.rewrites, warm.warnings, warm.requirements, warm.line_origins) == (
            cold.script,
            cold.rewrites,
            cold.warnings,
            cold.requirements,
            cold.line_origins,
        )
        assert launch_converter_hazards(warm) == cold_hazards
