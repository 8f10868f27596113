"""grms_monev — the monev service."""
