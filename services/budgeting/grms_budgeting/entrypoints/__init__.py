"""Budgeting entry points: the gRPC API and the process main()."""
