"""The `grms` command line: run the suite, check it, seed demo data, manage accounts and the outbox."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from grms_cli.config import SERVICES, CliError, SuiteConfig, budgeting_address, read_suite_file, resolve_auth_secret
from grms_cli.config import var_dir_from_env as _var_dir_from_env

if TYPE_CHECKING:
    from grms_budgeting.domain.anchor import AnchorCheck, AuditAnchor

__all__ = ["app", "main"]

app = typer.Typer(
    name="grms",
    help="GRMS — Government Resources Management System: run and operate the suite.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
user_app = typer.Typer(help="Gateway user accounts.", no_args_is_help=True)
apikey_app = typer.Typer(help="Gateway API keys.", no_args_is_help=True)
outbox_app = typer.Typer(help="The services' transactional outboxes.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit chains of budget plans.", no_args_is_help=True)
budget_app = typer.Typer(help="Budget plans (RKA/DPA) as Excel workbooks.", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(apikey_app, name="apikey")
app.add_typer(outbox_app, name="outbox")
app.add_typer(audit_app, name="audit")
app.add_typer(budget_app, name="budget")

console = Console()
err = Console(stderr=True)

VarDir = Annotated[
    Path | None,
    typer.Option("--var-dir", help="State directory (default: $GRMS_VAR_DIR or ./var).", show_default=False),
]


def _var_dir(option: Path | None) -> Path:
    return option.expanduser().resolve() if option else _var_dir_from_env()


@app.command()
def up(
    var_dir: VarDir = None,
    base_port: Annotated[
        int | None,
        typer.Option(
            help="First of six consecutive gRPC ports for the services (default 50151, or each "
            "GRMS_<SERVICE>_GRPC_PORT).",
            min=1,
            max=65530,
            show_default=False,
        ),
    ] = None,
    gateway_port: Annotated[
        int | None,
        typer.Option(
            help="Gateway HTTP port (default $GRMS_GATEWAY_PORT or 8000).", min=1, max=65535, show_default=False
        ),
    ] = None,
    nats_port: Annotated[
        int | None,
        typer.Option(
            help="Port of the embedded nats-server (default $GRMS_NATS_PORT or 4223).",
            min=1,
            max=65535,
            show_default=False,
        ),
    ] = None,
    ready_timeout: Annotated[float, typer.Option(help="Seconds to wait for /readyz.", min=1)] = 120.0,
    grace: Annotated[float, typer.Option(help="Seconds a child gets to stop before SIGKILL.", min=0)] = 10.0,
    seed_demo: Annotated[bool, typer.Option("--seed/--no-seed", help="Load the Central Java demo data.")] = True,
) -> None:
    """Start NATS, the six services and the gateway; Ctrl-C stops them all."""

    from grms_cli.up import run_up

    env = dict(os.environ)
    if var_dir is not None:
        env["GRMS_VAR_DIR"] = str(_var_dir(var_dir))
    config = SuiteConfig.from_env(env, base_port=base_port, gateway_port=gateway_port, nats_port=nats_port)
    code = run_up(config, console, ready_timeout=ready_timeout, grace=grace, load_demo=seed_demo)
    raise typer.Exit(code)


@app.command()
def status(
    var_dir: VarDir = None,
    timeout: Annotated[float, typer.Option(help="Deadline of each probe in seconds.", min=0.1)] = 2.0,
) -> None:
    """Show each process of the running suite, its health, consumer lag and outbox backlog."""
    from grms_cli.status import consumer_lags, outbox_pending, process_statuses

    directory = _var_dir(var_dir)
    suite = read_suite_file(directory)
    statuses = process_statuses(suite, timeout)
    table = Table(title=f"GRMS at {suite.get('gateway_url')} (state: {suite.get('state')})", title_justify="left")
    for column in ("process", "pid", "alive", "port", "health", "outbox pending/dead"):
        table.add_column(column)
    databases = {p["name"]: p.get("database_url") for p in suite.get("processes", [])}
    for st in statuses:
        backlog = ""
        if st.name in SERVICES and databases.get(st.name):
            counts = outbox_pending(st.name, str(databases[st.name]))
            backlog = f"{counts[0]}/{counts[1]}" if counts else "-"
        colour = "green" if st.ok else "red"
        table.add_row(
            st.name,
            str(st.pid or "-"),
            "yes" if st.alive else "[red]no[/]",
            str(st.port),
            f"[{colour}]{st.health}[/]",
            backlog,
        )
    console.print(table)
    durables = list(suite.get("consumers", []))
    lags = consumer_lags(str(suite.get("nats_url")), durables, timeout) if durables else {}
    lag_table = Table(title="Consumers on GRMS_BUDGETING (pending + unacknowledged)", title_justify="left")
    lag_table.add_column("consumer")
    lag_table.add_column("lag")
    for durable, lag in lags.items():
        lag_table.add_row(durable, str(lag) if isinstance(lag, int) else f"[red]{lag}[/]")
    console.print(lag_table)
    down = [st.name for st in statuses if not st.ok]
    unknown_lag = [d for d, lag in lags.items() if not isinstance(lag, int)]
    if down:
        err.print(f"[red]down or unhealthy: {', '.join(down)}[/]")
    if unknown_lag:
        err.print(f"[red]consumers without lag figures: {', '.join(unknown_lag)}[/]")
    if down or unknown_lag:
        raise typer.Exit(1)


@app.command("seed")
def seed_command(
    var_dir: VarDir = None,
    target: Annotated[
        str | None,
        typer.Option(
            help="Budgeting gRPC address host:port (default: suite.json, else "
            "$GRMS_BUDGETING_GRPC_HOST:$GRMS_BUDGETING_GRPC_PORT or 127.0.0.1:50151).",
            show_default=False,
        ),
    ] = None,
    timeout: Annotated[float, typer.Option(help="Deadline of each call in seconds.", min=0.1)] = 10.0,
    budget: Annotated[
        bool, typer.Option("--budget/--no-budget", help="Also load the FY2025 demo budget (3,000 DPAs).")
    ] = True,
) -> None:
    """Load the deterministic Central Java demo governments and agencies (and the FY2025 budget); safe to repeat."""
    from grms_cli.seed import seed, seed_steps
    from grms_cli.seed_budget import budget_seed_steps, seed_budget

    directory = _var_dir(var_dir)
    secret = resolve_auth_secret(directory)
    address = budgeting_address(target, directory)
    with _steps(f"Seeding {address}", seed_steps()) as advance:
        result = seed(address, secret, advance=advance, timeout=timeout)
    if result.changed:
        console.print(
            f"Created {result.governments_created} governments and {result.agencies_created} agencies "
            f"({result.governments_existing} and {result.agencies_existing} already existed)."
        )
    else:
        console.print(
            f"Nothing changed: all {result.governments_existing} governments and "
            f"{result.agencies_existing} agencies already exist."
        )
    if not budget:
        return
    with _steps("Demo budget", budget_seed_steps()) as advance:
        loaded = seed_budget(address, secret, advance=advance)
    console.print(
        f"Demo budget: {loaded.plans_loaded:,} DPAs with {loaded.lines_loaded:,} lines loaded, "
        f"{loaded.plans_existing:,} already there; {loaded.prices_created} prices and "
        f"{loaded.ceilings_set:,} ceilings set."
    )


@app.command("seed-planning")
def seed_planning_command(
    var_dir: VarDir = None,
    target: Annotated[
        str | None,
        typer.Option(
            help="Planning gRPC address host:port (default: suite.json, else "
            "$GRMS_PLANNING_GRPC_HOST:$GRMS_PLANNING_GRPC_PORT or 127.0.0.1:50152).",
            show_default=False,
        ),
    ] = None,
    timeout: Annotated[float, typer.Option(help="Deadline of each call in seconds.", min=0.1)] = 120.0,
    wait: Annotated[
        float,
        typer.Option(help="How long to wait for planning to learn budgeting's approved amounts, in seconds.", min=0.0),
    ] = 600.0,
) -> None:
    """Plan the demo FY2025 province-year (3,000 sub-activities, 1,200 RUP packages) over budgeting's; safe to repeat.

    Needs the demo budget (`grms seed`): each sub-activity's F1 adds up to its approved amount.
    """
    from grms_cli.planning_demo import catalogue
    from grms_cli.planning_seed import planning_address, seed_planning

    directory = _var_dir(var_dir)
    secret = resolve_auth_secret(directory)
    address = planning_address(target, directory)
    agencies = len({s.agency_code for s in catalogue()})
    with _steps(f"Planning {address}", agencies) as advance:
        result = seed_planning(address, secret, advance=advance, timeout=timeout, wait_for_budget=wait)
    console.print(
        f"Planned {result.sub_activities_created:,} sub-activities with {result.monthly_rows:,} monthly rows and "
        f"{result.packages_created:,} packages in {result.seconds:.1f} s "
        f"({result.sub_activities_existing:,} already planned)."
    )


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if not password:
        raise CliError("the password must not be empty", 2)
    return password


Roles = Annotated[list[str], typer.Option("--role", help="A role (repeatable), e.g. admin, planner, auditor.")]
Government = Annotated[str, typer.Option(help="Region code of the government, e.g. 33 or 33.74.")]


@user_app.command("create")
def user_create(
    username: Annotated[str, typer.Argument(help="Login name.")],
    role: Roles,
    government: Government,
    agency: Annotated[
        list[str] | None, typer.Option("--agency", help="Agency code the user is limited to (repeatable).")
    ] = None,
    name: Annotated[str, typer.Option("--name", help="Display name.")] = "",
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
    var_dir: VarDir = None,
) -> None:
    """Create a gateway user; the password comes from stdin or a prompt, never the command line."""
    from grms_cli import accounts

    roles = accounts.check_roles(role)
    accounts.check_government(government)
    password = _read_password(password_stdin)
    accounts.create_user(_var_dir(var_dir), username, password, roles, government, list(agency or []), name or username)
    console.print(f"User {username!r} created with roles {', '.join(roles)} for government {government}.")


@apikey_app.command("create")
def apikey_create(
    key_name: Annotated[str, typer.Argument(metavar="NAME", help="What the key is for.")],
    role: Roles,
    government: Government,
    var_dir: VarDir = None,
) -> None:
    """Create an API key and print it once; it cannot be shown again."""
    from grms_cli import accounts

    roles = accounts.check_roles(role)
    accounts.check_government(government)
    key = accounts.create_api_key(_var_dir(var_dir), key_name, roles, government)
    err.print(f"API key {key_name!r} created; store it now, it is not shown again:")
    print(key)


@outbox_app.command("redrive")
def outbox_redrive(
    service: Annotated[str, typer.Argument(help=f"One of: {', '.join(SERVICES)}.")],
    var_dir: VarDir = None,
) -> None:
    """Put a service's dead-lettered outbox messages back in line for the relay."""
    from grms_cli import accounts

    count = accounts.redrive(service, _var_dir(var_dir))
    console.print(f"{count} dead outbox message(s) of {service} put back in line.")


