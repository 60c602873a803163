"""Marks on the seam map from each capability (signatures, reviews, violations, …).

Each provider takes the Workbench and the seam views and fills `SeamView.marks` with a
short state per capability, e.g. marks["signature"] = "approved". Providers are listed by
module path and imported lazily so that the map costs only what is installed.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workbench.governance.seams import SeamView
    from workbench.service.core import Workbench

# "module:function" entries; each function(wb, views) -> None.
MARK_PROVIDERS: list[str] = []
MARK_PROVIDERS.append("workbench.service.signing:apply_marks")
MARK_PROVIDERS.append("workbench.service.evidence:mark_seams")
MARK_PROVIDERS.append("workbench.service.obligations:apply_marks")
MARK_PROVIDERS.append("workbench.service.clocks:apply_marks")
MARK_PROVIDERS.append("workbench.service.notify:apply_marks")


def apply_marks(wb: Workbench, views: list[SeamView]) -> None:
    for entry in MARK_PROVIDERS:
        module, _, name = entry.partition(":")
        getattr(importlib.import_module(module), name)(wb, views)
