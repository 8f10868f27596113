"""Complaints entry points: the gRPC API and the SLA scheduler."""
