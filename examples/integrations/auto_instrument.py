"""Auto-instrumentation: botanu turns on the OpenTelemetry instrumentors that are
installed (here OpenAI's and httpx's; the Anthropic SDK traces itself), their spans carry
the run, and botanu completes their usage from the provider's response, streams too.

    pip install opentelemetry-instrumentation-openai-v2 opentelemetry-instrumentation-httpx
    python examples/integrations/auto_instrument.py

Runs against botanu's bundled local stand-in for the OpenAI and Anthropic APIs.
"""

from __future__ import annotations

import anthropic
import openai

import botanu
from botanu.demo.stub_server import StubModelServer
from botanu.testing import capture_spans

# also: BOTANU_AUTO_INSTRUMENT=openai,anthropic,httpx or `auto_instrument: [...]` in botanu.yaml
botanu.enable(exporter="none", auto_instrument=["openai", "anthropic", "httpx"])
spans = capture_spans()  # keeps finished spans in memory so this script can print them

with StubModelServer() as server:
    openai_client = openai.OpenAI(base_url=server.base_url, api_key="stub", max_retries=0)
    anthropic_client = anthropic.Anthropic(
        base_url=server.anthropic_base_url, api_key="stub", max_retries=0
    )
    with botanu.run_botanu("triage-email", event_id="E-77", customer_id="acme") as run:
        stream = openai_client.chat.completions.create(
            model="o4-mini",
            messages=[{"role": "user", "content": "Classify this email."}],
            stream=True,
            stream_options={"include_usage": True},
        )
        for _chunk in stream:
            pass
        anthropic_client.messages.create(
            model="claude-haiku-4-5",
            max_tokens=512,
            system=[
                {
                    "type": "text",
                    "text": "Rules. " * 600,
                    "cache_control": {"type": "ephemeral", "ttl": "1h"},
                }
            ],
            messages=[{"role": "user", "content": "Draft a reply."}],
        )

for span in spans.in_run(run.run_id):
    if "gen_ai.operation.name" in span.attributes:
        usage = {
            key.removeprefix("gen_ai.usage."): value
            for key, value in sorted(span.attributes.items())
            if key.startswith(("gen_ai.usage.", "botanu.usage."))
        }
        print(span.instrumentation_scope.name, span.attributes["gen_ai.provider.name"], usage)
botanu.disable()
