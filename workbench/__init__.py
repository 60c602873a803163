"""Handshake Workbench: governance contracts for the seams between AI teams."""

__version__ = "0.1.0"
