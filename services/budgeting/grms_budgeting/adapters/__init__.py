"""Budgeting adapters: tables, repositories, the unit of work and event mapping."""
