"""The real `openai` client inside a botanu run: usage read straight from the response,
plain and streamed (the last chunk carries usage with `include_usage`).

    python examples/integrations/openai_client.py

Runs against botanu's bundled local stand-in for the OpenAI API; no network, no key.
"""

from __future__ import annotations

import openai

from botanu import botanu_workflow, emit_outcome, track_llm_call
from botanu.demo.stub_server import StubModelServer
from botanu.testing import capture_spans

# keeps finished spans in memory so this script can print them (an app calls botanu.enable())
spans = capture_spans()


@botanu_workflow("answer-question", event_id=lambda question: question["id"], customer_id="acme")
def answer(question: dict[str, str], client: openai.OpenAI) -> str:
    messages = [{"role": "user", "content": question["text"]}]
    with track_llm_call(provider="openai", model="o4-mini") as tracker:
        response = client.chat.completions.create(model="o4-mini", messages=messages)
        tracker.set_response(response)  # usage, response model, id, finish reason
    with track_llm_call(provider="openai", model="gpt-4o-mini") as tracker:
        stream = client.chat.completions.create(
            model="gpt-4o-mini",
            messages=messages,
            stream=True,
            stream_options={"include_usage": True},
        )
        text = ""
        for chunk in stream:
            tracker.set_response(chunk)
            if chunk.choices:
                text += chunk.choices[0].delta.content or ""
    emit_outcome("success", value_type="questions_answered", value_amount=1)
    return text


with StubModelServer() as server:
    client = openai.OpenAI(base_url=server.base_url, api_key="stub", max_retries=0)
    print("answer:", answer({"id": "q-1", "text": "x" * 400}, client))

run = spans.run_span("answer-question")
for span in spans.in_run(run.attributes["botanu.run_id"]):
    if span.name.startswith("chat "):
        usage = {
            key.removeprefix("gen_ai.usage."): value
            for key, value in sorted(span.attributes.items())
            if key.startswith("gen_ai.usage.")
        }
        print(span.name, usage)
print("outcome:", run.attributes["botanu.outcome.status"])
