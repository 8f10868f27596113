"""grms_complaints — the complaints service."""
