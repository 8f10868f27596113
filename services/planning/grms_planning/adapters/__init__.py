"""Planning adapters: tables, repositories, the unit of work and the wire format (protobuf)."""
