-- The views every report reads. Recreated whenever a store is opened, so they always match
-- this version of botanu. Each span belongs to one run: the innermost one it started in.

-- Spans as ingested, without their cost. __ATTRIBUTES__: every attribute as a MAP, those
-- kept in a promoted column only (botanu.engine.batch.PROMOTED_KEYS) put back.
CREATE OR REPLACE VIEW spans AS
SELECT
    * EXCLUDE (attributes, amount, currency, price_source, catalog_version, matched_provider,
               matched_model, effective_date, estimated, price_detail, priced_at),
    __ATTRIBUTES__ AS attributes
FROM span_rows;

-- One priced line per span that cost money. `amount` is NULL when unpriced (never 0).
CREATE OR REPLACE VIEW cost_lines AS
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
FROM span_rows
WHERE price_source IS NOT NULL;

-- Spans with their cost line.
CREATE OR REPLACE VIEW span_costs AS
SELECT
    * EXCLUDE (attributes, estimated, priced_at),
    __ATTRIBUTES__ AS attributes
FROM span_rows;

CREATE OR REPLACE VIEW runs AS
SELECT
    r.run_id,
    coalesce(r.own_event_id, r.any_event_id) AS event_id,
    coalesce(r.own_workflow, r.any_workflow) AS workflow,
    coalesce(r.own_customer_id, r.any_customer_id) AS customer_id,
    coalesce(r.own_tenant_id, r.any_tenant_id) AS tenant_id,
    coalesce(r.own_environment, r.any_environment) AS environment,
    coalesce(r.attempt, 1) AS attempt,
    r.retry_of_run_id,
    r.parent_run_id,
    make_timestamp(r.start_ns // 1000) AS started_at,
    (r.end_ns - r.start_ns) / 1e9 AS duration_s,
    -- unknown (NULL) when any usage of the run is unpriced; priced_cost is a lower bound
    CASE WHEN r.unpriced_spans = 0 THEN r.total_cost END AS total_cost,
    r.total_cost AS priced_cost,
    r.llm_cost,
    r.db_cost,
    r.storage_cost,
    r.messaging_cost,
    r.other_cost,
    r.unpriced_spans,
    r.spans,
    r.outcome_status,
    r.outcome_value_type,
    r.outcome_value_amount,
    r.outcome_reason,
    -- who recorded the run's own outcome: 'auto' (its return or exception), else 'sdk'
    CASE WHEN r.outcome_status IS NOT NULL
        THEN CASE WHEN r.outcome_source = 'auto' THEN 'auto' ELSE 'sdk' END
    END AS outcome_source,
    v.value_per_unit
FROM run_rollup r
LEFT JOIN valuations v ON v.value_type = r.outcome_value_type;

-- All runs of one event and what they cost together. A run is replaced when a retry
-- names it (retry_of_run_id); the others stand. The final outcome is the event's latest
-- late outcome (outcome_resolutions) when it has one, else the latest-started standing
-- run's that has one, else 'pending'; a late outcome's value fields replace the run's only
-- when it gives them. Waste: the whole cost when the final outcome is a failure, else the
-- replaced runs' cost. A cost is NULL when any part is unpriced.
CREATE OR REPLACE VIEW events AS
WITH marked AS (
    SELECT
        *,
        run_id IN (
            SELECT retry_of_run_id FROM run_rollup WHERE retry_of_run_id IS NOT NULL
        ) AS replaced
    FROM runs
),
grouped AS (
    SELECT
        workflow,
        event_id,
        any_value(customer_id) AS customer_id,
        any_value(tenant_id) AS tenant_id,
        count(*) AS attempts,
        min(started_at) AS started_at,
        CASE WHEN sum(unpriced_spans) = 0 THEN sum(priced_cost) END AS total_cost,
        sum(priced_cost) AS priced_cost,
        coalesce(
            arg_max(run_id, started_at) FILTER (WHERE NOT replaced AND outcome_status IS NOT NULL),
            arg_max(run_id, started_at) FILTER (WHERE NOT replaced)
        ) AS final_run_id,
        arg_max(outcome_status, started_at)
            FILTER (WHERE NOT replaced AND outcome_status IS NOT NULL) AS run_outcome,
        arg_max(outcome_value_type, started_at)
            FILTER (WHERE NOT replaced AND outcome_status IS NOT NULL) AS run_value_type,
        arg_max(outcome_value_amount, started_at)
            FILTER (WHERE NOT replaced AND outcome_status IS NOT NULL) AS run_value_amount,
        arg_max(outcome_source, started_at)
            FILTER (WHERE NOT replaced AND outcome_status IS NOT NULL) AS run_source,
        CASE WHEN coalesce(sum(unpriced_spans) FILTER (WHERE replaced), 0) = 0
            THEN coalesce(sum(priced_cost) FILTER (WHERE replaced), 0)
        END AS replaced_cost,
        sum(unpriced_spans) AS unpriced_spans
    FROM marked
    GROUP BY workflow, event_id
),
latest AS (
    SELECT
        event_id,
        arg_max(status, (resolved_ns, trace_id, span_id)) AS status,
        arg_max(value_type, (resolved_ns, trace_id, span_id)) AS value_type,
        arg_max(value_amount, (resolved_ns, trace_id, span_id)) AS value_amount,
        arg_max(source, (resolved_ns, trace_id, span_id)) AS source,
        max(resolved_ns) AS resolved_ns
    FROM outcome_resolutions
    GROUP BY event_id
),
decided AS (
    SELECT
        g.* EXCLUDE (run_outcome, run_value_type, run_value_amount, run_source),
        coalesce(l.status, g.run_outcome, 'pending') AS final_outcome,
        coalesce(l.value_type, g.run_value_type) AS final_value_type,
        coalesce(l.value_amount, g.run_value_amount) AS final_value_amount,
        CASE WHEN l.status IS NOT NULL THEN coalesce(l.source, 'late') ELSE g.run_source END
            AS outcome_source,
        make_timestamp(l.resolved_ns // 1000) AS outcome_resolved_at
    FROM grouped g
    LEFT JOIN latest l ON l.event_id = g.event_id
)
SELECT
    * EXCLUDE (replaced_cost, unpriced_spans),
    CASE WHEN final_outcome IN ('failed', 'timeout', 'canceled', 'abandoned')
        THEN total_cost ELSE replaced_cost END AS wasted_cost,
    unpriced_spans
FROM decided;

-- Per workflow, customer and tenant. Cost figures cover the events whose cost is fully
-- known (events_unpriced says how many were left out); priced_cost is a lower bound over
-- all. Pending events are neither successes nor failures.
CREATE OR REPLACE VIEW workflows AS
__ROLLUP__ workflow;

CREATE OR REPLACE VIEW customers AS
__ROLLUP__ customer_id;

CREATE OR REPLACE VIEW tenants AS
__ROLLUP__ tenant_id;

-- Usage botanu could not price: shown, never counted as $0.
CREATE OR REPLACE VIEW unpriced AS
SELECT
    s.category,
    s.provider,
    coalesce(s.response_model, s.request_model, s.system) AS model,
    s.price_detail AS detail,
    count(*) AS spans,
    sum(s.input_tokens) AS input_tokens,
    sum(s.output_tokens) AS output_tokens,
    make_timestamp(min(s.start_ns) // 1000) AS first_seen,
    make_timestamp(max(s.start_ns) // 1000) AS last_seen
FROM span_rows s
WHERE s.price_source = 'unpriced'
GROUP BY ALL;
