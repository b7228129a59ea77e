"""Test cases more than one test module uses: the data (and the little that lays it out) that
tests/helpers.py's functions and the tests work on. A test module imports shared cases from
here, never from another test module."""

from __future__ import annotations

import base64
import json
import random
import string
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .helpers import TRAIN_CELLS, commit, git, init_repo, run_cli_here, write_files, write_notebook_file

# ------------------------------------------------------------------ a notebook using %wandb_job
# (test_magic, test_wandb_roundtrip): load the extension, start a run, train

SETUP = "%load_ext jupyter_jobs\nimport wandb"
INIT = "run = wandb.init(project='job_example', config={'learning_rate': 0.01, 'epochs': 2})"
TRAIN = "for epoch in range(run.config['epochs']):\n    run.log({'loss': 1.0 / (epoch + 1)})"

# ------------------------------------------------------------------ secret-shaped values
# (test_secrets; WANDB_V1_KEY also test_local_code) Generated at import time, in this order, from
# one seeded generator that test_secrets goes on drawing from (`shaped`), so that no file holds a
# string a push-protection scanner would take for a live credential and the values stay the same.

ALNUM = string.ascii_letters + string.digits
UPPER_DIGITS = string.ascii_uppercase + string.digits
HEX = "0123456789abcdef"


def shaper(seed: int) -> Callable[..., str]:
    """`shaped(prefix, length, alphabet)`: a value with a real credential's shape and random
    content, drawn from a generator of its own seeded `seed`, so a module's values stay the same
    whatever else draws (test_secret_forms has its own)."""
    rng = random.Random(seed)

    def shaped(prefix: str, length: int, alphabet: str = ALNUM) -> str:
        return prefix + "".join(rng.choice(alphabet) for _ in range(length))

    return shaped


shaped = shaper(6)


def jwt() -> str:
    def part(obj: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part({'sub': '1234567890', 'name': 'Ada'})}.{shaped('', 43)}"


WANDB_KEY = shaped("", 40, HEX)
WANDB_V1_KEY = shaped("wandb_v1_", 77, ALNUM + "_")
WANDB_LOCAL_KEY = shaped("local-", 40, HEX)
AWS_KEY_ID = shaped("AKIA", 16, UPPER_DIGITS)
AWS_SECRET = shaped("", 40, ALNUM + "/+")
PEM_BODY = shaped("MIIE", 60, ALNUM + "+/")
OPENAI_PROJECT_KEY = shaped("sk-proj-", 80, ALNUM + "_-")
OPENAI_LEGACY_KEY = shaped("sk-", 20) + "T3BlbkFJ" + shaped("", 20)
ANTHROPIC_KEY = shaped("sk-ant-api03-", 93, ALNUM + "_-") + "AA"
HF_TOKEN = shaped("hf_", 34, string.ascii_letters)
GITHUB_CLASSIC = shaped("gh" + "p_", 36)
GITHUB_FINE_GRAINED = shaped("github_" + "pat_", 22) + shaped("_", 59)
SLACK_TOKEN = "xo" + "xb-" + shaped("", 12, string.digits) + "-" + shaped("", 13, string.digits) + "-" + shaped("", 24)
STRIPE_KEY = shaped("sk_" + "live_", 24)
GOOGLE_KEY = shaped("AI" + "za", 35, ALNUM + "_-")
JWT = jwt()
PASSWORD = "hunter2xyz"
GENERIC_KEY = shaped("", 32)
DB_PASSWORD = shaped("", 14, ALNUM + "!#%")

# ------------------------------------------------------------------ credentials in git remotes
# (test_credentials, test_handlers)

