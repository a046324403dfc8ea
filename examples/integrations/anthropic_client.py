"""The real `anthropic` client inside a botanu run, with prompt caching: the first call
writes the cache (1-hour and 5-minute parts), the second reads it. Anthropic reports
input tokens without the cached ones; botanu records them the OpenTelemetry way
(input includes cache reads and writes).

    python examples/integrations/anthropic_client.py

Runs against botanu's bundled local stand-in for the Anthropic API; no network, no key.
"""

from __future__ import annotations

import anthropic

from botanu import run_botanu, track_llm_call
from botanu.demo.stub_server import StubModelServer
from botanu.testing import capture_spans

# keeps finished spans in memory so this script can print them (an app calls botanu.enable())
spans = capture_spans()

MODEL = "claude-haiku-4-5"
SYSTEM = [
    {"type": "text", "text": "Policy. " * 500, "cache_control": {"type": "ephemeral", "ttl": "1h"}},
    {"type": "text", "text": "Catalog. " * 250, "cache_control": {"type": "ephemeral"}},
]

with StubModelServer() as server:
    # open_telemetry=False: the SDK's own span would be a second span for the same call
    # (or drop track_llm_call and keep the SDK's span: see auto_instrument.py)
    client = anthropic.Anthropic(
        base_url=server.anthropic_base_url, api_key="stub", max_retries=0, open_telemetry=False
    )
    with run_botanu("resolve-ticket", event_id="T-1001", customer_id="acme"):
        for question in ("Where is my order?", "Can I return it?"):
            with track_llm_call(provider="claude", model=MODEL) as tracker:
                message = client.messages.create(
                    model=MODEL,
                    max_tokens=512,
                    system=SYSTEM,
                    messages=[{"role": "user", "content": question}],
                )
                tracker.set_response(message)

for span in spans.named(f"chat {MODEL}"):
    a = span.attributes
    print(
        span.name,
        f"provider={a['gen_ai.provider.name']}",
        f"input={a['gen_ai.usage.input_tokens']}",
        f"cache_read={a['gen_ai.usage.cache_read.input_tokens']}",
        f"cache_write={a['gen_ai.usage.cache_write.input_tokens']}",
        f"cache_write_1h={a['botanu.usage.cache_write_1h.input_tokens']}",
        f"output={a['gen_ai.usage.output_tokens']}",
    )
