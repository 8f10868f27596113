"""GRMS benchmarks: our code measured beside the raw stack it runs on, in the same run.

`make bench` (`python -m bench`) runs every section, prints a table and writes the figures
to `bench/results/<timestamp>.json`. Only ratios measured in one run mean anything: the
machines are shared and noisy (see shared/BENCH.md).
"""
