"""Complaints domain: the complaint aggregate, its SLA deadlines and redaction; pure Python."""
