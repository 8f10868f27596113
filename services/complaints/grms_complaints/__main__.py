"""Run the complaints service: `python -m grms_complaints`."""

from grms_kit.runtime import run_main

from grms_complaints import bootstrap

run_main(bootstrap.SERVICE, bootstrap.build)
