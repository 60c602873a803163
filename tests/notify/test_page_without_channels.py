"""The page test on a repository that declares no `[channels]` (a fresh `workbench init`):
the contract names who is paged and through what, but nothing could send it, so the test
cannot pass. Decision (docs/notify.md, "Channels"): a warning naming the missing channel
configuration, everywhere the one page test is shown; it passes once the channel the
contract names is declared."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.conftest import FIXED_NOW
from workbench.governance.paging import page_test
from workbench.repo.git import Author, GitRepo
from workbench.service.core import Workbench
from workbench.service.init import init_repo

CONTRACT = "data-to-model"
EMAIL_CHANNEL = """
[channels.email]
kind = "email"
host = "smtp.example.org"
from = "governance@example.org"
"""


def _page(root: Path) -> tuple[str, str, str]:
    wb = Workbench(root, now=FIXED_NOW)
    state = wb.state()
    pure = page_test(state, state.contracts[CONTRACT].contract, FIXED_NOW.date())
    [gate] = [
        c
        for c in wb.obligations.gate.evaluate().checks
        if c.contract == CONTRACT and c.rule == "page_test"
    ]
    return pure.status, pure.reason, gate.outcome


def test_page_test_warns_until_the_contract_channel_is_declared(tmp_path: Path) -> None:
    root = init_repo(tmp_path / "gov", now=FIXED_NOW - timedelta(days=1))
    status, reason, gate = _page(root)
    assert (status, gate) == ("warn", "warn"), reason
    assert "workbench.toml declares no [channels]" in reason
    assert "email:" in reason and "data.lead" in reason  # who, and through what

    settings = (root / "workbench.toml").read_text(encoding="utf-8")
    GitRepo(root).commit_files(
        {"workbench.toml": (settings + EMAIL_CHANNEL).encode()},
        "Declare the e-mail channel",
        Author("Data Lead", "data.lead@example.org"),
        when=FIXED_NOW - timedelta(hours=1),
    )
    status, reason, gate = _page(root)
    assert (status, gate) == ("pass", "pass"), reason