REMOTE_TOKEN = "T0KENabcdef123456"
# The forms tokens take in remotes, each with the remote a job records (and its name is built from),
# or None where the remote left is one W&B Launch cannot fetch.
REMOTE_FORMS = [
    (f"https://alice:ghp_{REMOTE_TOKEN}@github.com/acme/ml.git", "https://github.com/acme/ml.git"),
    (f"https://ghp_{REMOTE_TOKEN}@github.com/acme/ml.git", "https://github.com/acme/ml.git"),
    (f"https://ghp_{REMOTE_TOKEN}:x-oauth-basic@github.com/acme/ml.git", "https://github.com/acme/ml.git"),
    (f"https://oauth2:glpat-{REMOTE_TOKEN}@gitlab.com/acme/ml.git", "https://gitlab.com/acme/ml.git"),
    (f"https://gitlab.com/acme/ml.git?private_token=glpat-{REMOTE_TOKEN}", "https://gitlab.com/acme/ml.git"),
    (f"https://github.com/acme/ml.git#{REMOTE_TOKEN}", "https://github.com/acme/ml.git"),
    (f"https://alice:{REMOTE_TOKEN}@git.example.com:8443/acme/ml.git", "https://git.example.com:8443/acme/ml.git"),
    (f"https://alice:{REMOTE_TOKEN}@[::1]:8443/acme/ml.git", "https://[::1]:8443/acme/ml.git"),
    (f"ssh://alice:{REMOTE_TOKEN}@git.example.com:2222/acme/ml.git", "ssh://git.example.com:2222/acme/ml.git"),
    # scp-like keeps only `git@`: without a user W&B Launch cannot fetch it, so the job is an artifact job
    (f"alice:{REMOTE_TOKEN}@git.example.com:acme/ml.git", None),
    ("gh:acme/ml.git", "https://github.com/acme/ml.git"),  # an `insteadOf` alias whose URL holds the token
]


def commit_notebook_with_token_alias(repo: Path) -> Path:
    """The training notebook committed in `repo`, whose git configuration makes `gh:` an alias
    with a token (REMOTE_FORMS' last form); the notebook."""
    git(repo, "config", f"url.https://ghp_{REMOTE_TOKEN}:x-oauth-basic@github.com/.insteadOf", "gh:")
    path = write_notebook_file(repo / "train.ipynb", *TRAIN_CELLS)
    commit(repo, message="nb")
    return path


# ------------------------------------------------------------------ notebooks needing their own code
# (test_local_code runs them with `jupyter jobs run`, test_launch with W&B Launch)

LAYOUT_INIT = "import wandb\nrun = wandb.init(project='p', config={'factor': 2})"


@dataclass(frozen=True)
class Layout:
    """A project whose notebook needs its own code: what it holds, what the job must carry, and
    what the job prints when run with `factor` overridden."""

    files: dict[str, str]
    cell: str  # the code cell after LAYOUT_INIT
    included: dict[str, str]
    factor: int
    printed: str
    notebook: str = "train.ipynb"
    repository: bool = False  # a git repository with a remote (the job is made with --source artifact)

    def lay_out(self, root: Path, *first_cells: str) -> Path:
        """The project on disk (committed, with a remote, when it is a repository); its notebook."""
        write_files(root, self.files)
        path = write_notebook_file(root / self.notebook, *first_cells, LAYOUT_INIT, self.cell)
        if self.repository:
            init_repo(root, committed=False)
            commit(root, message="project")
        return path

    @property
    def create_args(self) -> tuple[str, ...]:
        """`create`'s options for this project: a repository's job is still an artifact job."""
        return ("--source", "artifact") if self.repository else ()


LAYOUTS = {
    "a sibling module": Layout(
        {"helper.py": "def scale(x):\n    return x * 3\n"},
        "from helper import scale\nprint('result', scale(run.config['factor']))\nrun.finish()",
        {"helper.py": "imported in cell 2"},
        5,
        "result 15",
    ),
    "a package with relative imports": Layout(
        {
            "mylib/__init__.py": "from .model import build\n",
            "mylib/model.py": "from .layers import dense\nfrom . import defaults\n\n"
            "def build(factor):\n    return dense(factor) + defaults.BIAS\n",
            "mylib/layers/__init__.py": "from .dense import dense\n",
            "mylib/layers/dense.py": "from ..util import double\n\ndef dense(x):\n    return double(x)\n",
            "mylib/defaults.py": "BIAS = 100\n",
            "mylib/util.py": "def double(x):\n    return 2 * x\n",
            "mylib/unused.py": "raise RuntimeError('never imported')\n",
        },
        "import mylib\nprint('result', mylib.build(run.config['factor']))\nrun.finish()",
        {
            "mylib/__init__.py": "imported in cell 2",
            "mylib/model.py": "imported in mylib/__init__.py, line 1",
            "mylib/defaults.py": "imported in mylib/model.py, line 2",
            "mylib/layers/__init__.py": "imported in mylib/model.py, line 1",
            "mylib/layers/dense.py": "imported in mylib/model.py, line 1",  # `from .layers import dense`
            "mylib/util.py": "imported in mylib/layers/dense.py, line 1",
        },
        7,
        "result 114",
    ),
    "a module importing another local module": Layout(
        {
            "helper.py": "import mathutil\n\ndef scale(x):\n    return mathutil.triple(x)\n",
            "mathutil.py": "def triple(x):\n    return 3 * x\n",
        },
        "from helper import scale\nprint('result', scale(run.config['factor']))\nrun.finish()",
        {"helper.py": "imported in cell 2", "mathutil.py": "imported in helper.py, line 1"},
        4,
        "result 12",
    ),
    "a repository subfolder importing the root's src/": Layout(
        {
            "src/trainer/__init__.py": "from .steps import scaled\n",
            "src/trainer/steps.py": "def scaled(x):\n    return x * 10\n",
        },
        "import trainer\nprint('result', trainer.scaled(run.config['factor']))\nrun.finish()",
        {"trainer/__init__.py": "imported in cell 2", "trainer/steps.py": "imported in trainer/__init__.py, line 1"},
        3,
        "result 30",
        notebook="notebooks/train.ipynb",
        repository=True,
    ),
    "a small JSON config": Layout(
        {"configs/base.json": json.dumps({"offset": 1000})},
        "import json\nbase = json.load(open('configs/base.json'))\n"
        "print('result', base['offset'] + run.config['factor'])\nrun.finish()",
        {"configs/base.json": "read in cell 2"},
        9,
        "result 1009",
    ),
}


