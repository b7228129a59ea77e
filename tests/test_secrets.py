"""Secrets in a notebook's code and outputs block the upload, named by place and kind, never by value.

Each notebook is exported by the real exporter and scanned as `core` scans it. The secret-shaped
values are generated at import time (tests/cases.py) rather than written out, so no file holds a
string that a push-protection scanner would take for a live credential.
"""

from __future__ import annotations

import base64
import json
import string
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_output

from jupyter_jobs.errors import JobError
from jupyter_jobs.export import export_notebook_text, export_text
from jupyter_jobs.secrets import SecretFinding, blocking_error, scan

from .cases import (
    ANTHROPIC_KEY,
    AWS_KEY_ID,
    AWS_SECRET,
    DB_PASSWORD,
    GENERIC_KEY,
    GITHUB_CLASSIC,
    GITHUB_FINE_GRAINED,
    GOOGLE_KEY,
    HEX,
    HF_TOKEN,
    JWT,
    OPENAI_LEGACY_KEY,
    OPENAI_PROJECT_KEY,
    PASSWORD,
    PEM_BODY,
    SLACK_TOKEN,
    STRIPE_KEY,
    WANDB_KEY,
    WANDB_LOCAL_KEY,
    WANDB_V1_KEY,
    shaped,
)
from .helpers import export_file, notebook_json, printed


def scan_notebook(*cells: nbformat.NotebookNode | str) -> list[SecretFinding]:
    """Scan as `core` does: the real export of the notebook, and the notebook itself."""
    text = notebook_json(*cells)
    return scan(export_notebook_text(text, "train.ipynb"), text)


def leaks(secret: str, message: str) -> bool:
    """Does the message hold any 8 consecutive characters of the secret?"""
    return any(secret[i : i + 8] in message for i in range(len(secret) - 7))


INTRO = new_markdown_cell("# Training\nRun the cells in order.")

