"""grms_budgeting — e-budgeting: governments, agencies (OPD) and, later, budgets and disbursements."""
