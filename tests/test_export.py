"""Notebook -> plain-Python export: every rewrite rule, run for real under plain ``python``."""

from __future__ import annotations

import gc
import json
import tracemalloc
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nbformat.v4 import new_code_cell, new_markdown_cell, new_raw_cell

from jupyter_jobs.errors import JobError
from jupyter_jobs.export import (
    ExportResult,
    annotated_script,
    export_notebook_text,
    export_text,
    launch_converter_hazards,
    read_source_bytes,
)
from jupyter_jobs.export.hazards import cell_hazards, raw_cell_hazards
from jupyter_jobs.export.installs import Install, parse_install
from jupyter_jobs.export.ipython import transformed_by_line, transformer
from jupyter_jobs.notebook import code_cell_outputs, read_notebook

from .helpers import export_file, notebook_json, run_plain

CELL_TYPES = {"code": new_code_cell, "markdown": new_markdown_cell, "raw": new_raw_cell}


def notebook_text(*cells: str | tuple[str, str], language: str = "python") -> str:
    """Notebook JSON whose cells are code sources, or (cell_type, source) pairs."""
    built = [cell if isinstance(cell, str) else CELL_TYPES[cell[0]](cell[1]) for cell in cells]
    return notebook_json(*built, language=language)


def export(*cells: str | tuple[str, str]) -> ExportResult:
    return export_notebook_text(notebook_text(*cells), "nb.ipynb")


def kinds(result: ExportResult) -> list[str]:
    return [rewrite.kind for rewrite in result.rewrites]


def assert_plain(result: ExportResult) -> None:
    compile(result.script, "exported.py", "exec", dont_inherit=True)
    assert "get_ipython" not in result.script


# --------------------------------------------------------------------------- shell


def test_shell_line_runs_in_a_subprocess_and_is_reported(tmp_path: Path) -> None:
    result = export("print('before')\n!echo hi")
    assert_plain(result)
    assert run_plain(result.script, tmp_path) == "before\nhi\n"
    (rewrite,) = result.rewrites
    assert (rewrite.cell, rewrite.line, rewrite.kind, rewrite.original) == (1, 2, "shell", "!echo hi")
    assert "subprocess.run(" in rewrite.replacement and "shell=True" in rewrite.replacement


def test_indented_shell_lines_inside_blocks_expand_python_names(tmp_path: Path) -> None:
    result = export(
        "items = ['a', 'b']",
        "for index, item in enumerate(items):\n    if index >= 0:\n        !echo $index {item.upper()}",
    )
    assert_plain(result)
    assert run_plain(result.script, tmp_path) == "0 A\n1 B\n"
    assert [(r.cell, r.line, r.kind) for r in result.rewrites] == [(2, 3, "shell")]


def test_unknown_dollar_names_reach_the_shell_as_ipython_leaves_them(tmp_path: Path) -> None:
    result = export("!echo $GREETING")
    assert run_plain(result.script, tmp_path, env={"GREETING": "from-the-shell"}) == "from-the-shell\n"


def test_braces_naming_undefined_python_names_are_kept_with_a_warning(tmp_path: Path) -> None:
    result = export("!echo {undefined_name}")
    assert run_plain(result.script, tmp_path) == "{undefined_name}\n"
    assert any("undefined_name" in warning and "Cell 1" in warning for warning in result.warnings)


def test_captured_shell_output_is_a_list_of_lines(tmp_path: Path) -> None:
    (tmp_path / "one.txt").write_text("")
    (tmp_path / "two.txt").write_text("")
    result = export("files = !ls *.txt\nerrors = !echo oops 1>&2\nprint(files, errors)")
    assert_plain(result)
    assert run_plain(result.script, tmp_path) == "['one.txt', 'two.txt'] ['oops']\n"
    assert kinds(result) == ["shell-capture", "shell-capture"]


def test_double_bang_runs_the_command(tmp_path: Path) -> None:
    result = export("!!echo twice")
    assert run_plain(result.script, tmp_path) == "twice\n"


# --------------------------------------------------------------------------- installs


@pytest.mark.parametrize(
    ("line", "requirements"),
    [
        ("%pip install -q torch>=2.0 'transformers[torch]==4.40' -U", ("torch>=2.0", "transformers[torch]==4.40")),
        ("!pip install --upgrade --quiet wandb", ("wandb",)),
        ("!pip3 install -qU datasets evaluate", ("datasets", "evaluate")),
        ("!python -m pip install numpy==1.26.4", ("numpy==1.26.4",)),
        ('!{sys.executable} -m pip install "xgboost>=2.0"', ("xgboost>=2.0",)),
        ("%pip install --index-url https://download.pytorch.org/whl/cpu torch", ("torch",)),
        ("%pip install --extra-index-url=https://pypi.example.com/simple private-pkg", ("private-pkg",)),
        ("%conda install -y -c conda-forge scikit-learn=1.4 pandas", ("scikit-learn==1.4", "pandas")),
        ("!uv pip install polars", ("polars",)),
        ("!pip install wandb > /dev/null 2>&1", ("wandb",)),
        (
            "!pip install git+https://github.com/huggingface/transformers",
            ("git+https://github.com/huggingface/transformers",),
        ),
    ],
)
def test_installs_become_requirements_not_code(line: str, requirements: tuple[str, ...]) -> None:
    result = export(f"import sys\n{line}\nprint('ok')")
    assert_plain(result)
    assert result.requirements == requirements
    assert "install" not in result.script
    assert [(r.kind, r.line, r.replacement) for r in result.rewrites] == [("pip-install", 2, "")]


