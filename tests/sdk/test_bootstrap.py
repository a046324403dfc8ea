"""`enable()` / `disable()`: configuration end to end, fail-fast errors, OTLP export, the
host's own provider, NoOp providers, idempotence, threads, fork, logging and
OTEL_SDK_DISABLED.

OpenTelemetry allows one global TracerProvider per process and the test session already
has one, so every test here runs a script in a fresh interpreter (`run_python`) that
prints one JSON line as its last line of output.
"""

from __future__ import annotations

import json
import os
import textwrap
import uuid

import pytest

import botanu

# prepended to every script: helpers, and botanu's internal errors raised, not swallowed
PRELUDE = """\
import json
import os
import sys

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import botanu
from botanu.sdk.enricher import RunContextEnricher
from botanu.testing import raise_internal_errors

raise_internal_errors(True)


def emit(**result):
    print(json.dumps(result))


def processors(provider):
    # a provider botanu created has the enricher built into its processor list, and
    # botanu's exporter sits in a slot processor: show both as plain processors
    active = provider._active_span_processor
    out = [active.enricher] if hasattr(active, "enricher") else []
    for p in active._span_processors:
        if type(p).__name__ == "_ExportSlot":
            if p.inner is not None:
                out.append(p.inner)
        else:
            out.append(p)
    return out


def enrichers(provider):
    return sum(isinstance(p, RunContextEnricher) for p in processors(provider))


def install_host():
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return provider, exporter


def attrs(span):
    return dict(span.attributes or {})


tracer = trace.get_tracer("host-app")


@botanu.botanu_workflow("job", event_id="evt-1", customer_id="cust-1")
def job(x=1):
    with tracer.start_as_current_span("inner"):
        pass
    run = botanu.get_current_run_context()
    return {"x": x, "run_id": run.run_id if run is not None else None}

"""


def run_json(run_python, body: str, *, extra: str = "", **kwargs) -> dict:
    """Run PRELUDE + `extra` + `body` (dedented); the script's last output line as JSON."""
    done = run_python(PRELUDE + extra + textwrap.dedent(body), **kwargs)
    return json.loads(done.stdout.strip().splitlines()[-1])


def is_uuid7(value: str) -> bool:
    parsed = uuid.UUID(value)
    return str(parsed) == value and parsed.version == 7 and parsed.variant == uuid.RFC_4122


# --- configuration through enable() --------------------------------------------------------

CONFIG_FIELDS = """
def fields(config):
    return {
        "service_name": config.service_name,
        "environment": config.environment,
        "exporter": config.exporter,
        "otlp_endpoint": config.otlp_endpoint,
        "traces_endpoint": config.traces_endpoint,
        "propagation_mode": config.propagation_mode,
        "sources": dict(config.sources),
    }
"""

FULL_FILE = """\
service:
  name: file-svc
  environment: file-env
exporter: console
otlp:
  endpoint: http://file:4318
propagation:
  mode: full
"""


def test_enable_with_nothing_set_uses_the_defaults(run_python):
    out = run_json(
        run_python,
        extra=CONFIG_FIELDS,
        body="""
        config = botanu.enable()
        emit(**fields(config))
        """,
    )
    assert out == {
        "service_name": None,
        "environment": None,
        "exporter": "otlp",
        "otlp_endpoint": None,
        "traces_endpoint": None,
        "propagation_mode": "lean",
        "sources": {},
    }


def test_enable_takes_code_over_environment_over_file(run_python, tmp_path):
    (tmp_path / "app.yaml").write_text(FULL_FILE)
    env = {
        "BOTANU_CONFIG_FILE": str(tmp_path / "app.yaml"),
        "OTEL_SERVICE_NAME": "env-svc",
        "BOTANU_ENVIRONMENT": "env-env",
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://env:4318",
    }
    out = run_json(
        run_python,
        extra=CONFIG_FIELDS,
        body="""
        from botanu.sdk import _runtime

        config = botanu.enable(service_name="code-svc", exporter="none")
        emit(**fields(config), lean=_runtime.state.lean, env=_runtime.state.environment)
        """,
        env=env,
    )
    assert out["service_name"] == "code-svc"  # code over env and file
    assert out["exporter"] == "none"  # code over file
    assert out["environment"] == "env-env"  # env over file
    assert out["otlp_endpoint"] == "http://env:4318"  # env over file
    assert out["traces_endpoint"] == "http://env:4318/v1/traces"
    assert out["propagation_mode"] == "full"  # file over default
    assert out["sources"] == {
        "service_name": "code",
        "exporter": "code",
        "environment": "env BOTANU_ENVIRONMENT",
        "otlp_endpoint": "env OTEL_EXPORTER_OTLP_ENDPOINT",
        "propagation_mode": f"file {tmp_path / 'app.yaml'}",
    }
    # what enable() decided is what the runtime uses
    assert out["lean"] is False
    assert out["env"] == "env-env"


