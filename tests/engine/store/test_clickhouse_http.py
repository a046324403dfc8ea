"""The ClickHouse store over HTTP: clickhouse-connect's real `HttpClient` against a
loopback server that speaks ClickHouse's HTTP interface and answers with chDB in this
process (docs/clickhouse-research.md §4.3(b)). The same spans priced over HTTP and read
over chDB give the same rows; what goes wrong at open is one clear message."""

from __future__ import annotations

import base64
import contextlib
import gzip
import re
import socket
import threading
import zlib
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

from botanu import botanu_workflow, emit_outcome, track_llm_call
from botanu.engine.costing import DIMENSIONS, cost_per_outcome
from botanu.engine.ingest import decode_protobuf
from botanu.engine.store import StoreError, open_store
from botanu.engine.store.clickhouse.job import price_days

# --- a ClickHouse HTTP server answered by chDB ---------------------------------------------
# Enough of https://clickhouse.com/docs/interfaces/http for clickhouse-connect's HttpClient:
# the query in the URL and/or the body, param_* binds, database, the other parameters as
# settings, chunked and compressed bodies, INSERT ... FORMAT <fmt> with the data in the
# body, compressed answers, and errors as the server sends them. Not spoken: sessions,
# multipart forms (long binds, external data), and client_protocol_version (the answer
# carries no block info, so the client's probe falls back to protocol 0, as behind a proxy).

USERS = {"botanu": ""}  # user -> password; anyone else fails with 516, as ClickHouse does
# URL parameters of the HTTP interface itself (and clickhouse-connect's), not settings
TRANSPORT = frozenset(
    {
        "query", "database", "query_id", "session_id", "session_timeout", "session_check",
        "compress", "decompress", "buffer_size", "wait_end_of_query", "client_protocol_version",
        "quota_key", "role", "default_format", "enable_http_compression",
        "send_progress_in_http_headers", "http_headers_progress_interval_ms",
    }
)  # fmt: skip
STATUS = {516: 403, 60: 404, 81: 404, 62: 400}  # as ClickHouse answers these codes; else 500
INSERT_DATA = re.compile(rb"\A(\s*INSERT\s+INTO\s.*?)\bFORMAT\s+(\w+)[ \t]*\r?\n?", re.I | re.S)
CODE = re.compile(r"^Code: (\d+)\. ")


def _zstd():
    try:
        from compression import zstd  # type: ignore[import-not-found]
    except ImportError:
        from backports import zstd  # type: ignore[import-not-found,no-redef]
    return zstd


def _unlz4(data: bytes) -> bytes:
    """Concatenated LZ4 frames: clickhouse-connect compresses each insert block as one."""
    import lz4.frame

    out = bytearray()
    while data:
        decompressor = lz4.frame.LZ4FrameDecompressor()
        out += decompressor.decompress(data)
        data = decompressor.unused_data
    return bytes(out)


def _lz4(data: bytes) -> bytes:
    import lz4.frame

    return lz4.frame.compress(data)


DECODE = {
    "lz4": _unlz4,
    "zstd": lambda data: _zstd().decompress(data),
    "gzip": gzip.decompress,
    "deflate": zlib.decompress,
}
ENCODE = {
    "lz4": _lz4,
    "zstd": lambda data: _zstd().compress(data),
    "gzip": gzip.compress,
    "deflate": zlib.compress,
}


class ClickHouseError(Exception):
    """`Code: N. DB::Exception: ...`, as the server's error body starts."""

    def __init__(self, text: str, code: int | None = None) -> None:
        found = CODE.match(text)
        self.code = code or (int(found.group(1)) if found else 1002)
        super().__init__(text if found else f"Code: {self.code}. DB::Exception: {text}")


