"""Monev adapters: tables (for now the reference copy and the messaging tables)."""