def test_enable_takes_every_environment_variable_over_the_file(run_python, tmp_path):
    (tmp_path / "botanu.yaml").write_text(FULL_FILE)
    env = {
        "OTEL_SERVICE_NAME": "env-svc",
        "BOTANU_ENVIRONMENT": "env-env",
        "BOTANU_EXPORTER": "none",
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://base:4318",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://traces:4318/custom",
        "BOTANU_PROPAGATION_MODE": "lean",
    }
    out = run_json(
        run_python,
        extra=CONFIG_FIELDS,
        body="""
        emit(**fields(botanu.enable()))
        """,
        env=env,
    )
    assert out["service_name"] == "env-svc"
    assert out["environment"] == "env-env"
    assert out["exporter"] == "none"
    assert out["otlp_endpoint"] == "http://traces:4318/custom"
    assert out["traces_endpoint"] == "http://traces:4318/custom"  # used as is
    assert out["propagation_mode"] == "lean"


def test_enable_arguments_win_over_the_config_argument(run_python):
    out = run_json(
        run_python,
        extra=CONFIG_FIELDS,
        body="""
        from botanu.sdk.config import BotanuConfig

        given = BotanuConfig(service_name="cfg-svc", environment="cfg-env", exporter="none")
        emit(**fields(botanu.enable(service_name="arg-svc", config=given)))
        """,
        env={"BOTANU_ENVIRONMENT": "env-env"},
    )
    assert out["service_name"] == "arg-svc"
    assert out["environment"] == "cfg-env"  # config= is code, so it beats the environment
    assert out["exporter"] == "none"


def test_enable_loads_the_seed_example_file(run_python, tmp_path):
    (tmp_path / "production.yaml").write_text(
        "service:\n  name: ${OTEL_SERVICE_NAME}\n  environment: production\n\n"
        "otlp:\n  endpoint: ${COLLECTOR_ENDPOINT}\n\npropagation:\n  mode: lean\n"
    )
    out = run_json(
        run_python,
        extra=CONFIG_FIELDS,
        body="""
        emit(**fields(botanu.enable(config_file="production.yaml", exporter="none")))
        """,
        env={"OTEL_SERVICE_NAME": "my-service", "COLLECTOR_ENDPOINT": "http://collector:4318"},
    )
    assert out["service_name"] == "my-service"
    assert out["environment"] == "production"
    assert out["traces_endpoint"] == "http://collector:4318/v1/traces"
    assert out["propagation_mode"] == "lean"


@pytest.mark.parametrize(
    ("present", "expected"),
    [
        (("explicit", "env", "cwd"), "explicit"),
        (("env", "cwd"), "env"),
        (("cwd",), "cwd"),
        ((), None),
    ],
    ids=["argument-first", "env-next", "cwd-last", "none"],
)
def test_config_file_resolution_order(run_python, tmp_path, present, expected):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for name in ("explicit", "env"):
        (elsewhere / f"{name}.yaml").write_text(f"service:\n  name: {name}\nexporter: none\n")
    if "cwd" in present:
        (tmp_path / "botanu.yaml").write_text("service:\n  name: cwd\nexporter: none\n")
    env = {"BOTANU_CONFIG_FILE": str(elsewhere / "env.yaml")} if "env" in present else {}
    call = (
        f"botanu.enable(config_file={str(elsewhere / 'explicit.yaml')!r})"
        if "explicit" in present
        else "botanu.enable()"
    )
    out = run_json(run_python, f"emit(service_name={call}.service_name)\n", env=env)
    assert out["service_name"] == expected