@audit_app.command("verify")
def audit_verify(
    plan: Annotated[str | None, typer.Option("--plan", help="Only this plan's chain (default: every plan).")] = None,
    anchors: Annotated[
        Path | None,
        typer.Option(
            "--anchors",
            help="A saved copy of /open-data/audit/anchors.json: one page, or a JSON list of pages (of any "
            "governments, saved on any days). Each saved day must match the audit entries and the stored anchor.",
            show_default=False,
        ),
    ] = None,
    var_dir: VarDir = None,
) -> None:
    """Re-hash every budget plan's audit chain and recompute every daily anchor; exit 1 when anything differs.

    A DBA who rewrites a chain consistently and its anchor rows passes the database's own checks;
    anchors saved before the rewrite (--anchors) do not match it.
    """
    from grms_cli.budget import read_saved_anchors, verify_anchors, verify_audit

    saved = read_saved_anchors(anchors) if anchors is not None else []
    folder = _var_dir(var_dir)
    report = verify_audit(folder, plan)
    checks = verify_anchors(folder, saved)
    table = Table(title="Audit chains of budget plans", title_justify="left")
    table.add_column("plan")
    table.add_column("chain")
    for plan_id, broken in report.items():
        table.add_row(plan_id, "[green]OK[/]" if broken is None else f"[red]broken at seq {broken}[/]")
    console.print(table)
    _print_anchor_checks(checks, saved_given=anchors is not None)
    bad = [p for p, seq in report.items() if seq is not None]
    wrong = [c for c in checks if not c.ok]
    if bad:
        err.print(f"[red]{len(bad)} of {len(report)} audit chain(s) broken[/]")
    else:
        console.print(f"{len(report)} audit chain(s) intact.")
    if wrong:
        first = wrong[0]
        err.print(
            f"[red]{len(wrong)} of {len(checks)} daily anchor(s) do not match, the first: government "
            f"{first.government_code}, day {first.day.isoformat()} ({'; '.join(first.problems)})[/]"
        )
    else:
        compared = sum(c.saved is not None for c in checks)
        extra = f", {compared} of them against the saved copy" if anchors is not None else ""
        console.print(f"{len(checks)} daily anchor(s) match the audit entries{extra}.")
    if bad or wrong:
        raise typer.Exit(1)


