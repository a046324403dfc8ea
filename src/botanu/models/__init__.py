"""Pure data: the run and its statuses."""

from botanu.models.run_context import RunContext, RunStatus, generate_run_id

__all__ = ["RunContext", "RunStatus", "generate_run_id"]
