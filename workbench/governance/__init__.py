"""governance room."""
