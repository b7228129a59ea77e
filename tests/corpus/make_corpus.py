"""Write the export corpus: notebooks shaped like the ones W&B users write.

Run `python tests/corpus/make_corpus.py` to regenerate the committed ``.ipynb`` files; the
expectations for each notebook live in ``tests/test_export_corpus.py``. The notebooks are
written as raw JSON (not through nbformat) so that old format versions stay exactly as old
Jupyter versions saved them.
"""

from __future__ import annotations

import base64
import json
import zlib
from pathlib import Path

HERE = Path(__file__).parent
PYTHON_KERNEL = {
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python", "version": "3.11.7"},
}


def code(source: str, outputs: list[dict] | None = None) -> dict:
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": outputs or [],
            "source": source.splitlines(keepends=True)}


def markdown(source: str) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": source.splitlines(keepends=True)}


def raw(source: str) -> dict:
    return {"cell_type": "raw", "metadata": {}, "source": source.splitlines(keepends=True)}


def notebook(cells: list[dict], minor: int = 5) -> dict:
    """An nbformat 4.`minor` notebook; cell ids exist from 4.5 on."""
    if minor >= 5:
        cells = [{"id": f"cell-{index}", **cell} for index, cell in enumerate(cells)]
    return {"cells": cells, "metadata": PYTHON_KERNEL, "nbformat": 4, "nbformat_minor": minor}


def stream(text: str) -> dict:
    return {"name": "stdout", "output_type": "stream", "text": text.splitlines(keepends=True)}


