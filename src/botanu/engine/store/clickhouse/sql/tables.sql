-- botanu's own tables beside the exporter's traces table (which botanu never alters).
-- Statements are separated by ";\n"; __DB__ is the quoted database.

-- One row per span the pricing job has seen: the span as botanu's engine reads it (the
-- same normalize code as the DuckDB store's span_rows, so both stores agree on every
-- field) and its cost line. price_source NULL: nothing to price; amount NULL: unpriced.
-- A reprice inserts the span again with a higher version; reads use FINAL.
CREATE TABLE IF NOT EXISTS __DB__.botanu_spans (
    trace_id String,
    span_id String,
    parent_span_id Nullable(String),
    name String,
    kind LowCardinality(Nullable(String)),
    service_name LowCardinality(Nullable(String)),
    status_code LowCardinality(Nullable(String)),
    start_ns Int64,
    end_ns Int64,
    start_time DateTime64(9, 'UTC'),
    run_id Nullable(String),
    event_id Nullable(String),
    workflow LowCardinality(Nullable(String)),
    workflow_label Nullable(String),
    customer_id Nullable(String),
    tenant_id Nullable(String),
    environment LowCardinality(Nullable(String)),
    attempt Nullable(Int32),
    parent_run_id Nullable(String),
    root_run_id Nullable(String),
    retry_of_run_id Nullable(String),
    is_run_span Bool,
    outcome_status LowCardinality(Nullable(String)),
    outcome_value_type LowCardinality(Nullable(String)),
    outcome_value_amount Nullable(Float64),
    outcome_reason Nullable(String),
    outcome_error_type Nullable(String),
    outcome_source LowCardinality(Nullable(String)),
    team Nullable(String),
    cost_center Nullable(String),
    region Nullable(String),
    category LowCardinality(String),
    provider LowCardinality(Nullable(String)),
    operation LowCardinality(Nullable(String)),
    request_model LowCardinality(Nullable(String)),
    response_model LowCardinality(Nullable(String)),
    service_tier LowCardinality(Nullable(String)),
    input_tokens Nullable(Int64),
    output_tokens Nullable(Int64),
    cache_read_tokens Nullable(Int64),
    cache_write_tokens Nullable(Int64),
    cache_write_1h_tokens Nullable(Int64),
    reasoning_tokens Nullable(Int64),
    system LowCardinality(Nullable(String)),
    bytes_scanned Nullable(Int64),
    request_units Nullable(Float64),
    rows Nullable(Int64),
    bytes_read Nullable(Int64),
    bytes_written Nullable(Int64),
    object_count Nullable(Int64),
    message_count Nullable(Int64),
    reported_cost Nullable(Decimal(38, 18)),
    amount Nullable(Decimal(38, 18)),
    currency LowCardinality(Nullable(String)),
    price_source LowCardinality(Nullable(String)),
    catalog_version LowCardinality(Nullable(String)),
    matched_provider LowCardinality(Nullable(String)),
    matched_model LowCardinality(Nullable(String)),
    effective_date Nullable(Date),
    estimated Nullable(Bool),
    price_detail Nullable(String),
    priced_at DateTime64(6, 'UTC') DEFAULT now64(6),
    version UInt64
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toDate(start_time)
ORDER BY (trace_id, span_id)
SETTINGS non_replicated_deduplication_window = 1000;

-- One row per (UTC day, run): the run's spans of that day summed up. `botanu price`
-- rebuilds a day whole (stage, then REPLACE PARTITION); views merge a run's days. Column
-- names differ from the views' on purpose (ClickHouse aliases are global to a query).
-- Each outcome field keeps the rank of the span it came from, so days merge exactly as
-- DuckDB's one pass over all spans: the run span first, then the latest end.
CREATE TABLE IF NOT EXISTS __DB__.botanu_run_rollup (
    day Date,
    run_id String,
    own_event_id Nullable(String),
    any_event_id Nullable(String),
    own_workflow LowCardinality(Nullable(String)),
    any_workflow LowCardinality(Nullable(String)),
    own_customer_id Nullable(String),
    any_customer_id Nullable(String),
    own_tenant_id Nullable(String),
    any_tenant_id Nullable(String),
    own_environment LowCardinality(Nullable(String)),
    any_environment LowCardinality(Nullable(String)),
    own_attempt Nullable(Int32),
    own_retry_of_run_id Nullable(String),
    own_parent_run_id Nullable(String),
    first_start_ns Int64,
    last_end_ns Int64,
    cost_total Decimal(38, 18),
    cost_llm Decimal(38, 18),
    cost_db Decimal(38, 18),
    cost_storage Decimal(38, 18),
    cost_messaging Decimal(38, 18),
    cost_other Decimal(38, 18),
    n_unpriced UInt64,
    n_spans UInt64,
    status LowCardinality(Nullable(String)),
    status_rank UInt128,
    value_type LowCardinality(Nullable(String)),
    value_type_rank UInt128,
    value_amount Nullable(Float64),
    value_amount_rank UInt128,
    reason Nullable(String),
    reason_rank UInt128,
    source LowCardinality(Nullable(String)),
    source_rank UInt128
) ENGINE = MergeTree
PARTITION BY day
ORDER BY run_id;

-- columns added since schema 3 (spans priced before keep NULL: a run's outcome source
-- then reads 'sdk' until `botanu price --again`)
ALTER TABLE __DB__.botanu_spans
    ADD COLUMN IF NOT EXISTS outcome_source LowCardinality(Nullable(String))
    AFTER outcome_error_type;

ALTER TABLE __DB__.botanu_run_rollup
    ADD COLUMN IF NOT EXISTS source LowCardinality(Nullable(String)),
    ADD COLUMN IF NOT EXISTS source_rank UInt128;

CREATE TABLE IF NOT EXISTS __DB__.botanu_run_rollup_stage AS __DB__.botanu_run_rollup;

ALTER TABLE __DB__.botanu_run_rollup_stage
    ADD COLUMN IF NOT EXISTS source LowCardinality(Nullable(String)),
    ADD COLUMN IF NOT EXISTS source_rank UInt128;

-- Late outcomes (botanu/engine/resolutions.py): one row per resolution span, stored with
-- the spans it came in with; a span priced twice is one row (reads use FINAL).
CREATE TABLE IF NOT EXISTS __DB__.botanu_outcome_resolutions (
    trace_id String,
    span_id String,
    event_id String,
    status LowCardinality(String),
    value_type LowCardinality(Nullable(String)),
    value_amount Nullable(Float64),
    reason Nullable(String),
    source LowCardinality(Nullable(String)),
    resolved_ns Int64
) ENGINE = ReplacingMergeTree
ORDER BY (event_id, trace_id, span_id);

CREATE TABLE IF NOT EXISTS __DB__.botanu_valuations (
    value_type String,
    value_per_unit Decimal(38, 18),
    currency LowCardinality(String),
    updated_at DateTime64(6, 'UTC') DEFAULT now64(6)
) ENGINE = ReplacingMergeTree(updated_at)
ORDER BY value_type;

-- Which version of its spans each day's rollup was built from: `botanu price` rebuilds
-- a day only when spans of it were stored since (a crash between the two is repaired).
CREATE TABLE IF NOT EXISTS __DB__.botanu_rollup_days (
    day Date,
    built_from UInt64
) ENGINE = ReplacingMergeTree(built_from)
ORDER BY day