@pytest.mark.parametrize(
    ("command", "install"),
    [
        ("pip install -q wandb && python prep.py", Install(("wandb",), (), "python prep.py")),
        (
            "conda install -c conda-forge numpy=1.26",
            Install(("numpy==1.26",), ("conda packages become pip requirements; check their PyPI names",), ""),
        ),
        (
            "pip install -r reqs.txt ./local",
            Install(
                (),
                (
                    "install option -r: its packages are not read into the job's requirements; list them yourself",
                    "local package `./local` cannot be a requirement of the job",
                ),
                "",
            ),
        ),
        ("echo install", None),
        ("pip list", None),
    ],
)
def test_install_commands_are_parsed_into_requirements_and_the_rest(command: str, install: Install | None) -> None:
    assert parse_install(command) == install


def test_requirements_are_deduplicated_across_cells_in_order() -> None:
    result = export("!pip install wandb torch", "%pip install torch numpy")
    assert result.requirements == ("wandb", "torch", "numpy")


def test_install_options_that_cannot_be_requirements_are_warned() -> None:
    result = export("%pip install -r requirements.txt\n%pip install -e .\n%pip install {package_name}")
    assert result.requirements == ()
    joined = "\n".join(result.warnings)
    assert "-r" in joined and "-e" in joined and "{package_name}" in joined


def test_command_chained_after_an_install_still_runs(tmp_path: Path) -> None:
    result = export("!pip install wandb && echo installed")
    assert result.requirements == ("wandb",)
    assert run_plain(result.script, tmp_path) == "installed\n"


# --------------------------------------------------------------------------- line magics


def test_env_magic_sets_variables_in_both_forms(tmp_path: Path) -> None:
    result = export(
        "name = 'demo'\n%env WANDB_PROJECT=my-project\n%env WANDB_ENTITY team\n%env RUN_NAME=$name\n"
        "import os\nprint(os.environ['WANDB_PROJECT'], os.environ['WANDB_ENTITY'], os.environ['RUN_NAME'])"
    )
    assert_plain(result)
    assert run_plain(result.script, tmp_path) == "my-project team demo\n"
    assert kinds(result) == ["env", "env", "env"]


def test_cd_magic_changes_the_working_folder(tmp_path: Path) -> None:
    result = export(
        "import os\nos.makedirs('data/raw', exist_ok=True)\nfolder = 'data'",
        "%cd {folder}\n%cd raw\nprint(os.getcwd())",
    )
    assert_plain(result)
    assert run_plain(result.script, tmp_path).strip() == str(tmp_path / "data" / "raw")
    assert kinds(result) == ["cd", "cd"]


def test_time_and_timeit_keep_the_statement(tmp_path: Path) -> None:
    result = export(
        "%time total = sum(range(5))\n%timeit -n 10 -r 2 squares = [i * i for i in range(3)]\n"
        "late = %time total + 1\nprint(total, late)"
    )
    assert_plain(result)
    assert run_plain(result.script, tmp_path) == "10 11\n"
    assert kinds(result) == ["time", "time", "time"]


def test_run_magic_runs_the_script_with_its_arguments_and_keeps_its_names(tmp_path: Path) -> None:
    (tmp_path / "prep.py").write_text(
        "import sys\nARGS = sys.argv[1:]\nif __name__ == '__main__':\n    print('main')\n"
    )
    result = export("%run prep.py --size 10\nprint(ARGS)")
    assert_plain(result)
    assert run_plain(result.script, tmp_path) == "main\n['--size', '10']\n"
    assert kinds(result) == ["run"]


@pytest.mark.parametrize(
    "line",
    [
        "%load_ext autoreload",
        "%autoreload 2",
        "%matplotlib inline",
        "%config InlineBackend.figure_format = 'retina'",
        "%store data",
        "%who",
        "%pdb on",
        "%reload_ext tensorboard",
        "%xmode Minimal",
    ],
)
def test_interactive_magics_are_dropped_and_reported(tmp_path: Path, line: str) -> None:
    result = export(f"{line}\nprint('kept')")
    assert_plain(result)
    assert run_plain(result.script, tmp_path) == "kept\n"
    assert [(r.kind, r.original, r.replacement) for r in result.rewrites] == [("dropped", line, "")]
    assert result.warnings == ()


