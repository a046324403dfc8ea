-- The views every report reads, with the DuckDB store's names, columns and values
-- (engine/store/duckdb/sql/views.sql). Recreated when botanu's schema version changes.
-- Statements are separated by ";\n"; __DB__ is the quoted database. Every view carries
-- prefer_column_name_to_alias, so `sum(total_cost) AS total_cost` reads the column.

-- Spans as botanu read them, without their cost (attributes stay in the traces table).
CREATE OR REPLACE VIEW __DB__.spans AS
SELECT * EXCEPT (start_time, amount, currency, price_source, catalog_version, matched_provider,
                 matched_model, effective_date, estimated, price_detail, priced_at, version)
FROM __DB__.botanu_spans FINAL;

-- One priced line per span that cost money. `amount` is NULL when unpriced (never 0).
CREATE OR REPLACE VIEW __DB__.cost_lines AS
SELECT
    trace_id,
    span_id,
    category,
    amount,
    currency,
    price_source AS source,
    catalog_version,
    matched_provider,
    matched_model,
    effective_date,
    estimated,
    price_detail AS detail,
    priced_at
FROM __DB__.botanu_spans FINAL
WHERE price_source IS NOT NULL
SETTINGS prefer_column_name_to_alias = 1;

-- Spans with their cost line.
CREATE OR REPLACE VIEW __DB__.span_costs AS
SELECT * EXCEPT (start_time, estimated, priced_at, version)
FROM __DB__.botanu_spans FINAL;