def _short(anchor: AuditAnchor | None) -> str:
    return "—" if anchor is None else f"{anchor.combined_hash[:8]}… ({anchor.entry_count})"


def _print_anchor_checks(checks: list[AnchorCheck], *, saved_given: bool) -> None:
    """One row per government, then one row per day that does not match."""
    per_government: dict[str, list[AnchorCheck]] = {}
    for check in checks:
        per_government.setdefault(check.government_code, []).append(check)
    table = Table(title="Daily audit anchors", title_justify="left")
    for column in ("government", "days", "from", "to", "saved days", "anchors"):
        table.add_column(column)
    for code, rows in per_government.items():
        wrong = sum(not c.ok for c in rows)
        table.add_row(
            code,
            str(len(rows)),
            rows[0].day.isoformat(),
            rows[-1].day.isoformat(),
            str(sum(c.saved is not None for c in rows)) if saved_given else "—",
            "[green]OK[/]" if not wrong else f"[red]{wrong} day(s) differ[/]",
        )
    console.print(table)
    wrong_rows = [c for c in checks if not c.ok]
    if not wrong_rows:
        return
    detail = Table(
        title="Anchors that do not match (combined hash, entry count): recomputed from the audit entries, "
        "stored by budgeting, saved by you",
        title_justify="left",
    )
    for column in ("government", "day", "recomputed", "stored", "saved", "problem"):
        detail.add_column(column, no_wrap=column != "government")
    for c in wrong_rows:
        detail.add_row(
            c.government_code,
            c.day.isoformat(),
            _short(c.recomputed),
            _short(c.stored),
            _short(c.saved),
            "[red]" + "\n".join(c.problems) + "[/]",
        )
    console.print(detail)