def png_bytes(width: int, height: int) -> bytes:
    """A real (grey gradient) PNG, so the base64 output is what Jupyter stores for a plot."""
    rows = b"".join(b"\x00" + bytes((x * 255 // width) for x in range(width)) for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + b"\x08\x00\x00\x00\x00"
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 0)) + chunk(b"IEND", b"")


NOTEBOOKS: dict[str, dict] = {
    "quickstart_tutorial": notebook([
        markdown("# W&B quickstart\nLog a fake training run."),
        code("!pip install wandb -qU"),
        code("import wandb\nwandb.login()"),
        code("import random\n\nrun = wandb.init(project=\"quickstart\", config={\"learning_rate\": 0.01, \"epochs\": 5})\n"
             "for epoch in range(run.config.epochs):\n    acc = 1 - 2 ** -epoch - random.random() / (epoch + 1)\n"
             "    run.log({\"acc\": acc, \"epoch\": epoch})\nrun.finish()"),
    ]),
    "hf_finetune": notebook([
        markdown("# Fine-tune BERT with the HF Trainer"),
        code("%pip install transformers datasets accelerate \"evaluate>=0.4\""),
        code("%env WANDB_PROJECT=hf-finetune\n%env WANDB_LOG_MODEL=checkpoint"),
        code("from huggingface_hub import notebook_login\nnotebook_login()"),
        code("from datasets import load_dataset\nfrom transformers import AutoTokenizer, AutoModelForSequenceClassification\n"
             "dataset = load_dataset(\"imdb\")\ntokenizer = AutoTokenizer.from_pretrained(\"bert-base-uncased\")"),
        code("from transformers import Trainer, TrainingArguments\n"
             "args = TrainingArguments(output_dir=\"out\", report_to=\"wandb\", num_train_epochs=1)\n"
             "model = AutoModelForSequenceClassification.from_pretrained(\"bert-base-uncased\", num_labels=2)\n"
             "trainer = Trainer(model=model, args=args, train_dataset=dataset[\"train\"])\ntrainer.train()"),
    ]),
    "sweeps": notebook([
        code("!pip install -q wandb"),
        code("import wandb\n\nsweep_config = {\n    \"method\": \"random\",\n    \"metric\": {\"name\": \"loss\", \"goal\": \"minimize\"},\n"
             "    \"parameters\": {\"lr\": {\"min\": 0.0001, \"max\": 0.1}, \"batch_size\": {\"values\": [16, 32, 64]}},\n}"),
        code("def train():\n    with wandb.init() as run:\n        for step in range(10):\n"
             "            run.log({\"loss\": run.config.lr / (step + 1)})"),
        code("sweep_id = wandb.sweep(sweep_config, project=\"sweeps-demo\")\nwandb.agent(sweep_id, train, count=5)"),
    ]),
    "data_prep_wget": notebook([
        code("!wget -q https://example.com/data/flowers.zip -O flowers.zip\n!unzip -o -q flowers.zip -d data\n!ls data | head"),
        code("files = !ls data\nprint(len(files), \"files\")"),
        code("%cd data\nimport os\nprint(os.getcwd())"),
    ]),
    "matplotlib_inline": notebook([
        code("%matplotlib inline\n%config InlineBackend.figure_format = 'retina'\nimport matplotlib.pyplot as plt\nimport wandb"),
        code("fig, ax = plt.subplots()\nax.plot([1, 2, 3], [3, 1, 2])\nrun = wandb.init(project=\"plots\")\n"
             "run.log({\"chart\": wandb.Image(fig)})\nrun.finish()"),
    ]),
    "capture_install": notebook([
        code("%%capture\n!pip install wandb torch torchvision"),
        code("import torch\nimport wandb\nprint(torch.__version__)"),
    ]),
    "autoreload": notebook([
        code("%load_ext autoreload\n%autoreload 2"),
        code("from mypackage.model import build_model\nmodel = build_model()"),
    ]),
    "env_magics": notebook([
        code("%env WANDB_PROJECT=my-project\n%env WANDB_ENTITY my-team\n%env WANDB_MODE=offline"),
        code("import os\nprint(os.environ[\"WANDB_PROJECT\"], os.environ[\"WANDB_ENTITY\"], os.environ[\"WANDB_MODE\"])"),
    ]),
    "writefile_then_run": notebook([
        code("%%writefile train.py\nimport argparse\nparser = argparse.ArgumentParser()\n"
             "parser.add_argument(\"--epochs\", type=int, default=1)\nargs = parser.parse_args()\n"
             "print(\"training for\", args.epochs, \"epochs\")\n"),
        code("!python train.py --epochs 2"),
        code("%run train.py"),
    ]),
    "colab_drive": notebook([
        code("from google.colab import drive\ndrive.mount('/content/drive')"),
        code("%cd /content/drive/MyDrive/project\n!ls"),
        code("import wandb\nrun = wandb.init(project=\"colab\")"),
    ]),
    "top_level_await": notebook([
        code("import asyncio\n\nasync def fetch(index):\n    await asyncio.sleep(0)\n    return index * 2"),
        code("results = await asyncio.gather(*[fetch(index) for index in range(3)])\nprint(results)"),
        code("print(sum(results))"),
    ]),
    "nbformat_4_0": notebook([
        code("!pip install wandb\nimport wandb", [stream("Requirement already satisfied: wandb\n")]),
        code("%matplotlib inline\nprint('old notebook')"),
    ], minor=0),
    "nbformat_4_2": notebook([
        markdown("Saved by Jupyter 5.x"),
        code("%load_ext autoreload\n%autoreload 2\nimport numpy as np\nx = np.arange(10)"),
        code("%timeit x.sum()"),
    ], minor=2),
    "no_outputs": notebook([
        code("import json\nconfig = {\"lr\": 0.1}\nprint(json.dumps(config))"),
        code("total = sum(range(10))\nprint(total)"),
    ]),
    "large_outputs": notebook([
        code("!pip install pandas", [stream("Collecting pandas\n" * 2000)]),
        code("import matplotlib.pyplot as plt\nplt.plot(range(10))\nplt.show()", [{
            "output_type": "display_data", "metadata": {},
            "data": {"image/png": base64.b64encode(png_bytes(400, 300)).decode("ascii"),
                     "text/plain": ["<Figure size 640x480 with 1 Axes>"]},
        }]),
        code("import pandas as pd\ndf = pd.DataFrame({\"a\": range(1000)})\ndisplay(df)", [{
            "output_type": "execute_result", "execution_count": 3, "metadata": {},
            "data": {"text/plain": ["   a\n" + "\n".join(f"{i}  {i}" for i in range(1000))],
                     "text/html": ["<table>" + "".join(f"<tr><td>{i}</td></tr>" for i in range(1000)) + "</table>"]},
        }]),
    ]),
    "raw_cells": notebook([
        raw("%%html\nthis is a raw cell and never code"),
        code("x = 1"),
        raw("!rm -rf /"),
        code("print(x)"),
    ]),
    "markdown_heavy": notebook([
        markdown("# Title"), markdown("Some *text* with `!pip install` in it"),
        markdown("```python\n%pip install nothing\n```"), code("print('only code')"), markdown("The end"),
    ]),
    "help_and_timing": notebook([
        code("import numpy as np\nnp.zeros?\nnp.arange??"),
        code("%timeit -n 3 -r 2 np.arange(100).sum()\n%time total = np.arange(10).sum()"),
        code("%%time\nsquares = [i * i for i in range(1000)]"),
        code("%%timeit -n 1 -r 1\nsum(range(10))"),
        code("print(total, len(squares))"),
    ]),
    "indented_shell_loops": notebook([
        code("import os\nnames = [\"a\", \"b\"]\nfor name in names:\n    !echo processing {name}"),
        code("if not os.path.exists(\"outputs\"):\n    !mkdir -p outputs\nelse:\n    print(\"exists\")"),
        code("def fetch(url):\n    !echo fetching {url}\n    return url\n\nfetch(\"https://example.com\")"),
    ]),
    "pytorch_lightning": notebook([
        code("!pip install lightning wandb \"torchmetrics>=1.0\" --quiet"),
        code("from lightning.pytorch.loggers import WandbLogger\nimport lightning as L\n"
             "logger = WandbLogger(project=\"lightning\", log_model=\"all\")\ntrainer = L.Trainer(logger=logger, max_epochs=1)"),
    ]),
    "keras_tutorial": notebook([
        code("!pip install -q \"tensorflow>=2.15\" wandb"),
        code("import tensorflow as tf\nimport wandb\nfrom wandb.integration.keras import WandbMetricsLogger\n"
             "run = wandb.init(project=\"keras\", config={\"epochs\": 2})\n"
             "model = tf.keras.Sequential([tf.keras.layers.Dense(1)])"),
    ]),
    "conda_install": notebook([
        code("%conda install -y -c conda-forge scikit-learn=1.4 xgboost"),
        code("from sklearn.linear_model import LogisticRegression\nmodel = LogisticRegression()"),
    ]),
    "bash_cell": notebook([
        code("%%bash\nmkdir -p outputs\necho done > outputs/log.txt\ncat outputs/log.txt"),
        code("%%sh\necho from sh"),
        code("print(open(\"outputs/log.txt\").read())"),
    ]),
    "sys_executable_pip": notebook([
        code("import sys\n!{sys.executable} -m pip install \"xgboost>=2.0\" --quiet\n!python -m pip install -U lightgbm"),
        code("import xgboost\nimport lightgbm"),
    ]),
    "non_python_cells": notebook([
        code("%%html\n<iframe src=\"https://wandb.ai\"></iframe>"),
        code("%%javascript\nconsole.log('hi')"),
        code("%sql SELECT 1\nprint('after sql')"),
        code("print('python still runs')"),
    ]),
    "artifacts_and_job": notebook([
        code("%load_ext jupyter_jobs"),
        code("import wandb\nrun = wandb.init(project=\"artifacts\")\nartifact = wandb.Artifact(\"dataset\", type=\"dataset\")\n"
             "run.log_artifact(artifact)"),
        code("%wandb_job"),
    ]),
    "wandb_cell_magic": notebook([
        code("import wandb\nrun = wandb.init(project=\"magic\")"),
        code("%%wandb\nfor step in range(3):\n    run.log({\"step\": step})"),
        code("%wandb"),
    ]),
    "captured_shell": notebook([
        code("gpu_info = !nvidia-smi\ngpu_info = '\\n'.join(gpu_info)\nprint(gpu_info)"),
        code("lines = !!echo hello\nprint(lines)"),
    ]),
    "requirements_file": notebook([
        code("%pip install -r requirements.txt\n%pip install --upgrade --index-url https://download.pytorch.org/whl/cpu torch"),
        code("import torch"),
    ]),
    "run_script_args": notebook([
        code("%%writefile prep.py\nimport sys\nPREPARED = sys.argv[1:]\n"),
        code("%run prep.py --size 10\nprint(PREPARED)"),
    ]),
}

V3_NOTEBOOK = {
    "metadata": {"name": "legacy_v3"},
    "nbformat": 3,
    "nbformat_minor": 0,
    "worksheets": [{
        "cells": [
            {"cell_type": "heading", "level": 1, "metadata": {}, "source": ["An IPython 2 era notebook"]},
            {"cell_type": "code", "collapsed": False, "input": ["!pip install wandb\n", "import wandb"],
             "language": "python", "metadata": {}, "outputs": [], "prompt_number": 1},
            {"cell_type": "code", "collapsed": False, "input": ["%matplotlib inline\n", "x = 2\n", "print(x * 21)"],
             "language": "python", "metadata": {}, "outputs": [], "prompt_number": 2},
        ],
        "metadata": {},
    }],
}


def main() -> None:
    """Write every notebook of the corpus next to this file."""
    for name, content in NOTEBOOKS.items():
        (HERE / f"{name}.ipynb").write_text(json.dumps(content, indent=1) + "\n", encoding="utf-8")
    (HERE / "legacy_v3.ipynb").write_text(json.dumps(V3_NOTEBOOK, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
