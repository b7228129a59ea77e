"""The secret forms an attack on the scan found missing, and their look-alikes.

Each form is found at its place, and its value reaches no file of the store: without
`--strip-outputs` the job is refused; with it, a secret only printed is dropped with the
outputs and one anywhere else (code, metadata, attachments) still refuses the job. Values are
generated at import time, so this file holds nothing a push-protection scanner would flag.
"""

from __future__ import annotations

import base64
import string
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell

from jupyter_jobs.core import CreateRequest, create_job
from jupyter_jobs.errors import JobError
from jupyter_jobs.export import export_notebook_text
from jupyter_jobs.secrets import scan

from .cases import ALNUM, HEX, shaper
from .helpers import commit, notebook_json, printed

shaped = shaper(15)

WANDB_KEY = shaped("", 40, HEX)
BEARER = shaped("", 40, ALNUM + "-_")
JUPYTER_TOKEN = shaped("", 48, HEX)
OPENAI_KEY = shaped("sk-proj-", 80, ALNUM)
HF_TOKEN = shaped("hf_", 34, string.ascii_letters)


def with_metadata(cell: nbformat.NotebookNode, **metadata: object) -> nbformat.NotebookNode:
    cell.metadata.update(metadata)
    return cell


def attachment(text: str) -> nbformat.NotebookNode:
    cell = new_markdown_cell("![notes](attachment:notes.txt)")
    cell["attachments"] = {"notes.txt": {"text/plain": text}}
    return cell


def image_attachment() -> nbformat.NotebookNode:
    cell = new_markdown_cell("![plot](attachment:plot.png)")
    cell["attachments"] = {"plot.png": {"image/png": base64.b64encode(b"\x89PNG" + bytes(64) + b"AKIA").decode()}}
    return cell


NETRC = f"machine api.wandb.ai\n  login user\n  password {WANDB_KEY}\n"

# (id, cells, notebook metadata, the secret, expected (cell, where) of a finding)
FORMS = [
    ("netrc-printed", [printed("!cat ~/.netrc", NETRC)], {}, WANDB_KEY, (1, "output")),
    ("netrc-writefile", [f"%%writefile ~/.netrc\n{NETRC}"], {}, WANDB_KEY, (1, "code")),
    ("variable-to-wandb-login", [f"k = '{WANDB_KEY}'", "import wandb\nwandb.login(key=k)"], {}, WANDB_KEY, (1, "code")),
    ("env-before-shell-command", [f"!WANDB_API_KEY={WANDB_KEY} python train.py"], {}, WANDB_KEY, (1, "code")),
    ("printed-env-line", [printed("!env", f"HOME=/root\nWANDB_API_KEY={WANDB_KEY}\n")], {}, WANDB_KEY, (1, "output")),
    ("bytes-literal", [f"import wandb\nwandb.login(key=b'{WANDB_KEY}'.decode())"], {}, WANDB_KEY, (1, "code")),
    (
        "implicit-concatenation",
        [f"client = OpenAI(\n    api_key=('{OPENAI_KEY[:30]}'\n             '{OPENAI_KEY[30:]}'))"],
        {},
        OPENAI_KEY,
        (1, "code"),
    ),
    (
        "concatenated-then-passed",
        [f"part = '{HF_TOKEN[:12]}' + '{HF_TOKEN[12:]}'", "login(token=part)"],
        {},
        HF_TOKEN,
        (1, "code"),
    ),
    ("bearer-header", [f"headers = {{'Authorization': 'Bearer {BEARER}'}}"], {}, BEARER, (1, "code")),
    ("bearer-in-curl", [f"!curl -H 'Authorization: Bearer {BEARER}' https://api.example.com"], {}, BEARER, (1, "code")),
    (
        "jupyter-token-url",
        [printed("!jupyter server list", f"http://127.0.0.1:8888/?token={JUPYTER_TOKEN} :: /work\n")],
        {},
        JUPYTER_TOKEN,
        (1, "output"),
    ),
    (
        "cell-metadata",
        [with_metadata(new_code_cell("train()"), wandb={"api_key": WANDB_KEY})],
        {},
        WANDB_KEY,
        (1, "cell metadata"),
    ),
    (
        "notebook-metadata",
        ["train()"],
        {"secrets": {"OPENAI_API_KEY": OPENAI_KEY}},
        OPENAI_KEY,
        (None, "notebook metadata"),
    ),
    ("markdown-attachment", [attachment(f"HF_TOKEN={HF_TOKEN}\n")], {}, HF_TOKEN, (1, "attachment")),
]


def notebook(cells: list, metadata: dict) -> str:
    return notebook_json(*cells, "print('done')", **metadata)  # never a notebook without code


@pytest.mark.parametrize(("cells", "metadata", "secret", "place"), [f[1:] for f in FORMS], ids=[f[0] for f in FORMS])
def test_each_form_is_found_at_its_place(cells: list, metadata: dict, secret: str, place: tuple) -> None:
    text = notebook(cells, metadata)

    findings = scan(export_notebook_text(text, "train.ipynb"), text)

    assert place in [(finding.cell, finding.where) for finding in findings], findings
    assert not any(secret[:8] in finding.describe() for finding in findings)


