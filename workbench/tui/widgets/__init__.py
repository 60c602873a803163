"""Widgets: render state and emit messages; they never call the service."""
