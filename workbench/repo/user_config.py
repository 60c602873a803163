"""The user's own workbench config (``$XDG_CONFIG_HOME/handshake-workbench/config.toml``):
what the machine decides and a commit cannot (evidence roots, a Spark cluster, secrets'
routes). Here, below the rooms that need it, so evidence can read it without the service."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from workbench.model.errors import WorkbenchError


def config_home(env: dict[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "handshake-workbench"


def user_config(env: dict[str, str] | None = None) -> dict[str, object]:
    path = config_home(env) / "config.toml"
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise WorkbenchError(f"{path}: cannot read your workbench config: {exc}") from exc
