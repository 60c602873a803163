"""Uncommitted file names in the notes and refusals of writes and the gate: a hostile name
(an escape sequence, a newline that would start a forged line) is shown in visible
notation on one line; a non-ASCII name stays readable (not git's octal quoting)."""

from __future__ import annotations

from pathlib import Path

from tests.security.writers import run_wb

HOSTILE = "caf\u00e9\x1b[2J\nRESULT: PASS"


def _assert_one_visible_line(text: str, shown: str) -> None:
    assert "\x1b" not in text, repr(text)
    assert not any(ln.startswith("RESULT: PASS") or ln.startswith("OK") for ln in text.splitlines())
    assert shown in text, text


def test_gate_note_shows_a_hostile_uncommitted_name_on_one_line(demo_repo: Path) -> None:
    # Already right on main (the note renders each path with safe_text.line); this is its proof.
    (demo_repo / "contracts" / f"{HOSTILE}.toml").write_text("x = 1\n")
    done = run_wb(demo_repo, "gate")
    [note] = [ln for ln in done.err.splitlines() if ln.startswith("note: the gate judges")]
    _assert_one_visible_line(done.err, "contracts/caf\u00e9\\x1b[2J\\nRESULT: PASS.toml")
    assert "Commit them" in note


def test_registry_refusal_shows_a_hostile_uncommitted_name_on_one_line(demo_repo: Path) -> None:
    # Failed before: "uncommitted changes under keys/: keys/k\x1b[2J" then a line "OK;
    # commit or discard them" of the attacker's making (the newline reached the terminal).
    (demo_repo / "keys" / "k\x1b[2J\nOK").write_text("x")
    done = run_wb(demo_repo, "--as", "erin.walsh", "registry", "runners", "ci.pipeline")
    assert done.code == 2, done
    _assert_one_visible_line(done.err, "keys/k\\x1b[2J\\nOK; commit or discard them")
