"""Inline keyboards of the access flows."""
