-- The views every report reads. Recreated whenever a store is opened, so they always match
-- this version of botanu. Each span belongs to one run: the innermost one it started in.

CREATE OR REPLACE VIEW span_costs AS
SELECT
    s.*,
    c.amount,
    c.currency,
    c.source AS price_source,
    c.catalog_version,
    c.matched_provider,
    c.matched_model,
    c.effective_date,
    c.detail AS price_detail
FROM spans s
LEFT JOIN cost_lines c ON c.trace_id = s.trace_id AND c.span_id = s.span_id;

CREATE OR REPLACE VIEW run_rollup AS
SELECT
    s.run_id,
    coalesce(first(s.event_id) FILTER (WHERE s.is_run_span), first(s.event_id)) AS event_id,
    coalesce(first(s.workflow) FILTER (WHERE s.is_run_span), first(s.workflow)) AS workflow,
    coalesce(first(s.customer_id) FILTER (WHERE s.is_run_span), first(s.customer_id))
        AS customer_id,
    coalesce(first(s.tenant_id) FILTER (WHERE s.is_run_span), first(s.tenant_id)) AS tenant_id,
    coalesce(first(s.environment) FILTER (WHERE s.is_run_span), first(s.environment))
        AS environment,
    coalesce(first(s.attempt) FILTER (WHERE s.is_run_span), 1) AS attempt,
    first(s.retry_of_run_id) FILTER (WHERE s.is_run_span) AS retry_of_run_id,
    first(s.parent_run_id) FILTER (WHERE s.is_run_span) AS parent_run_id,
    make_timestamp(min(s.start_ns) // 1000) AS started_at,
    (max(s.end_ns) - min(s.start_ns)) / 1e9 AS duration_s,
    coalesce(sum(c.amount), 0) AS total_cost,
    coalesce(sum(c.amount) FILTER (WHERE c.category = 'llm'), 0) AS llm_cost,
    coalesce(sum(c.amount) FILTER (WHERE c.category = 'db'), 0) AS db_cost,
    coalesce(sum(c.amount) FILTER (WHERE c.category = 'storage'), 0) AS storage_cost,
    coalesce(sum(c.amount) FILTER (WHERE c.category = 'messaging'), 0) AS messaging_cost,
    coalesce(sum(c.amount) FILTER (WHERE c.category = 'other'), 0) AS other_cost,
    count(c.source) FILTER (WHERE c.source = 'unpriced') AS unpriced_spans,
    count(*) AS spans,
    coalesce(
        first(s.outcome_status) FILTER (WHERE s.is_run_span AND s.outcome_status IS NOT NULL),
        arg_max(s.outcome_status, s.end_ns) FILTER (WHERE s.outcome_status IS NOT NULL)
    ) AS outcome_status,
    coalesce(
        first(s.outcome_value_type) FILTER (WHERE s.is_run_span AND s.outcome_status IS NOT NULL),
        arg_max(s.outcome_value_type, s.end_ns) FILTER (WHERE s.outcome_status IS NOT NULL)
    ) AS outcome_value_type,
    coalesce(
        first(s.outcome_value_amount)
            FILTER (WHERE s.is_run_span AND s.outcome_status IS NOT NULL),
        arg_max(s.outcome_value_amount, s.end_ns) FILTER (WHERE s.outcome_status IS NOT NULL)
    ) AS outcome_value_amount,
    coalesce(
        first(s.outcome_reason) FILTER (WHERE s.is_run_span AND s.outcome_status IS NOT NULL),
        arg_max(s.outcome_reason, s.end_ns) FILTER (WHERE s.outcome_status IS NOT NULL)
    ) AS outcome_reason
FROM spans s
LEFT JOIN cost_lines c ON c.trace_id = s.trace_id AND c.span_id = s.span_id
WHERE s.run_id IS NOT NULL
GROUP BY s.run_id;

CREATE OR REPLACE VIEW runs AS
SELECT r.*, v.value_per_unit
FROM run_rollup r
LEFT JOIN valuations v ON v.value_type = r.outcome_value_type;

-- All attempts of one event: what it cost in total, including the failed attempts.
CREATE OR REPLACE VIEW events AS
SELECT
    workflow,
    event_id,
    any_value(customer_id) AS customer_id,
    any_value(tenant_id) AS tenant_id,
    count(*) AS attempts,
    min(started_at) AS started_at,
    sum(total_cost) AS total_cost,
    arg_max(run_id, started_at) AS final_run_id,
    arg_max(outcome_status, started_at) AS final_outcome,
    arg_max(outcome_value_type, started_at) AS final_value_type,
    arg_max(outcome_value_amount, started_at) AS final_value_amount,
    sum(total_cost) - CASE
        WHEN arg_max(outcome_status, started_at) = 'success' THEN arg_max(total_cost, started_at)
        ELSE 0
    END AS wasted_cost,
    sum(unpriced_spans) AS unpriced_spans
FROM runs
GROUP BY workflow, event_id;

CREATE OR REPLACE VIEW workflows AS
SELECT
    workflow,
    count(*) AS events,
    sum(attempts) AS runs,
    count(*) FILTER (WHERE final_outcome = 'success') AS successful_events,
    count(*) FILTER (WHERE final_outcome = 'success') / count(*) AS success_rate,
    sum(total_cost) AS total_cost,
    sum(wasted_cost) AS wasted_cost,
    sum(total_cost) / nullif(count(*) FILTER (WHERE final_outcome = 'success'), 0)
        AS cost_per_success,
    sum(unpriced_spans) AS unpriced_spans
FROM events
GROUP BY workflow;

CREATE OR REPLACE VIEW customers AS
SELECT
    customer_id,
    count(*) AS events,
    sum(attempts) AS runs,
    count(*) FILTER (WHERE final_outcome = 'success') AS successful_events,
    count(*) FILTER (WHERE final_outcome = 'success') / count(*) AS success_rate,
    sum(total_cost) AS total_cost,
    sum(wasted_cost) AS wasted_cost,
    sum(total_cost) / nullif(count(*) FILTER (WHERE final_outcome = 'success'), 0)
        AS cost_per_success,
    sum(unpriced_spans) AS unpriced_spans
FROM events
GROUP BY customer_id;

CREATE OR REPLACE VIEW tenants AS
SELECT
    tenant_id,
    count(*) AS events,
    sum(attempts) AS runs,
    count(*) FILTER (WHERE final_outcome = 'success') AS successful_events,
    count(*) FILTER (WHERE final_outcome = 'success') / count(*) AS success_rate,
    sum(total_cost) AS total_cost,
    sum(wasted_cost) AS wasted_cost,
    sum(total_cost) / nullif(count(*) FILTER (WHERE final_outcome = 'success'), 0)
        AS cost_per_success,
    sum(unpriced_spans) AS unpriced_spans
FROM events
GROUP BY tenant_id;

-- Usage botanu could not price: shown, never counted as $0.
CREATE OR REPLACE VIEW unpriced AS
SELECT
    s.category,
    s.provider,
    coalesce(s.response_model, s.request_model, s.system) AS model,
    c.detail,
    count(*) AS spans,
    sum(s.input_tokens) AS input_tokens,
    sum(s.output_tokens) AS output_tokens,
    make_timestamp(min(s.start_ns) // 1000) AS first_seen,
    make_timestamp(max(s.start_ns) // 1000) AS last_seen
FROM spans s
JOIN cost_lines c ON c.trace_id = s.trace_id AND c.span_id = s.span_id
WHERE c.source = 'unpriced'
GROUP BY ALL;
