"""grms_gateway — the only door for people and programs: HTTP to gRPC, web pages, open data."""