# --- bad configuration fails fast -----------------------------------------------------------

# id, enable() call, environment, files written to the working directory, message fragments
# ({dir} is the working directory)
BAD_CONFIG = [
    (
        "propagation-mode",
        'botanu.enable(propagation_mode="medium")',
        {},
        {},
        ["propagation_mode", "'medium'", "lean, full"],
    ),
    (
        "propagation-mode-env",
        "botanu.enable()",
        {"BOTANU_PROPAGATION_MODE": "sideways"},
        {},
        ["'sideways'", "env BOTANU_PROPAGATION_MODE", "lean, full"],
    ),
    (
        "exporter",
        'botanu.enable(exporter="zipkin")',
        {},
        {},
        ["exporter", "'zipkin'", "otlp, console, local, none"],
    ),
    (
        "exporter-env",
        "botanu.enable()",
        {"BOTANU_EXPORTER": "jaeger"},
        {},
        ["'jaeger'", "env BOTANU_EXPORTER", "otlp, console, local, none"],
    ),
    (
        "endpoint-not-http",
        'botanu.enable(otlp_endpoint="collector:4318")',
        {},
        {},
        ["otlp_endpoint", "'collector:4318'", "http://", "https://"],
    ),
    (
        "endpoint-env-grpc",
        "botanu.enable()",
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "grpc://collector:4317"},
        {},
        ["'grpc://collector:4317'", "env OTEL_EXPORTER_OTLP_ENDPOINT", "http://"],
    ),
    (
        "bad-port",
        'botanu.enable(otlp_endpoint="http://collector:70000")',
        {},
        {},
        ["'http://collector:70000'", "port"],
    ),
    (
        "unknown-yaml-key",
        'botanu.enable(config_file="app.yaml")',
        {},
        {"app.yaml": "service:\n  name: svc\n  nmae: typo\n"},
        ["'service.nmae'", "app.yaml", "service.name"],
    ),
    (
        "unknown-yaml-key-cwd-file",
        "botanu.enable()",
        {},
        {"botanu.yaml": "servce:\n  name: svc\n"},
        ["'servce'", "botanu.yaml"],
    ),
    (
        "yaml-syntax",
        'botanu.enable(config_file="app.yaml")',
        {},
        {"app.yaml": "service:\n  name: [svc\nexporter: none\n"},
        ["app.yaml:3", "invalid YAML"],
    ),
    (
        "missing-explicit-file",
        'botanu.enable(config_file="missing.yaml")',
        {},
        {},
        ["missing.yaml", "cannot read config file"],
    ),
    (
        "missing-env-file",
        "botanu.enable()",
        {"BOTANU_CONFIG_FILE": "{dir}/missing.yaml"},
        {},
        ["{dir}/missing.yaml", "cannot read config file"],
    ),
    (
        "top-level-not-mapping",
        'botanu.enable(config_file="app.yaml")',
        {},
        {"app.yaml": "- service\n- otlp\n"},
        ["app.yaml", "top level must be a mapping"],
    ),
    (
        "bad-value-in-file",
        "botanu.enable()",
        {},
        {"botanu.yaml": "propagation:\n  mode: medium\n"},
        ["'medium'", "from file botanu.yaml"],
    ),
]


@pytest.mark.parametrize("case", BAD_CONFIG, ids=[case[0] for case in BAD_CONFIG])
def test_bad_configuration_fails_fast_at_enable(run_python, tmp_path, case):
    _, call, env, files, fragments = case
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    env = {k: v.format(dir=tmp_path) for k, v in env.items()}
    out = run_json(
        run_python,
        f"""
        from botanu import BotanuConfigError

        try:
            {call}
        except BotanuConfigError as exc:
            message = str(exc)
        else:
            message = None
        provider = type(trace.get_tracer_provider()).__name__
        emit(message=message, enabled=botanu.is_enabled(), provider=provider)
        """,
        env=env,
    )
    assert out["message"] is not None, "enable() accepted a bad configuration"
    for fragment in fragments:
        assert fragment.format(dir=tmp_path) in out["message"]
    # nothing was changed before the error
    assert out["enabled"] is False
    assert out["provider"] == "ProxyTracerProvider"