def test_dropping_the_only_statement_of_a_block_leaves_a_pass(tmp_path: Path) -> None:
    result = export("if True:\n    %matplotlib inline\nprint('after')")
    assert_plain(result)
    assert run_plain(result.script, tmp_path) == "after\n"


@pytest.mark.parametrize("line", ["len?", "len??", "?len", "%pinfo len"])
def test_help_requests_are_dropped(line: str) -> None:
    result = export(f"x = 1\n{line}")
    assert_plain(result)
    assert kinds(result) == ["help"]


def test_unknown_magic_is_commented_out_with_a_warning(tmp_path: Path) -> None:
    result = export("print('a')", "%sql SELECT 1\nprint('b')")
    assert_plain(result)
    assert "# %sql SELECT 1  (jupyter-jobs: unknown magic, not exported)" in result.script
    assert run_plain(result.script, tmp_path) == "a\nb\n"
    assert [(r.cell, r.line, r.kind) for r in result.rewrites] == [(2, 1, "unknown-magic")]
    assert result.warnings == ("Cell 2, line 1: `%sql SELECT 1` (unknown magic) is commented out of the script",)


def test_jupyter_jobs_own_magics_are_dropped_silently_but_reported() -> None:
    result = export("%load_ext jupyter_jobs", "print(1)", "%wandb_job --dry-run")
    assert kinds(result) == ["jupyter-jobs", "jupyter-jobs"]
    assert result.warnings == ()
    assert "wandb_job" not in result.script and "jupyter_jobs" not in result.script


# --------------------------------------------------------------------------- cell magics


def test_writefile_writes_and_appends_the_body(tmp_path: Path) -> None:
    result = export(
        "%%writefile train.py\nprint('training')\n",
        "%%writefile -a train.py\nprint('more')\n",
        "import sys\n!{sys.executable} train.py",
    )
    assert_plain(result)
    assert run_plain(result.script, tmp_path) == "training\nmore\n"
    assert (tmp_path / "train.py").read_text() == "print('training')\nprint('more')\n"
    assert kinds(result) == ["writefile", "writefile", "shell"]
    assert 'subprocess.run(f"{sys.executable} train.py", shell=True, check=False)' in result.script


def test_writefile_keeps_backslashes_and_quotes_exactly(tmp_path: Path) -> None:
    body = "path = 'C:\\\\temp'\nquote = \"'''\"\n"
    result = export(f"%%writefile odd.py\n{body}")
    run_plain(result.script, tmp_path)
    assert (tmp_path / "odd.py").read_text() == body


def test_capture_time_and_timeit_cells_keep_their_body(tmp_path: Path) -> None:
    result = export(
        "%%capture output\n!pip install wandb\nprint('captured body')\n!echo from shell",
        "%%time\nx = 2",
        "%%timeit -n 1 -r 1 y = 3\nprint(x * y)",
        "print(repr(output.stdout))\noutput.show()",
    )
    assert_plain(result)
    shown = "captured body\nfrom shell\n"
    assert run_plain(result.script, tmp_path) == f"6\n{shown!r}\n{shown}"
    assert result.requirements == ("wandb",)
    assert kinds(result) == ["capture", "pip-install", "shell", "time", "time"]
    assert result.warnings == ()


@pytest.mark.parametrize("magic", ["%%bash", "%%sh", "%%script bash"])
def test_shell_cells_run_their_body(tmp_path: Path, magic: str) -> None:
    result = export(f"{magic}\necho one\necho two > out.txt\ncat out.txt")
    assert_plain(result)
    assert run_plain(result.script, tmp_path) == "one\ntwo\n"
    assert kinds(result) == ["shell"]


@pytest.mark.parametrize("magic", ["%%html", "%%javascript", "%%latex", "%%markdown", "%%R"])
def test_non_python_cells_are_commented_out_with_a_warning(tmp_path: Path, magic: str) -> None:
    result = export(f"{magic}\n<b>not python</b>", "print('python')")
    assert_plain(result)
    assert f"# {magic}  (jupyter-jobs: not Python, not exported)\n# <b>not python</b>" in result.script
    assert run_plain(result.script, tmp_path) == "python\n"
    assert kinds(result) == ["non-python"]
    assert result.warnings == (f"Cell 1, line 1: {magic} cell is not Python; it is commented out of the script",)


# --------------------------------------------------------------------------- Python-level rewrites


def test_display_gets_a_fallback_only_when_not_imported(tmp_path: Path) -> None:
    result = export("display('shown', 2)")
    assert_plain(result)
    assert run_plain(result.script, tmp_path) == "shown 2\n"
    own = export("from pprint import pprint as display\ndisplay('x')")
    assert "def display" not in own.script