# (id, cells, secret, expected (kind, cell, line, where)): cell 1 is always markdown, so the
# expected cell numbers also prove that cells of every type are counted.
FOUND = [
    (
        "wandb-login-kwarg",
        [f"import wandb\nwandb.login(key='{WANDB_KEY}')"],
        WANDB_KEY,
        ("W&B API key", 2, 2, "code"),
    ),
    ("wandb-login-positional", [f'wandb.login("{WANDB_KEY}")'], WANDB_KEY, ("W&B API key", 2, 1, "code")),
    (
        "wandb-cli-login",
        [f"!pip install wandb\n!wandb login {WANDB_KEY}"],
        WANDB_KEY,
        ("W&B API key", 2, 2, "code"),
    ),
    (
        "wandb-environ",
        [f'import os\nos.environ["WANDB_API_KEY"] = "{WANDB_KEY}"'],
        WANDB_KEY,
        ("W&B API key", 2, 2, "code"),
    ),
    ("wandb-percent-env", [f"%env WANDB_API_KEY={WANDB_KEY}"], WANDB_KEY, ("W&B API key", 2, 1, "code")),
    (
        "wandb-v1-key",
        ["import wandb", f'wandb.login(key="{WANDB_V1_KEY}")'],
        WANDB_V1_KEY,
        ("W&B API key", 3, 1, "code"),
    ),
    (
        "wandb-local-key",
        [f"WANDB_API_KEY = '{WANDB_LOCAL_KEY}'"],
        WANDB_LOCAL_KEY,
        ("W&B API key", 2, 1, "code"),
    ),
    (
        "aws-key-id",
        [f"s3 = boto3.client(\n    's3',\n    aws_access_key_id='{AWS_KEY_ID}',\n)"],
        AWS_KEY_ID,
        ("AWS access key ID", 2, 3, "code"),
    ),
    (
        "aws-secret-kwarg",
        [f"s3 = boto3.client('s3', aws_secret_access_key=\"{AWS_SECRET}\")"],
        AWS_SECRET,
        ("AWS secret access key", 2, 1, "code"),
    ),
    (
        "aws-secret-environ",
        [f"os.environ['AWS_SECRET_ACCESS_KEY'] = '{AWS_SECRET}'"],
        AWS_SECRET,
        ("AWS secret access key", 2, 1, "code"),
    ),
    (
        "gcp-service-account",
        [
            'info = {\n    "type": "service_account",\n    "project_id": "acme-ml",\n'
            f'    "private_key": "-----BEGIN PRIVATE KEY-----\\n{PEM_BODY}\\n-----END PRIVATE KEY-----\\n",\n}}'
        ],
        PEM_BODY,
        ("private key block", 2, 4, "code"),
    ),
    (
        "encrypted-pem",
        [f"KEY = '''\n-----BEGIN ENCRYPTED PRIVATE KEY-----\n{PEM_BODY}\n'''"],
        PEM_BODY,
        ("private key block", 2, 2, "code"),
    ),
    (
        "openai-project-key",
        [f'client = OpenAI(api_key="{OPENAI_PROJECT_KEY}")'],
        OPENAI_PROJECT_KEY,
        ("OpenAI API key", 2, 1, "code"),
    ),
    (
        "openai-percent-env",
        [f"%env OPENAI_API_KEY={OPENAI_LEGACY_KEY}"],
        OPENAI_LEGACY_KEY,
        ("OpenAI API key", 2, 1, "code"),
    ),
    (
        "openai-legacy-key",
        [f"openai.api_key = '{OPENAI_LEGACY_KEY}'"],
        OPENAI_LEGACY_KEY,
        ("OpenAI API key", 2, 1, "code"),
    ),
    (
        "anthropic-key",
        [f"client = anthropic.Anthropic(\n    api_key='{ANTHROPIC_KEY}'\n)"],
        ANTHROPIC_KEY,
        ("Anthropic API key", 2, 2, "code"),
    ),
    (
        "hugging-face-login",
        [f'from huggingface_hub import login\nlogin(token="{HF_TOKEN}")'],
        HF_TOKEN,
        ("Hugging Face token", 2, 2, "code"),
    ),
    ("hugging-face-env", [f"%env HF_TOKEN={HF_TOKEN}"], HF_TOKEN, ("Hugging Face token", 2, 1, "code")),
    ("github-classic", [f"gh = Github('{GITHUB_CLASSIC}')"], GITHUB_CLASSIC, ("GitHub token", 2, 1, "code")),
    (
        "github-fine-grained",
        [f'GH = "{GITHUB_FINE_GRAINED}"'],
        GITHUB_FINE_GRAINED,
        ("GitHub token", 2, 1, "code"),
    ),
    ("slack", [f"client = WebClient(token='{SLACK_TOKEN}')"], SLACK_TOKEN, ("Slack token", 2, 1, "code")),
    ("stripe", [f'stripe.api_key = "{STRIPE_KEY}"'], STRIPE_KEY, ("Stripe secret key", 2, 1, "code")),
    ("google-api-key", [f"genai.configure(key='{GOOGLE_KEY}')"], GOOGLE_KEY, ("Google API key", 2, 1, "code")),
    ("jwt", [f"headers = {{}}\nbearer = '{JWT}'"], JWT, ("JSON Web Token", 2, 2, "code")),
    ("password", [f'password = "{PASSWORD}"'], PASSWORD, ("password assigned to a literal", 2, 1, "code")),
    (
        "password-kwarg",
        [f"conn = psycopg2.connect(host='db', user='ml', password='{DB_PASSWORD}')"],
        DB_PASSWORD,
        ("password assigned to a literal", 2, 1, "code"),
    ),
    (
        "api-key-annotated",
        [f"class Config:\n    api_key: str = '{GENERIC_KEY}'"],
        GENERIC_KEY,
        ("API key assigned to a literal", 2, 2, "code"),
    ),
    (
        "token-dict-entry",
        [f'headers = {{"token": "{GENERIC_KEY}"}}'],
        GENERIC_KEY,
        ("token assigned to a literal", 2, 1, "code"),
    ),
    (
        "oauth-client-secret",
        [
            "flow = Flow.from_client_config({{'client_id': '{}.apps.example.com', 'client_secret': '{}'}})".format(
                shaped("", 12, string.digits), GENERIC_KEY
            )
        ],
        GENERIC_KEY,
        ("secret assigned to a literal", 2, 1, "code"),
    ),
    (
        "client-secret",
        [f"CLIENT_SECRET = '{GENERIC_KEY}'"],
        GENERIC_KEY,
        ("secret assigned to a literal", 2, 1, "code"),
    ),
    (
        "environ-token",
        [f"os.environ['MY_SERVICE_TOKEN'] = '{GENERIC_KEY}'"],
        GENERIC_KEY,
        ("token assigned to a literal", 2, 1, "code"),
    ),
    (
        "environ-setdefault-key",
        [f'os.environ.setdefault("COHERE_KEY", "{GENERIC_KEY}")'],
        GENERIC_KEY,
        ("key assigned to a literal", 2, 1, "code"),
    ),
    (
        "environ-get-default",
        [f"token = os.environ.get('GITLAB_TOKEN', '{GENERIC_KEY}')"],
        GENERIC_KEY,
        ("token assigned to a literal", 2, 1, "code"),
    ),
    (
        "shell-export",
        [f"%%bash\nexport DB_PASSWORD={DB_PASSWORD}\npsql"],
        DB_PASSWORD,
        ("password assigned to a literal", 2, 2, "code"),
    ),
    (
        "password-in-url",
        [f"engine = create_engine('postgresql://ml:{DB_PASSWORD}@db:5432/runs')"],
        DB_PASSWORD,
        ("password in a URL", 2, 1, "code"),
    ),
    (
        "password-with-hash-in-url",
        [f"engine = create_engine('postgresql://ml:{DB_PASSWORD[:6]}#{DB_PASSWORD[6:]}@db:5432/runs')"],
        f"{DB_PASSWORD[:6]}#{DB_PASSWORD[6:]}",
        ("password in a URL", 2, 1, "code"),
    ),
    (
        "password-without-user-in-url",
        [f"cache = redis.from_url('redis://:{DB_PASSWORD}@cache:6379/0')"],
        DB_PASSWORD,
        ("password in a URL", 2, 1, "code"),
    ),
    (
        "output-stream",
        [printed("print(client.api_key)", f"{OPENAI_PROJECT_KEY}\n")],
        OPENAI_PROJECT_KEY,
        ("OpenAI API key", 2, 1, "output"),
    ),
    (
        "output-credentials-file",
        [
            printed(
                "!cat ~/.aws/credentials",
                f"[default]\naws_access_key_id = {AWS_KEY_ID}\naws_secret_access_key = {AWS_SECRET}\n",
            )
        ],
        AWS_SECRET,
        ("AWS secret access key", 2, 3, "output"),
    ),
    (
        "output-env-dump",
        [printed("!env | sort", f"HOME=/root\nWANDB_API_KEY={WANDB_KEY}\nPATH=/usr/bin\n")],
        WANDB_KEY,
        ("W&B API key", 2, 2, "output"),
    ),
    (
        "output-environ-repr",
        [
            new_code_cell(
                "dict(os.environ)",
                outputs=[
                    new_output(
                        "execute_result",
                        data={"text/plain": f"{{'HOME': '/root',\n 'WANDB_API_KEY': '{WANDB_KEY}'}}"},
                        execution_count=1,
                    )
                ],
            )
        ],
        WANDB_KEY,
        ("W&B API key", 2, 2, "output"),
    ),
    (
        "output-json",
        [
            new_code_cell(
                "show(settings)",
                outputs=[
                    new_output("display_data", data={"application/json": {"api_key": GENERIC_KEY, "project": "ml"}})
                ],
            )
        ],
        GENERIC_KEY,
        ("API key assigned to a literal", 2, 2, "output"),
    ),
    (
        "output-traceback",
        [
            new_code_cell(
                "api.whoami()",
                outputs=[
                    new_output(
                        "error",
                        ename="HTTPError",
                        evalue="401 Unauthorized",
                        traceback=[f"\x1b[0;31mHTTPError\x1b[0m: 401 for url: https://hf.co/api?token={HF_TOKEN}"],
                    )
                ],
            )
        ],
        HF_TOKEN,
        ("Hugging Face token", 2, 3, "output"),
    ),
]


