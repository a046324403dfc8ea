"""`ingest_payloads` (columns, bulk pricing, one Arrow write) stores exactly the rows the
span-by-span path stores (`normalize`, `Pricer.price`, `Store.write`), and the run
rollups alike; resent payloads change nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from botanu import semconv as sc
from botanu.engine.ingest import RawSpan, normalize
from botanu.engine.ingest.fields import attribute_text
from botanu.engine.pricing import Pricer
from botanu.engine.pricing._bulk import bulk_pricer
from botanu.engine.service import ingest_payloads
from botanu.engine.store import open_store

pytestmark = pytest.mark.slow  # a long property run

T0 = 1_793_534_400_000_000_000  # 2026-11-01
# stored rows with their attributes as the `spans` view shows them: which promoted
# attributes a write leaves to their column may differ between the paths, what is read may not
ROWS = (
    "SELECT r.* EXCLUDE (attributes, priced_at), s.attributes FROM span_rows r "
    "JOIN spans s USING (trace_id, span_id) ORDER BY trace_id, span_id"
)
# any spelling of a customer id: text, a number, empty (no id, the entry kept)
CUSTOMER = st.sampled_from(["acme", "globex", 42, "", True])
ROLLUPS = "SELECT * FROM run_rollup ORDER BY run_id"
ATTRIBUTES = "SELECT trace_id, span_id, attributes FROM spans"

LLM = st.fixed_dictionaries(
    {
        sc.GEN_AI_PROVIDER_NAME: st.sampled_from(["openai", "anthropic", "gcp.gemini", "acme"]),
        sc.GEN_AI_REQUEST_MODEL: st.sampled_from(
            ["gpt-4o", "gpt-4o-mini", "claude-sonnet-4-5", "gemini-2.5-pro", "deepseek-chat", "x"]
        ),
        sc.GEN_AI_USAGE_INPUT_TOKENS: st.integers(0, 300_000),
        sc.GEN_AI_USAGE_OUTPUT_TOKENS: st.integers(0, 5_000),
    },
    optional={
        sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: st.integers(0, 400_000),
        sc.OPENAI_RESPONSE_SERVICE_TIER: st.sampled_from(["flex", "default", "batch"]),
        sc.REPORTED_COST: st.sampled_from([0.25, "0.001", -1]),
    },
)
WORK = st.one_of(
    st.fixed_dictionaries(
        {sc.DB_SYSTEM_NAME: st.sampled_from(["bigquery", "postgresql"])},
        optional={sc.DB_BYTES_SCANNED: st.integers(0, 2**42)},
    ),
    st.fixed_dictionaries(
        {sc.STORAGE_SYSTEM: st.just("s3")},
        optional={sc.STORAGE_OPERATION: st.sampled_from(["PUT", "GET", "delete"])},
    ),
    st.fixed_dictionaries(
        {sc.MESSAGING_SYSTEM: st.sampled_from(["aws_sqs", "gcp_pubsub", "kafka"])},
        optional={
            sc.MESSAGING_OPERATION_TYPE: st.sampled_from(["send", "receive", "process"]),
            sc.MESSAGING_MESSAGE_BODY_SIZE: st.integers(0, 10_000),
        },
    ),
    st.fixed_dictionaries({"http.route": st.just("/orders")}),
)


@st.composite
def payloads(draw):
    resource = {"service.name": "api", sc.RESOURCE_DEPLOYMENT_ENVIRONMENT: "prod"}
    spans = []
    customers = draw(st.lists(CUSTOMER, min_size=4, max_size=4))  # one per run
    for i in range(draw(st.integers(1, 40))):
        run = draw(st.integers(0, 3))
        attributes = {sc.RUN_ID: f"run-{run}", sc.WORKFLOW: "support", sc.EVENT_ID: f"e-{run}"}
        if draw(st.booleans()):
            attributes[sc.CUSTOMER_ID] = customers[run]
        is_run = draw(st.booleans())
        if is_run:
            attributes[sc.OUTCOME_STATUS] = draw(st.sampled_from(["success", "failed"]))
        attributes |= draw(st.one_of(LLM, WORK))
        spans.append(
            RawSpan(
                trace_id=f"{run + 1:032x}",
                span_id=f"{i + 1:016x}",
                parent_span_id=None,
                name="botanu.run/support" if is_run else "call",
                kind="client",
                start_ns=T0 + draw(st.integers(0, 3 * 86_400 * 10**9)),
                end_ns=T0 + 4 * 86_400 * 10**9 + i,
                status_code="unset",
                attributes=attributes,
                resource=resource,
            )
        )
    cut = draw(st.integers(0, len(spans)))
    return [spans[:cut], spans[cut:]]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(exports=payloads())
def test_the_bulk_path_stores_what_the_span_by_span_path_stores(exports):
    pricer = Pricer()
    with open_store(":memory:") as fast, open_store(":memory:") as slow:
        assert ingest_payloads(fast, exports, pricer) == sum(len(e) for e in exports)
        for export in exports:
            records = [normalize(raw) for raw in export]
            lines = bulk_pricer(pricer).price_records(records)
            slow.write(records, [line for line in lines if line is not None])

        assert fast.query(ROWS).rows == slow.query(ROWS).rows
        assert fast.query(ROLLUPS).rows == slow.query(ROLLUPS).rows
        shown = {(r[0], r[1]): r[2] for r in fast.query(ATTRIBUTES).rows}
        for export in exports:  # every attribute read back as its text, none added
            for raw in export:
                texts = {key: attribute_text(value) for key, value in raw.attributes.items()}
                assert shown[(raw.trace_id, raw.span_id)] == texts
        assert ingest_payloads(fast, exports, pricer) == 0  # a resent export: nothing new
        assert fast.query(ROLLUPS).rows == slow.query(ROLLUPS).rows


def test_an_amount_beyond_18_places_is_stored_rounded():
    pricer = Pricer()
    raw = RawSpan(
        trace_id="1" * 32,
        span_id="1" * 16,
        parent_span_id=None,
        name="publish",
        kind="producer",
        start_ns=T0,
        end_ns=T0 + 1,
        status_code="unset",
        attributes={
            sc.MESSAGING_SYSTEM: "gcp_pubsub",
            sc.MESSAGING_OPERATION_TYPE: "send",
            sc.MESSAGING_MESSAGE_BODY_SIZE: 3,
        },
        resource={},
    )
    with open_store(":memory:") as store:
        assert ingest_payloads(store, [[raw]], pricer) == 1
        (amount,) = store.query("SELECT amount FROM cost_lines").rows[0]

    # 1000 bytes (Pub/Sub's minimum) at $40 per TiB is 3.637978807091712951660156250E-8
    assert amount == Decimal("0.000000036379788071")


def test_a_call_marked_usage_on_child_is_priced_on_its_inner_span_only():
    def call(span_id, parent, extra):
        attributes = {
            sc.RUN_ID: "r",
            sc.GEN_AI_PROVIDER_NAME: "anthropic",
            sc.GEN_AI_REQUEST_MODEL: "claude-sonnet-4-5",
            sc.GEN_AI_USAGE_INPUT_TOKENS: 100,
            sc.GEN_AI_USAGE_OUTPUT_TOKENS: 10,
            **extra,
        }
        return RawSpan(
            trace_id="a" * 32,
            span_id=span_id,
            parent_span_id=parent,
            name="chat claude-sonnet-4-5",
            kind="client",
            start_ns=T0,
            end_ns=T0 + 5,
            status_code="unset",
            attributes=attributes,
            resource={},
        )

    tracker = call("1" * 16, None, {sc.LLM_USAGE_ON_CHILD: True})
    sdk_span = call("2" * 16, "1" * 16, {})
    with open_store(":memory:") as store:
        ingest_payloads(store, [[tracker, sdk_span]], Pricer())
        lines = store.query("SELECT span_id, amount FROM cost_lines").rows
        total = store.query("SELECT total_cost FROM runs").rows
    assert lines == [("2" * 16, Decimal("0.00045"))]  # (100 * 3 + 10 * 15) / 1e6, once
    assert total == [(Decimal("0.00045"),)]


def test_payloads_cut_into_writes_store_what_one_write_stores(monkeypatch):
    from botanu.engine import service

    exports = [
        [
            RawSpan(
                trace_id=f"{run:032x}",
                span_id=f"{run:08x}{i:08x}",
                parent_span_id=None,
                name="botanu.run/support" if i == 0 else "call",
                kind="client",
                start_ns=T0 + run * 10 + i,
                end_ns=T0 + run * 10 + i + 5,
                status_code="unset",
                attributes={sc.RUN_ID: f"run-{run}", sc.DB_SYSTEM_NAME: "bigquery"},
                resource={},
            )
            for i in range(5)
        ]
        for run in range(4)
    ]
    with open_store(":memory:") as whole, open_store(":memory:") as cut:
        assert ingest_payloads(whole, exports, Pricer()) == 20
        # writes of 7 spans (payloads straddle them), normalized 3 at a time
        monkeypatch.setattr(service, "BATCH_SPANS", 7)
        monkeypatch.setattr(service, "NORMALIZE_SPANS", 3)
        assert ingest_payloads(cut, exports, Pricer()) == 20
        assert cut.query(ROWS).rows == whole.query(ROWS).rows
        assert cut.query(ROLLUPS).rows == whole.query(ROLLUPS).rows