# ------------------------------------------------------------------ job inputs declared with schemas
# (test_inputs, and the panel's Run form in test_browser)

CONFIG_YAML = "model:\n  name: resnet\n  layers: 18\ntraining:\n  epochs: 4\n  batch_size: 32\n"
CONFIG_SCHEMA = {
    "type": "object",
    "properties": {
        "learning_rate": {"type": "number", "minimum": 0, "maximum": 1},
        "optimizer": {"type": "object", "properties": {"name": {"type": "string", "enum": ["adam", "sgd"]}}},
    },
}
FILE_SCHEMA = {
    "type": "object",
    "properties": {"training": {"type": "object", "properties": {"epochs": {"type": "integer", "minimum": 1}}}},
}
_TRAIN = (
    "import wandb, yaml\n"
    "run = wandb.init(project='job_example', config={'learning_rate': 0.01, 'epochs': 10,"
    " 'optimizer': {'name': 'adam', 'eps': 1e-08}, 'seed': 7})"
)
_DECLARE = (
    "from wandb.sdk.launch import manage_config_file, manage_wandb_config\n"
    "manage_wandb_config(include=['learning_rate', 'optimizer'], exclude=['optimizer.eps'],"
    f" schema={CONFIG_SCHEMA!r})\n"
    f"manage_config_file('config.yaml', include=['training'], schema={FILE_SCHEMA!r})"
)
_LOOP = (
    "settings = yaml.safe_load(open('config.yaml'))\n"
    "print('epochs from file', settings['training']['epochs'], 'lr', run.config['learning_rate'])\n"
    "for epoch in range(settings['training']['epochs']):\n"
    "    run.log({'loss': 1.0 / (epoch + 1)})"
)
DECLARING_CELLS = (_TRAIN, _DECLARE, _LOOP)  # a run that declares its inputs and reads config.yaml


def inputs_project(folder: Path, *cells: str) -> Path:
    """`folder` with config.yaml and train.ipynb made of `cells`; the folder."""
    write_files(folder, {"config.yaml": CONFIG_YAML})
    write_notebook_file(folder / "train.ipynb", *cells)
    return folder


def create_declaring_inputs(
    folder: Path, store: Path, *extra: str, project: str = "job_example"
) -> subprocess.CompletedProcess[str]:
    """`jupyter jobs create --json` of `folder`'s notebook declaring on the command line the
    inputs DECLARING_CELLS declare in a run, with the same schemas."""
    write_files(folder, {"schema.json": json.dumps(CONFIG_SCHEMA), "file-schema.json": json.dumps(FILE_SCHEMA)})
    options = ["--include-key", "learning_rate", "--include-key", "optimizer", "--exclude-key", "optimizer.eps"]
    options += ["--schema", str(folder / "schema.json"), "--input-file", "config.yaml"]
    options += ["--include-key", "config.yaml:training", "--schema", f"config.yaml:{folder / 'file-schema.json'}"]
    args = ["create", str(folder / "train.ipynb"), "--project", project, "--no-git", "--store", str(store)]
    return run_cli_here(*args, "--json", *options, *extra)
