"""`grms up`: start NATS, the six services and the gateway, wait until ready, seed, supervise, stop."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable

from rich.console import Console
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from grms_cli import accounts
from grms_cli.config import CliError, SuiteConfig, read_suite_file, resolve_auth_secret, resolve_pin_peppers
from grms_cli.nats import port_is_free
from grms_cli.planning_seed import seed_planning
from grms_cli.probes import grpc_health, http_status, pid_alive
from grms_cli.seed import seed, seed_complaints, seed_steps
from grms_cli.seed_budget import seed_budget
from grms_cli.supervisor import FatalChildExit, Supervisor, build_specs

__all__ = ["run_up"]

_PORT_VARIABLE = {"nats": "GRMS_NATS_PORT / --nats-port", "gateway": "GRMS_GATEWAY_PORT / --gateway-port"}


def _check_not_running(config: SuiteConfig) -> None:
    try:
        suite = read_suite_file(config.var_dir)
    except CliError:
        return
    pid = suite.get("supervisor_pid")
    if suite.get("state") != "stopped" and pid != os.getpid() and pid_alive(pid):
        raise CliError(f"the suite is already running from {config.var_dir} (supervisor pid {pid}); see `grms status`")


def _check_ports(supervisor: Supervisor) -> None:
    for child in supervisor.children:
        spec = child.spec
        if not port_is_free(spec.port, spec.host):
            variable = _PORT_VARIABLE.get(spec.name, f"GRMS_{spec.name.upper()}_GRPC_PORT / --base-port")
            raise CliError(
                f"port {spec.port} for {spec.name} is already in use on {spec.host}: "
                f"stop what holds it or choose another port with {variable}",
                2,
            )


def _status_table(supervisor: Supervisor, health: dict[str, str], elapsed: float) -> Table:
    table = Table(title=f"Starting GRMS ({elapsed:.0f}s)", title_justify="left")
    for column in ("process", "pid", "port", "state"):
        table.add_column(column)
    for child in supervisor.children:
        state = health.get(child.spec.name, "starting")
        if child.state == "restarting":
            state = "restarting"
        colour = "green" if state in ("SERVING", "ready", "running") else "yellow"
        table.add_row(child.spec.name, str(child.pid or "-"), str(child.spec.port), f"[{colour}]{state}[/]")
    return table


def _probe(supervisor: Supervisor) -> tuple[dict[str, str], bool]:
    """Each child's health and whether the gateway's /readyz says the suite is ready."""
    health: dict[str, str] = {}
    ready = False
    for child in supervisor.children:
        spec = child.spec
        if child.pid is None:
            health[spec.name] = child.state
        elif spec.kind == "service":
            health[spec.name] = grpc_health(spec.url, 0.5)
        elif spec.kind == "gateway":
            code = http_status(f"{spec.url}/readyz", 1.0)
            ready = code == 200
            health[spec.name] = "ready" if ready else ("waiting for services" if code else "starting")
        else:
            health[spec.name] = "running"
    return health, ready


def _wait_ready(supervisor: Supervisor, console: Console, stop: threading.Event, timeout: float) -> bool:
    """Supervise until /readyz is 200 (True), or the timeout or a stop signal (False)."""
    start = time.monotonic()
    health: dict[str, str] = {}
    with Live(_status_table(supervisor, health, 0), console=console, refresh_per_second=4, transient=False) as live:
        while not stop.is_set():
            supervisor.tick()
            health, ready = _probe(supervisor)
            elapsed = time.monotonic() - start
            live.update(_status_table(supervisor, health, elapsed))
            if ready:
                return True
            if elapsed > timeout:
                not_ready = [n for n, h in health.items() if h not in ("SERVING", "running", "ready")]
                console.print(
                    f"[red]The suite did not become ready within {timeout:.0f}s; not ready: "
                    f"{', '.join(not_ready) or 'gateway'}. Logs: {supervisor.config.log_dir}[/]"
                )
                return False
            stop.wait(0.5)
    return False


def _run_seed(supervisor: Supervisor, console: Console, stop: threading.Event, secret: str) -> None:
    address = supervisor.config.service_address("budgeting")
    columns = (
        TextColumn("Demo data"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("", total=seed_steps())

        def advance(what: str) -> None:
            progress.update(task, advance=1, description=what)
            supervisor.tick()

        result = seed(address, secret, advance=advance, should_stop=stop.is_set)
    if result.changed:
        console.print(
            f"Demo data loaded: {result.governments_created} governments and "
            f"{result.agencies_created} agencies created."
        )
    elif not stop.is_set():
        console.print("Demo data already loaded; nothing changed.")


def _start_budget_seed(supervisor: Supervisor, console: Console, stop: threading.Event, secret: str) -> None:
    """Load the FY2025 demo budget, then plan it, behind the running suite, so the URL is usable at once.

    Measured on the 2-core machine with SQLite: about 150 s for 3,000 DPAs, 98,258 lines and
    their monthly SP2Ds (54 s without the realisation), then about 6 s on each later start
    (every plan is found and skipped). The planning demo follows once planning has learned the
    approved amounts from budgeting's BudgetPlanApproved events (see `_plan_demo_year`).
    """
    address = supervisor.config.service_address("budgeting")

    def run() -> None:
        started = time.perf_counter()
        try:
            result = seed_budget(address, secret, should_stop=stop.is_set)
        except CliError as exc:
            if not stop.is_set():
                console.print(f"[red]Loading the demo budget failed: {exc}[/] (retry with `grms seed`)")
            return
        if result.plans_loaded and not stop.is_set():
            console.print(
                f"Demo budget 2025 loaded: {result.plans_loaded:,} DPAs with {result.lines_loaded:,} "
                f"lines in {time.perf_counter() - started:.0f} s."
            )
        if not stop.is_set():
            _plan_demo_year(supervisor, console, stop, secret)

    threading.Thread(target=run, name="demo-budget", daemon=True).start()


def _plan_demo_year(supervisor: Supervisor, console: Console, stop: threading.Event, secret: str) -> None:
    """Plan the demo budget's 3,000 sub-activities (F1, indicators, 1,200 RUP packages), one import per agency.

    Waits (up to 10 minutes) until planning has learned each agency's approved amounts from
    budgeting's events; on a later start every sub-activity is found planned and nothing changes.
    Measured on the 2-core machine with SQLite: 58 s after the budget on a first start, mostly
    waiting for planning to consume the 3,000 BudgetPlanApproved events (the 48 imports alone
    take about 6 s, bench section j); 0.6 s on a later start.
    """
    address = supervisor.config.service_address("planning")
    try:
        result = seed_planning(address, secret, should_stop=stop.is_set)
    except CliError as exc:
        if not stop.is_set():
            console.print(f"[red]Planning the demo year failed: {exc}[/] (retry with `grms seed-planning`)")
        return
    if result.changed and not stop.is_set():
        console.print(
            f"Demo planning 2025 loaded: {result.sub_activities_created:,} sub-activities, "
            f"{result.monthly_rows:,} monthly rows and {result.packages_created:,} RUP packages "
            f"in {result.seconds:.0f} s."
        )


def _seed_complaints_in_background(
    supervisor: Supervisor, console: Console, stop: threading.Event, secret: str
) -> threading.Thread:
    """The demo year of complaints (~24,000), loaded by the complaints service while the suite is usable."""
    address = supervisor.config.service_address("complaints")

    def run() -> None:
        try:
            added, seconds = seed_complaints(address, secret, should_stop=stop.is_set)
        except CliError as exc:
            console.print(f"[yellow]Demo complaints not loaded: {exc}[/]")
            return
        if added:
            console.print(f"Demo complaints loaded: {added:,} in {seconds:.1f} s ({added / seconds:,.0f}/s).")

    thread = threading.Thread(target=run, name="demo-complaints", daemon=True)
    thread.start()
    return thread


def _admin_hint(supervisor: Supervisor, console: Console) -> None:
    var_dir = supervisor.config.var_dir
    try:
        path, created = accounts.ensure_default_admin(var_dir)
    except CliError as exc:
        console.print(
            f"[yellow]No default admin created ({exc}); create one with "
            f"`grms user create NAME --role admin --government 33`.[/]"
        )
        return
    verb = "created" if created else "exists"
    console.print(f"First login: user [bold]admin[/] ({verb}), password in {path}")


def _install_signals(stop: threading.Event) -> Callable[[], None]:
    """Make SIGINT, SIGTERM and SIGHUP set `stop`; return a function that restores the old handlers."""
    previous = {}

    def handler(_signum: int, _frame: object) -> None:
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        previous[sig] = signal.signal(sig, handler)

    def restore() -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)

    return restore


def run_up(
    config: SuiteConfig,
    console: Console,
    *,
    ready_timeout: float = 120.0,
    grace: float = 10.0,
    load_demo: bool = True,
) -> int:
    """Run the suite until a stop signal; return the exit status."""
    config.var_dir.mkdir(parents=True, exist_ok=True)
    secret = resolve_auth_secret(config.var_dir, create=True)
    _check_not_running(config)
    try:
        specs = build_specs(config, secret, os.environ, pin_peppers=resolve_pin_peppers(config.var_dir, create=True))
    except FileNotFoundError as exc:
        raise CliError(str(exc), 2) from None

    def notify(message: str) -> None:
        console.print(f"[yellow]{time.strftime('%H:%M:%S')} {message}[/]")

    supervisor = Supervisor(config, specs, notify=notify)
    _check_ports(supervisor)
    stop = threading.Event()
    restore = _install_signals(stop)
    status = 0
    try:
        supervisor.start_all()
        console.print(f"Starting GRMS from {config.var_dir} (NATS {config.nats_url}); logs in {config.log_dir}")
        if not _wait_ready(supervisor, console, stop, ready_timeout):
            status = 0 if stop.is_set() else 1
        else:
            if load_demo:
                try:
                    _run_seed(supervisor, console, stop, secret)
                    _seed_complaints_in_background(supervisor, console, stop, secret)
                except CliError as exc:
                    console.print(
                        f"[red]Loading the demo data failed: {exc}[/] (the suite keeps running; retry with `grms seed`)"
                    )
            if not stop.is_set():
                _admin_hint(supervisor, console)
                supervisor.state = "running"
                supervisor.write_suite_file()
                console.print(f"[bold green]GRMS is ready at {config.gateway_url}[/]  (Ctrl-C stops it)")
                if load_demo:
                    _start_budget_seed(supervisor, console, stop, secret)
            while not stop.is_set():
                supervisor.tick()
                stop.wait(0.5)
    except FatalChildExit as exc:
        console.print(f"[red]{exc}; stopping. Last lines of {exc.name}'s log:[/]\n{exc.tail}")
        status = 2
    except CliError as exc:
        console.print(f"[red]{exc}[/]")
        status = exc.exit_code
    finally:
        console.print("Stopping GRMS…")
        supervisor.stop_all(grace)
        restore()
    console.print("GRMS stopped.")
    return status