def test_top_level_await_runs_with_asyncio_and_keeps_names_global(tmp_path: Path) -> None:
    result = export(
        "import asyncio\nasync def double(n):\n    await asyncio.sleep(0)\n    return 2 * n",
        "value = await double(21)\ntext = '''multi\nline'''",
        "print(value, repr(text))",
    )
    assert_plain(result)
    assert run_plain(result.script, tmp_path) == "42 'multi\\nline'\n"
    assert [(r.cell, r.kind) for r in result.rewrites] == [(2, "await")]


def test_interactive_logins_are_dropped_with_a_warning() -> None:
    result = export(
        "import wandb\nwandb.login()\nwandb.login(key=API_KEY)",
        "from huggingface_hub import notebook_login\nnotebook_login()",
    )
    assert_plain(result)
    assert "wandb.login(key=API_KEY)" in result.script
    assert "wandb.login()" not in result.script and "notebook_login()" not in result.script
    assert [(r.cell, r.line, r.kind) for r in result.rewrites] == [(1, 2, "login"), (2, 2, "login")]
    assert len(result.warnings) == 2 and "WANDB_API_KEY" in result.warnings[0]


def test_future_imports_move_to_the_top(tmp_path: Path) -> None:
    result = export(
        "!echo first", "from __future__ import annotations\ndef f(x: Undefined) -> None:\n    print('ok')\nf(1)"
    )
    assert_plain(result)
    assert run_plain(result.script, tmp_path) == "first\nok\n"
    assert result.script.splitlines()[1] == "from __future__ import annotations"


def test_remaining_get_ipython_use_is_refused() -> None:
    with pytest.raises(JobError, match=r"^Cell 2 uses get_ipython\(\) \(line 1\)"):
        export("x = 1", "shell = get_ipython()")


def test_literal_get_ipython_calls_are_rewritten_like_magics(tmp_path: Path) -> None:
    result = export("get_ipython().system('echo direct')")
    assert run_plain(result.script, tmp_path) == "direct\n"


# --------------------------------------------------------------------------- structure


def test_cell_numbers_count_every_cell_and_skip_non_code(tmp_path: Path) -> None:
    result = export(("markdown", "# title\n!not code"), ("raw", "%%html"), "   \n", "x = 1\n!echo $x")
    assert_plain(result)
    assert run_plain(result.script, tmp_path) == "1\n"
    assert [(r.cell, r.line) for r in result.rewrites] == [(4, 2)]
    assert "# %% cell 4" in result.script and "cell 3" not in result.script


def test_header_names_the_notebook() -> None:
    result = export_notebook_text(notebook_text("x = 1"), "train.ipynb")
    assert result.script.startswith("# Exported by jupyter-jobs from train.ipynb")
    assert result.source_name == "train.ipynb" and result.is_notebook


def test_line_origins_map_script_lines_back_to_cells() -> None:
    result = export("a = 1", "\n\nfor i in range(2):\n    !echo \\\n        $i\nb = 2")
    lines = result.script.splitlines()
    assert len(result.line_origins) == len(lines)
    origin_of = {line.strip(): origin for line, origin in zip(lines, result.line_origins, strict=False)}
    assert origin_of["a = 1"] == (1, 1)
    assert origin_of["for i in range(2):"] == (2, 3)
    (shell_origin,) = [origin for line, origin in origin_of.items() if line.startswith('subprocess.run(f"echo')]
    assert shell_origin == (2, 4)
    assert origin_of["b = 2"] == (2, 6)
    assert result.line_origins[0] is None


def test_annotated_script_marks_each_rewrite_and_still_compiles() -> None:
    result = export("%matplotlib inline\nimport os", "for i in range(1):\n    !echo $i", "%%writefile a.txt\nx\ny\n")
    annotated = annotated_script(result)
    compile(annotated, "annotated.py", "exec")
    assert "# jupyter-jobs: dropped (cell 1, line 1), dropped: %matplotlib inline\nimport os" in annotated
    assert "    # jupyter-jobs: shell (cell 2, line 2), rewritten: !echo $i\n    subprocess.run(" in annotated
    assert "# jupyter-jobs: writefile (cell 3, line 1), rewritten: %%writefile a.txt\npathlib.Path" in annotated


def test_annotated_script_notes_a_cell_that_was_dropped_whole_under_its_marker() -> None:
    annotated = annotated_script(export("%load_ext autoreload\n%autoreload 2", "x = 1"))
    assert (
        "# %% cell 1\n# jupyter-jobs: dropped (cell 1, line 1), dropped: %load_ext autoreload\n"
        "# jupyter-jobs: dropped (cell 1, line 2), dropped: %autoreload 2\n\n# %% cell 2\nx = 1"
    ) in annotated


