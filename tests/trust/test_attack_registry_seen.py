"""A force-pushed history that drops a registry version, seen from a fresh clone.

The history walk catches a registry rollback in any clone that still has the dropped
commits. A fresh CI clone of a force-pushed branch has no such memory: its history keeps
v1 (so the pinned trust root holds) and simply never had v2, the version that revoked a
key. The registry-seen pin (`--registry-seen vN:SHA256`, `$WORKBENCH_REGISTRY_SEEN`, or
`workbench registry head --pin` in a clone) is that memory, given out of band.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.signing.demo_helpers import APPROVED, APPROVED2
from tests.trust.test_attack_registry import (
    assert_registry_attack_is_loud,
    gate,
    git,
    revoke_ravi,
    root_of,
    run,
    states,
    verify,
)

SEEN_ENV = "WORKBENCH_REGISTRY_SEEN"


@pytest.fixture(autouse=True)
def _nothing_from_outside(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("WORKBENCH_TRUST_ROOT", SEEN_ENV, "WORKBENCH_KEY_PASSPHRASE"):
        monkeypatch.delenv(name, raising=False)


def head_pin(repo: Path) -> str:
    result = run(repo, "registry", "head")
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def force_pushed(demo: Path, tmp_path: Path) -> tuple[Path, str, str]:
    """Origin had registry v2 (Ravi's key revoked); the attacker force-pushes the history
    from before it. Returns (origin, the trust root, the registry head CI had seen)."""
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
    git(demo, "remote", "add", "origin", str(origin))
    before = revoke_ravi(demo)
    seen = head_pin(demo)
    assert seen.startswith("v2:")
    git(demo, "push", "-q", "origin", "HEAD:main")
    # The attacker: an ordinary member with push access and no admin key.
    git(demo, "push", "-q", "--force", "origin", f"{before}:main")
    return origin, root_of(demo), seen


def fresh_clone(origin: Path, target: Path) -> Path:
    subprocess.run(["git", "clone", "-q", str(origin), str(target)], check=True)
    return target


def test_a_fresh_clone_of_a_force_pushed_history_is_a_rollback_with_the_seen_pin(
    demo_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    origin, root, seen = force_pushed(demo_repo, tmp_path)
    ci = fresh_clone(origin, tmp_path / "ci")
    monkeypatch.setenv("WORKBENCH_TRUST_ROOT", root)
    # What the root alone cannot see: v1 is the trusted one, and Ravi's revoked key approves.
    code, data = verify(ci)
    assert data["registry"]["version"] == 1 and data["registry"]["problems"] == []
    assert states(data)[APPROVED] == "approved"
    # With the registry version CI had seen (its own variable): loud everywhere.
    monkeypatch.setenv(SEEN_ENV, seen)
    assert_registry_attack_is_loud(ci, "rollback")
    code, data = gate(ci)
    assert any(
        "known complete ($WORKBENCH_REGISTRY_SEEN)" in p for p in data["trust_root"]["problems"]
    )
    # The flag says the same, and wins over the environment.
    monkeypatch.setenv(SEEN_ENV, "v1:" + root)
    flagged = run(ci, "gate", "--registry-seen", seen)
    assert flagged.returncode == 1 and "rollback" in flagged.stdout
    assert "known complete (--registry-seen)" in flagged.stdout


def test_a_clone_that_pinned_the_registry_head_catches_a_reset_to_the_force_push(
    demo_repo: Path, tmp_path: Path
) -> None:
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
    git(demo_repo, "remote", "add", "origin", str(origin))
    before = revoke_ravi(demo_repo)
    git(demo_repo, "push", "-q", "origin", "HEAD:main")
    lead = fresh_clone(origin, tmp_path / "lead")
    (lead / ".git" / "handshake-workbench").mkdir(exist_ok=True)
    (lead / ".git" / "handshake-workbench" / "trust-root").write_text(root_of(demo_repo) + "\n")
    pinned = run(lead, "registry", "head", "--pin")
    assert pinned.returncode == 0 and pinned.stdout.startswith("v2:"), pinned.stderr
    assert (lead / ".git" / "handshake-workbench" / "registry-seen").read_text().startswith("v2:")
    git(demo_repo, "push", "-q", "--force", "origin", f"{before}:main")
    # The hurried lead takes the remote's branch as it is: the local history loses v2 too.
    git(lead, "fetch", "-q", "origin")
    git(lead, "reset", "-q", "--hard", "origin/main")
    assert_registry_attack_is_loud(lead, "rollback")


def test_the_seen_pin_holds_while_the_registry_moves_on(
    demo_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pin names a version known complete; newer versions are what a registry does."""
    seen_v1 = head_pin(demo_repo)
    assert seen_v1.startswith("v1:")
    revoke_ravi(demo_repo)
    monkeypatch.setenv(SEEN_ENV, seen_v1)
    code, data = verify(demo_repo)
    assert data["registry"]["version"] == 2 and data["registry"]["problems"] == []
    assert states(data)[APPROVED2] == "approved"
    code, result = gate(demo_repo)
    assert result["trust_root"]["problems"] == []


def test_a_seen_pin_naming_other_bytes_is_a_fork(
    demo_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    version, sha = head_pin(demo_repo).split(":")
    other = ("0" if sha[0] != "0" else "1") + sha[1:]
    monkeypatch.setenv(SEEN_ENV, f"{version}:{other}")
    code, data = verify(demo_repo)
    assert code == 1 and set(states(data).values()) == {"invalid"}
    assert any("forked" in p and other[:12] in p for p in data["registry"]["problems"])


def test_a_malformed_seen_pin_is_an_input_error(
    demo_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for command in (("gate",), ("verify",), ("status",)):
        result = run(demo_repo, *command, "--registry-seen", "v2:" + "0" * 63)
        assert result.returncode == 2 and "not a registry version" in result.stderr, command
    monkeypatch.setenv(SEEN_ENV, "the registry we saw")
    result = run(demo_repo, "gate")
    assert result.returncode == 2 and "$WORKBENCH_REGISTRY_SEEN" in result.stderr
    monkeypatch.delenv(SEEN_ENV)
    pin = demo_repo / ".git" / "handshake-workbench" / "registry-seen"
    pin.write_text("v0:" + "0" * 64 + "\n")
    result = run(demo_repo, "verify")
    assert result.returncode == 2 and "registry-seen" in result.stderr


def test_registry_head_is_refused_on_a_broken_registry(demo_repo: Path) -> None:
    revoke_ravi(demo_repo)
    git(demo_repo, "rm", "-q", "keys/registry/v2.erin.walsh.sig")
    git(demo_repo, "commit", "-qm", "Remove a stray signature")
    result = run(demo_repo, "registry", "head", "--pin")
    assert result.returncode == 2 and "rollback" in result.stderr
    assert not (demo_repo / ".git" / "handshake-workbench" / "registry-seen").exists()
