"""The commit the checked-out branch points at, read from the git dir's files.

No pygit2 (a tenth of a second to import): the service notes the head a session's reads
were based on before anything else needs git (see `Workbench.base_head`).
"""

from __future__ import annotations

import re
from pathlib import Path

_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


def git_dir(root: Path) -> Path | None:
    """The git dir of the work tree `root`: `.git`, or where a `.git` file points."""
    dot = Path(root) / ".git"
    if dot.is_dir():
        return dot
    try:
        text = dot.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    if not text.startswith("gitdir:"):
        return None
    target = Path(text.removeprefix("gitdir:").strip())
    return target if target.is_absolute() else (Path(root) / target).resolve()


def read_head_id(root: Path) -> str | None:
    """The commit id HEAD resolves to; None when unborn or unreadable (then the caller
    makes no assumption about what its reads were based on)."""
    gitdir = git_dir(root)
    if gitdir is None:
        return None
    try:
        head = (gitdir / "HEAD").read_text(encoding="utf-8").strip()
        common = gitdir
        if (gitdir / "commondir").is_file():
            common = (gitdir / (gitdir / "commondir").read_text(encoding="utf-8").strip()).resolve()
        if not head.startswith("ref:"):
            return head if _ID.fullmatch(head) else None
        ref = head.removeprefix("ref:").strip()
        for folder in dict.fromkeys((gitdir, common)):
            loose = folder / ref
            if loose.is_file():
                value = loose.read_text(encoding="utf-8").strip()
                return value if _ID.fullmatch(value) else None
        packed = common / "packed-refs"
        if packed.is_file():
            for line in packed.read_text(encoding="utf-8").splitlines():
                value, _, name = line.partition(" ")
                if name == ref and _ID.fullmatch(value):
                    return value
    except (OSError, UnicodeDecodeError):
        return None
    return None
