"""Run the planning service: `python -m grms_planning`."""

from grms_kit.runtime import run_main

from grms_planning import bootstrap

run_main(bootstrap.SERVICE, bootstrap.build)