@pytest.mark.parametrize("strip", [False, True], ids=["as-saved", "strip-outputs"])
@pytest.mark.parametrize(("cells", "metadata", "secret", "place"), [f[1:] for f in FORMS], ids=[f[0] for f in FORMS])
def test_no_form_reaches_the_store(
    tmp_path: Path, store_dir: Path, cells: list, metadata: dict, secret: str, place: tuple, strip: bool
) -> None:
    clean = tmp_path / "clean.ipynb"
    clean.write_text(notebook(["print('hello')"], {}))
    create_job(CreateRequest(path=clean, project="p", no_git=True, store=store_dir))  # the store exists
    path = tmp_path / "train.ipynb"
    path.write_text(notebook(cells, metadata))

    request = CreateRequest(path=path, project="p", no_git=True, store=store_dir, strip_outputs=strip)
    if strip and place[1] == "output":
        create_job(request)  # the secret went with the outputs
    else:
        with pytest.raises(JobError, match="Secrets found") as refused:
            create_job(request)
        assert secret[:8] not in str(refused.value)

    stored = [p for p in store_dir.rglob("*") if p.is_file()]
    assert stored and not [p for p in stored if secret[:16].encode() in p.read_bytes()]


LOOK_ALIKES = [
    (
        "netrc-placeholder",
        [printed("!cat ~/.netrc", "machine api.wandb.ai\n  login user\n  password <your-api-key>\n")],
    ),
    ("password-prose", [new_markdown_cell("Reset your password\nthen password manager users log in")]),
    ("shell-env-path", ["!PYTHONPATH=. CUDA_VISIBLE_DEVICES=0 python train.py --epochs 3"]),
    ("key-from-function", ["import wandb\nk = read_key()\nwandb.login(key=k)"]),
    ("key-from-env-then-login", ["import os, wandb\nk = os.environ['WANDB_API_KEY']\nwandb.login(key=k)"]),
    ("sort-key-variable", ["order = 'created_at'\ndf = df.sort_values(key=order)"]),
    ("token-count-variable", ["n = '256'\nmodel.generate(max_new_tokens=n)"]),
    (
        "bearer-template",
        ["headers = {'Authorization': f'Bearer {token}'}", "headers = {'Authorization': 'Bearer ' + tok}"],
    ),
    ("bearer-prose", [new_markdown_cell("Bearer tokens are sent in the Authorization header.")]),
    ("query-url", [printed("print(url)", "https://example.com/search?q=model&page=2&sort_key=loss\n")]),
    ("jupyter-url-without-token", [printed("!jupyter server list", "http://127.0.0.1:8888/ :: /work\n")]),
    ("tokenizer-url", [printed("print(u)", "https://hf.co/api/models?tokenizer=bert-base-uncased\n")]),
    (
        "colab-metadata",
        [with_metadata(new_code_cell("train()"), id="x7Tq2Lm", colab={"base_uri": "https://localhost:8080/"})],
    ),
    ("image-attachment", [image_attachment()]),
    ("concatenated-words", ["message = 'hello ' 'world'\nlabel = 'token' + 'izer'"]),
]


@pytest.mark.parametrize("cells", [case[1] for case in LOOK_ALIKES], ids=[case[0] for case in LOOK_ALIKES])
def test_look_alike_is_not_flagged(cells: list) -> None:
    metadata = {"colab": {"provenance": [], "authorship_tag": "ABX9TyO" + shaped("", 20)}}
    text = notebook(cells, metadata)

    assert scan(export_notebook_text(text, "train.ipynb"), text) == []


def test_secrets_in_diff_patch_refuse_a_git_job(git_repo, write_notebook, store_dir: Path) -> None:
    """diff.patch carries the repository's uncommitted changes with the job: it is scanned."""
    repo = git_repo()
    path = write_notebook("train.ipynb", folder=repo)
    (repo / "settings.py").write_text("DEBUG = True\n")
    commit(repo, message="nb")
    (repo / "settings.py").write_text(f"DEBUG = True\nOPENAI_API_KEY = '{OPENAI_KEY}'\n")

    with pytest.raises(JobError, match=r"diff\.patch, line \d+ \(OpenAI API key\)") as refused:
        create_job(CreateRequest(path=path, project="p", store=store_dir))

    assert "uncommitted changes" in str(refused.value) and OPENAI_KEY[:12] not in str(refused.value)
    assert not [p for p in store_dir.rglob("*") if p.is_file() and OPENAI_KEY[:16].encode() in p.read_bytes()]
    (repo / "settings.py").write_text("DEBUG = False\n")  # an ordinary change travels as before
    record = create_job(CreateRequest(path=path, project="p", store=store_dir)).record.to_json()
    assert "diff.patch" in record["files"]
