"""Trackers for the calls that cost money: LLM calls, tools, databases, storage, queues."""

from botanu.tracking.data import (
    track_db_operation,
    track_messaging_operation,
    track_storage_operation,
)
from botanu.tracking.llm import ModelOperation, track_llm_call, track_tool_call

__all__ = [
    "ModelOperation",
    "track_db_operation",
    "track_llm_call",
    "track_messaging_operation",
    "track_storage_operation",
    "track_tool_call",
]