def test_enable_works_after_a_configuration_error(run_python):
    out = run_json(
        run_python,
        """
        from botanu import BotanuConfigError

        try:
            botanu.enable(exporter="zipkin")
        except BotanuConfigError:
            pass
        config = botanu.enable(exporter="none")
        emit(exporter=config.exporter, enabled=botanu.is_enabled())
        """,
    )
    assert out == {"exporter": "none", "enabled": True}


# --- OTLP export ---------------------------------------------------------------------------

COLLECTOR = """
import http.server
import threading

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

received = []


class Collector(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        received.append((self.path, self.headers.get("content-type"), body))
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Collector)
threading.Thread(target=server.serve_forever, daemon=True).start()
endpoint = f"http://127.0.0.1:{server.server_address[1]}"


def decoded():
    posts, spans = [], []
    for path, content_type, body in received:
        posts.append({"path": path, "content_type": content_type})
        if path != "/v1/traces":
            continue
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        for resource_spans in request.resource_spans:
            resource = {
                a.key: a.value.string_value for a in resource_spans.resource.attributes
            }
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    spans.append({
                        "name": span.name,
                        "resource": resource,
                        "attributes": {a.key: a.value.string_value for a in span.attributes},
                    })
    return posts, spans
"""


def test_spans_are_exported_over_otlp_http(run_python):
    out = run_json(
        run_python,
        extra=COLLECTOR,
        body="""
        try:
            botanu.enable(service_name="export-svc", environment="ci", otlp_endpoint=endpoint)
            result = job(7)
            botanu.disable()  # flushes
            posts, spans = decoded()
        finally:
            server.shutdown()
            server.server_close()
        emit(result=result, posts=posts, spans=spans)
        """,
    )
    assert out["result"]["x"] == 7
    assert {"path": "/v1/traces", "content_type": "application/x-protobuf"} in out["posts"]
    by_name = {span["name"]: span for span in out["spans"]}
    run_span = by_name["botanu.run/job"]
    assert run_span["resource"]["service.name"] == "export-svc"
    assert run_span["resource"]["deployment.environment.name"] == "ci"
    assert run_span["attributes"]["botanu.run_id"] == out["result"]["run_id"]
    assert by_name["inner"]["attributes"]["botanu.run_id"] == out["result"]["run_id"]


def test_enable_after_disable_exports_again(run_python):
    out = run_json(
        run_python,
        extra=COLLECTOR,
        body="""
        try:
            botanu.enable(service_name="export-svc", otlp_endpoint=endpoint)
            job(1)
            botanu.disable()
            botanu.enable(service_name="export-svc", otlp_endpoint=endpoint)
            second = job(2)
            botanu.disable()
            posts, spans = decoded()
        finally:
            server.shutdown()
            server.server_close()
        emit(second=second, names=[s["name"] for s in spans], run_ids=[
            s["attributes"].get("botanu.run_id") for s in spans
        ])
        """,
    )
    assert out["names"].count("botanu.run/job") == 2
    assert out["second"]["run_id"] in out["run_ids"]


# --- the host's own provider -----------------------------------------------------------------


def test_existing_provider_is_kept_and_enriched_and_survives_disable(run_python):
    out = run_json(
        run_python,
        """
        host, host_exporter = install_host()
        shutdown_calls = []
        real_shutdown = host.shutdown
        host.shutdown = lambda: (shutdown_calls.append(1), real_shutdown())[1]
        before = processors(host)

        botanu.enable(service_name="svc")
        added = [type(p).__name__ for p in processors(host) if p not in before]
        still_host = trace.get_tracer_provider() is host
        result = job()
        during = {s.name: attrs(s) for s in host_exporter.get_finished_spans()}

        botanu.disable()
        host_exporter.clear()
        with tracer.start_as_current_span("host-after-disable"):
            pass
        after_result = job()
        after = {s.name: attrs(s) for s in host_exporter.get_finished_spans()}
        emit(
            added=added,
            still_host=still_host,
            still_host_after=trace.get_tracer_provider() is host,
            run_id=result["run_id"],
            during=during,
            after=after,
            after_run_id=after_result["run_id"],
            shutdown_calls=len(shutdown_calls),
            processors_after=len(processors(host)),
        )
        """,
    )
    assert out["added"] == ["RunContextEnricher"]  # no exporter: the host exports
    assert out["still_host"] is True
    assert out["during"]["inner"]["botanu.run_id"] == out["run_id"]
    assert out["during"]["botanu.run/job"]["botanu.run_id"] == out["run_id"]
    # after disable: the host provider is still global, running and exporting
    assert out["still_host_after"] is True
    assert out["shutdown_calls"] == 0
    assert "host-after-disable" in out["after"]
    # ... and the enricher no longer stamps spans inside a run
    assert out["after_run_id"] is not None
    assert "botanu.run_id" not in out["after"]["inner"]


