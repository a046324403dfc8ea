-- Merge the rollup of a batch of new spans (rollup.sql applied to them, in the table
-- __BATCH__) into run_rollup: runs already there are updated, the others inserted. (Two
-- statements cost ~40% less than one INSERT ... ON CONFLICT DO UPDATE.)
UPDATE run_rollup SET
    own_event_id = coalesce(run_rollup.own_event_id, batch.own_event_id),
    any_event_id = coalesce(run_rollup.any_event_id, batch.any_event_id),
    own_workflow = coalesce(run_rollup.own_workflow, batch.own_workflow),
    any_workflow = coalesce(run_rollup.any_workflow, batch.any_workflow),
    own_customer_id = coalesce(run_rollup.own_customer_id, batch.own_customer_id),
    any_customer_id = coalesce(run_rollup.any_customer_id, batch.any_customer_id),
    own_tenant_id = coalesce(run_rollup.own_tenant_id, batch.own_tenant_id),
    any_tenant_id = coalesce(run_rollup.any_tenant_id, batch.any_tenant_id),
    own_environment = coalesce(run_rollup.own_environment, batch.own_environment),
    any_environment = coalesce(run_rollup.any_environment, batch.any_environment),
    attempt = coalesce(run_rollup.attempt, batch.attempt),
    retry_of_run_id = coalesce(run_rollup.retry_of_run_id, batch.retry_of_run_id),
    parent_run_id = coalesce(run_rollup.parent_run_id, batch.parent_run_id),
    start_ns = least(run_rollup.start_ns, batch.start_ns),
    end_ns = greatest(run_rollup.end_ns, batch.end_ns),
    total_cost = run_rollup.total_cost + batch.total_cost,
    llm_cost = run_rollup.llm_cost + batch.llm_cost,
    db_cost = run_rollup.db_cost + batch.db_cost,
    storage_cost = run_rollup.storage_cost + batch.storage_cost,
    messaging_cost = run_rollup.messaging_cost + batch.messaging_cost,
    other_cost = run_rollup.other_cost + batch.other_cost,
    unpriced_spans = run_rollup.unpriced_spans + batch.unpriced_spans,
    spans = run_rollup.spans + batch.spans,
    outcome_status = CASE WHEN batch.outcome_rank > coalesce(run_rollup.outcome_rank, -1)
        THEN batch.outcome_status ELSE run_rollup.outcome_status END,
    outcome_value_type = CASE WHEN batch.outcome_rank > coalesce(run_rollup.outcome_rank, -1)
        THEN batch.outcome_value_type ELSE run_rollup.outcome_value_type END,
    outcome_value_amount = CASE WHEN batch.outcome_rank > coalesce(run_rollup.outcome_rank, -1)
        THEN batch.outcome_value_amount ELSE run_rollup.outcome_value_amount END,
    outcome_reason = CASE WHEN batch.outcome_rank > coalesce(run_rollup.outcome_rank, -1)
        THEN batch.outcome_reason ELSE run_rollup.outcome_reason END,
    outcome_source = CASE WHEN batch.outcome_rank > coalesce(run_rollup.outcome_rank, -1)
        THEN batch.outcome_source ELSE run_rollup.outcome_source END,
    outcome_rank = greatest(run_rollup.outcome_rank, batch.outcome_rank)
FROM __BATCH__ AS batch
WHERE run_rollup.run_id = batch.run_id;

INSERT INTO run_rollup
SELECT * FROM __BATCH__ ANTI JOIN run_rollup USING (run_id);
