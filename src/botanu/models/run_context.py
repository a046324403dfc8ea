"""Old import path of the run and its statuses, kept for users; code in `botanu.sdk.run_context`."""

from botanu.sdk.run_context import RunContext, RunStatus, generate_run_id

__all__ = ["RunContext", "RunStatus", "generate_run_id"]