class Shim(ThreadingHTTPServer):
    """Listens on 127.0.0.1 only; `stop` ends it with every connection and thread."""

    block_on_close = True  # server_close joins the request threads

    def __init__(self, folder: Path) -> None:
        import chdb

        super().__init__(("127.0.0.1", 0), Handler)
        self.port = self.server_address[1]
        self.folder = str(folder.resolve())
        self.engine = chdb.connect(self.folder)  # the session's one engine, kept open
        self.lock = threading.Lock()
        self.log: list[dict[str, str]] = []  # each request's parameters and codings
        self.open: set[socket.socket] = set()
        self.thread = threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def process_request(self, request, client_address) -> None:
        self.open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request) -> None:
        self.open.discard(request)
        super().shutdown_request(request)

    def stop(self) -> None:
        self.shutdown()
        self.thread.join()
        for request in list(self.open):  # keep-alive connections the client's pool holds
            with contextlib.suppress(OSError):
                request.shutdown(socket.SHUT_RDWR)
        self.server_close()
        self.engine.close()

    def run(self, params: dict[str, str], text: bytes) -> bytes:
        """One statement, on a chDB connection of its own (its USE and SETs die with it)."""
        import chdb

        binds = {k[6:]: v for k, v in params.items() if k.startswith("param_")}
        settings = {k: v for k, v in params.items() if k not in TRANSPORT and k[:6] != "param_"}
        with self.lock, chdb.connect(self.folder) as connection:
            try:
                if params.get("database"):
                    connection.query(f"USE `{params['database']}`")
                for name, value in settings.items():
                    quoted = value.replace("\\", "\\\\").replace("'", "\\'")
                    connection.query(f"SET {name} = '{quoted}'")
                insert = INSERT_DATA.match(text)
                if insert is None:
                    fmt = params.get("default_format", "TabSeparated")  # FORMAT in text wins
                    return connection.query(text.decode(), fmt, params=binds).bytes()
                head, fmt = insert.group(1).decode(), insert.group(2).decode()
                with connection.send_insert(head, fmt) as inserter:
                    if data := text[insert.end() :]:
                        inserter.append(data)
                    inserter.finish()
                return b""
            except Exception as exc:
                raise ClickHouseError(str(exc).removeprefix("Streaming insert ")) from None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as urllib3's pool expects
    server: Shim

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if urlsplit(self.path).path == "/ping":
            self._answer(200, b"Ok.\n")
        else:
            self.do_POST()

    def do_POST(self) -> None:
        params = dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))
        body = self._body()
        coding = ("Transfer-Encoding", "Content-Encoding", "Accept-Encoding")
        entry = {**params, **{k: v for k, v in self.headers.items() if k in coding}}
        self.server.log.append(entry)
        try:
            self._login()
            if self.headers.get("Content-Encoding"):
                body = DECODE[self.headers["Content-Encoding"]](body)
            query = params.get("query", "").encode()
            result = self.server.run(
                params, query + b"\n" + body if query and body else query or body
            )
        except ClickHouseError as exc:
            message = f"{exc} (version 26.9.2.1)\n".encode()
            headers = {"X-ClickHouse-Exception-Code": str(exc.code)}
            self._answer(STATUS.get(exc.code, 500), message, headers)
            return
        headers = {"X-ClickHouse-Query-Id": params.get("query_id", "")}
        accepted = [e.strip() for e in self.headers.get("Accept-Encoding", "").split(",")]
        chosen = next((e for e in accepted if e in ENCODE), None)
        # chDB's enable_http_compression is 1, so a client asking gets compressed answers
        if chosen and result and params.get("enable_http_compression") != "0":
            result, headers["Content-Encoding"] = ENCODE[chosen](result), chosen
            entry["answer"] = chosen
        self._answer(200, result, headers)

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() != "chunked":
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))
        out = bytearray()
        while size := int(self.rfile.readline().split(b";")[0], 16):
            out += self.rfile.read(size)
            self.rfile.readline()
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):  # trailers
            pass
        return bytes(out)

    def _login(self) -> None:
        auth = self.headers.get("Authorization", "").removeprefix("Basic ")
        user, _, password = base64.b64decode(auth).decode().partition(":")
        if USERS.get(user or "default") != password:
            raise ClickHouseError(
                f"{user or 'default'}: Authentication failed: password is incorrect, or there "
                "is no user with such name. (AUTHENTICATION_FAILED)",
                516,
            )

    def _answer(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def shim(chdb_folder: Path) -> Iterator[Shim]:
    server = Shim(chdb_folder)
    yield server
    server.stop()


# --- spans -----------------------------------------------------------------------------------

DAY0 = 1_793_491_200_000_000_000  # 2026-11-01T00:00:00Z
HOUR = 3_600 * 10**9
ODD = "it's 100% done?"  # a quote, a % and a ?: each one trips a naive binding


def fixture_spans(spans) -> list:
    """Two support runs (the first failed) and one run of workflow ODD on a model with no
    price, through OTLP, each trace moved to its own hour of 2026-11-01."""

    @botanu_workflow("support", event_id=lambda ticket: ticket, customer_id=lambda c: c)
    def resolve(ticket, c, fail=False):
        with track_llm_call(provider="openai", model="gpt-4o") as tracker:
            tracker.set_tokens(input_tokens=1200, output_tokens=150, cache_read_tokens=200)
        if fail:
            raise RuntimeError("answer rejected")
        emit_outcome("success", value_type="tickets_resolved", value_amount=1)

    @botanu_workflow(ODD, event_id=lambda order: order, customer_id=lambda c: c)
    def odd(order, c):
        with track_llm_call(provider="acme", model="acme-private-llm") as tracker:
            tracker.set_tokens(input_tokens=10, output_tokens=5)
        emit_outcome("partial", value_type="orders", value_amount=2, reason="100% 'odd'?")

    with pytest.raises(RuntimeError):
        resolve("T-1", "acme", fail=True)
    resolve("T-1", "acme")
    odd("O-1", "globex")
    raws = decode_protobuf(encode_spans(spans.spans).SerializeToString())
    first: dict[str, int] = {}
    for raw in sorted(raws, key=lambda r: r.start_ns):
        first.setdefault(raw.trace_id, raw.start_ns)
    hour = {trace: DAY0 + (i + 1) * HOUR for i, trace in enumerate(first)}
    return [
        raw._replace(
            start_ns=raw.start_ns - first[raw.trace_id] + hour[raw.trace_id],
            end_ns=raw.end_ns - first[raw.trace_id] + hour[raw.trace_id],
        )
        for raw in raws
    ]


def http_url(shim: Shim, database: str, user: str = "botanu") -> str:
    return f"clickhouse://{user}@127.0.0.1:{shim.port}/{database}"


def rows(store, sql: str) -> tuple[list[str], list[tuple]]:
    result = store.query(sql)
    return result.columns, sorted(result.rows, key=repr)


# --- the store over HTTP ---------------------------------------------------------------------


def test_priced_over_http_reads_the_same_over_chdb(spans, collector, shim):
    raws = fixture_spans(spans)
    collector.create_traces()
    collector.export(raws)
    day = date(2026, 11, 1)
    with open_store(http_url(shim, collector.database)) as http:
        days = price_days(http, DAY0, DAY0 + 2 * 24 * HOUR)
        assert [(d.day, d.spans, d.rebuilt) for d in days] == [(day, len(raws), True)]
        http.set_valuation("tickets_resolved", Decimal("4.25"))
        with open_store(collector.url) as local:
            for view in ("runs", "events", "workflows", "cost_lines", "spans", "unpriced"):
                assert rows(http, f"SELECT * FROM {view}") == rows(local, f"SELECT * FROM {view}")
            for dimension in DIMENSIONS:
                assert cost_per_outcome(http, dimension) == cost_per_outcome(local, dimension)
            # Arrow reads (query_arrow), with server-side {lo:DateTime64} parameters
            pending = [
                store.pending_spans(day, again=True).sort_by("span_id") for store in (http, local)
            ]
            assert pending[0].num_rows == len(raws)
            assert pending[0].equals(pending[1])

        # the store's settings travel as URL parameters and hold for the statement
        setting = http.query("SELECT getSetting('prefer_column_name_to_alias')").rows
        assert setting in ([(1,)], [(True,)])

        # `?` parameters: quotes, % and ? in the value; a literal % and ? in the text
        found = http.query(
            "SELECT workflow, count() AS n, '?%' AS mark FROM runs "
            "WHERE workflow = ? OR workflow LIKE 'sup%' GROUP BY workflow ORDER BY workflow",
            [ODD],
        )
        assert found.columns == ["workflow", "n", "mark"]
        assert found.rows == [(ODD, 1, "?%"), ("support", 2, "?%")]
        assert http.query("SELECT outcome_reason FROM runs WHERE workflow = ?", [ODD]).rows == [
            ("100% 'odd'?",)
        ]

        # the Native round trip of the types botanu reads
        (run,) = http.query(
            "SELECT total_cost, outcome_reason, started_at, value_per_unit FROM runs "
            "WHERE event_id = ? AND outcome_status = ?",
            ["T-1", "success"],
        ).rows
        assert isinstance(run[0], Decimal)
        assert run[0] > 0
        assert run[1] is None
        assert isinstance(run[2], datetime)
        assert run[2].replace(tzinfo=None) == datetime(2026, 11, 1, 2)
        assert run[3] == Decimal("4.25")  # exact
        line = http.query(
            "SELECT amount, estimated, matched_model, effective_date FROM cost_lines "
            "WHERE amount IS NOT NULL LIMIT 1"
        ).rows[0]
        assert isinstance(line[0], Decimal)
        assert line[0].as_tuple().exponent == -18  # Decimal(38, 18), exact
        assert line[1:] == (True, "gpt-4o", None)
        assert http.query("SELECT DISTINCT day FROM botanu_run_rollup").rows == [(day,)]
        unpriced = http.query("SELECT amount FROM cost_lines WHERE amount IS NULL").rows
        assert unpriced == [(None,)]
        attributes = http.query(
            "SELECT SpanAttributes FROM otel_traces WHERE SpanName LIKE 'botanu.run/%' "
            "AND SpanAttributes['botanu.workflow'] = ?",
            [ODD],
        ).rows
        assert attributes[0][0]["botanu.workflow"] == ODD
        assert isinstance(attributes[0][0], dict)

        # pricing again prices nothing new and keeps the answers
        before = rows(http, "SELECT * FROM runs")
        again = price_days(http, DAY0, DAY0 + 2 * 24 * HOUR)
        assert [(d.spans, d.rebuilt) for d in again] == [(0, False)]
        assert rows(http, "SELECT * FROM runs") == before


def test_the_exporter_inserts_over_http_as_native(spans, collector, shim, chdb_folder):
    """The exporter's own rows (Map, DateTime64(9), Nested, LowCardinality) sent with the
    client's Native insert: chunked, compressed blocks."""
    import clickhouse_connect

    raws = fixture_spans(spans)
    collector.create_traces()
    client = clickhouse_connect.get_client(
        host="127.0.0.1",
        port=shim.port,
        username="botanu",
        database=collector.database,
    )
    try:
        type(collector)(client, chdb_folder, collector.database).export(raws)
        sql = f"SELECT * FROM {collector.database}.otel_traces ORDER BY SpanId"
        stored = client.query(sql).result_rows
        assert len(stored) == len(raws)
        assert stored == collector.client.query(sql).result_rows
    finally:
        client.close()
    (insert,) = [entry for entry in shim.log if "Content-Encoding" in entry]
    assert insert["Transfer-Encoding"] == "chunked"
    assert insert["Content-Encoding"] in DECODE  # lz4 (zstd where lz4 is not installed)
    assert any("answer" in entry for entry in shim.log)  # and compressed answers were read
    with open_store(http_url(shim, collector.database)) as http:
        assert [d.spans for d in price_days(http, DAY0, DAY0 + 24 * HOUR)] == [len(raws)]


# --- what goes wrong at open -----------------------------------------------------------------


def test_a_refused_connection_names_the_store_without_its_password():
    with socket.socket() as probe:  # a port nothing listens on once it is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(StoreError) as caught:
        open_store(f"clickhouse://botanu:s3cr%40t@127.0.0.1:{port}/otel")
    message = str(caught.value)
    assert message.startswith(f"ClickHouse store clickhouse://botanu@127.0.0.1:{port}/otel: ")
    assert "cannot connect" in message
    assert "s3cr" not in message
    assert "\n" not in message


def test_an_unknown_database_is_named(shim):
    with pytest.raises(StoreError) as caught:
        open_store(http_url(shim, "nowhere"))
    port = shim.port
    assert str(caught.value) == (
        f"ClickHouse store clickhouse://botanu@127.0.0.1:{port}/nowhere: "
        "database nowhere does not exist"
    )


def test_a_wrong_password_or_user_cannot_log_in(shim, collector):
    port = shim.port
    for user in ("botanu:wrong-secret", "intruder"):
        with pytest.raises(StoreError) as caught:
            open_store(http_url(shim, collector.database, user))
        name = user.split(":")[0]
        assert str(caught.value) == (
            f"ClickHouse store clickhouse://{name}@127.0.0.1:{port}/{collector.database}: "
            f"user {name} could not log in"
        )


def test_a_missing_traces_table_is_named(shim, collector):
    with pytest.raises(StoreError) as caught:
        open_store(http_url(shim, collector.database))
    message = str(caught.value)
    assert message == (
        f"ClickHouse store {http_url(shim, collector.database)}: table "
        f"{collector.database}.otel_traces does not exist. Point the Collector's clickhouse "
        f"exporter at database {collector.database} (deploy/otel-collector.yaml), let it "
        "write once, or name the table with ?table="
    )


def test_the_exporters_json_schema_is_refused_by_name(shim, collector):
    collector.create_traces("json")
    with pytest.raises(StoreError) as caught:
        open_store(http_url(shim, collector.database))
    assert str(caught.value) == (
        f"ClickHouse store {http_url(shim, collector.database)}: table "
        f"{collector.database}.otel_traces is not the Collector exporter's traces table: "
        "SpanAttributes is JSON (the exporter's json: true schema; botanu reads its Map "
        "schema, json: false)"
    )


def test_a_bad_statement_is_clickhouse_s_message(shim, collector):
    collector.create_traces()
    with open_store(http_url(shim, collector.database)) as http:
        with pytest.raises(StoreError) as caught:
            http.query("SELECT * FROM no_such_table")
    message = str(caught.value)
    assert "code: 60" in message
    assert "UNKNOWN_TABLE" in message
    assert "\n" not in message
