"""What the app's mixins (`PersonEditing`, `CloneSyncing`, `MarksLoading`) may use of ``WorkbenchApp``.

The mixins are parts of the app kept in their own modules; for the type checker they
derive from `AppHost`, the app's attributes and workers they call, declared here once.
At run time `AppHost` is `object`, so nothing changes the app's method order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from datetime import date

    from textual.app import App
    from textual.message import Message
    from textual.message_pump import MessagePump
    from textual.reactive import reactive
    from textual.screen import Screen

    from workbench.model.state import GovernanceState
    from workbench.service.results import MergeState, Signer, Workbench

    class AppHost(App[int]):
        service: Workbench
        signer: Signer | None
        gov_state: GovernanceState | None
        repo_state: MergeState | None
        repo_info: reactive[tuple[str, bool]]

        @property
        def readonly(self) -> bool: ...
        @property
        def today(self) -> date: ...
        @property
        def actor_label(self) -> str: ...
        def _post(self, target: MessagePump, message: Message) -> None: ...
        # Workers: what they return to the caller is a Worker, hence `object` here.
        def load_state(self) -> object: ...
        def load_repo_state(self) -> object: ...
        def open_screen(self, screen: Screen[Any]) -> None: ...
        def _marks_shown(self, views: list[Any]) -> None: ...
        def prepare_structured_edit(
            self, contract_id: str, path: tuple[str | int, ...], value: str
        ) -> Any: ...
        def set_contract_value(
            self, contract_id: str, path: tuple[str | int, ...], value: str, message: str
        ) -> object: ...

else:
    AppHost = object
