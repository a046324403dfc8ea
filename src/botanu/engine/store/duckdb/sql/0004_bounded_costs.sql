-- Amounts and reported costs beyond what one span can cost (MAX_SPAN_COST in
-- botanu/engine/ingest/bounds.py: $1,000,000) were kept before ingest bounded them; two
-- of them overflow a DECIMAL(38, 18) sum and break every report. Dropped here as ingest
-- now drops them, each with a note; the run rollups are rebuilt after a migration.
UPDATE span_rows SET
    price_detail = 'amount ' || amount::VARCHAR || ' dropped: beyond 1000000 for one span',
    amount = NULL
WHERE abs(amount) > 1000000;

UPDATE span_rows SET
    attributes = list_append(
        list_filter(
            attributes,
            lambda e: e.key NOT IN (
                'botanu.ingest.note', 'botanu.cost.reported', 'llm.cost.total', 'gen_ai.usage.cost'
            )
        ),
        {
            'key': 'botanu.ingest.note',
            'value': concat_ws(
                '; ',
                list_filter(attributes, lambda e: e.key = 'botanu.ingest.note')[1].value,
                'botanu.cost.reported=' || reported_cost::VARCHAR || ' dropped: beyond 1000000'
            )
        }
    ),
    reported_cost = NULL
WHERE abs(reported_cost) > 1000000;
