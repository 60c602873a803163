"""bundle room."""