@pytest.mark.parametrize(("cells", "secret", "expected"), [case[1:] for case in FOUND], ids=[c[0] for c in FOUND])
def test_secret_is_found_at_its_cell_and_line(cells: list[str], secret: str, expected: tuple) -> None:
    findings = scan_notebook(INTRO, *cells)

    kind, cell, line, where = expected
    assert SecretFinding(kind, cell, line, where) in findings
    assert all(f.kind == kind for f in findings if (f.cell, f.line, f.where) == (cell, line, where))


@pytest.mark.parametrize(("cells", "secret"), [case[1:3] for case in FOUND], ids=[c[0] for c in FOUND])
def test_no_message_holds_the_secret(cells: list[str], secret: str) -> None:
    findings = scan_notebook(INTRO, *cells)
    error = blocking_error(findings)

    messages = [f.describe() for f in findings] + [str(error), error.message, error.hint or "", repr(findings)]
    assert findings
    assert not [message for message in messages if leaks(secret, message)]


LOOK_ALIKES = [
    ("git-commit", f"commit = '{WANDB_KEY}'"),
    ("sha", f'sha = "{WANDB_KEY}"'),
    ("head-sha", f"HEAD_SHA = '{WANDB_KEY}'"),
    ("commit-in-wandb-config", f"run = wandb.init(project='p', config={{'commit': '{WANDB_KEY}'}})"),
    ("dataset-md5", "dataset_md5 = '{}'".format(shaped("", 32, HEX))),
    ("sha256-digest", 'EXPECTED_SHA256 = "{}"'.format(shaped("", 64, HEX))),
    ("checksum-dict", "files = {{'train.csv': {{'checksum': '{}'}}}}".format(shaped("", 64, HEX))),
    ("uuid-run-id", "run_id = '5f0e6b4a-1c2d-4e5f-8a9b-0c1d2e3f4a5b'"),
    ("uuid-call", "run_uuid = str(uuid.uuid4())"),
    ("placeholder-angle", "api_key = '<your-api-key>'"),
    ("placeholder-constant", "OPENAI_API_KEY = 'YOUR_API_KEY'"),
    ("placeholder-x", "token = 'xxxx'"),
    ("placeholder-dots", "password = '...'"),
    ("placeholder-changeme", "password = 'changeme'"),
    ("empty-string", "password = ''"),
    ("none", "password=None"),
    ("aws-docs-example", "aws_access_key_id = 'AKIAIOSFODNN7EXAMPLE'"),
    ("openai-placeholder", "client = OpenAI(api_key='sk-proj-xxxxxxxxxxxxxxxxxxxxxxxxxxxx')"),
    ("environ-read", "api_key = os.environ['WANDB_API_KEY']"),
    ("getenv-read", "key = os.getenv('OPENAI_API_KEY')"),
    ("environ-get-no-default", "token = os.environ.get('HF_TOKEN')"),
    ("getpass", "password = getpass.getpass('Password: ')"),
    ("wandb-login-no-key", "wandb.login()"),
    ("wandb-login-from-env", "wandb.login(key=os.environ['WANDB_API_KEY'])"),
    ("env-var-name", "api_key_env = 'OPENAI_API_KEY'"),
    ("f-string-bearer", "headers = {'Authorization': f'Bearer {token}'}"),
    ("pad-token", "tokenizer.pad_token = '[PAD]'"),
    ("special-tokens", "special = {'pad_token': '<pad>', 'eos_token': '</s>'}"),
    ("tokenizer-name", "tokenizer_name = 'bert-base-uncased'"),
    ("max-tokens", "max_tokens = '256'"),
    ("token-path", "token_path = '~/.cache/huggingface/token'"),
    ("secret-name", "secret_name = 'prod/db-password'"),
    ("key-column", "df = df.sort_values(key='created_at')"),
    ("sort-key-constant", "CACHE_KEY = 'v2_model_cache'"),
    ("private-key-id", f"info = {{'private_key_id': '{WANDB_KEY}'}}"),
    ("public-key", f"PUBLIC_KEY = '-----BEGIN PUBLIC KEY-----\\n{PEM_BODY}\\n-----END PUBLIC KEY-----'"),
    ("plain-remote", "REMOTE = 'https://github.com/acme/ml.git'"),
    ("hf-hub-call", "path = hf_hub_download(repo_id='gpt2', filename='config.json')"),
    ("env-project", "%env WANDB_PROJECT=job_example"),
    ("auth-author", "author = 'Ada Lovelace'"),
    ("names-in-a-tuple", "FIELDS = ('password', 'username', 'host', 'port')"),
    ("pwd-magic-table", "MAGICS = {'pwd': 'IPython.core.magics.osm:OSMagics'}"),
    ("pwd-directory", "pwd = '/content/drive/MyDrive'"),
    ("wandb-key-not-a-key", "wandb_key = '_wandb'"),
    ("toy-proxy-password", "os.environ['http_proxy'] = 'http://a:b@localhost:3128/'"),
    # Seen in wandb/examples:
    ("dummy-key", "openai.api_key = 'sk-foo'"),
    ("label-as-key", "openai_api_key = 'OPENAI API KEY'"),
]


