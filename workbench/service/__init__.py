"""The one service layer behind the CLI and the TUI."""
