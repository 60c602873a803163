"""Interoperability with other contract formats: pure mappings (bytes in, values out)."""
