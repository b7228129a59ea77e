"""Turn a saved notebook into one plain-Python script that a W&B job can run.

A W&B job runs its code with plain ``python``, where ``get_ipython()`` does not exist. So the
export recognises IPython syntax with IPython's own input transformers (the same ones Jupyter
uses to run a cell; `ipython`), finds the ``get_ipython()...`` calls they produce with ``ast``,
and replaces each with plain Python (`builder`), reporting every change as a `Rewrite`:

* ``!cmd`` -> ``subprocess.run(cmd, shell=True, check=False)``; ``var = !cmd`` -> the command's
  output lines as a plain ``list`` (IPython's ``SList`` extras such as ``.s``/``.n`` are gone);
  ``$name``/``{expr}`` in commands and magic arguments become f-string fields when the names are
  bound in the notebook, and stay literal otherwise, as IPython does when it cannot expand;
* ``%pip``/``!pip``/``%conda install ...`` become requirements of the job, not code (`installs`);
* ``%env``, ``%cd``, ``%run``, ``%time``/``%timeit``, ``%%time``/``%%timeit``, ``%%capture``
  (its output kept in the named variable, shell output included), ``%%writefile`` and
  ``%%bash``/``%%sh``/``%%script`` get plain-Python equivalents, which tests/test_equivalence.py
  runs against the notebook in a real kernel;
* interactive-only magics (``%matplotlib``, ``%load_ext``, ...), ``obj?`` help, the
  ``%wandb_job`` magic and ``wandb.login()``/``notebook_login()`` calls (a job reads
  ``WANDB_API_KEY`` from its environment) are dropped;
* unknown magics and non-Python cell magics (``%%html``, ``%%R``, ...) are commented out with a
  warning, never dropped silently;
* a cell using top-level ``await`` becomes an ``async def`` run by ``asyncio.run`` (its top-level
  names are declared ``global`` so later cells still see them; each such cell gets its own
  event loop);
* ``display(...)``, which IPython puts in builtins, gets a two-line fallback that prints, only
  when the notebook calls it without importing it: the script never needs IPython.

Any other use of ``get_ipython`` in the code stops the export: plain ``python`` has no such
function. A notebook without code is an error rather than an empty job. A ``.py`` file is
exported as it is, once it compiles; a script has no cells, so its ``line_origins`` are ``None``.
What W&B Launch's own converter would break in the notebook is `hazards`' business.

The notebook is read by `jupyter_jobs.notebook` (typed cells, outputs left undecoded).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

from ..errors import JobError
from ..notebook import Notebook, read_notebook, read_source_bytes
from .builder import ExportResult, Rewrite, ScriptBuilder, annotated_script, script_as_is
from .hazards import launch_converter_hazards

__all__ = [
    "ExportResult",
    "Rewrite",
    "annotated_script",
    "export_notebook",
    "export_notebook_text",
    "export_text",
    "launch_converter_hazards",
    "read_source_bytes",
]

_PYTHON_LANGUAGES = ("python", "python3", "python2", "ipython")


def export_text(text: str | bytes, name: str) -> ExportResult:
    """Export `text`, a notebook's JSON or a script's code (as a str, or the UTF-8 bytes of
    read_source_bytes), as its file `name` says it is."""
    if name.endswith(".py"):
        return script_as_is(text if isinstance(text, str) else text.decode("utf-8"), name)
    return export_notebook_text(text, name)


def export_notebook_text(text: str | bytes, name: str) -> ExportResult:
    """Export the code cells of the notebook JSON `text` (or its UTF-8 bytes; named `name` in
    messages) to a script."""
    return export_notebook(read_notebook(text, name), name)


def export_notebook(notebook: Notebook, name: str) -> ExportResult:
    """Export the code cells of a notebook already read to a script."""
    _check_language(notebook, name)
    code_cells = [(number, cell.text) for number, cell in enumerate(notebook.cells, 1) if cell.cell_type == "code"]
    code_cells = [(number, source) for number, source in code_cells if source.strip()]
    if not code_cells:
        raise JobError(f"{name} has no code to export", hint="add the code the job should run to a code cell and save")
    builder = ScriptBuilder()
    with _collector_paused():
        for number, source in code_cells:
            builder.add_cell(number, source)
        return builder.result(name, notebook)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector off while the cells are built: the export leaves no cycles to
    collect, yet its many small allocations set off collections that walk every object the
    process holds (a quarter of a cold export of the 2,000-cell notebook, measured in
    bench/bench_export.py). Left as it was if something else turned it off."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _check_language(notebook: Notebook, name: str) -> None:
    """Refuse notebooks of other languages: a W&B job runs Python."""
    language = notebook.language
    if language and language.strip().lower() not in _PYTHON_LANGUAGES:
        raise JobError(
            f"{name}: kernel language is {language}; only Python notebooks can become W&B jobs",
            hint="open the notebook with a Python kernel",
        )
