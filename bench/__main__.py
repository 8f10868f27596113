"""`python -m bench` (`make bench`): run the benchmarks, print the table, save the JSON.

Sections: (a) raw JetStream publish ceiling, (b) backbone throughput, (c) backbone lag,
(d) database access paths, (e) whole-suite idle RSS, (f) complaint intake through the gateway
beside a naive handler, (g) the complaints SLA scan over
1,000,000 open deadlines, (h) the governor's complaint board with a year of demo data, (i) RKA
import of 150,000 lines (XLSX, CSV, raw inserts), (j) planning a province-year, (k) FDP export
memory at 10k and 100k lines, (l) approving a plan of 5,000 lines.
`--only a,d` runs a subset.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from grms_kit.nats_server import nats_server_binary

from bench import (
    backbone,
    budget_bulk,
    complaints_intake,
    complaints_read,
    db_access,
    jetstream_raw,
    planning_year,
    suite_rss,
)
from bench.common import Report

RESULTS = Path(__file__).resolve().parent / "results"
SECTIONS = "abcdefghijkl"


def _environment() -> dict[str, Any]:
    version = subprocess.run([nats_server_binary(), "--version"], capture_output=True, text=True, check=False)
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "nats_server": version.stdout.strip(),
    }


async def _run(only: str, workdir: Path) -> Report:
    report = Report()
    data = report.data
    data["environment"] = _environment()
    timings: dict[str, float] = {}
    ceiling: dict[str, float] | None = None
    started = time.perf_counter()
    if "a" in only or "b" in only or "c" in only:  # (b) is judged against (a)
        data["jetstream_raw"] = await jetstream_raw.run(report, workdir)
        ceiling = data["jetstream_raw"]["pipelined_msgs_per_s"]
        timings["a"] = time.perf_counter() - started
    if ("b" in only or "c" in only) and ceiling is not None:
        t = time.perf_counter()
        data["backbone"] = await backbone.run(report, workdir, ceiling)
        timings["bc"] = time.perf_counter() - t
    # The sections that stand alone, in the order they run: (letter, JSON key, how to run it).
    sections: list[tuple[str, str, Callable[[], Awaitable[Any]]]] = [
        ("d", "db_access", lambda: db_access.run(report, workdir)),
        ("e", "suite_rss", lambda: asyncio.to_thread(suite_rss.measure, workdir)),
        ("i", "rka_import", lambda: asyncio.to_thread(budget_bulk.run_import, report, workdir)),
        ("k", "fdp_export", lambda: asyncio.to_thread(budget_bulk.run_export, report, workdir)),
        ("l", "plan_approval", lambda: asyncio.to_thread(budget_bulk.run_approve, report, workdir)),
        ("j", "planning_year", lambda: planning_year.run(report, workdir)),
        ("f", "complaints_intake", lambda: asyncio.to_thread(complaints_intake.run_f, report, workdir)),
        ("g", "complaints_sla_scan", lambda: asyncio.to_thread(complaints_read.run_g, report, workdir)),
        ("h", "complaints_board", lambda: asyncio.to_thread(complaints_read.run_h, report, workdir)),
    ]
    for letter, key, run in sections:
        if letter not in only:
            continue
        t = time.perf_counter()
        data[key] = await run()
        if letter == "e":
            suite_rss.add_to(report, data[key])
        timings[letter] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - started
    data["section_seconds"] = timings
    return report


def main() -> None:
    """Parse the options, run, print and save."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", default=SECTIONS, help="sections to run, e.g. 'ad' (default: all)")
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/<timestamp>.json")
    args = parser.parse_args()
    only = "".join(c for c in args.only.lower() if c in SECTIONS)
    # The kit's retry loops log reconnects when a run's broker stops; keep the table clean.
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")

    with tempfile.TemporaryDirectory(prefix="grms-bench-") as tmp:
        report = asyncio.run(_run(only, Path(tmp)))
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    report.data["timestamp"] = stamp
    print(f"GRMS bench {stamp} — medians of runs; compare ratios within one run only")
    print(report.render())
    print(f"\n(total {report.data['section_seconds']['total']:.0f} s)")
    if not args.no_save:
        RESULTS.mkdir(parents=True, exist_ok=True)
        path = RESULTS / f"{stamp}.json"
        path.write_text(json.dumps(report.data, indent=2, default=str) + "\n")
        print(f"saved {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")


if __name__ == "__main__":
    main()
