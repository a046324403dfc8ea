"""The read-only dashboard: server-rendered pages and their JSON twins, GET only.

Every page reads the store through `Store.query` and `cost_per_outcome` and nothing else.
Handlers are plain functions, so Starlette runs them in its thread pool: the store passed
in must be safe to query from several threads at once. A read that fails is an error page
(or JSON error) that says why; while the store cannot be written, every page says so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import date, datetime, timezone
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from botanu.dashboard import _layout, _pages
from botanu.dashboard._format import plain
from botanu.engine import reports
from botanu.engine.store import Store, StoreError
from botanu.exceptions import QueryBusy, QueryRefused

__all__ = ["StoreProblem", "create_dashboard", "dashboard_routes"]

log = logging.getLogger("botanu.dashboard")

# why the store cannot be written now (None: it can); `botanu serve` passes its own
StoreProblem = Callable[[], str | None]

# a read-only page needs nothing from anywhere: no script, no outside fetch, no framing
_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
_BY = ("workflow", "customer", "tenant", "value_type")
_RETRY_AFTER_S = "2"
_MESSAGE_CHARS = 300  # of a store's error shown on a page (DuckDB's can be long)


def _html(content: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(content, status_code=status, headers=_HEADERS)


def _json(content: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(plain(content), status_code=status, headers=_HEADERS)


def _bad_request(request: Request, message: str) -> Response:
    if request.url.path.startswith("/api/"):
        return _json({"error": message}, 400)
    return _html(_pages.error_page(400, message), 400)


def _parse_day(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.combine(date.fromisoformat(text), datetime.min.time(), timezone.utc)
    except ValueError:
        raise ValueError(f"at must be a day like 2025-01-31, not {text!r}") from None


class _Endpoints:
    """One handler per route, each reading `store`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def overview(self, request: Request) -> Response:
        return _html(_pages.overview_page(reports.overview(self.store)))

    def api_overview(self, request: Request) -> Response:
        data = reports.overview(self.store)
        data["workflows"] = [row.as_json() for row in data["workflows"]]
        return _json(data)

    def report_page(self, by: str) -> Callable[[Request], Response]:
        def endpoint(request: Request) -> Response:
            rows = reports.report(self.store, by)  # type: ignore[arg-type]
            return _html(_pages.report_page(by, rows))

        return endpoint

    def api_report(self, request: Request) -> Response:
        by = request.query_params.get("by", "workflow")
        if by not in _BY:
            return _bad_request(request, f"by must be one of {', '.join(_BY)}, not {by!r}")
        rows = reports.report(self.store, by)  # type: ignore[arg-type]
        return _json({"by": by, "rows": [row.as_json() for row in rows]})

    def runs(self, request: Request) -> Response:
        try:
            filters = _filters(request)
        except ValueError as exc:
            return _bad_request(request, str(exc))
        rows = reports.run_list(self.store, filters)
        choices = reports.run_choices(self.store)
        return _html(_pages.runs_page(filters.as_dict(), rows, choices))

    def api_runs(self, request: Request) -> Response:
        try:
            filters = _filters(request)
        except ValueError as exc:
            return _bad_request(request, str(exc))
        return _json({"filters": filters.as_dict(), "runs": reports.run_list(self.store, filters)})

    def run(self, request: Request) -> Response:
        run_id = request.path_params["run_id"]
        detail = reports.run_detail(self.store, run_id)
        if detail is None:
            return _html(_pages.error_page(404, f"No run {run_id!r} in this store."), 404)
        return _html(_pages.run_page(detail))

    def api_run(self, request: Request) -> Response:
        run_id = request.path_params["run_id"]
        detail = reports.run_detail(self.store, run_id)
        if detail is None:
            return _json({"error": f"no run {run_id!r}"}, 404)
        return _json(detail)

    def unpriced(self, request: Request) -> Response:
        return _html(_pages.unpriced_page(reports.unpriced(self.store)))

    def api_unpriced(self, request: Request) -> Response:
        return _json({"rows": reports.unpriced(self.store)})

    def prices(self, request: Request) -> Response:
        query = _price_query(request)
        if not query.get("provider") and not query.get("model"):
            return _html(_pages.prices_page(query, None))
        if not query.get("provider") or not query.get("model"):
            return _html(_pages.prices_page(query, None, "Give both a provider and a model."))
        try:
            at = _parse_day(query.get("at"))
        except ValueError as exc:
            return _html(_pages.prices_page(query, None, str(exc)), 400)
        day = (at or datetime.now(timezone.utc)).date()
        rows = reports.price_rows(query["provider"], query["model"], at, query.get("tier"))
        return _html(_pages.prices_page(query, rows, day=day))

    def api_prices(self, request: Request) -> Response:
        query = _price_query(request)
        if not query.get("provider") or not query.get("model"):
            return _bad_request(request, "give both provider= and model=")
        try:
            at = _parse_day(query.get("at"))
        except ValueError as exc:
            return _bad_request(request, str(exc))
        day = (at or datetime.now(timezone.utc)).date()
        rows = reports.price_rows(query["provider"], query["model"], at, query.get("tier"))
        return _json({**query, "day": day, "rows": rows})


