"""Complaints use cases: commands, handlers and the ports they need."""
