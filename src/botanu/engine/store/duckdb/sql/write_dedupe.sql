-- The spans of `_botanu_batch` that are new: not stored within the batch's time window
-- ($1..$2) and each once (write_duplicates.sql found some that are not).
CREATE OR REPLACE TEMP TABLE _botanu_new AS
SELECT * FROM _botanu_batch b
WHERE NOT EXISTS (
    SELECT 1 FROM span_rows s
    WHERE s.start_ns BETWEEN $1 AND $2
      AND s.trace_id = b.trace_id AND s.span_id = b.span_id)
QUALIFY row_number() OVER (PARTITION BY trace_id, span_id) = 1
