-- workflows, customers and tenants: the events of each key (__KEY__ follows this text),
-- cost figures over fully priced events, pending ones not decided.
SELECT
    __KEY__,
    count(*) AS events,
    sum(attempts) AS runs,
    count(*) FILTER (WHERE final_outcome = 'success') AS successful_events,
    count(*) FILTER (WHERE final_outcome = 'pending') AS pending_events,
    count(*) FILTER (WHERE final_outcome = 'success')
        / nullif(count(*) FILTER (WHERE final_outcome <> 'pending'), 0) AS success_rate,
    sum(total_cost) AS total_cost,
    sum(priced_cost) AS priced_cost,
    sum(wasted_cost) AS wasted_cost,
    sum(total_cost) / nullif(
        count(*) FILTER (WHERE final_outcome = 'success' AND total_cost IS NOT NULL), 0
    ) AS cost_per_success,
    count(*) FILTER (WHERE total_cost IS NULL) AS events_unpriced,
    sum(unpriced_spans) AS unpriced_spans
FROM events
GROUP BY __KEY__
