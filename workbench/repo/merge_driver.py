"""The git merge driver for `evidence/manifest.toml`, registered in a clone so that a
plain `git merge` or `git pull` merges it by snapshot id, as `workbench sync` does.

git reads merge drivers from the clone's own config, which is never cloned, and from
attributes. Both go into the clone, never into a commit: `.git/config` gets
`merge.workbench-manifest.driver`, and `.git/info/attributes` names the file. A clone
without them (someone who never ran `workbench sync` or `workbench merge-driver install`)
merges the file line by line, as git always did: never worse than before.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pygit2

DRIVER = "workbench-manifest"
MANIFEST = "evidence/manifest.toml"
ATTRIBUTE = f"{MANIFEST} merge={DRIVER}"


def driver_command(python: str | None = None) -> str:
    """How git runs the driver: this Python, this workbench (%O base, %A ours and the
    result, %B theirs, %P the path)."""
    exe = shlex.quote(python or sys.executable)
    return f"{exe} -m workbench merge-driver manifest %O %A %B %P"


def install(root: Path) -> bool:
    """Register the driver in the clone at `root`; True when something changed."""
    repo = pygit2.Repository(str(root))
    changed = False
    config = repo.config
    wanted = {
        f"merge.{DRIVER}.name": "workbench: evidence/manifest.toml, merged by snapshot id",
        f"merge.{DRIVER}.driver": driver_command(),
    }
    for key, value in wanted.items():
        try:
            current = config[key]
        except KeyError:
            current = None
        if current != value:
            config[key] = value
            changed = True
    info = Path(repo.path) / "info"
    attributes = info / "attributes"
    lines = attributes.read_text(encoding="utf-8").splitlines() if attributes.is_file() else []
    if ATTRIBUTE not in (ln.strip() for ln in lines):
        info.mkdir(parents=True, exist_ok=True)
        with attributes.open("a", encoding="utf-8") as fh:
            if lines and lines[-1].strip():
                fh.write("\n")
            fh.write(
                "# workbench: merge the evidence manifest by snapshot id (docs/sync.md)\n"
                f"{ATTRIBUTE}\n"
            )
        changed = True
    return changed


def installed(root: Path) -> bool:
    repo = pygit2.Repository(str(root))
    try:
        command = repo.config[f"merge.{DRIVER}.driver"]
    except KeyError:
        return False
    attributes = Path(repo.path) / "info" / "attributes"
    listed = attributes.is_file() and ATTRIBUTE in (
        ln.strip() for ln in attributes.read_text(encoding="utf-8").splitlines()
    )
    return bool(command) and listed
