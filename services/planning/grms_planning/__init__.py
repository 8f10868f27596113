"""grms_planning — the planning service."""
