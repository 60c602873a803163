""" "Did you mean": the closest known id to a mistyped one (stdlib difflib)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def close_matches(value: str, choices: Iterable[str], n: int = 3) -> list[str]:
    return difflib.get_close_matches(value, sorted(set(choices)), n=n, cutoff=0.6)


def did_you_mean(value: str, choices: Iterable[str]) -> str:
    """`; did you mean 'x'?` (or 'x' or 'y'), or '' when nothing is close."""
    matches = close_matches(value, choices)
    if not matches:
        return ""
    return "; did you mean " + " or ".join(repr(m) for m in matches) + "?"
