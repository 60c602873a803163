"""The e2e tests share the TUI tests' demo template (built once per process)."""

from tests.tui.conftest import _demo_template, demo_repo  # noqa: F401
