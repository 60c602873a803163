"""The header: app name, organisation, acting person, read-only badge and where you are."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static


class TopBar(Static):
    DEFAULT_CSS = """
    TopBar { dock: top; height: 1; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def __init__(self, where: str) -> None:
        super().__init__("", markup=False)
        self.where = where

    def on_mount(self) -> None:
        self.watch(self.app, "header_info", self._show, init=True)

    def _show(self, info: tuple[str, str, bool]) -> None:
        org, actor, readonly = info
        parts = [
            Content.styled(" Handshake Workbench ", "bold"),
            Content.styled(f" {org} " if org else " … ", "$text-primary"),
            Content(f"· {self.where} "),
            Content.styled(f"· as {actor} ", "$text-secondary") if actor else Content(""),
            Content.styled(" READ-ONLY ", "bold $text-warning") if readonly else Content(""),
        ]
        self.update(Content("").join(parts))