def _filters(request: Request) -> reports.RunFilters:
    q = request.query_params
    return reports.RunFilters(
        q.get("workflow"), q.get("customer"), q.get("outcome"), q.get("limit")
    )


def _price_query(request: Request) -> dict[str, str]:
    q = request.query_params
    return {k: q[k].strip() for k in ("provider", "model", "at", "tier") if q.get(k, "").strip()}


def dashboard_routes(store: Store, store_problem: StoreProblem | None = None) -> list[Route]:
    """The dashboard's routes over `store` (GET, and so HEAD, only); `store_problem` says
    why the store cannot be written now, shown on every page."""
    e = _Endpoints(store)
    pages: list[tuple[str, Callable[[Request], Response]]] = [
        ("/", e.overview),
        ("/workflows", e.report_page("workflow")),
        ("/customers", e.report_page("customer")),
        ("/tenants", e.report_page("tenant")),
        ("/runs", e.runs),
        ("/runs/{run_id:path}", e.run),
        ("/unpriced", e.unpriced),
        ("/prices", e.prices),
        ("/api/overview", e.api_overview),
        ("/api/report", e.api_report),
        ("/api/runs", e.api_runs),
        ("/api/runs/{run_id:path}", e.api_run),
        ("/api/unpriced", e.api_unpriced),
        ("/api/prices", e.api_prices),
    ]
    return [
        Route(path, _answering(endpoint, store_problem), methods=["GET"])
        for path, endpoint in pages
    ]


def _answering(
    endpoint: Callable[[Request], Response], store_problem: StoreProblem | None
) -> Callable[[Request], Response]:
    """`endpoint` whose failed reads are answered with why, its pages with the notice
    that the store cannot be written while it cannot."""

    def answer(request: Request) -> Response:
        try:
            response = endpoint(request)
        except StoreError as exc:
            response = _read_failed(request, exc)
        except Exception:  # a page that cannot be built still answers with a page
            log.exception("botanu dashboard: %s could not be built", request.url.path)
            response = _failed(request, 500, "This page could not be built: the log says why.")
        return _noticed(response, store_problem)

    return answer


def _read_failed(request: Request, exc: StoreError) -> Response:
    """A read of the store that failed, answered with why (the classes `botanu serve`'s
    reads raise: too busy, refused or past its time limit, or the store's own error)."""
    message = " ".join(str(exc).split())[:_MESSAGE_CHARS]
    if isinstance(exc, QueryBusy):
        text = "Too many queries are running right now; retry in a moment."
        return _failed(request, 503, text, {"Retry-After": _RETRY_AFTER_S})
    if isinstance(exc, QueryRefused):
        return _failed(request, 400, f"The query for this page was stopped: {message}.")
    log.error("botanu dashboard: %s could not be read: %s", request.url.path, message)
    return _failed(
        request,
        500,
        f"This page could not be read from the store: {message}. If the store file is "
        "damaged, stop botanu serve, put back a good copy (or move it aside for a new "
        "one) and start it again.",
    )


def _failed(
    request: Request, status: int, message: str, headers: Mapping[str, str] | None = None
) -> Response:
    """An error as a page, or as JSON under /api/."""
    headers = {**_HEADERS, **(headers or {})}
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": message}, status_code=status, headers=headers)
    return HTMLResponse(_pages.error_page(status, message), status_code=status, headers=headers)


def _noticed(response: Response, store_problem: StoreProblem | None) -> Response:
    """`response`, with the notice that the store cannot be written if it is a page."""
    problem = store_problem() if store_problem is not None else None
    if problem is None or not isinstance(response, HTMLResponse):
        return response
    document = _layout.with_notice(bytes(response.body).decode(), _pages.store_notice(problem))
    kept = {
        key: value
        for key, value in response.headers.items()
        if key not in ("content-length", "content-type")
    }
    return HTMLResponse(document, status_code=response.status_code, headers=kept)


def create_dashboard(store: Store, *, store_problem: StoreProblem | None = None) -> Starlette:
    """The dashboard as an ASGI app over `store`, read-only. `store_problem()`: why the
    store cannot be written now (None: it can); every page says so while it cannot."""

    def http_error(request: Request, exc: Exception) -> Response:
        """404 and 405 (and any other HTTP error) as a page, or as JSON under /api/."""
        assert isinstance(exc, HTTPException)
        failed = _failed(request, exc.status_code, exc.detail, exc.headers)
        return _noticed(failed, store_problem)

    return Starlette(
        routes=dashboard_routes(store, store_problem),
        exception_handlers={HTTPException: http_error},
    )
