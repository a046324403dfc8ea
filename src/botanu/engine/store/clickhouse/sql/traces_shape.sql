-- The Collector exporter's traces table as the server describes it: one row per column
-- botanu reads (none: the table is missing). __DB__ and __TABLE__ are quoted literals.
SELECT name, type
FROM system.columns
WHERE database = __DB__ AND table = __TABLE__
  AND name IN ('Timestamp', 'TraceId', 'SpanId', 'ParentSpanId', 'SpanName', 'SpanKind',
               'ServiceName', 'StatusCode', 'Duration', 'SpanAttributes', 'ResourceAttributes')
