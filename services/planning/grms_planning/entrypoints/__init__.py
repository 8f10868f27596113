"""Planning entry points: the gRPC API."""
