"""Trackers for the non-LLM cost drivers: databases and warehouses (rows, bytes scanned,
request units), object storage (requests and bytes) and messaging (messages).

Database and messaging spans use the current OpenTelemetry names; storage has no
convention beyond `aws.s3.*`, so it uses botanu's own names from `semconv`.
"""

from __future__ import annotations

from typing import Any

from botanu import semconv
from botanu.sdk._guard import warn_misuse
from botanu.tracking._providers import (
    db_system,
    messaging_operation_type,
    messaging_system,
    name_or_unknown,
)
from botanu.tracking._span import SpanTracker, count_or_none, text_or_none

__all__ = [
    "DBTracker",
    "MessagingTracker",
    "StorageTracker",
    "track_db_operation",
    "track_messaging_operation",
    "track_storage_operation",
]


class DBTracker(SpanTracker):
    """What `track_db_operation` yields."""

    __slots__ = ()

    def set_result(
        self,
        rows_returned: int | None = None,
        rows_affected: int | None = None,
        bytes_scanned: int | None = None,
    ) -> DBTracker:
        self._set(
            {
                semconv.DB_RESPONSE_RETURNED_ROWS: count_or_none("rows_returned", rows_returned),
                semconv.DB_ROWS_AFFECTED: count_or_none("rows_affected", rows_affected),
                semconv.DB_BYTES_SCANNED: count_or_none("bytes_scanned", bytes_scanned),
            }
        )
        return self

    def set_bytes_scanned(self, bytes_scanned: int) -> DBTracker:
        """Bytes the warehouse billed for (BigQuery, Snowflake, Athena...)."""
        self._set({semconv.DB_BYTES_SCANNED: count_or_none("bytes_scanned", bytes_scanned)})
        return self

    def set_query_id(self, query_id: str) -> DBTracker:
        """The warehouse's query id, for reconciliation with its bill."""
        self._set({semconv.DB_QUERY_ID: text_or_none("query_id", query_id)})
        return self

    def set_request_units(self, request_units: float) -> DBTracker:
        """Request units or capacity units consumed (DynamoDB, Cosmos DB)."""
        valid = isinstance(request_units, (int, float)) and not isinstance(request_units, bool)
        if valid and request_units >= 0:
            self._set({semconv.DB_REQUEST_UNITS: float(request_units)})
        else:
            warn_misuse(f"request_units must be a non-negative number, got {request_units!r}.")
        return self


class StorageTracker(SpanTracker):
    """What `track_storage_operation` yields."""

    __slots__ = ()

    def set_result(
        self,
        bytes_written: int | None = None,
        bytes_read: int | None = None,
        object_count: int | None = None,
    ) -> StorageTracker:
        self._set(
            {
                semconv.STORAGE_BYTES_WRITTEN: count_or_none("bytes_written", bytes_written),
                semconv.STORAGE_BYTES_READ: count_or_none("bytes_read", bytes_read),
                semconv.STORAGE_OBJECT_COUNT: count_or_none("object_count", object_count),
            }
        )
        return self


class MessagingTracker(SpanTracker):
    """What `track_messaging_operation` yields."""

    __slots__ = ()

    def set_result(
        self, message_count: int | None = None, bytes_sent: int | None = None
    ) -> MessagingTracker:
        self._set(
            {
                semconv.MESSAGING_BATCH_MESSAGE_COUNT: count_or_none(
                    "message_count", message_count
                ),
                semconv.MESSAGING_MESSAGE_BODY_SIZE: count_or_none("bytes_sent", bytes_sent),
            }
        )
        return self


def track_db_operation(
    system: str, operation: str, *, database: str | None = None, **attributes: Any
) -> DBTracker:
    """Track one database or warehouse operation: `with track_db_operation(...) as db:`."""
    system_name = db_system(system)
    operation = name_or_unknown("operation", operation)
    span_attributes: dict[str, Any] = {
        semconv.DB_SYSTEM_NAME: system_name,
        semconv.DB_OPERATION_NAME: operation,
    }
    if database is not None:
        span_attributes[semconv.DB_NAMESPACE] = database
    span_attributes.update({k: v for k, v in attributes.items() if v is not None})
    return DBTracker(f"{operation} {database or system_name}", span_attributes)


def track_storage_operation(
    system: str, operation: str, *, bucket: str | None = None, **attributes: Any
) -> StorageTracker:
    """Track one object-storage request: `with track_storage_operation(...) as storage:`."""
    system_name = name_or_unknown("system", system).lower()
    operation = name_or_unknown("operation", operation)
    span_attributes: dict[str, Any] = {
        semconv.STORAGE_SYSTEM: system_name,
        semconv.STORAGE_OPERATION: operation,
    }
    if bucket is not None:
        span_attributes[semconv.STORAGE_BUCKET] = bucket
    span_attributes.update({k: v for k, v in attributes.items() if v is not None})
    return StorageTracker(f"{operation} {bucket or system_name}", span_attributes)


def track_messaging_operation(
    system: str, operation: str, destination: str | None = None, **attributes: Any
) -> MessagingTracker:
    """Track one publish or consume: `with track_messaging_operation(...) as msg:`."""
    system_name = messaging_system(system)
    operation = name_or_unknown("operation", operation)
    span_attributes: dict[str, Any] = {
        semconv.MESSAGING_SYSTEM: system_name,
        semconv.MESSAGING_OPERATION_NAME: operation,
    }
    op_type = messaging_operation_type(operation)
    if op_type is not None:
        span_attributes[semconv.MESSAGING_OPERATION_TYPE] = op_type
    if destination is not None:
        span_attributes[semconv.MESSAGING_DESTINATION_NAME] = destination
    span_attributes.update({k: v for k, v in attributes.items() if v is not None})
    return MessagingTracker(f"{operation} {destination or system_name}", span_attributes)
