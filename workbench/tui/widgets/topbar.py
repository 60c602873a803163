"""The header: app name, read-only badge, organisation, where you are and who you act as,
and where the clone stands (a merge in progress, ahead/behind its upstream).

On a narrow terminal the least needed parts go first (the app's name, then the
organisation), so that where you are, who you act as and the READ-ONLY badge stay in view;
what still does not fit ends in an ellipsis.
"""

from __future__ import annotations

from textual.content import Content
from textual.widget import Widget


class TopBar(Widget):
    DEFAULT_CSS = """
    TopBar { dock: top; height: 1; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def __init__(self, where: str) -> None:
        super().__init__()
        self.where = where
        self.info: tuple[str, str, bool, str] = ("", "", False, "")
        # (where the clone stands: "MERGING · 1 conflict", "↑1 ↓2 origin/main"; alarming?)
        self.repo: tuple[str, bool] = ("", False)

    def on_mount(self) -> None:
        self.watch(self.app, "header_info", self._show, init=True)
        if hasattr(self.app, "repo_info"):
            self.watch(self.app, "repo_info", self._show_repo, init=True)

    def _show(self, info: tuple[str, str, bool, str]) -> None:
        self.info = info
        self.refresh()

    def _show_repo(self, info: tuple[str, bool]) -> None:
        self.repo = info
        self.refresh()

    def render(self) -> Content:
        org, actor, readonly, note = self.info
        name = Content.styled(" Handshake Workbench ", "bold")
        repo, alarming = self.repo
        badges = [
            Content.styled(" READ-ONLY ", "bold $text-warning") if readonly else Content(""),
            Content.styled(f" {note} ", "$text-warning") if note else Content(""),
            Content.styled(f" {repo} ", "bold $text-error" if alarming else "$text-secondary")
            if repo
            else Content(""),
        ]
        org_part = Content.styled(f" {org} " if org else " … ", "$text-primary")
        rest = [
            Content(f"· {self.where} "),
            Content.styled(f"· as {actor} ", "$text-secondary") if actor else Content(""),
        ]
        width = self.size.width
        for parts in (
            [name, *badges, org_part, *rest],
            [*badges, org_part, *rest],
            [*badges, *rest],
        ):
            line = Content("").join(parts)
            if line.cell_length <= width:
                return line
        return line
