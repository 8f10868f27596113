"""grms_delivery — the delivery service."""