def test_tracer_provider_argument_is_used_instead_of_the_global_one(run_python):
    out = run_json(
        run_python,
        """
        given = TracerProvider()
        given_exporter = InMemorySpanExporter()
        given.add_span_processor(SimpleSpanProcessor(given_exporter))
        botanu.enable(exporter="none", tracer_provider=given)
        with botanu.run_botanu("given", event_id="e", customer_id="c") as run:
            with given.get_tracer("lib").start_as_current_span("inner"):
                pass
        spans = {s.name: attrs(s) for s in given_exporter.get_finished_spans()}
        emit(
            global_provider=type(trace.get_tracer_provider()).__name__,
            enrichers=enrichers(given),
            run_id=run.run_id,
            spans=spans,
        )
        """,
    )
    assert out["global_provider"] == "ProxyTracerProvider"  # the global one is not touched
    assert out["enrichers"] == 1
    assert out["spans"]["botanu.run/given"]["botanu.run_id"] == out["run_id"]
    assert out["spans"]["inner"]["botanu.run_id"] == out["run_id"]


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        ('botanu.enable(exporter="console")', ["RunContextEnricher", "RecordedSpanBatcher"]),
        ('botanu.enable(exporter="none")', ["RunContextEnricher"]),
        ('botanu.enable(otlp_endpoint="http://127.0.0.1:1")', ["RunContextEnricher"]),
    ],
    ids=["explicit-exporter", "explicit-none", "endpoint-only"],
)
def test_existing_provider_gets_an_exporter_only_when_asked(run_python, call, expected):
    out = run_json(
        run_python,
        f"""
        host, _ = install_host()
        before = processors(host)
        {call}
        added = [type(p).__name__ for p in processors(host) if p not in before]
        botanu.disable()
        emit(added=added, host=trace.get_tracer_provider() is host)
        """,
    )
    assert out == {"added": expected, "host": True}


def test_existing_provider_gets_no_second_exporter_from_otel_traces_exporter(run_python):
    out = run_json(
        run_python,
        """
        host, _ = install_host()  # e.g. opentelemetry-instrument, which read the variable
        before = processors(host)
        botanu.enable(service_name="svc")
        added = [type(p).__name__ for p in processors(host) if p not in before]
        botanu.disable()
        emit(added=added)
        """,
        env={"OTEL_TRACES_EXPORTER": "otlp"},
    )
    assert out["added"] == ["RunContextEnricher"]


def test_no_provider_gets_an_sdk_provider_with_the_service_resource(run_python):
    out = run_json(
        run_python,
        """
        from opentelemetry.sdk.trace import TracerProvider as SdkProvider

        botanu.enable(service_name="checkout", environment="staging")
        provider = trace.get_tracer_provider()
        emit(
            sdk=isinstance(provider, SdkProvider),
            resource={k: str(v) for k, v in provider.resource.attributes.items()},
            processors=[type(p).__name__ for p in processors(provider)],
        )
        """,
    )
    assert out["sdk"] is True
    assert out["resource"]["service.name"] == "checkout"
    assert out["resource"]["deployment.environment.name"] == "staging"
    assert out["processors"] == ["RunContextEnricher", "RecordedSpanBatcher"]