@pytest.mark.parametrize("source", [case[1] for case in LOOK_ALIKES], ids=[case[0] for case in LOOK_ALIKES])
def test_look_alike_is_not_flagged(source: str) -> None:
    assert scan_notebook(source) == []


def test_outputs_of_ordinary_runs_are_not_flagged() -> None:
    logs = "".join(f"Epoch {i}: loss=0.{i:04d} acc=0.9{i:03d}\n" for i in range(50))
    wandb_output = (
        "wandb: Tracking run with wandb version 0.31.0\n"
        "wandb: Run data is saved locally in /tmp/wandb/offline-run-20260101_000000-abc12345\n"
        f"commit {WANDB_KEY}\nAuthor: Ada <ada@example.com>\n"
    )
    cells = [printed("train()", logs), printed("!git log -1", wandb_output)]
    assert scan_notebook(*cells) == []


def test_image_data_is_not_scanned() -> None:
    """Base64 pictures are noise; a key-shaped run inside one must not block the upload."""
    payload = base64.b64encode(b"\x89PNG" + bytes(200)).decode() + AWS_KEY_ID
    cell = new_code_cell(
        "plt.show()",
        outputs=[
            new_output("display_data", data={"image/png": payload, "text/plain": "<Figure size 640x480>"}),
            new_output("display_data", data={"text/html": f'<img src="data:image/png;base64,{payload}">'}),
        ],
    )
    assert scan_notebook(cell) == []


