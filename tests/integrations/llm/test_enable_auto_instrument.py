"""`enable(auto_instrument=...)` end to end, in fresh interpreters (one global provider per
process): from code, `BOTANU_AUTO_INSTRUMENT` and YAML; unknown names fail at `enable()`;
`disable()` turns the instrumentors off; `import botanu` loads none of them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from botanu import BotanuConfigError
from botanu.sdk.config import BotanuConfig

SCRIPT = """\
import json, sys
import openai
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor

import botanu
from botanu.demo.stub_server import StubModelServer
from botanu.testing import raise_internal_errors

raise_internal_errors(True)
exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)
botanu.enable(exporter="none", **KWARGS)
on = OpenAIInstrumentor().is_instrumented_by_opentelemetry
with StubModelServer() as server:
    client = openai.OpenAI(base_url=server.base_url, api_key="t", max_retries=0)
    hello = [{"role": "user", "content": "hi"}]
    with botanu.run_botanu("support", event_id="t-1") as run:
        client.chat.completions.create(model="o4-mini", messages=hello)
    botanu.disable()
    off = not OpenAIInstrumentor().is_instrumented_by_opentelemetry
    client.chat.completions.create(model="o4-mini", messages=hello)
chats = [dict(s.attributes) for s in exporter.get_finished_spans() if s.name == "chat o4-mini"]
first = chats[0] if chats else {}
print(json.dumps({
    "on": on,
    "off": off,
    "chats": len(chats),
    "run": first.get("botanu.run_id") == run.run_id,
    "cache_read": first.get("gen_ai.usage.cache_read.input_tokens"),
    "heavy": sorted(m for m in sys.modules if m.startswith("opentelemetry.instrumentation.")
                    and m.split(".")[2] in ("fastapi", "flask", "celery")),
}))
"""


def run(run_python, kwargs="", env=None, files=None, tmp_path=None):
    for name, text in (files or {}).items():
        (tmp_path / name).write_text(text)
    done = run_python(SCRIPT.replace("KWARGS", "{" + kwargs + "}"), env=env or {})
    return json.loads(done.stdout.strip().splitlines()[-1])


EXPECTED = {"on": True, "off": True, "chats": 1, "run": True, "cache_read": 768, "heavy": []}


def test_from_code(run_python):
    assert run(run_python, '"auto_instrument": ["openai"]') == EXPECTED


def test_from_the_environment(run_python):
    # redis is not installed: skipped, and the rest still turned on
    result = run(run_python, env={"BOTANU_AUTO_INSTRUMENT": "OpenAI, redis"})
    assert result == EXPECTED


def test_from_yaml(run_python, tmp_path):
    files = {"botanu.yaml": "auto_instrument: [openai, sqlalchemy]\n"}
    assert run(run_python, files=files, tmp_path=tmp_path) == EXPECTED


def test_code_wins_over_the_environment(run_python):
    result = run(run_python, '"auto_instrument": []', env={"BOTANU_AUTO_INSTRUMENT": "openai"})
    assert result["on"] is False
    assert result["chats"] == 0


def test_unknown_name_fails_at_enable_and_says_what_to_fix(run_python):
    done = run_python(
        """\
        import botanu
        try:
            botanu.enable(exporter="none", auto_instrument=["opanai", "httpx"])
        except botanu.BotanuConfigError as exc:
            print(exc)
        print(botanu.is_enabled())
        """
    )
    message, enabled = done.stdout.strip().splitlines()
    assert "'opanai'" in message
    assert "openai" in message  # the list of names to choose from
    assert enabled == "False"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("openai,httpx", ("openai", "httpx")),
        (" OpenAI , httpx ,openai", ("openai", "httpx")),
        ("anthropic,aio-pika", ("anthropic", "aio_pika")),
        ("", None),
    ],
)
def test_config_names_are_normalised(raw, expected):
    config = BotanuConfig.from_env({"BOTANU_AUTO_INSTRUMENT": raw} if raw else {})
    assert config.auto_instrument == expected
    if raw:
        assert config.sources["auto_instrument"] == "env BOTANU_AUTO_INSTRUMENT"


def test_config_from_a_yaml_list(tmp_path):
    path = tmp_path / "botanu.yaml"
    path.write_text("auto_instrument:\n  - openai\n  - ${BOTANU_TEST_EXTRA:-httpx}\n")
    assert BotanuConfig.from_yaml(path).resolved().auto_instrument == ("openai", "httpx")


def test_config_rejects_unknown_names_and_bad_types(tmp_path):
    with pytest.raises(BotanuConfigError, match=r"'nope' \(from env BOTANU_AUTO_INSTRUMENT\)"):
        BotanuConfig.from_env({"BOTANU_AUTO_INSTRUMENT": "openai,nope"}).resolved()
    path = tmp_path / "botanu.yaml"
    path.write_text("auto_instrument: {openai: true}\n")
    with pytest.raises(BotanuConfigError, match="list of names or a comma-separated"):
        BotanuConfig.from_yaml(path)


def test_import_botanu_loads_no_instrumentor_or_wrapt():
    code = (
        "import sys, botanu, botanu.sdk.config; "
        "print(sorted(m for m in sys.modules if m.startswith("
        "('opentelemetry.instrumentation', 'wrapt', 'botanu.integrations', 'openai', "
        "'anthropic'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