# --------------------------------------------------------------------------- bad input


def test_syntax_error_names_the_cell_and_its_line() -> None:
    with pytest.raises(JobError) as caught:
        export("x = 1", ("markdown", "text"), "!echo ok\ny = (1,\nprint(y)")
    assert str(caught.value).startswith("Cell 3 is not valid Python (line 2: '(' was never closed)")
    assert "\n" not in str(caught.value)


def test_statement_errors_found_by_compiling_name_the_cell() -> None:
    with pytest.raises(JobError, match=r"^Cell 1 is not valid Python \(line 2: 'return' outside function\)"):
        export("x = 1\nreturn x")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"cells": [', r"^broken.ipynb is not valid JSON \(line 1: "),
        ('["a list"]', r"^broken.ipynb is not a Jupyter notebook"),
        ('{"cells": []}', r"^broken.ipynb is not a Jupyter notebook"),
        ('{"nbformat": 5, "cells": []}', r"^broken.ipynb has nbformat version 5"),
        (
            '{"nbformat": 3, "worksheets": "nonsense"}',
            r"^broken.ipynb is an nbformat 3 notebook that cannot be upgraded",
        ),
        ('{"nbformat": 4, "cells": {"a": 1}}', r"^broken.ipynb is not a valid notebook"),
        (
            '{"nbformat": 4, "cells": [{"cell_type": "code", "source": 3}]}',
            r"^broken.ipynb is not a valid notebook \(cell 1",
        ),
    ],
)
def test_damaged_notebooks_are_refused_in_one_line(text: str, message: str) -> None:
    with pytest.raises(JobError, match=message) as caught:
        export_notebook_text(text, "broken.ipynb")
    assert "\n" not in str(caught.value)


def test_non_python_kernel_is_refused() -> None:
    with pytest.raises(JobError, match=r"kernel language is R; only Python notebooks can become W&B jobs"):
        export_notebook_text(notebook_text("x <- 1", language="R"), "analysis.ipynb")


@pytest.mark.parametrize("cells", [(), (("markdown", "# only prose"),), ("", "  \n")])
def test_notebook_without_code_is_an_error(cells: tuple) -> None:
    with pytest.raises(JobError, match=r"^empty.ipynb has no code to export \(add the code"):
        export_notebook_text(notebook_text(*cells), "empty.ipynb")


def test_v3_notebook_is_upgraded() -> None:
    text = json.dumps(
        {
            "nbformat": 3,
            "nbformat_minor": 0,
            "metadata": {"name": ""},
            "worksheets": [
                {
                    "metadata": {},
                    "cells": [
                        {
                            "cell_type": "code",
                            "input": "!pip install wandb\nx = 1",
                            "language": "python",
                            "outputs": [],
                            "metadata": {},
                        }
                    ],
                }
            ],
        }
    )
    result = export_notebook_text(text, "old.ipynb")
    assert result.requirements == ("wandb",)
    assert "x = 1" in result.script


def test_a_saved_notebook_is_exported_and_a_script_taken_as_it_is(tmp_path: Path) -> None:
    notebook = tmp_path / "train.ipynb"
    notebook.write_text(notebook_text("!echo hi"))
    assert export_file(notebook).rewrites[0].kind == "shell"
    script = tmp_path / "train.py"
    script.write_text("print('hello')\n")
    result = export_file(script)
    assert (result.script, result.is_notebook, result.rewrites, result.source_name) == (
        "print('hello')\n",
        False,
        (),
        "train.py",
    )


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.py", "x = (\n", r"^bad.py is not valid Python \(line 1: "),
        ("notes.txt", "x", r"^notes.txt is neither a notebook"),
        ("missing.ipynb", None, r"missing.ipynb does not exist"),
    ],
)
def test_bad_files_are_refused(tmp_path: Path, name: str, content: str | None, message: str) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    with pytest.raises(JobError, match=message):
        export_file(path)


# --------------------------------------------------------------------------- W&B Launch converter


def test_launch_converter_hazards_name_each_construct_and_cell() -> None:
    text = notebook_text(
        "!pip install wandb\nimport wandb",
        "for i in range(2):\n    !echo $i",
        "%pip install torch",
        "%%capture\n!pip install x",
        "files = !ls",
        "value = await f()",
        "!wget https://example.com/data.zip",
    )
    hazards = launch_converter_hazards(export_notebook_text(text, "train.ipynb"))
    assert hazards == [
        "cell 2, line 2: indented shell line `!echo $i` becomes a get_ipython() call, which fails under plain python",
        "cell 3, line 1: %pip command `%pip install torch` becomes a get_ipython() call,"
        " which fails under plain python",
        "cell 4, line 1: cell magic %%capture `%%capture` becomes a get_ipython() call, which fails under plain python",
        "cell 5, line 1: captured shell output `files = !ls` becomes a get_ipython() call,"
        " which fails under plain python",
        "cell 6: top-level await is a syntax error in a script",
        "cell 7, line 1: `!wget https://example.com/data.zip` is dropped by the converter,"
        " so the command never runs in the job",
    ]


