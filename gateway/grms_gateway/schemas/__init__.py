"""Pydantic models of the gateway's JSON API: one input model per route, output models built from protobuf."""
