-- One priced line per span. `amount` is NULL when the span could not be priced (never 0).
CREATE TABLE IF NOT EXISTS cost_lines (
    trace_id VARCHAR NOT NULL,
    span_id VARCHAR NOT NULL,
    category VARCHAR NOT NULL,
    amount DECIMAL(38, 18),
    currency VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    catalog_version VARCHAR,
    matched_provider VARCHAR,
    matched_model VARCHAR,
    effective_date DATE,
    estimated BOOLEAN NOT NULL,
    detail VARCHAR,
    priced_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (trace_id, span_id)
);

-- What one unit of each outcome value type is worth to the user (for value_per_unit / ROI).
CREATE TABLE IF NOT EXISTS valuations (
    value_type VARCHAR PRIMARY KEY,
    value_per_unit DECIMAL(38, 18) NOT NULL,
    currency VARCHAR NOT NULL DEFAULT 'USD'
);