def test_plain_notebook_has_no_launch_converter_hazards() -> None:
    assert (
        launch_converter_hazards(export_notebook_text(notebook_text("import wandb\nx = 1", "print(x)"), "train.ipynb"))
        == []
    )


def test_hazards_come_in_line_order_and_include_raw_cells() -> None:
    text = notebook_text("%cd data\n!wget https://example.com/x.zip\n%matplotlib inline", ("raw", "%%html\n<b>x</b>"))
    hazards = launch_converter_hazards(export_notebook_text(text, "train.ipynb"))
    assert [hazard.split(":")[0] for hazard in hazards] == [
        "cell 1, line 1",
        "cell 1, line 2",
        "cell 1, line 3",
        "cell 2",
    ]
    assert hazards[-1] == "cell 2: raw cell is copied into the script as it is, and it is not Python"


# --------------------------------------------------------------------------- reading outputs


def without_outputs(result: ExportResult) -> ExportResult:
    """An export without the notebook it read, whose outputs differ between texts that export alike."""
    return replace(result, notebook=None)


def with_outputs(source: str, outputs: list) -> str:
    return json.dumps(
        {
            "nbformat": 4,
            "nbformat_minor": 4,
            "metadata": {"widgets": {"state": {"a": [[{"b": "}"}]]}}},
            "cells": [
                {
                    "cell_type": "code",
                    "metadata": {"tags": ["x"]},
                    "execution_count": 1,
                    "source": source,
                    "outputs": outputs,
                    "attachments": {},
                }
            ],
        },
        indent=1,
    )


