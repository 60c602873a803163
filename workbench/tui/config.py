"""User settings for the app: the theme, from `$XDG_CONFIG_HOME/handshake-workbench/config.toml`.

    theme = "ansi-dark"     # or textual-light, ansi-light, nord, …

`$WORKBENCH_THEME` overrides the file. Keys are remapped in keymap.toml (see bindings.py).
"""

from __future__ import annotations

import os
import tomllib

from workbench.tui.bindings import config_dir


def load_theme() -> tuple[str | None, list[str]]:
    if os.environ.get("WORKBENCH_THEME"):
        return os.environ["WORKBENCH_THEME"], []
    path = config_dir() / "config.toml"
    if not path.is_file():
        return None, []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return None, [f"{path}: ignored ({exc})"]
    theme = data.get("theme")
    return (theme if isinstance(theme, str) else None), []
