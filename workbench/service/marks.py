"""The seams' marks: one computation, wherever it runs (in the app's worker thread, or in
the marks process that keeps the app's interpreter free: `marks_process.py`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench.governance.marks_wire import SeamMarks

if TYPE_CHECKING:
    from workbench.service.core import Workbench


def compute_marks(wb: Workbench) -> SeamMarks:
    """Every seam with each capability's marks, and the pages they were judged with.

    One action over one reading of the working tree: the pages are kept for the contracts'
    screens (working them out again cost each Enter 0.6-1 s of CPU at 1,000 contracts).
    """
    with wb.action(), wb.worktree_read_once():
        now = wb.now
        views = wb.seam_map()
        pages = wb.notify.pages()
    return SeamMarks(views, pages, now)
