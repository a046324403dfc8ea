-- Where each outcome came from: a run's own (`sdk` or `auto`, read from the attribute
-- spans already carry) and late outcomes (`resolve_outcome`, `botanu outcome`), one row
-- per resolution span, which the events view prefers. The run rollups are rebuilt after a
-- migration, which fills run_rollup.outcome_source. Safe to apply twice.
ALTER TABLE span_rows ADD COLUMN IF NOT EXISTS outcome_source VARCHAR;

UPDATE span_rows SET
    outcome_source = list_filter(attributes, lambda e: e.key = 'botanu.outcome.source')[1].value
WHERE outcome_status IS NOT NULL;

ALTER TABLE run_rollup ADD COLUMN IF NOT EXISTS outcome_source VARCHAR;

CREATE TABLE IF NOT EXISTS outcome_resolutions (
    trace_id VARCHAR NOT NULL,
    span_id VARCHAR NOT NULL,
    event_id VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    value_type VARCHAR,
    value_amount DOUBLE,
    reason VARCHAR,
    source VARCHAR,
    resolved_ns BIGINT NOT NULL,
    PRIMARY KEY (trace_id, span_id)
);
