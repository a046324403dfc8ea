-- How many spans of a new batch (`_botanu_batch`) are already stored or appear twice in
-- it; usually none, and then the batch is inserted as it is. Duplicates have the same
-- start, so only stored rows in the batch's time window ($1..$2) can match: zone maps
-- skip the rest of the table.
SELECT
    (SELECT count(*) FROM _botanu_batch b SEMI JOIN span_rows s
        ON s.trace_id = b.trace_id AND s.span_id = b.span_id
        AND s.start_ns BETWEEN $1 AND $2)
    + (SELECT count(*) FROM (
        SELECT 1 FROM _botanu_batch GROUP BY trace_id, span_id HAVING count(*) > 1))
