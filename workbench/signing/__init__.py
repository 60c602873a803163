"""signing room."""
