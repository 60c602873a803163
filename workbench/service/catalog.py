"""Names a front end offers as choices before any repository is read (cheap: no model is
loaded for them, so `workbench --help` stays fast)."""

from __future__ import annotations


def evidence_kinds() -> list[str]:
    """The evidence kinds a snapshot can be registered as (`workbench.evidence.kinds`)."""
    from workbench.evidence.kinds import KINDS

    return sorted(KINDS)
