-- The cost of each span of a batch from the quote its pricing key matched: one applier
-- of rates for both stores (engine/pricing/_apply.py fills in the dialect: __HUGEINT__ a
-- 128-bit integer type, __IDIV__ integer division; __ROWS__ the rows, __CARRY__ the
-- columns passed through). Quotes are built in engine/pricing/_quotes.py. Each row of
-- __ROWS__ carries the span's usage columns beside its quote's columns (q_*), so one row
-- comes out per row in. Out: `line`, the quote line that applies (NULL: no cost line,
-- -1: the span is priced on its own, through the same source: `PriceSources.line_of`),
-- `amount` (NULL: a fixed or unpriced line), for unit prices `detail`, and `zero`: the
-- span reported 0 beside usage, so it is priced as if nothing were reported, on the
-- quote's noted lines (+3, +4). `failed` (status error, no usage): the quote's not-billed
-- lines (+5, +6) stand for whatever line it picked. Money stays DECIMAL throughout;
-- anything that would not be exact goes to the span's source (-1). Each expression is
-- behind the CASE of its quote kind (fixed, tokens, units), so a span pays only
-- for its own kind.
WITH counted AS (
    SELECT
        *,
        coalesce(zero, false) AS z,
        coalesce(failed, false) AS f,
        coalesce(input_tokens, 0) AS t_in,
        coalesce(output_tokens, 0) AS t_out,
        coalesce(cache_read_tokens, 0) AS t_cr,
        coalesce(cache_write_tokens, 0) AS t_cw,
        coalesce(cache_write_1h_tokens, 0) AS t_1h,
        -- how many units the span used (objects and messages: one unless it says)
        CASE WHEN q_kind = __UNITS__ THEN CASE q_unit
            WHEN __UNIT_REQUESTS__ THEN 1::__HUGEINT__
            WHEN __UNIT_OBJECTS__ THEN coalesce(object_count, 1)::__HUGEINT__
            WHEN __UNIT_MESSAGES__ THEN coalesce(message_count, 1)::__HUGEINT__
            WHEN __UNIT_BYTES__ THEN CASE WHEN bytes_read IS NOT NULL OR bytes_written IS NOT NULL
                THEN coalesce(bytes_read, 0)::__HUGEINT__ + coalesce(bytes_written, 0) END
            WHEN __UNIT_BYTES_SCANNED__ THEN bytes_scanned::__HUGEINT__
            WHEN __UNIT_BYTES_READ__ THEN bytes_read::__HUGEINT__
            WHEN __UNIT_BYTES_WRITTEN__ THEN bytes_written::__HUGEINT__
            WHEN __UNIT_ROWS__ THEN "rows"::__HUGEINT__
            WHEN __UNIT_REQUEST_UNITS__ THEN CASE WHEN request_units IS NOT NULL THEN 0::__HUGEINT__ END
        END END AS qty
    FROM __ROWS__
),
chosen AS (
    SELECT
        *,
        CASE
            WHEN reported_cost IS NOT NULL AND NOT z THEN q_rep
            WHEN q_kind = __TOKENS__ THEN CASE
                WHEN input_tokens IS NULL AND output_tokens IS NULL
                    AND cache_read_tokens IS NULL AND cache_write_tokens IS NULL THEN q_alt
                -- token counts genai-prices takes without an error, and few enough that its
                -- 28-digit arithmetic is exact (q_max_tokens; the rates have <= 18 places)
                WHEN (input_tokens IS NOT NULL OR t_cr + t_cw + t_1h = 0)
                    AND (cache_write_tokens IS NOT NULL OR t_1h = 0)
                    AND (output_tokens IS NOT NULL OR coalesce(reasoning_tokens, 0) = 0)
                    AND least(t_in, t_out, t_cr, t_cw, t_1h, coalesce(reasoning_tokens, 0)) >= 0
                    AND greatest(t_in, t_out, t_cr, t_cw, t_1h) < q_max_tokens
                    AND t_cr + t_cw <= t_in AND t_1h <= t_cw THEN q_id
                ELSE -1
            END
            -- exact when the quantity is a whole number of the quote's steps (the fewest
            -- units whose price has at most 18 places; one for most prices), else the
            -- span is priced on its own (request units are floats: always)
            WHEN q_kind = __UNITS__ THEN CASE
                WHEN qty IS NULL THEN q_alt
                WHEN q_unit = __UNIT_REQUEST_UNITS__ OR qty < 0 THEN -1
                WHEN q_minimum IS NOT NULL AND qty < q_minimum THEN
                    CASE WHEN q_min_amount IS NOT NULL THEN q_id ELSE -1 END
                WHEN qty > q_max_qty OR least(qty, q_max_qty)::BIGINT % q_step <> 0 THEN -1
                ELSE q_id
            END
            WHEN q_kind = __FIXED__ THEN CASE
                WHEN CASE q_usage
                    WHEN __USAGE_TOKENS__ THEN input_tokens IS NOT NULL OR output_tokens IS NOT NULL
                        OR cache_read_tokens IS NOT NULL OR cache_write_tokens IS NOT NULL
                    WHEN __USAGE_DB__ THEN bytes_scanned IS NOT NULL OR request_units IS NOT NULL
                    WHEN __USAGE_ALWAYS__ THEN true
                    ELSE false
                END THEN q_id
                ELSE q_alt
            END
            ELSE -1
        END AS pick
    FROM counted
)
SELECT __CARRY__
    CASE
        WHEN f AND pick = q_id THEN q_id + 5
        WHEN f AND pick = q_alt THEN q_id + 6
        WHEN NOT z OR pick < 0 THEN pick
        WHEN pick = q_id THEN q_id + 3
        ELSE q_id + 4  -- the quote's line without usage, or none: the reported $0
    END AS line,
    CASE
        WHEN reported_cost IS NOT NULL AND NOT z THEN reported_cost
        WHEN f OR pick IS DISTINCT FROM q_id THEN NULL
        WHEN q_kind = __TOKENS__ THEN CASE
            WHEN t_in > q_tier THEN
                (t_in - t_cr * q_f_cr - t_cw * q_f_cw - t_1h * q_f_1h) * q_h_in
                + t_cr * q_h_cr + (t_cw - t_1h * q_g_1h) * q_h_cw + t_1h * q_h_1h
                + t_out * q_h_out
            ELSE
                (t_in - t_cr * q_f_cr - t_cw * q_f_cw - t_1h * q_f_1h) * q_r_in
                + t_cr * q_r_cr + (t_cw - t_1h * q_g_1h) * q_r_cw + t_1h * q_r_1h
                + t_out * q_r_out
        END
        WHEN q_kind = __UNITS__ THEN CASE
            WHEN q_minimum IS NOT NULL AND qty < q_minimum THEN q_min_amount
            ELSE qty::BIGINT __IDIV__ q_step * q_step_amount
        END
    END AS amount,
    CASE WHEN pick = q_id AND q_kind = __UNITS__ AND NOT f THEN
        CAST(qty AS VARCHAR) || q_d_unit
        || CASE WHEN q_minimum IS NOT NULL AND qty < q_minimum THEN q_d_floor ELSE '' END
        || q_d_rest
    END AS detail,
    zero
FROM chosen
