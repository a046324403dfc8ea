-- workflows, customers and tenants: the events of each key (__KEY__ follows this text),
-- with DuckDB's rules: cost figures over fully priced events, pending ones not decided.
SELECT
    __KEY__,
    count() AS events,
    sum(attempts) AS runs,
    countIf(final_outcome = 'success') AS successful_events,
    countIf(final_outcome = 'pending') AS pending_events,
    countIf(final_outcome = 'success') / nullIf(countIf(final_outcome != 'pending'), 0)
        AS success_rate,
    sum(total_cost) AS total_cost,
    sum(priced_cost) AS priced_cost,
    sum(wasted_cost) AS wasted_cost,
    toFloat64(sum(total_cost))
        / nullIf(countIf(final_outcome = 'success' AND total_cost IS NOT NULL), 0)
        AS cost_per_success,
    countIf(total_cost IS NULL) AS events_unpriced,
    sum(unpriced_spans) AS unpriced_spans
FROM __DB__.events
GROUP BY __KEY__
SETTINGS prefer_column_name_to_alias = 1
