"""Which W&B entity a job names, and what the user is told when none is known.

The entity ends up in the code reference of an artifact job and in the launch command. W&B
Launch passes the reference's entity to the server as it is, so a placeholder such as `_` makes
the job unlaunchable. The order is the user's word first, then what the run and wandb know:
`--entity` (or the run's entity, which the magic passes the same way), `WANDB_ENTITY`, wandb's
settings files, and, when online and logged in, the account's default entity. wandb is asked
only when it has settings or credentials to read. With none known
the reference leaves the entity empty (`wandb-artifact:///<project>/<name>:<alias>`), which
Launch's parser accepts and fills with the launching agent's entity.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from . import wandb_compat

NO_ENTITY_WARNING = (
    "no W&B entity known: the code reference leaves it empty, so W&B Launch looks the code up in "
    "the entity of the agent that launches the job (pass --entity, set WANDB_ENTITY or "
    "`wandb login` to pin one; `wandb sync -e` must then name the same entity)"
)


def resolve_entity(given: str | None, *, ask_server: bool = True) -> str | None:
    """`given` (--entity, else the run's) wins; then WANDB_ENTITY, wandb's settings, the login.

    `ask_server=False` for a job made beside an offline run: the user chose not to reach W&B
    (maybe has no network), so no call may hold the notebook up."""
    if given:
        return given
    if os.environ.get("WANDB_ENTITY"):
        return os.environ["WANDB_ENTITY"]
    if not _wandb_may_know():
        return None
    settings = wandb_compat.current_settings()
    return settings.entity or (_logged_in_default(settings) if ask_server else None)


def reference(entity: str | None, project: str, name: str, alias: str) -> str:
    """A code reference W&B Launch resolves: with no entity, the empty form it fills itself."""
    return f"wandb-artifact://{entity or ''}/{project}/{name}:{alias}"


def _wandb_may_know() -> bool:
    """Whether wandb has settings or credentials to read. Without any, it knows no
    entity, and importing it (most of a store-only create's time) is skipped."""
    if os.environ.get("WANDB_API_KEY") or os.environ.get("WANDB_IDENTITY_TOKEN_FILE"):
        return True
    config_dir = os.environ.get("WANDB_CONFIG_DIR")
    roots = {Path.cwd(), Path(os.environ.get("WANDB_DIR") or Path.cwd())}
    settings = [
        Path(config_dir, "settings") if config_dir else Path("~/.config/wandb/settings"),
        *(root / folder / "settings" for root in roots for folder in ("wandb", ".wandb")),
    ]
    netrc = [Path(os.environ.get("NETRC") or "~/.netrc"), Path("~/_netrc")]
    return any(file.expanduser().is_file() for file in netrc) or any(
        _has_settings(file.expanduser()) for file in settings
    )


def _has_settings(file: Path) -> bool:
    """Whether a wandb settings file sets anything: a bare `[default]` tells wandb nothing, so
    it is not worth importing wandb to read it. A file configparser cannot read counts (wandb
    may still make something of it)."""
    if not file.is_file():
        return False
    import configparser

    parser = configparser.ConfigParser()
    try:
        parser.read(file, encoding="utf-8")
    except (configparser.Error, OSError, UnicodeDecodeError):
        return True
    return any(len(parser[section]) for section in parser)


def _logged_in_default(settings: Any) -> str | None:
    """The account's default entity, asked of the server only when online and logged in."""
    if settings.mode not in ("online", "run") or not wandb_compat.logged_in(settings):
        return None
    import wandb

    try:
        return wandb.Api(timeout=10).default_entity
    except Exception:  # noqa: BLE001 - an unreachable or refusing server means: no entity known
        return None
