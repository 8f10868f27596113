"""Planning use cases: commands and their handlers, and the ports they need."""
