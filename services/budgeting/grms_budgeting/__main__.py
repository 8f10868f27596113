"""Run the budgeting service: `python -m grms_budgeting`."""

from grms_budgeting.entrypoints.main import main

main()
