"""grms_kit — the shared plumbing of every GRMS service: no domain code lives here."""
