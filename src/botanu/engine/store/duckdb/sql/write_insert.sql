-- New spans (a batch of span_rows shape, __SOURCE__) into span_rows; a row with a cost
-- line is stamped with when it was priced.
INSERT INTO span_rows BY NAME
SELECT *, CASE WHEN price_source IS NOT NULL THEN current_timestamp END AS priced_at
FROM __SOURCE__