BudgetTarget = Annotated[
    str | None,
    typer.Option(
        "--target",
        help="Budgeting gRPC address host:port (default: suite.json, else "
        "$GRMS_BUDGETING_GRPC_HOST:$GRMS_BUDGETING_GRPC_PORT or 127.0.0.1:50151).",
        show_default=False,
    ),
]
CallTimeout = Annotated[float, typer.Option("--timeout", help="Deadline of the call in seconds.", min=0.1)]


def _print_rejected(exc: CliError) -> None:
    from grms_cli.budget import RejectedWorkbook

    if isinstance(exc, RejectedWorkbook) and exc.violations:
        table = Table(title="What is wrong, by row and column", title_justify="left")
        table.add_column("cell")
        table.add_column("problem")
        for cell, problem in exc.violations:
            table.add_row(cell, problem)
        err.print(table)


@budget_app.command("import-lines")
def budget_import_lines(
    plan_id: Annotated[str, typer.Argument(metavar="PLAN_ID", help="The draft or returned plan.")],
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE.xlsx",
            exists=True,
            dir_okay=False,
            readable=True,
            help="RKA workbook: a header row, then one line per row.",
        ),
    ],
    expected_version: Annotated[
        int, typer.Option(help="Refuse unless the plan is at this version (0: any).", min=0)
    ] = 0,
    target: BudgetTarget = None,
    timeout: CallTimeout = 60.0,
    var_dir: VarDir = None,
) -> None:
    """Add every line of an RKA workbook to a plan, or none when any row is wrong."""
    from grms_cli.budget import import_lines

    directory = _var_dir(var_dir)
    secret = resolve_auth_secret(directory)
    address = budgeting_address(target, directory)
    try:
        with _steps(f"Importing {file.name}", 3) as advance:
            result = import_lines(
                address, secret, plan_id, file, expected_version=expected_version, timeout=timeout, advance=advance
            )
    except CliError as exc:
        _print_rejected(exc)
        raise
    console.print(
        f"Imported {result.imported} line(s): plan {plan_id} now has {result.line_count} line(s), "
        f"Rp{result.total:,} in all, at version {result.version}."
    )


