"""A problem found in a governance repo file: where it is and what is wrong."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int
    column: int
    severity: Severity
    code: str
    message: str
    field: str = ""

    def render(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        at = f" [{self.field}]" if self.field else ""
        return f"{where}: {self.severity}: {self.message}{at} ({self.code})"

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def field_path(path: tuple[str | int, ...]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out
