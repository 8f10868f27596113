"""grms_cli — the `grms` command: run the suite, seed demo data, manage accounts."""
