"""Starting `botanu serve`: check the settings, open the store and journal, run uvicorn.

While it runs, a small file beside the store (`<store>.serve.json`) says where it listens,
so the CLI's read commands, which cannot open a DuckDB file another process holds, ask
the server instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botanu.exceptions import BotanuConfigError

__all__ = ["ServeConfig", "build_app", "run_server", "serve_file"]

log = logging.getLogger("botanu.serve")

# on SIGTERM, requests still running after this long are cancelled (the server stops
# within 10 s whatever runs: what is journaled and not yet stored is stored at the next
# start)
_GRACE_S = 3


@dataclass(frozen=True)
class ServeConfig:
    store_path: str
    host: str = "127.0.0.1"
    port: int = 4318
    token: str | None = None
    max_body_bytes: int = 16 * 1024 * 1024
    max_pending_spans: int | None = None
    linger_s: float = 0.5
    workers: int | None = None  # processes preparing rows; None: default_workers()
    query_timeout_s: float = 30.0  # a served query is ended after this long
    allowed_hosts: tuple[str, ...] = ()  # names besides loopback ones requests may use
    memory_budget_mb: int = 3072  # resident memory, sized for a 2-core, 4 GiB machine
    max_connections: int | None = None  # None: what the descriptor limit leaves room for
    header_timeout_s: float = 10.0  # a client sends its request headers within this
    body_timeout_s: float = 30.0  # and its body within this

    def check(self) -> None:
        """Refuse settings that would expose the store: beyond loopback needs a token."""
        if not self.token and not _is_loopback(self.host):
            raise BotanuConfigError(
                f"botanu serve on {self.host} would let anyone who can reach it send and "
                "read spans: set a token (--token or BOTANU_SERVE_TOKEN), or listen on "
                "127.0.0.1"
            )
        if not 0 <= self.port <= 65535:
            raise BotanuConfigError(f"port {self.port} is not a TCP port (0-65535)")
        if not 0 < self.query_timeout_s <= 3600:
            raise BotanuConfigError("the query time limit must be between 0 and 3600 s")
        if self.memory_budget_mb < 512:
            raise BotanuConfigError("the memory budget must be at least 512 MB")

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


def serve_file(store_path: str) -> Path:
    """Where a running server for `store_path` announces itself."""
    return Path(f"{store_path}.serve.json")


def build_app(config: ServeConfig) -> Any:
    """The app for `config`, its store and journal opened (the pipeline starts with it)."""
    from botanu._cores import usable_cores
    from botanu.engine.service import default_pricer
    from botanu.engine.store.duckdb.store import DuckDBStore
    from botanu.serve.app import create_app
    from botanu.serve.journal import Journal
    from botanu.serve.pipeline import Pipeline
    from botanu.serve.preparing import default_workers
    from botanu.serve.reading import ServedReads, lock_down

    workers = default_workers() if config.workers is None else config.workers
    # the workers keep their cores busy: DuckDB threads beyond the rest would only spin
    # and take turns with them (measured: the same writes cost ~1.5x the CPU)
    store = DuckDBStore(config.store_path, threads=max(1, usable_cores() - workers))
    # a third of the budget for DuckDB (it spills beyond), the rest for the workers,
    # the exports waiting to be stored and the answers being sent
    lock_down(store, memory_limit_mb=config.memory_budget_mb // 3)
    journal = Journal(Path(f"{config.store_path}.journal"))
    options: dict[str, Any] = {"linger_s": config.linger_s, "workers": workers}
    if config.max_pending_spans is not None:
        options["max_pending_spans"] = config.max_pending_spans
    pipeline = Pipeline(store, journal, default_pricer(), **options)
    return create_app(
        pipeline,
        token=config.token,
        max_body_bytes=config.max_body_bytes,
        body_timeout_s=config.body_timeout_s,
        dashboard=_dashboard(),
        reads=ServedReads(store, timeout_s=config.query_timeout_s),
        allowed_hosts=(*config.allowed_hosts, *_bound_name(config.host)),
    )


def _dashboard() -> Any:
    import importlib

    try:
        return importlib.import_module("botanu.dashboard").create_dashboard
    except (ImportError, AttributeError):
        return None


def run_server(config: ServeConfig, announce: Any = print) -> None:
    """Serve until SIGTERM or Ctrl-C, then store everything accepted and stop."""
    import uvicorn

    from botanu.serve.connections import bounded_protocol, default_max_connections

    config.check()
    # the store, journal, rejected spans and the announcement (which says whether a token
    # is needed) are the user's alone
    os.umask(0o077)
    announcement = serve_file(config.store_path)
    _replace_stale(announcement)
    _tighten(Path(config.store_path))
    app = build_app(config)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=config.host,
            port=config.port,
            log_level="warning",
            timeout_graceful_shutdown=_GRACE_S,
            http=bounded_protocol(
                config.header_timeout_s, config.max_connections or default_max_connections()
            ),
        )
    )
    announced = False
    original_startup = server.startup

    async def startup(sockets: Any = None) -> None:
        nonlocal announced
        await original_startup(sockets=sockets)
        port = config.port
        for srv in getattr(server, "servers", []):
            for sock in srv.sockets:
                port = sock.getsockname()[1]
        listening = ServeConfig(**{**config.__dict__, "port": port})
        announcement.write_text(
            json.dumps({"url": listening.url, "pid": os.getpid(), "token": bool(config.token)})
        )
        announced = True
        guard = "" if config.token else " (loopback only, no token)"
        announce(f"botanu serve: OTLP/HTTP on {listening.url}/v1/traces{guard}")
        announce(f"botanu serve: dashboard on {listening.url}/  store {config.store_path}")
        problem = await asyncio.to_thread(_store_problem, config.store_path)
        if problem:
            announce(
                f"botanu serve: the store {config.store_path} cannot be read or written "
                f"({problem}); exports are kept in the journal, and refused (503) once a "
                "write fails: stop botanu serve, put back a good copy of the store (or move "
                "it aside for a new one) and start it again to store them"
            )

    original_shutdown = server.shutdown

    async def shutdown(sockets: Any = None) -> None:
        # here, not after run(): uvicorn raises a caught SIGTERM again once it has shut down
        try:
            await original_shutdown(sockets=sockets)
        finally:
            if announced:
                announcement.unlink(missing_ok=True)

    server.startup = startup  # type: ignore[method-assign]
    server.shutdown = shutdown  # type: ignore[method-assign]
    server.run()


def _store_problem(store_path: str) -> str | None:
    """Why the store cannot be read or written, from a quick look at start (None: no sign
    of it): the first row of each table read whole, then copied into the table in a
    transaction that is rolled back, which meets a damaged table or key index. Not a
    scan of everything: damage elsewhere shows at the first read or write that meets it."""
    import duckdb

    # in this process the path opens the server's own database (DuckDB keeps one
    # instance per file and hands out another connection to it), never a second copy
    try:
        con = duckdb.connect(store_path)
    except duckdb.Error as exc:
        return " ".join(str(exc).split())
    try:
        tables = con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
            "AND schema_name = 'main' AND NOT temporary"
        ).fetchall()
        for (table,) in tables:
            name = '"' + str(table).replace('"', '""') + '"'
            con.execute(f"SELECT * FROM {name} LIMIT 1").fetchall()
            con.execute("BEGIN")
            try:
                con.execute(f"INSERT INTO {name} SELECT * FROM {name} LIMIT 1").fetchall()
            except (duckdb.ConstraintException, duckdb.TransactionException):
                pass  # the key is there (its index was read), or a write of the server's
            finally:
                with contextlib.suppress(duckdb.Error):  # keeps the first error
                    con.execute("ROLLBACK")
    except duckdb.Error as exc:
        return " ".join(str(exc).split())
    finally:
        con.close()
    return None


def _replace_stale(announcement: Path) -> None:
    """A server still running for this store is an error that names it; an announcement
    left by one that is gone (killed) is removed."""
    try:
        found = json.loads(announcement.read_text())
        pid, url = int(found["pid"]), str(found["url"])
    except FileNotFoundError:
        return
    except (OSError, ValueError, KeyError, TypeError):
        pid, url = 0, ""
    if pid and pid != os.getpid() and _alive(pid):
        raise BotanuConfigError(
            f"botanu serve (pid {pid}) already serves this store at {url}: stop it, or "
            "give this one another --store"
        )
    log.warning("botanu serve: replacing %s, left by a server that is gone", announcement)
    announcement.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _tighten(store: Path) -> None:
    """Store files made before the server kept them private: 0600."""
    for path in (store, Path(f"{store}.wal")):
        if path.exists():
            path.chmod(0o600)


def _bound_name(host: str) -> tuple[str, ...]:
    """The listening address as a name requests may use (not a wildcard address)."""
    return () if host in ("0.0.0.0", "::", "") else (host,)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