json_text = st.text(alphabet=st.sampled_from('"\\{}[]:, a\u00e9\n'), max_size=12)  # what could confuse a skipper
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | json_text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(json_text, children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(outputs=st.lists(json_values, max_size=4))
def test_outputs_of_any_shape_are_skipped_exactly(outputs: list) -> None:
    """The reader keeps outputs undecoded; whatever they hold, it lands on the same cells that
    json.loads sees, and the export does not depend on them."""
    source = "x = '\"quoted\" \\\\ text'\n!echo {x}"
    text = with_outputs(source, outputs)
    read = read_notebook(text, "nb.ipynb")
    assert json.loads(bytes(read.cells[0].outputs)) == outputs  # kept as text, decoded on demand
    assert [(cell.cell_type, cell.text) for cell in read.cells] == [("code", source)]
    assert read_notebook(text.encode(), "nb.ipynb") == read
    assert without_outputs(export_notebook_text(text, "nb.ipynb")) == without_outputs(
        export_notebook_text(with_outputs(source, []), "nb.ipynb")
    )


def test_memory_does_not_grow_with_output_size() -> None:
    image = {"output_type": "display_data", "metadata": {}, "data": {"image/png": "iVBORw0KGgo" * 2_000_000}}
    text = with_outputs("print(1)", [image, {"output_type": "stream", "name": "stdout", "text": ["line\n"] * 1000}])
    assert len(text) > 20_000_000
    tracemalloc.start()
    try:
        export_notebook_text(text, "big.ipynb")
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2_000_000


def test_memory_of_a_file_export_does_not_grow_with_output_size(tmp_path: Path) -> None:
    """The file's bytes are read once and checked without a text of them; the export walks those
    bytes: neither makes another copy of the outputs."""
    image = {"output_type": "display_data", "metadata": {}, "data": {"image/png": "iVBORw0KGgo" * 1_000_000}}
    lines = [f"step {step} loss [0.{step}]\n" for step in range(400_000)]  # one array beyond any window
    path = tmp_path / "big.ipynb"
    path.write_text(with_outputs("print(1)", [image, {"output_type": "stream", "name": "stdout", "text": lines}]))
    size = path.stat().st_size
    assert size > 20_000_000
    export_file(path)
    tracemalloc.start()
    try:
        data = read_source_bytes(path)
        _current, read_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        export_text(data, path.name)
        _current, export_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert read_peak < size + 4_000_000
    assert export_peak < size + 4_000_000  # the bytes read, and no more than 4 MB besides


STREAMS = {
    "brackets in lines": ["a ] b\n", "[x]\n", "]]]\n"] * 3000,
    "non-ASCII lines": ["é ] ü\n", "日本 ] 語\n"] * 3000,
    "mixed array": ["a", 1, None, {"b": ["]"]}, [["c"]]],
    "escapes": ['\\"]\\', "\u2028\t\b"],
    "long lines": ["x" * 3_000_000, "] y"],
}


@pytest.mark.parametrize("text", STREAMS.values(), ids=STREAMS.keys())
def test_file_and_text_exports_read_the_same_outputs(tmp_path: Path, text: list) -> None:
    """The reader of a file's bytes lands where the reader of its text does, whatever the outputs
    (a big file is read from its map, and a byte-order mark is skipped)."""
    notebook = with_outputs("x = 1\n!echo {x}", [{"output_type": "stream", "name": "stdout", "text": text}])
    path = tmp_path / "nb.ipynb"
    path.write_bytes(b"\xef\xbb\xbf" + notebook.encode() + b" " * 1_100_000)
    assert export_file(path) == export_notebook_text(notebook, "nb.ipynb")
    assert without_outputs(export_text(notebook.encode(), "nb.ipynb")) == without_outputs(
        export_notebook_text(notebook, "nb.ipynb")
    )
    assert read_notebook(notebook.encode(), "nb.ipynb") == read_notebook(notebook, "nb.ipynb")
    blocks = list(code_cell_outputs(read_notebook(notebook, "nb.ipynb")))
    assert [json.loads(block) for _number, block in blocks] == [
        [{"output_type": "stream", "name": "stdout", "text": text}]
    ]
    # The export keeps the notebook it read, whose outputs are the same blocks, str, bytes or file.
    for text_read in (notebook, notebook.encode()):
        assert list(code_cell_outputs(export_text(text_read, "nb.ipynb").notebook)) == blocks
    assert list(code_cell_outputs(export_file(path).notebook)) == blocks


@pytest.mark.parametrize("damage", ['"a\tb"', r'"a\u00"', "01", "[1,]", '"a" "b"', "tru"])
def test_file_with_damaged_outputs_is_refused_as_its_text_is(tmp_path: Path, damage: str) -> None:
    """Outputs the reader skips are still checked as json would check them."""
    notebook = with_outputs("x = 1", [{"output_type": "stream", "name": "stdout", "text": ["ok\n", "DAMAGE"]}])
    notebook = notebook.replace('"DAMAGE"', damage)
    path = tmp_path / "nb.ipynb"
    path.write_text(notebook + " " * 1_100_000, encoding="utf-8")
    with pytest.raises(JobError) as from_text:
        export_notebook_text(notebook, "nb.ipynb")
    with pytest.raises(JobError) as from_bytes:
        export_text(notebook.encode(), "nb.ipynb")
    with pytest.raises(JobError) as from_file:
        export_file(path)
    assert str(from_file.value) == str(from_bytes.value) == str(from_text.value)


def test_source_bytes_are_the_file_without_its_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "bom.ipynb"
    content = notebook_text("print('é')").encode()
    path.write_bytes(b"\xef\xbb\xbf" + content)
    assert read_source_bytes(path) == content
    assert export_file(path) == export_notebook_text(content.decode(), "bom.ipynb")
    path.write_bytes(b'{"nbformat": 4, "cells": ["\xff"]}')
    with pytest.raises(JobError, match=r"^bom.ipynb is not UTF-8 text"):
        read_source_bytes(path)


def test_truncated_notebook_with_outputs_is_reported_as_damaged() -> None:
    text = with_outputs("print(1)", [{"output_type": "stream", "name": "stdout", "text": "x" * 1000}])
    with pytest.raises(JobError, match=r"^nb.ipynb is not valid JSON"):
        export_notebook_text(text[: len(text) // 2], "nb.ipynb")


LINE_POOL = [
    "x = 1",
    "!echo hi",
    "    !echo indented",
    "files = !ls",
    "%time y = 2",
    "len?",
    "%matplotlib inline",
    "for i in range(2):",
    "    print(i)",
    's = """',
    "!not a command inside a string",
    '"""',
    "t = (1,",
    "     2)",
    "# a comment?",
    "d = {'a': 1}",
    "%env A=1",
    "z = %time 3",
    "print('!bang', 'q?')",
    "if x:",
    "    %cd /tmp",
    "    pass",
    "%%bash",
    "%%capture",
    "!wget url \\",
    "   -O out",
    "value = 5 % 3",
    "print(x)?",
    "def f():",
    "    !echo in function",
    "    return 1",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(LINE_POOL), min_size=1, max_size=8))
def test_line_by_line_fast_path_agrees_with_ipython_on_whole_cells(lines: list[str]) -> None:
    """The fast path transforms IPython lines one at a time; whenever it accepts a cell, the
    result must be what IPython's transformer gives for the whole cell."""
    fast = transformed_by_line(lines)
    if fast is not None:
        whole = transformer().transform_cell("\n".join(lines)).rstrip("\n").split("\n")
        assert fast[0] == whole


def test_annotation_of_a_rewrite_in_the_last_cell_is_kept() -> None:
    annotated = annotated_script(export_notebook_text(notebook_json("x = 1", "%wandb_job --dry-run"), "n.ipynb"))
    assert annotated.rstrip().endswith("dropped: %wandb_job --dry-run")


# --------------------------------------------------------------------------- cells reused by later stages


def test_export_lists_every_cell_with_its_type_and_source() -> None:
    text = notebook_text(("markdown", "# Title"), "x = 1", ("raw", "plain raw"), ("code", ""), "%time y = 2")
    text = text.replace('"source": "plain raw"', '"source": ["plain ", "raw"]')
    result = export_notebook_text(text, "train.ipynb")
    assert result.cells == (
        (1, "markdown", "# Title"),
        (2, "code", "x = 1"),
        (3, "raw", "plain raw"),
        (4, "code", ""),
        (5, "code", "%time y = 2"),
    )
    assert result.script_raw_cells == frozenset({3})


def test_only_unformatted_or_python_raw_cells_go_into_a_script() -> None:
    notebook = json.loads(notebook_text("x = 1", ("raw", "<b>x</b>"), ("raw", "y = 2"), ("raw", "z z")))
    notebook["cells"][1]["metadata"] = {"raw_mimetype": "text/html"}
    notebook["cells"][2]["metadata"] = {"raw_mimetype": "text/x-python"}
    result = export_notebook_text(json.dumps(notebook), "train.ipynb")
    assert result.script_raw_cells == frozenset({3, 4})
    assert launch_converter_hazards(result) == [
        "cell 4: raw cell is copied into the script as it is, and it is not Python"
    ]


def test_markdown_that_looks_like_ipython_is_no_converter_hazard() -> None:
    result = export_notebook_text(notebook_text(("markdown", "!rm -rf /\n%cd x"), "x = 1"), "train.ipynb")
    assert launch_converter_hazards(result) == []


def test_script_has_no_cells() -> None:
    result = export_text("print(1)\n", "train.py")
    assert (result.cells, result.script_raw_cells) == ((), frozenset())


def test_skipping_plain_cells_loses_no_converter_hazard() -> None:
    """launch_converter_hazards skips code cells without IPython syntax or `await`: on every
    corpus notebook it must agree with running the full check on every cell."""
    corpus = sorted((Path(__file__).parent / "corpus").glob("*.ipynb"))
    assert corpus
    for path in corpus:
        result = export_file(path)
        full = []
        for number, kind, source in result.cells:
            if source.strip() and kind == "code":
                full.extend(cell_hazards(number, source))
            elif source.strip() and number in result.script_raw_cells:
                full.extend(raw_cell_hazards(number, source))
        assert launch_converter_hazards(result) == full, path.name


# --------------------------------------------------------------------------- reading files


def test_file_is_read_without_its_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "bom.ipynb"
    path.write_bytes("\ufeff".encode() + notebook_text("print('é')").encode())
    assert read_source_bytes(path) == notebook_text("print('é')").encode()
    assert "print('é')" in export_file(path).script


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", r"^empty.ipynb is not valid JSON"),
        (b'{"nbformat": 4, "cells": ["\xff"]}', r"^empty.ipynb is not UTF-8 text"),
    ],
)
def test_empty_or_undecodable_files_are_refused(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "empty.ipynb"
    path.write_bytes(content)
    with pytest.raises(JobError, match=message):
        export_file(path)


def test_code_cell_outputs_are_located_not_decoded() -> None:
    outputs = [{"output_type": "stream", "name": "stdout", "text": ['a ] " [ {\n', "b\n"]}]
    text = json.dumps(
        {
            "nbformat": 4,
            "nbformat_minor": 5,
            "metadata": {},
            "cells": [
                {"cell_type": "markdown", "metadata": {}, "source": "x", "outputs": outputs},
                {"cell_type": "code", "metadata": {}, "source": "x", "outputs": outputs, "execution_count": 1},
                {"cell_type": "code", "metadata": {}, "source": "y", "outputs": [], "execution_count": 2},
            ],
        },
        indent=1,
    )
    blocks = list(code_cell_outputs(read_notebook(text, "nb.ipynb")))
    assert [(number, json.loads(block)) for number, block in blocks] == [(2, outputs)]


@pytest.mark.parametrize("enabled", [True, False])
def test_the_cycle_collector_is_left_as_it_was(enabled: bool) -> None:
    """The export pauses Python's cycle collector while it builds, and gives it back as it found
    it, after a broken cell too."""
    (gc.enable if enabled else gc.disable)()
    try:
        export_notebook_text(notebook_json("x = 1"), "ok.ipynb")
        assert gc.isenabled() is enabled
        with pytest.raises(JobError, match="Cell 1 is not valid Python"):
            export_notebook_text(notebook_json("def broken(:"), "broken.ipynb")
        assert gc.isenabled() is enabled
    finally:
        gc.enable()
