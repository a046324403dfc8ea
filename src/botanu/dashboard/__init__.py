"""The read-only dashboard `botanu serve` shows: cost per outcome, runs with their span
waterfall and cost lines, unpriced usage and price lookups, each page with a JSON twin.

Needs the `web` extra (Starlette); `import botanu` never loads it.
"""

from __future__ import annotations

from botanu.dashboard.app import create_dashboard, dashboard_routes

__all__ = ["create_dashboard", "dashboard_routes"]
