"""Run the controlling service: `python -m grms_controlling`."""

from grms_kit.runtime import run_main

from grms_controlling import bootstrap

run_main(bootstrap.SERVICE, bootstrap.build)
