"""The database: a synchronous SQLAlchemy engine driven from asyncio one transaction per hop.

Decision (measured, see bench/db_access.py and BENCH.md): aiosqlite costs 3.5–7× sync
pysqlite per operation because every statement hops to a thread. GRMS instead runs a whole
unit of work — every statement of a use case and its commit — in one hop to a worker
thread, on a plain sync engine (pysqlite, or psycopg 3 for PostgreSQL). SQLite gets a
single worker, which serialises writers the way SQLite does anyway and never waits on
`busy_timeout` inside one process; PostgreSQL gets a small pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import logging
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

__all__ = ["Database", "normalize_url"]

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")


def normalize_url(url: str) -> str:
    """Pick the drivers GRMS uses: pysqlite for SQLite, psycopg 3 for PostgreSQL."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() != "psycopg":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite" and parsed.get_driver_name() not in ("pysqlite", ""):
        parsed = parsed.set(drivername="sqlite")
    return parsed.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # The driver's own transaction handling off: it would not BEGIN before a SAVEPOINT, so the
    # first savepoint's RELEASE committed everything before it — half a unit of work, and an
    # extra fsync. `_sqlite_begin` emits the BEGIN instead (SQLAlchemy's documented pysqlite recipe).
    dbapi_connection.isolation_level = None
    # WAL + synchronous=FULL: a commit is durable on power loss (WAL+NORMAL is not).
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN")


class Database:
    """One service's database: the engine, sessions and the thread that runs transactions."""

    def __init__(self, url: str, *, echo: bool = False, pool_size: int = 8) -> None:
        self.url = normalize_url(url)
        backend = make_url(self.url).get_backend_name()
        self.is_sqlite = backend == "sqlite"
        if self.is_sqlite:
            self.engine: Engine = create_engine(self.url, echo=echo, pool_size=1, max_overflow=0)
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "begin", _sqlite_begin)
            workers = 1
        else:
            self.engine = create_engine(
                self.url,
                echo=echo,
                pool_size=pool_size,
                max_overflow=0,
                pool_pre_ping=True,
                connect_args={"connect_timeout": 5},
            )
            workers = pool_size
        self.sessions: sessionmaker[Session] = sessionmaker(self.engine, expire_on_commit=False)
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="grms-db")
        self._listeners: list[Callable[[], None]] = []

    def session(self) -> Session:
        """A new session; the caller commits or rolls back and closes it."""
        return self.sessions()

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run `fn(*args, **kwargs)` — one whole transaction — on the database thread."""
        loop = asyncio.get_running_loop()
        ctx = contextvars.copy_context()  # keeps the caller's identity and trace span
        call = functools.partial(ctx.run, fn, *args, **kwargs)
        return await loop.run_in_executor(self._executor, call)

    @contextlib.contextmanager
    def lazy_commit(self) -> Iterator[Connection]:
        """A Core transaction whose commit does not wait for the disk (`engine.begin()` otherwise).

        Only for writes that may be lost on a power cut without harm (the outbox's sent marks):
        PostgreSQL `SET LOCAL synchronous_commit = off`; SQLite `synchronous=NORMAL` for this
        transaction alone (in WAL mode the next FULL commit's fsync makes it durable too).
        """
        with self.engine.connect() as conn:
            if self.is_sqlite:
                raw = conn.connection.dbapi_connection
                assert raw is not None
                raw.execute("PRAGMA synchronous=NORMAL")
                try:
                    with conn.begin():
                        yield conn
                finally:
                    raw.execute("PRAGMA synchronous=FULL")
            else:
                with conn.begin():
                    conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
                    yield conn

    def ping(self) -> None:
        """Raise unless the database answers."""
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def on_commit(self, listener: Callable[[], None]) -> None:
        """Call `listener` (from the database thread) after every unit of work commits."""
        self._listeners.append(listener)

    def committed(self) -> None:
        """Tell the listeners that a unit of work committed (called by UnitOfWork)."""
        for listener in self._listeners:
            listener()

    def dispose(self) -> None:
        """Close every connection and stop the database thread."""
        self._executor.shutdown(wait=True, cancel_futures=False)
        self.engine.dispose()
