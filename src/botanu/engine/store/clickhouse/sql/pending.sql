-- The pricing job's input: spans of the exporter's table that started in [lo, hi) and
-- have no row in botanu_spans yet (all of them when repricing), each once (the exporter
-- delivers at least once). Kind and status are read in both spellings exporters wrote.
SELECT
    TraceId AS trace_id,
    SpanId AS span_id,
    ParentSpanId AS parent_span_id,
    toString(SpanName) AS name,
    lower(replaceRegexpOne(toString(SpanKind), '^SPAN_KIND_', '')) AS kind,
    toUnixTimestamp64Nano(Timestamp) AS start_ns,
    toUnixTimestamp64Nano(Timestamp) + toInt64(Duration) AS end_ns,
    lower(replaceRegexpOne(toString(StatusCode), '^STATUS_CODE_', '')) AS status_code,
    CAST(SpanAttributes, 'Map(String, String)') AS attributes,
    CAST(__RESOURCE__, 'Map(String, String)') AS resource
FROM __TRACES__
WHERE Timestamp >= {lo:DateTime64(9, 'UTC')} AND Timestamp < {hi:DateTime64(9, 'UTC')}
  __NEW_ONLY__
LIMIT 1 BY TraceId, SpanId