@budget_app.command("export")
def budget_export(
    plan_id: Annotated[str, typer.Argument(metavar="PLAN_ID", help="The plan (or DPA).")],
    out: Annotated[Path, typer.Argument(metavar="OUT.xlsx", dir_okay=False, help="Where to write the workbook.")],
    target: BudgetTarget = None,
    timeout: CallTimeout = 60.0,
    var_dir: VarDir = None,
) -> None:
    """Write a plan's lines to an RKA workbook (re-importable)."""
    from grms_cli.budget import export_plan

    if not out.parent.is_dir():
        raise CliError(f"{out.parent} is not a directory", 2)
    directory = _var_dir(var_dir)
    secret = resolve_auth_secret(directory)
    address = budgeting_address(target, directory)
    with Progress(
        TextColumn("Exporting {task.fields[label]}"), BarColumn(), MofNCompleteColumn(), console=console, transient=True
    ) as progress:
        task = progress.add_task("", total=None, label=plan_id)
        size = export_plan(
            address,
            secret,
            plan_id,
            out,
            timeout=timeout,
            progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
    console.print(f"Wrote {out} ({size:,} bytes).")


@contextmanager
def _steps(label: str, total: int) -> Iterator[Callable[[str], None]]:
    """A transient progress bar of `total` named steps: yields `advance(what)`, called once a step is done.

    The label goes in as a task field, never as the column's template: a file name with braces stays text.
    """
    with Progress(
        TextColumn("{task.fields[label]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("", total=total, label=label)
        yield lambda what: progress.update(task, advance=1, description=what)


def main(argv: list[str] | None = None) -> int:
    """Run the command line and return its exit status (2 for usage and configuration errors)."""
    try:
        app(args=argv, prog_name="grms", standalone_mode=True)
    except SystemExit as exc:
        if exc.code is None:
            return 0
        if isinstance(exc.code, int):
            return exc.code
        err.print(str(exc.code))
        return 1
    except CliError as exc:
        err.print(f"[red]grms: {exc}[/]", highlight=False)
        return exc.exit_code
    except KeyboardInterrupt:
        err.print("Interrupted.")
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
