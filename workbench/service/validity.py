"""Acts on a contract need a contract that validates: signing, reviewing, acknowledging.

A signature, a review or an acknowledgement of a contract whose owner is "the team", whose
pager is "TBD" or whose file does not parse would lend the appearance of accountability to
a seam that has none. So every such act is refused until the committed contract validates,
with each problem at its file:line:column. The rule (which problems make a contract
invalid) is the model's ``GovernanceState.contract_errors``, the same one the gate's
``valid`` check uses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench.repo import layout
from workbench.service.errors import InvalidContract

if TYPE_CHECKING:
    from workbench.service.core import Workbench

HEAD = "HEAD"


def require_valid_contract(wb: Workbench, contract_id: str, act: str) -> None:
    """Raise ``InvalidContract`` when ``contracts/<id>.toml`` at HEAD does not validate.

    A contract that is not committed is left to the caller (it has its own message)."""
    if wb.git.is_empty:
        return
    state = wb.state(HEAD)
    path = layout.contract_path(contract_id)
    if path not in state.documents:
        return
    errors = state.contract_errors(contract_id)
    if errors:
        raise InvalidContract(
            f"cannot {act} {contract_id}: {path} does not validate at HEAD "
            f"({len(errors)} error(s)); fix each problem below and commit first",
            errors,
        )
