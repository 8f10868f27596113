"""Run the delivery service: `python -m grms_delivery`."""

from grms_kit.runtime import run_main

from grms_delivery import bootstrap

run_main(bootstrap.SERVICE, bootstrap.build)