def test_long_output_line_scans_in_linear_time() -> None:
    """A printed vocabulary is one line of a few hundred kB; scanning it must not be quadratic."""
    vocab = {shaped("", 10, string.ascii_letters): index for index in range(20_000)}
    cell = new_code_cell(
        "tokenizer.get_vocab()",
        outputs=[
            new_output("execute_result", data={"text/plain": "{'api_key': 1, " + repr(vocab)[1:]}, execution_count=1)
        ],
    )

    started = time.perf_counter()
    findings = scan_notebook(cell)

    assert findings == []
    assert time.perf_counter() - started < 5


def test_secret_in_code_and_script_is_reported_once() -> None:
    findings = scan_notebook(f"password = '{PASSWORD}'\nprint('ready')")

    assert findings == [SecretFinding("password assigned to a literal", 1, 1, "code")]


def test_specific_kind_replaces_the_generic_one_on_its_line() -> None:
    """`api_key = "sk-proj-..."` is one OpenAI key, not also an "API key assigned to a literal"."""
    findings = scan_notebook(f"OPENAI_API_KEY = '{OPENAI_PROJECT_KEY}'")

    assert [f.kind for f in findings] == ["OpenAI API key"]


def test_every_secret_of_a_notebook_is_found_in_cell_order() -> None:
    findings = scan_notebook(
        printed("print(token)", f"token: {HF_TOKEN}\n"),
        INTRO,
        f"import os\npassword = '{PASSWORD}'",
        f"wandb.login(key='{WANDB_KEY}')",
    )

    assert findings == [
        SecretFinding("Hugging Face token", 1, 1, "output"),
        SecretFinding("password assigned to a literal", 3, 2, "code"),
        SecretFinding("W&B API key", 4, 1, "code"),
    ]


