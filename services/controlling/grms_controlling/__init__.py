"""grms_controlling — the controlling service."""
