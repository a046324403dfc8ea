-- workflows, customers and tenants: the events of each key (__KEY__ follows this text).
SELECT
    __KEY__,
    count() AS events,
    sum(attempts) AS runs,
    countIf(final_outcome = 'success') AS successful_events,
    countIf(final_outcome = 'success') / count() AS success_rate,
    sum(total_cost) AS total_cost,
    sum(wasted_cost) AS wasted_cost,
    toFloat64(sum(total_cost)) / nullIf(countIf(final_outcome = 'success'), 0)
        AS cost_per_success,
    sum(unpriced_spans) AS unpriced_spans
FROM __DB__.events
GROUP BY __KEY__
SETTINGS prefer_column_name_to_alias = 1
