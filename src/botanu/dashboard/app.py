"""The read-only dashboard: server-rendered pages and their JSON twins, GET only.

Every page reads the store through `Store.query` and `cost_per_outcome` and nothing else.
Handlers are plain functions, so Starlette runs them in its thread pool: the store passed
in must be safe to query from several threads at once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timezone
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from botanu.dashboard import _data, _pages
from botanu.dashboard._format import plain
from botanu.store import Store

__all__ = ["create_dashboard", "dashboard_routes"]

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
        return _html(_pages.overview_page(_data.overview(self.store)))

    def api_overview(self, request: Request) -> Response:
        data = _data.overview(self.store)
        data["workflows"] = [row.as_json() for row in data["workflows"]]
        return _json(data)

    def report_page(self, by: str) -> Callable[[Request], Response]:
        def endpoint(request: Request) -> Response:
            rows = _data.report(self.store, by)  # type: ignore[arg-type]
            return _html(_pages.report_page(by, rows))

        return endpoint

    def api_report(self, request: Request) -> Response:
        by = request.query_params.get("by", "workflow")
        if by not in _BY:
            return _bad_request(request, f"by must be one of {', '.join(_BY)}, not {by!r}")
        rows = _data.report(self.store, by)  # type: ignore[arg-type]
        return _json({"by": by, "rows": [row.as_json() for row in rows]})

    def runs(self, request: Request) -> Response:
        try:
            filters = _filters(request)
        except ValueError as exc:
            return _bad_request(request, str(exc))
        rows = _data.run_list(self.store, filters)
        choices = _data.run_choices(self.store)
        return _html(_pages.runs_page(filters.as_dict(), rows, choices))

    def api_runs(self, request: Request) -> Response:
        try:
            filters = _filters(request)
        except ValueError as exc:
            return _bad_request(request, str(exc))
        return _json({"filters": filters.as_dict(), "runs": _data.run_list(self.store, filters)})

    def run(self, request: Request) -> Response:
        run_id = request.path_params["run_id"]
        detail = _data.run_detail(self.store, run_id)
        if detail is None:
            return _html(_pages.error_page(404, f"No run {run_id!r} in this store."), 404)
        return _html(_pages.run_page(detail))

    def api_run(self, request: Request) -> Response:
        run_id = request.path_params["run_id"]
        detail = _data.run_detail(self.store, run_id)
        if detail is None:
            return _json({"error": f"no run {run_id!r}"}, 404)
        return _json(detail)

    def unpriced(self, request: Request) -> Response:
        return _html(_pages.unpriced_page(_data.unpriced(self.store)))

    def api_unpriced(self, request: Request) -> Response:
        return _json({"rows": _data.unpriced(self.store)})

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
        rows = _data.price_rows(query["provider"], query["model"], at, query.get("tier"))
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
        rows = _data.price_rows(query["provider"], query["model"], at, query.get("tier"))
        return _json({**query, "day": day, "rows": rows})


def _filters(request: Request) -> _data.RunFilters:
    q = request.query_params
    return _data.RunFilters(q.get("workflow"), q.get("customer"), q.get("outcome"), q.get("limit"))


def _price_query(request: Request) -> dict[str, str]:
    q = request.query_params
    return {k: q[k].strip() for k in ("provider", "model", "at", "tier") if q.get(k, "").strip()}


def dashboard_routes(store: Store) -> list[Route]:
    """The dashboard's routes over `store` (GET, and so HEAD, only)."""
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
    return [Route(path, endpoint, methods=["GET"]) for path, endpoint in pages]


def _http_error(request: Request, exc: Exception) -> Response:
    """404 and 405 (and any other HTTP error) as a page, or as JSON under /api/."""
    assert isinstance(exc, HTTPException)
    headers = {**_HEADERS, **(exc.headers or {})}
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=headers)
    return HTMLResponse(
        _pages.error_page(exc.status_code, exc.detail),
        status_code=exc.status_code,
        headers=headers,
    )


def create_dashboard(store: Store) -> Starlette:
    """The dashboard as an ASGI app over `store`, read-only."""
    return Starlette(
        routes=dashboard_routes(store), exception_handlers={HTTPException: _http_error}
    )
