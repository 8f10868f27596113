"""Planning's domain: sub-activities, their monthly plans and the procurement plan; pure Python."""
