"""Budgeting domain: pure Python entities, value objects, rules and events."""
