"""Modal dialogs: confirmation, errors, commit message, pickers, key help."""