-- runs without value_per_unit: what events and the reports read (a LEFT JOIN is never
-- skipped by the planner, even when nothing reads its columns: ~30% of runs' time)
CREATE OR REPLACE VIEW __DB__.botanu_runs_base AS
SELECT
    r.run_id AS run_id,
    coalesce(r.own_event_id, r.any_event_id) AS event_id,
    coalesce(r.own_workflow, r.any_workflow) AS workflow,
    coalesce(r.own_customer_id, r.any_customer_id) AS customer_id,
    coalesce(r.own_tenant_id, r.any_tenant_id) AS tenant_id,
    coalesce(r.own_environment, r.any_environment) AS environment,
    coalesce(r.own_attempt, 1) AS attempt,
    r.own_retry_of_run_id AS retry_of_run_id,
    r.own_parent_run_id AS parent_run_id,
    fromUnixTimestamp64Micro(intDiv(r.first_start_ns, 1000), 'UTC') AS started_at,
    (r.last_end_ns - r.first_start_ns) / 1e9 AS duration_s,
    -- unknown (NULL) when any usage of the run is unpriced; priced_cost is a lower bound
    if(r.n_unpriced = 0, r.cost_total, NULL) AS total_cost,
    r.cost_total AS priced_cost,
    r.cost_llm AS llm_cost,
    r.cost_db AS db_cost,
    r.cost_storage AS storage_cost,
    r.cost_messaging AS messaging_cost,
    r.cost_other AS other_cost,
    r.n_unpriced AS unpriced_spans,
    r.n_spans AS spans,
    r.status AS outcome_status,
    r.value_type AS outcome_value_type,
    r.value_amount AS outcome_value_amount,
    r.reason AS outcome_reason,
    -- who recorded the run's own outcome: 'auto' (its return or exception), else 'sdk'
    if(r.status IS NULL, NULL, if(ifNull(r.source, '') = 'auto', 'auto', 'sdk'))
        AS outcome_source
FROM (
__DAY_MERGE__
) AS r
SETTINGS prefer_column_name_to_alias = 1;

CREATE OR REPLACE VIEW __DB__.runs AS
SELECT r.*, v.value_per_unit AS value_per_unit
FROM __DB__.botanu_runs_base AS r
LEFT JOIN (
    SELECT value_type, argMax(value_per_unit, updated_at) AS value_per_unit
    FROM __DB__.botanu_valuations
    GROUP BY value_type
) AS v ON v.value_type = r.outcome_value_type
SETTINGS prefer_column_name_to_alias = 1, join_use_nulls = 1;

-- All runs of one event and what they cost together: the rules of DuckDB's events view
-- (replaced runs, standing runs, the latest late outcome else the runs' final outcome
-- else 'pending', waste). Inner names differ from the view's columns: ClickHouse aliases
-- are global to a query.
CREATE OR REPLACE VIEW __DB__.events AS
SELECT
    workflow,
    event_id,
    ev_customer_id AS customer_id,
    ev_tenant_id AS tenant_id,
    ev_attempts AS attempts,
    ev_started_at AS started_at,
    ev_total AS total_cost,
    ev_priced AS priced_cost,
    ev_final_run_id AS final_run_id,
    coalesce(lt_status, ev_run_outcome, 'pending') AS final_outcome,
    coalesce(lt_value_type, ev_run_value_type) AS final_value_type,
    coalesce(lt_value_amount, ev_run_value_amount) AS final_value_amount,
    if(lt_status IS NOT NULL, coalesce(lt_source, 'late'), ev_run_source) AS outcome_source,
    if(lt_status IS NOT NULL, fromUnixTimestamp64Micro(intDiv(lt_resolved_ns, 1000), 'UTC'),
       NULL) AS outcome_resolved_at,
    if(coalesce(lt_status, ev_run_outcome, 'pending') IN
           ('failed', 'timeout', 'canceled', 'abandoned'),
       ev_total, ev_replaced_cost) AS wasted_cost,
    ev_unpriced AS unpriced_spans
FROM (
    SELECT
        workflow,
        event_id,
        any(customer_id) AS ev_customer_id,
        any(tenant_id) AS ev_tenant_id,
        count() AS ev_attempts,
        min(started_at) AS ev_started_at,
        if(sum(unpriced_spans) = 0, sum(priced_cost), NULL) AS ev_total,
        sum(priced_cost) AS ev_priced,
        if(countIf(NOT is_replaced AND outcome_status IS NOT NULL) > 0,
           argMaxIf(run_id, started_at, NOT is_replaced AND outcome_status IS NOT NULL),
           argMaxIf(run_id, started_at, NOT is_replaced)) AS ev_final_run_id,
        argMaxIf(outcome_status, started_at, NOT is_replaced AND outcome_status IS NOT NULL)
            AS ev_run_outcome,
        argMaxIf(outcome_value_type, started_at, NOT is_replaced AND outcome_status IS NOT NULL)
            AS ev_run_value_type,
        argMaxIf(outcome_value_amount, started_at,
                 NOT is_replaced AND outcome_status IS NOT NULL) AS ev_run_value_amount,
        argMaxIf(outcome_source, started_at, NOT is_replaced AND outcome_status IS NOT NULL)
            AS ev_run_source,
        if(sumIf(unpriced_spans, is_replaced) = 0, sumIf(priced_cost, is_replaced), NULL)
            AS ev_replaced_cost,
        sum(unpriced_spans) AS ev_unpriced
    FROM (
        SELECT
            *,
            run_id IN (
                SELECT own_retry_of_run_id FROM __DB__.botanu_run_rollup
                WHERE own_retry_of_run_id IS NOT NULL
            ) AS is_replaced
        FROM __DB__.botanu_runs_base
    )
    GROUP BY workflow, event_id
) AS ev
LEFT JOIN (
    SELECT
        event_id AS lt_event_id,
        argMax(status, (resolved_ns, trace_id, span_id)) AS lt_status,
        argMax(value_type, (resolved_ns, trace_id, span_id)) AS lt_value_type,
        argMax(value_amount, (resolved_ns, trace_id, span_id)) AS lt_value_amount,
        argMax(source, (resolved_ns, trace_id, span_id)) AS lt_source,
        max(resolved_ns) AS lt_resolved_ns
    FROM __DB__.botanu_outcome_resolutions FINAL
    GROUP BY event_id
) AS lt ON lt.lt_event_id = ev.event_id
SETTINGS prefer_column_name_to_alias = 1, join_use_nulls = 1;

CREATE OR REPLACE VIEW __DB__.workflows AS
__ROLLUP__ workflow;

CREATE OR REPLACE VIEW __DB__.customers AS
__ROLLUP__ customer_id;

CREATE OR REPLACE VIEW __DB__.tenants AS
__ROLLUP__ tenant_id;

-- Usage botanu could not price: shown, never counted as $0.
CREATE OR REPLACE VIEW __DB__.unpriced AS
SELECT
    category,
    provider,
    coalesce(response_model, request_model, system) AS model,
    price_detail AS detail,
    count() AS spans,
    sum(input_tokens) AS input_tokens,
    sum(output_tokens) AS output_tokens,
    fromUnixTimestamp64Micro(intDiv(min(start_ns), 1000), 'UTC') AS first_seen,
    fromUnixTimestamp64Micro(intDiv(max(start_ns), 1000), 'UTC') AS last_seen
FROM __DB__.botanu_spans FINAL
WHERE price_source = 'unpriced'
GROUP BY category, provider, model, detail
SETTINGS prefer_column_name_to_alias = 1
