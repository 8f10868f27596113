"""Run the monev service: `python -m grms_monev`."""

from grms_kit.runtime import run_main

from grms_monev import bootstrap

run_main(bootstrap.SERVICE, bootstrap.build)
