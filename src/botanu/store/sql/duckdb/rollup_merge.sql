-- Merge the rollup of a batch of new spans (rollup.sql applied to them) into run_rollup.
INSERT INTO run_rollup
SELECT * FROM __BATCH__
ON CONFLICT (run_id) DO UPDATE SET
    own_event_id = coalesce(run_rollup.own_event_id, excluded.own_event_id),
    any_event_id = coalesce(run_rollup.any_event_id, excluded.any_event_id),
    own_workflow = coalesce(run_rollup.own_workflow, excluded.own_workflow),
    any_workflow = coalesce(run_rollup.any_workflow, excluded.any_workflow),
    own_customer_id = coalesce(run_rollup.own_customer_id, excluded.own_customer_id),
    any_customer_id = coalesce(run_rollup.any_customer_id, excluded.any_customer_id),
    own_tenant_id = coalesce(run_rollup.own_tenant_id, excluded.own_tenant_id),
    any_tenant_id = coalesce(run_rollup.any_tenant_id, excluded.any_tenant_id),
    own_environment = coalesce(run_rollup.own_environment, excluded.own_environment),
    any_environment = coalesce(run_rollup.any_environment, excluded.any_environment),
    attempt = coalesce(run_rollup.attempt, excluded.attempt),
    retry_of_run_id = coalesce(run_rollup.retry_of_run_id, excluded.retry_of_run_id),
    parent_run_id = coalesce(run_rollup.parent_run_id, excluded.parent_run_id),
    start_ns = least(run_rollup.start_ns, excluded.start_ns),
    end_ns = greatest(run_rollup.end_ns, excluded.end_ns),
    total_cost = run_rollup.total_cost + excluded.total_cost,
    llm_cost = run_rollup.llm_cost + excluded.llm_cost,
    db_cost = run_rollup.db_cost + excluded.db_cost,
    storage_cost = run_rollup.storage_cost + excluded.storage_cost,
    messaging_cost = run_rollup.messaging_cost + excluded.messaging_cost,
    other_cost = run_rollup.other_cost + excluded.other_cost,
    unpriced_spans = run_rollup.unpriced_spans + excluded.unpriced_spans,
    spans = run_rollup.spans + excluded.spans,
    outcome_status = CASE WHEN excluded.outcome_rank > coalesce(run_rollup.outcome_rank, -1)
        THEN excluded.outcome_status ELSE run_rollup.outcome_status END,
    outcome_value_type = CASE WHEN excluded.outcome_rank > coalesce(run_rollup.outcome_rank, -1)
        THEN excluded.outcome_value_type ELSE run_rollup.outcome_value_type END,
    outcome_value_amount = CASE WHEN excluded.outcome_rank > coalesce(run_rollup.outcome_rank, -1)
        THEN excluded.outcome_value_amount ELSE run_rollup.outcome_value_amount END,
    outcome_reason = CASE WHEN excluded.outcome_rank > coalesce(run_rollup.outcome_rank, -1)
        THEN excluded.outcome_reason ELSE run_rollup.outcome_reason END,
    outcome_rank = greatest(run_rollup.outcome_rank, excluded.outcome_rank)
