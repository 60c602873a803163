"""The governance repo on disk and in git."""
