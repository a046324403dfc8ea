-- One UTC day of the run rollup (see tables.sql), from the spans botanu has priced, into
-- the stage table; `botanu price` then swaps the day in. The same sums and picks as
-- DuckDB's rollup (store/_rollup.py). {day:Date}: the day.
INSERT INTO __DB__.botanu_run_rollup_stage
SELECT
    {day:Date} AS day,
    assumeNotNull(run_id) AS run_id,
    anyIf(event_id, is_run_span),
    any(event_id),
    anyIf(workflow, is_run_span),
    any(workflow),
    anyIf(customer_id, is_run_span),
    any(customer_id),
    anyIf(tenant_id, is_run_span),
    any(tenant_id),
    anyIf(environment, is_run_span),
    any(environment),
    anyIf(attempt, is_run_span),
    anyIf(retry_of_run_id, is_run_span),
    anyIf(parent_run_id, is_run_span),
    min(start_ns),
    max(end_ns),
    coalesce(sum(amount), 0),
    coalesce(sumIf(amount, category = 'llm'), 0),
    coalesce(sumIf(amount, category = 'db'), 0),
    coalesce(sumIf(amount, category = 'storage'), 0),
    coalesce(sumIf(amount, category = 'messaging'), 0),
    coalesce(sumIf(amount, category = 'other'), 0),
    countIf(price_source = 'unpriced'),
    count(),
    argMaxIf(outcome_status, rank, outcome_status IS NOT NULL),
    maxIf(rank, outcome_status IS NOT NULL),
    argMaxIf(outcome_value_type, rank, outcome_status IS NOT NULL),
    maxIf(rank, outcome_status IS NOT NULL AND outcome_value_type IS NOT NULL),
    argMaxIf(outcome_value_amount, rank, outcome_status IS NOT NULL),
    maxIf(rank, outcome_status IS NOT NULL AND outcome_value_amount IS NOT NULL),
    argMaxIf(outcome_reason, rank, outcome_status IS NOT NULL),
    maxIf(rank, outcome_status IS NOT NULL AND outcome_reason IS NOT NULL),
    argMaxIf(outcome_source, rank, outcome_status IS NOT NULL),
    maxIf(rank, outcome_status IS NOT NULL AND outcome_source IS NOT NULL)
FROM (
    SELECT *, bitShiftLeft(toUInt128(is_run_span), 64) + toUInt128(end_ns) + 1 AS rank
    FROM __DB__.botanu_spans FINAL
    WHERE start_time >= {lo:DateTime64(9, 'UTC')} AND start_time < {hi:DateTime64(9, 'UTC')}
      AND run_id IS NOT NULL
)
GROUP BY run_id
