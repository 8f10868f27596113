"""grms_reference — the copy of budgeting's governments and agencies every other service keeps."""