def test_noop_provider_from_the_host_runs_everything_without_errors(run_python):
    done = run_python(
        PRELUDE
        + textwrap.dedent(
            """
            import asyncio
            import warnings

            from opentelemetry.trace import NoOpTracerProvider

            warnings.simplefilter("error")
            trace.set_tracer_provider(NoOpTracerProvider())
            config = botanu.enable(service_name="svc", propagation_mode="full")

            @botanu.botanu_workflow("async-job", event_id="e", customer_id="c")
            async def async_job(x):
                return x + 1

            with botanu.run_botanu("ctx", event_id="e", customer_id="c") as run:
                botanu.emit_outcome("success")
            result = job(3)
            async_result = asyncio.run(async_job(41))
            botanu.disable()
            emit(
                result=result["x"],
                async_result=async_result,
                ctx_run_id=run.run_id,
                provider=type(trace.get_tracer_provider()).__name__,
                service=config.service_name,
            )
            """
        )
    )
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["result"] == 3
    assert out["async_result"] == 42
    assert is_uuid7(out["ctx_run_id"])
    assert out["provider"] == "NoOpTracerProvider"
    assert out["service"] == "svc"
    assert done.stderr == ""  # nothing raised, nothing logged


# --- idempotence, threads, re-enable -------------------------------------------------------


@pytest.mark.parametrize("setup", ["no-provider", "host-provider"])
def test_concurrent_enable_installs_one_enricher(run_python, setup):
    out = run_json(
        run_python,
        f"""
        import threading

        if {setup == "host-provider"}:
            install_host()
        barrier = threading.Barrier(8)
        configs = []

        def worker():
            barrier.wait()
            configs.append(botanu.enable(service_name="svc", exporter="none"))

        threads = [threading.Thread(target=worker) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        provider = trace.get_tracer_provider()
        emit(
            calls=len(configs),
            distinct=len({{id(c) for c in configs}}),
            enrichers=enrichers(provider),
            again_same=botanu.enable() is configs[0],
        )
        """,
    )
    assert out == {"calls": 8, "distinct": 1, "enrichers": 1, "again_same": True}


def test_enable_twice_returns_the_active_config(run_python):
    out = run_json(
        run_python,
        """
        first = botanu.enable(service_name="first", exporter="none")
        second = botanu.enable(service_name="second", exporter="console")
        emit(same=first is second, name=second.service_name, exporter=second.exporter)
        """,
    )
    assert out == {"same": True, "name": "first", "exporter": "none"}


@pytest.mark.parametrize("setup", ["no-provider", "host-provider"])
def test_disable_twice_then_enable_again(run_python, setup):
    out = run_json(
        run_python,
        f"""
        botanu.disable()  # never enabled: fine
        if {setup == "host-provider"}:
            provider, exporter = install_host()
        botanu.enable(service_name="svc", exporter="none")
        if {setup == "no-provider"}:
            provider, exporter = trace.get_tracer_provider(), InMemorySpanExporter()
            provider.add_span_processor(SimpleSpanProcessor(exporter))
        first = job()
        botanu.disable()
        botanu.disable()
        disabled = botanu.is_enabled()
        config = botanu.enable(service_name="svc", exporter="none")
        exporter.clear()
        second = job()
        inner = [attrs(s) for s in exporter.get_finished_spans() if s.name == "inner"]
        emit(
            disabled=disabled,
            enabled=botanu.is_enabled(),
            service=config.service_name,
            enrichers=enrichers(provider),
            same_provider=trace.get_tracer_provider() is provider,
            first=first["run_id"],
            second=second["run_id"],
            stamped=[a.get("botanu.run_id") for a in inner],
        )
        """,
    )
    assert out["disabled"] is False
    assert out["enabled"] is True
    assert out["service"] == "svc"
    assert out["enrichers"] == 1  # re-enabling reuses the enricher
    assert out["same_provider"] is True
    assert out["first"] != out["second"]
    assert out["stamped"] == [out["second"]]


