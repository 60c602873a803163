"""Signature state as shown on the contract detail (the verdict panel)."""

from __future__ import annotations

from typing import Any

from textual.content import Content

STATE_STYLES = {
    "approved": "bold $text-success",
    "pending": "bold $text-warning",
    "stale": "bold $text-warning",
    "invalid": "bold $text-error",
    "draft": "bold $text-muted",
}
STATE_GLYPHS = {"approved": "✓", "pending": "…", "stale": "≠", "invalid": "✗", "draft": "○"}
CHECK_STYLES = {"valid": "$text-success", "retired": "$text-warning", "historic": "$text-muted"}


def who(state: Any, pid: str) -> str:
    person = state.people.get(pid) if state is not None else None
    return f"{person.name} ({pid})" if person else pid


def verdict_content(verdict: Any, state: Any = None) -> Content:
    """State, reason, who signed, who still needs to sign, and every signature's status."""

    def row(label: str, *value: Content | str | tuple[str, str]) -> Content:
        return Content.assemble((f"{label:<14}", "$text-muted"), *value)

    style = STATE_STYLES.get(verdict.state, "bold")
    version = f" v{verdict.version}" if verdict.version else ""
    lines = [
        Content.styled("Signatures", "bold $text-primary"),
        row(
            "verdict",
            (f"{STATE_GLYPHS.get(verdict.state, '•')} {verdict.state}{version}", style),
            f"  {verdict.reason}",
        ),
    ]
    for pid in sorted(verdict.required):
        roles = ", ".join(verdict.required[pid])
        if pid in verdict.signed:
            mark = (f"✓ {who(state, pid)}", "$text-success")
            lines.append(row(f"signed{version}", mark, f"  {roles}"))
    stale = verdict.state == "stale" and verdict.version
    for pid in verdict.missing:
        roles = ", ".join(verdict.required.get(pid, []))
        mark = (f"… {who(state, pid)}", "$text-warning")
        lines.append(
            row(f"to sign v{verdict.version + 1}" if stale else "to sign", mark, f"  {roles}")
        )
    for check in verdict.checks:
        name = check.file.rsplit("/", 1)[-1]
        check_style = CHECK_STYLES.get(check.status, "$text-error")
        fpr = f"  {check.fingerprint}" if check.fingerprint else ""
        message = "" if check.status == "valid" else f"  {check.message}"
        status = (f"{check.status:<9}", check_style)
        lines.append(row("  signature", status, f" {name}{fpr}{message}"))
    if verdict.statement_sha256:
        lines.append(row("statement", verdict.statement_sha256))
    if verdict.current_sha256 and verdict.subject_sha256 != verdict.current_sha256:
        lines.append(
            row(
                "contract",
                (f"sha256 {verdict.current_sha256} differs from the signed one", "$text-warning"),
            )
        )
    for note in verdict.notes:
        lines.append(row("note", note))
    return Content("\n").join(lines)
