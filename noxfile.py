"""The W&B-facing tests against the oldest supported wandb and the newest tested one.

`make test` runs this (`nox -s wandb_range`), so CI does too. Each wandb release gets its own
virtualenv: wandb is installed first, as a user's environment would have it, then jupyter-jobs
and its test extras; the session fails if that install moved wandb (the package must never
change a user's training stack). Then only the tests marked `wandb_facing` run, two at a time
(pytest-xdist, as `make test` runs the whole suite): the SDK oracle, publishing to an offline run,
the W&B server stand-in round trip, Launch's loader and runner, job inputs, entities, the examples.

jupyter-jobs is installed editable with `SKIP_JUPYTER_BUILDER=1`: hatch-jupyter-builder then
skips the JupyterLab extension build, which none of these tests use (the browser tests run in
`make test`'s own environment), so no session rebuilds the JavaScript.
"""

from __future__ import annotations

import nox

from jupyter_jobs.wandb_compat import TESTED_RELEASES

nox.options.sessions = ["wandb_range"]

# Exits non-zero unless the installed wandb is the release the session asked for.
SAME_WANDB = (
    "import sys; from importlib.metadata import version; found = version('wandb'); "
    "sys.exit(0 if found == sys.argv[1] else f'installing jupyter-jobs changed wandb {sys.argv[1]} to {found}')"
)


@nox.session
@nox.parametrize("wandb", TESTED_RELEASES)
def wandb_range(session: nox.Session, wandb: str) -> None:
    session.install(f"wandb=={wandb}")
    session.install("-e", ".[test]", env={"SKIP_JUPYTER_BUILDER": "1"})
    session.run("python", "-c", SAME_WANDB, wandb)
    session.run("python", "-m", "ipykernel", "install", "--sys-prefix", "--name", "python3", silent=True)
    session.run(
        "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2", "-m", "wandb_facing", *session.posargs
    )