# --- fork ----------------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_enabled_sdk_keeps_working_in_a_forked_child(run_python):
    out = run_json(
        run_python,
        """
        provider, exporter = install_host()
        config = botanu.enable(service_name="svc", exporter="none")
        parent_ids = [job()["run_id"]]
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                os.close(read_end)
                exporter.clear()
                ids = [job()["run_id"] for _ in range(3)]
                spans = exporter.get_finished_spans()
                report = {
                    "ids": ids,
                    "run_spans": [attrs(s).get("botanu.run_id") for s in spans
                                  if s.name == "botanu.run/job"],
                    "inner": [attrs(s).get("botanu.run_id") for s in spans if s.name == "inner"],
                    "enable_again_same": botanu.enable() is config,
                }
                code = 0
            except BaseException as exc:
                report = {"error": repr(exc)}
            finally:
                os.write(write_end, json.dumps(report).encode())
                os._exit(code)
        os.close(write_end)
        parent_ids += [job()["run_id"] for _ in range(3)]
        chunks = []
        while chunk := os.read(read_end, 65536):
            chunks.append(chunk)
        _, status = os.waitpid(pid, 0)
        emit(
            child=json.loads(b"".join(chunks)),
            exit_code=os.waitstatus_to_exitcode(status),
            parent_ids=parent_ids,
        )
        """,
    )
    child = out["child"]
    assert out["exit_code"] == 0, child
    assert child["run_spans"] == child["ids"]  # the child's spans are captured
    assert child["inner"] == child["ids"]  # and enriched
    assert child["enable_again_same"] is True  # the enable lock is usable in the child
    all_ids = child["ids"] + out["parent_ids"]
    assert len(set(all_ids)) == len(all_ids)
    assert all(is_uuid7(run_id) for run_id in all_ids)


# --- logging -------------------------------------------------------------------------------


@pytest.mark.parametrize("host_logging", ["untouched", "basicConfig"])
def test_enable_run_and_disable_leave_the_hosts_logging_alone(run_python, host_logging):
    out = run_json(
        run_python,
        f"""
        import logging

        if {host_logging == "basicConfig"}:
            logging.basicConfig(level=logging.INFO, format="%(name)s %(message)s")

        def snapshot():
            root, own = logging.getLogger(), logging.getLogger("botanu")
            return {{
                "root_handlers": [id(h) for h in root.handlers],
                "root_level": root.level,
                "botanu_handlers": [id(h) for h in own.handlers],
                "botanu_level": own.level,
                "botanu_propagate": own.propagate,
                "botanu_disabled": own.disabled,
                "disable_level": logging.root.manager.disable,
            }}

        before = snapshot()
        botanu.enable(service_name="svc", exporter="console")
        job()
        botanu.disable()
        emit(before=before, after=snapshot())
        """,
    )
    assert out["after"] == out["before"]


# --- OTEL_SDK_DISABLED ---------------------------------------------------------------------


@pytest.mark.parametrize("value", ["true", "TRUE"])
def test_otel_sdk_disabled_installs_nothing(run_python, value):
    out = run_json(
        run_python,
        """
        config = botanu.enable(service_name="svc")
        emit(
            service=config.service_name,
            exporter=config.exporter,
            enabled=botanu.is_enabled(),
            provider=type(trace.get_tracer_provider()).__name__,
            result=job(5)["x"],
        )
        """,
        env={"OTEL_SDK_DISABLED": value},
    )
    assert out == {
        "service": "svc",
        "exporter": "otlp",
        "enabled": False,
        "provider": "ProxyTracerProvider",
        "result": 5,
    }


def test_enable_again_with_settings_warns_that_they_were_ignored():
    # in-process: the session's conftest has enabled botanu already
    active = botanu.enable()
    with pytest.warns(botanu.BotanuWarning, match="already enabled"):
        again = botanu.enable(service_name="other", propagation_mode="full")
    assert again is active
    assert again.propagation_mode == "lean"


def test_enable_disable_cycles_do_not_pile_up_processors(run_python):
    out = run_json(
        run_python,
        """
        botanu.enable(service_name="cycles", exporter="console")
        provider = trace.get_tracer_provider()
        counts = []
        for _ in range(5):
            botanu.disable()
            botanu.enable(service_name="cycles", exporter="console")
            counts.append(len(processors(provider)))
        botanu.disable()
        emit(counts=counts)
        """,
    )
    assert out["counts"] == [2, 2, 2, 2, 2]
