"""Who may approve an exemption (`evidence.closures.approver_refusal`): the one rule asked
before an approval is written (`workbench violations approve`) and when a written one is
judged (the fold the gate, the app and `verify-bundle` use)."""

from __future__ import annotations

from workbench.evidence.closures import Authority, approver_refusal

AUTHORITY = Authority(frozenset({"cara", "dev"}), 90, ("compliance-lead",))


def test_an_authorised_third_person_may_approve() -> None:
    assert approver_refusal("cara", "ana", "ben", {"eve"}, AUTHORITY) is None


def test_each_refusal_in_the_order_a_person_reads_it() -> None:
    # The requester first, even when they are also the owner and hold the authority.
    assert approver_refusal("cara", "cara", "cara", {"cara"}, AUTHORITY) == "own-request"
    assert approver_refusal("cara", "ana", "cara", {"cara"}, AUTHORITY) == "owns-term"
    assert approver_refusal("cara", "ana", "ben", {"cara"}, AUTHORITY) == "caused"
    assert approver_refusal("zoe", "ana", "ben", set(), AUTHORITY) == "no-authority"
    # No owner recorded (an old finding): the other rules still hold.
    assert approver_refusal("dev", "ana", None, set(), AUTHORITY) is None