def test_script_findings_are_placed_at_their_notebook_cell_and_line() -> None:
    """The exported script has a header and cell markers; findings still name the notebook's place."""
    text = notebook_json(INTRO, "import os", f"x = 1\n%env WANDB_API_KEY={WANDB_KEY}")

    assert scan(export_notebook_text(text, "train.ipynb"), None) == [SecretFinding("W&B API key", 3, 2, "code")]


def test_script_without_notebook_has_no_cells(tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(f"import wandb\n\nwandb.login(key='{WANDB_KEY}')\n")

    assert scan(export_file(script), None) == [SecretFinding("W&B API key", None, 3, "code")]


def test_describe_names_place_kind_and_where() -> None:
    assert SecretFinding("W&B API key", 3, 2, "code").describe() == "cell 3, line 2: W&B API key in code"
    assert SecretFinding("AWS secret access key", 5, 1, "output").describe() == (
        "cell 5 output, line 1: AWS secret access key in output"
    )
    assert SecretFinding("password assigned to a literal", None, 12, "code").describe() == (
        "line 12: password assigned to a literal in code"
    )


def test_blocking_error_is_one_line_with_places_kinds_and_the_way_out() -> None:
    findings = [SecretFinding("W&B API key", 3, 2, "code"), SecretFinding("AWS secret access key", 5, 1, "output")]

    error = blocking_error(findings)

    assert isinstance(error, JobError)
    assert error.message == "Secrets found: cell 3, line 2 (W&B API key); cell 5 output, line 1 (AWS secret access key)"
    assert "os.environ['WANDB_API_KEY']" in error.hint and "--allow-secrets" in error.hint
    assert "\n" not in str(error)


def test_secrets_only_in_outputs_point_to_stripping_them() -> None:
    """A printed key is fixed by clearing or stripping outputs, not by rewriting code."""
    findings = [SecretFinding("W&B API key", 2, 4, "output"), SecretFinding("AWS secret access key", 5, 1, "output")]

    error = blocking_error(findings)

    assert (
        error.message
        == "Secrets found: cell 2 output, line 4 (W&B API key); cell 5 output, line 1 (AWS secret access key)"
    )
    assert "only in outputs" in error.hint and "--strip-outputs" in error.hint
    assert "--allow-secrets" not in error.hint


def test_blocking_error_counts_what_it_does_not_list() -> None:
    findings = [SecretFinding("password assigned to a literal", cell, 1, "code") for cell in range(1, 9)]

    message = blocking_error(findings).message

    assert message.count("(password assigned to a literal)") == 5
    assert message.endswith("; and 3 more")


# --------------------------------------------------------------------------- markdown and raw cells, the cache


def test_secrets_in_markdown_and_raw_cells_are_found() -> None:
    """The notebook travels with the job: a key pasted into prose leaks just as one in code."""
    from nbformat.v4 import new_raw_cell

    findings = scan_notebook(
        new_markdown_cell(f"# Setup\nexport WANDB_API_KEY={WANDB_KEY}"),
        "import wandb",
        new_raw_cell(f"token: {HF_TOKEN}"),
    )

    assert findings == [
        SecretFinding("W&B API key", 1, 2, "markdown"),
        SecretFinding("Hugging Face token", 3, 1, "raw"),
    ]
    assert findings[0].describe() == "cell 1, line 2: W&B API key in markdown"


def test_markdown_without_secrets_is_clean() -> None:
    assert (
        scan_notebook(
            INTRO, new_markdown_cell("Set `WANDB_API_KEY` in your environment.\npassword: see the wiki"), "x = 1"
        )
        == []
    )


def test_unchanged_outputs_are_not_read_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """A warm kernel's second `%wandb_job` on the same notebook re-scans no output block."""
    from jupyter_jobs import notebook as notebook_module

    text = notebook_json(printed("print(token)", f"token = {HF_TOKEN}\n"), printed("print(1)", "1\n"))
    export = export_notebook_text(text, "train.ipynb")
    first = scan(export, text)

    def unread(_block: bytes) -> str:
        raise AssertionError("an unchanged output block was read again")

    monkeypatch.setattr(notebook_module, "outputs_text", unread)
    assert scan(export, text) == first == [SecretFinding("Hugging Face token", 1, 1, "output")]


def test_changed_outputs_are_read_again() -> None:
    clean = notebook_json(printed("print(x)", "nothing here\n"))
    leaky = notebook_json(printed("print(x)", f"nothing here\nWANDB_API_KEY={WANDB_KEY}\n"))

    assert scan(export_notebook_text(clean, "train.ipynb"), clean) == []
    assert scan(export_notebook_text(leaky, "train.ipynb"), leaky) == [SecretFinding("W&B API key", 1, 2, "output")]


def test_outputs_read_by_the_export_are_scanned_without_a_second_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """The copy that travels is the text the export read: its notebook holds the outputs."""
    from jupyter_jobs import notebook as notebook_module

    leaky = notebook_json(printed("x = 1", "fine\n"), printed("print(x)", f"WANDB_API_KEY={WANDB_KEY}\n")).encode()
    export = export_text(leaky, "train.ipynb")

    def walk(*_args: object) -> None:
        raise AssertionError("the notebook was read again")

    monkeypatch.setattr(notebook_module, "read_notebook", walk)
    assert scan(export, leaky, exported=True) == [SecretFinding("W&B API key", 2, 1, "output")]


def test_outputs_of_an_nbformat_3_notebook_are_scanned() -> None:
    """Format 3 keeps its cells in worksheets; its outputs are scanned as the export reads it:
    upgraded, so the cell numbers agree."""
    old = json.loads((Path(__file__).parent / "corpus" / "legacy_v3.ipynb").read_text())
    old["worksheets"][0]["cells"][2]["outputs"] = [
        {"output_type": "stream", "stream": "stdout", "text": [f"WANDB_API_KEY={WANDB_KEY}\n"]}
    ]
    text = json.dumps(old)

    assert scan(export_text(text.encode(), "old.ipynb"), text.encode(), exported=True) == [
        SecretFinding("W&B API key", 3, 1, "output")
    ]


def test_output_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from jupyter_jobs import secrets

    monkeypatch.setattr(secrets, "_OUTPUT_FINDINGS", {})
    monkeypatch.setattr(secrets, "_OUTPUT_FINDINGS_MAX", 3)
    text = notebook_json(*(printed(f"print({i})", f"{i}\n") for i in range(5)))
    scan(export_notebook_text(text, "train.ipynb"), text)

    assert len(secrets._OUTPUT_FINDINGS) == 3


def test_line_numbers_run_across_a_cells_outputs() -> None:
    """A cell's outputs are one block: lines count on from one output to the next."""
    cell = new_code_cell(
        "run()",
        outputs=[
            new_output("stream", name="stdout", text="a\nb\n"),
            new_output("stream", name="stderr", text=f"HF_TOKEN={HF_TOKEN}\n"),
        ],
    )

    assert scan_notebook(cell) == [SecretFinding("Hugging Face token", 1, 4, "output")]


def test_grouped_anchor_search_matches_the_plain_alternation() -> None:
    """The pre-check regex groups its alternatives by first character for speed; it must
    accept exactly the lines the plain alternation accepts."""
    import re

    from jupyter_jobs import secrets

    plain = re.compile("|".join([*secrets._PLUGIN_ANCHORS.values(), secrets._KEYWORD_ANCHOR, secrets._OWN_ANCHOR]))
    samples = [
        "akia",
        "xasiay",
        "abia",
        "acca",
        "a3t",
        "aws",
        "accountkey=",
        "http://u:p@host",
        "ghp_",
        "glpat-",
        "gr1348941",
        "eyj",
        "-us1",
        "_authtoken",
        "t3blbkfj",
        "private key",
        "putty",
        "pypi-",
        "sg.",
        "xox",
        "hooks.slack",
        "k_live_",
        "key",
        "pass",
        "pwd",
        "secret",
        "contrase",
        "token",
        "cred",
        "auth",
        "wandb",
        "local-",
        "sk-",
        "hf_",
        "github_pat_",
        "aiza",
        "step 1 loss 0.5 acc 0.9 ....",
        "gh_",
        "-us",
        "://x",
        "a3",
        "sg-",
        "k_live",
        "",
        "é ü ß",
        "x" * 100,
    ]
    for sample in samples:
        assert bool(secrets._MAY_HOLD_SECRET.search(sample)) == bool(plain.search(sample)), sample
