"""Drafts of invalid edits (``wb.drafts``): what someone typed is never lost, even when it
does not validate and cannot be committed. They live in ``.git/handshake-workbench/drafts/
<id>.toml``: never shown as changes, never committed, surviving restarts."""

from __future__ import annotations

from pathlib import Path

from workbench.model.ids import checked_id
from workbench.repo import layout


class Drafts:
    def __init__(self, root: Path) -> None:
        self._folder = Path(root) / layout.LOCAL_DIR / "drafts"

    def _path(self, contract_id: str) -> Path:
        return self._folder / f"{checked_id(contract_id)}.toml"

    def save(self, contract_id: str, text: str) -> Path:
        from workbench.repo.atomic import atomic_write

        path = self._path(contract_id)
        atomic_write(path, text.encode("utf-8"), mode=0o600)
        return path

    def load(self, contract_id: str) -> str | None:
        path = self._path(contract_id)
        return path.read_text(encoding="utf-8") if path.is_file() else None

    def discard(self, contract_id: str) -> None:
        self._path(contract_id).unlink(missing_ok=True)

    def ids(self) -> list[str]:
        """The contracts with a draft."""
        folder = self._folder
        return sorted(p.stem for p in folder.glob("*.toml")) if folder.is_dir() else []
