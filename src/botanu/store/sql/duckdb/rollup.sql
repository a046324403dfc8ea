-- The run_rollup row of every run with spans in the source table (span_rows shape).
-- Applied to a batch of new spans and merged (rollup_merge.sql), or to all of a run's
-- spans to rebuild it. The outcome rank puts the run span first, then the latest end.
SELECT
    run_id,
    any_value(event_id) FILTER (WHERE is_run_span) AS own_event_id,
    any_value(event_id) AS any_event_id,
    any_value(workflow) FILTER (WHERE is_run_span) AS own_workflow,
    any_value(workflow) AS any_workflow,
    any_value(customer_id) FILTER (WHERE is_run_span) AS own_customer_id,
    any_value(customer_id) AS any_customer_id,
    any_value(tenant_id) FILTER (WHERE is_run_span) AS own_tenant_id,
    any_value(tenant_id) AS any_tenant_id,
    any_value(environment) FILTER (WHERE is_run_span) AS own_environment,
    any_value(environment) AS any_environment,
    any_value(attempt) FILTER (WHERE is_run_span) AS attempt,
    any_value(retry_of_run_id) FILTER (WHERE is_run_span) AS retry_of_run_id,
    any_value(parent_run_id) FILTER (WHERE is_run_span) AS parent_run_id,
    min(start_ns) AS start_ns,
    max(end_ns) AS end_ns,
    coalesce(sum(amount), 0) AS total_cost,
    coalesce(sum(amount) FILTER (WHERE category = 'llm'), 0) AS llm_cost,
    coalesce(sum(amount) FILTER (WHERE category = 'db'), 0) AS db_cost,
    coalesce(sum(amount) FILTER (WHERE category = 'storage'), 0) AS storage_cost,
    coalesce(sum(amount) FILTER (WHERE category = 'messaging'), 0) AS messaging_cost,
    coalesce(sum(amount) FILTER (WHERE category = 'other'), 0) AS other_cost,
    count(*) FILTER (WHERE price_source = 'unpriced') AS unpriced_spans,
    count(*) AS spans,
    max(is_run_span::HUGEINT * 18446744073709551616 + end_ns)
        FILTER (WHERE outcome_status IS NOT NULL) AS outcome_rank,
    arg_max(outcome_status, is_run_span::HUGEINT * 18446744073709551616 + end_ns)
        FILTER (WHERE outcome_status IS NOT NULL) AS outcome_status,
    arg_max(outcome_value_type, is_run_span::HUGEINT * 18446744073709551616 + end_ns)
        FILTER (WHERE outcome_status IS NOT NULL) AS outcome_value_type,
    arg_max(outcome_value_amount, is_run_span::HUGEINT * 18446744073709551616 + end_ns)
        FILTER (WHERE outcome_status IS NOT NULL) AS outcome_value_amount,
    arg_max(outcome_reason, is_run_span::HUGEINT * 18446744073709551616 + end_ns)
        FILTER (WHERE outcome_status IS NOT NULL) AS outcome_reason,
    arg_max(outcome_source, is_run_span::HUGEINT * 18446744073709551616 + end_ns)
        FILTER (WHERE outcome_status IS NOT NULL) AS outcome_source
FROM __SOURCE__
WHERE run_id IS NOT NULL
GROUP BY run_id
