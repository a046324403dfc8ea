"""`BotanuConfig`: loading from the environment and YAML, merging with the precedence
code > environment > YAML file > defaults, defaults, validation and the traces URL.

Everything here is pure configuration; nothing is enabled. End-to-end precedence through
`enable()` lives in test_bootstrap.py (it needs a fresh process).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from botanu import BotanuConfigError, BotanuError
from botanu.sdk.config import BotanuConfig

# every variable the YAML examples below expand, cleared so the host's shell cannot leak in
EXPANDED_VARS = ("OTEL_SERVICE_NAME", "COLLECTOR_ENDPOINT", "BOTANU_TEST_HOST", "BOTANU_TEST_ENV")

SEED_YAML = """\
# config/production.yaml
service:
  name: ${OTEL_SERVICE_NAME}
  environment: production

otlp:
  endpoint: ${COLLECTOR_ENDPOINT}

propagation:
  mode: lean
"""


@pytest.fixture(autouse=True)
def _clean_expanded_vars(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in EXPANDED_VARS:
        monkeypatch.delenv(name, raising=False)


def write(tmp_path: Path, text: str, name: str = "botanu.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def error_of(tmp_path: Path, text: str) -> tuple[Path, str]:
    path = write(tmp_path, text)
    with pytest.raises(BotanuConfigError) as info:
        BotanuConfig.from_yaml(path)
    return path, str(info.value)


# --- environment ---------------------------------------------------------------------------


def test_from_env_reads_each_variable_and_records_its_source():
    config = BotanuConfig.from_env(
        {
            "OTEL_SERVICE_NAME": "checkout",
            "BOTANU_ENVIRONMENT": "staging",
            "BOTANU_EXPORTER": "console",
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318",
            "BOTANU_PROPAGATION_MODE": "full",
            "UNRELATED": "ignored",
        }
    )
    assert config.service_name == "checkout"
    assert config.environment == "staging"
    assert config.exporter == "console"
    assert config.otlp_endpoint == "http://collector:4318"
    assert config.propagation_mode == "full"
    assert config.sources["service_name"] == "env OTEL_SERVICE_NAME"
    assert config.sources["environment"] == "env BOTANU_ENVIRONMENT"
    assert config.sources["otlp_endpoint"] == "env OTEL_EXPORTER_OTLP_ENDPOINT"


def test_from_env_ignores_blank_values_and_strips_whitespace():
    config = BotanuConfig.from_env(
        {"OTEL_SERVICE_NAME": "   ", "BOTANU_ENVIRONMENT": "", "BOTANU_EXPORTER": " none "}
    )
    assert config.service_name is None
    assert config.environment is None
    assert config.exporter == "none"
    assert set(config.sources) == {"exporter"}


def test_from_env_without_argument_reads_the_process_environment(monkeypatch):
    monkeypatch.setenv("OTEL_SERVICE_NAME", "from-os-environ")
    assert BotanuConfig.from_env().service_name == "from-os-environ"


def test_traces_specific_endpoint_wins_over_the_base_endpoint():
    config = BotanuConfig.from_env(
        {
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://base:4318",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://traces:4318/custom",
        }
    )
    assert config.otlp_endpoint == "http://traces:4318/custom"
    assert config.sources["otlp_endpoint"] == "env OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"


def test_botanu_exporter_wins_over_otel_traces_exporter():
    env = {"BOTANU_EXPORTER": "none", "OTEL_TRACES_EXPORTER": "console"}
    assert BotanuConfig.from_env(env).exporter == "none"
    assert BotanuConfig.from_env({"OTEL_TRACES_EXPORTER": "console"}).exporter == "console"


# --- precedence: code > environment > YAML file > defaults ----------------------------------

# setting, environment variable, YAML text, value in code, in env, in the file, default
PRECEDENCE = [
    ("service_name", "OTEL_SERVICE_NAME", "service:\n  name: {v}\n", "c", "e", "f", None),
    (
        "otlp_endpoint",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "otlp:\n  endpoint: {v}\n",
        "http://code:4318",
        "http://env:4318",
        "http://file:4318",
        None,
    ),
    (
        "otlp_endpoint",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "otlp:\n  endpoint: {v}\n",
        "http://code:4318",
        "http://env:4318/v1/traces",
        "http://file:4318",
        None,
    ),
    ("environment", "BOTANU_ENVIRONMENT", "service:\n  environment: {v}\n", "c", "e", "f", None),
    (
        "propagation_mode",
        "BOTANU_PROPAGATION_MODE",
        "propagation:\n  mode: {v}\n",
        "full",
        "lean",
        "full",
        "lean",
    ),
    ("exporter", "BOTANU_EXPORTER", "exporter: {v}\n", "console", "none", "console", "otlp"),
]
PRECEDENCE_IDS = [f"{row[0]}-{row[1]}" for row in PRECEDENCE]


def layers(tmp_path, row, *, code, env, file):
    setting, var, yaml_text, *_ = row
    code_layer = BotanuConfig(**{setting: code}) if code is not None else BotanuConfig()
    env_layer = BotanuConfig.from_env({var: env} if env is not None else {})
    file_layer = (
        BotanuConfig.from_yaml(write(tmp_path, yaml_text.format(v=file)))
        if file is not None
        else BotanuConfig()
    )
    return code_layer.merged_over(env_layer).merged_over(file_layer)


@pytest.mark.parametrize("row", PRECEDENCE, ids=PRECEDENCE_IDS)
def test_code_wins_over_environment_and_file(tmp_path, row):
    setting, _, _, code, env, file, _ = row
    merged = layers(tmp_path, row, code=code, env=env, file=file)
    assert getattr(merged.resolved(), setting) == code
    assert merged.sources[setting] == "code"


@pytest.mark.parametrize("row", PRECEDENCE, ids=PRECEDENCE_IDS)
def test_environment_wins_over_file(tmp_path, row):
    setting, var, _, _, env, file, _ = row
    merged = layers(tmp_path, row, code=None, env=env, file=file)
    assert getattr(merged.resolved(), setting) == env
    assert merged.sources[setting] == f"env {var}"


@pytest.mark.parametrize("row", PRECEDENCE, ids=PRECEDENCE_IDS)
def test_file_wins_over_defaults(tmp_path, row):
    setting, _, _, _, _, file, _ = row
    merged = layers(tmp_path, row, code=None, env=None, file=file)
    assert getattr(merged.resolved(), setting) == file
    assert merged.sources[setting] == f"file {tmp_path / 'botanu.yaml'}"


@pytest.mark.parametrize("row", PRECEDENCE, ids=PRECEDENCE_IDS)
def test_defaults_apply_when_no_layer_sets_a_value(tmp_path, row):
    setting, *_, default = row
    merged = layers(tmp_path, row, code=None, env=None, file=None)
    assert getattr(merged.resolved(), setting) == default
    assert setting not in merged.sources


def test_merged_over_keeps_each_setting_from_its_highest_layer(tmp_path):
    file_layer = BotanuConfig.from_yaml(
        write(
            tmp_path,
            """\
            service:
              name: file-svc
              environment: file-env
            otlp:
              endpoint: http://file:4318
            propagation:
              mode: full
            """,
        )
    )
    env_layer = BotanuConfig.from_env({"BOTANU_ENVIRONMENT": "env-env"})
    code_layer = BotanuConfig(service_name="code-svc")
    resolved = code_layer.merged_over(env_layer).merged_over(file_layer).resolved()
    assert resolved.service_name == "code-svc"
    assert resolved.environment == "env-env"
    assert resolved.otlp_endpoint == "http://file:4318"
    assert resolved.propagation_mode == "full"
    assert resolved.exporter == "otlp"
    assert resolved.sources["service_name"] == "code"
    assert resolved.sources["environment"] == "env BOTANU_ENVIRONMENT"
    assert resolved.sources["otlp_endpoint"] == f"file {tmp_path / 'botanu.yaml'}"


def test_merged_over_does_not_change_either_layer():
    upper = BotanuConfig(service_name="a")
    lower = BotanuConfig(service_name="b", environment="e")
    merged = upper.merged_over(lower)
    assert (merged.service_name, merged.environment) == ("a", "e")
    assert upper == BotanuConfig(service_name="a")
    assert lower == BotanuConfig(service_name="b", environment="e")


def test_resolved_fills_defaults_and_normalises_case():
    assert BotanuConfig().resolved() == BotanuConfig(exporter="otlp", propagation_mode="lean")
    loud = BotanuConfig(exporter="CONSOLE", propagation_mode="Full").resolved()
    assert (loud.exporter, loud.propagation_mode, loud.lean) == ("console", "full", False)
    assert BotanuConfig().resolved().lean is True


# --- YAML ----------------------------------------------------------------------------------


def test_seed_example_file_loads_with_its_variables_set(tmp_path, monkeypatch):
    monkeypatch.setenv("OTEL_SERVICE_NAME", "my-service")
    monkeypatch.setenv("COLLECTOR_ENDPOINT", "http://collector:4318")
    path = write(tmp_path, SEED_YAML, "production.yaml")
    config = BotanuConfig.from_yaml(path)
    assert config.service_name == "my-service"
    assert config.environment == "production"
    assert config.otlp_endpoint == "http://collector:4318"
    assert config.propagation_mode == "lean"
    assert config.sources["environment"] == f"file {path}"
    resolved = config.resolved()
    assert resolved.traces_endpoint == "http://collector:4318/v1/traces"
    assert resolved.lean is True


def test_seed_example_file_with_unset_variables_leaves_those_settings_unset(tmp_path):
    config = BotanuConfig.from_yaml(write(tmp_path, SEED_YAML))
    assert config.service_name is None
    assert config.otlp_endpoint is None
    assert "service_name" not in config.sources
    assert "otlp_endpoint" not in config.sources
    assert config.environment == "production"
    # an unset ${VAR} lets a lower layer (here: the default) decide, and is not an error
    resolved = config.resolved()
    assert resolved.otlp_endpoint is None
    assert resolved.traces_endpoint is None


def test_unset_variable_in_file_does_not_hide_the_environment(tmp_path):
    # OTEL_SERVICE_NAME unset: the file says nothing, so the code/env layers decide alone
    file_layer = BotanuConfig.from_yaml(write(tmp_path, SEED_YAML))
    env_layer = BotanuConfig.from_env({"BOTANU_ENVIRONMENT": "env-env"})
    merged = env_layer.merged_over(file_layer).resolved()
    assert merged.service_name is None
    assert merged.environment == "env-env"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "http://localhost:4318"),
        ({"BOTANU_TEST_HOST": ""}, "http://localhost:4318"),  # set but empty, like ${VAR:-}
        ({"BOTANU_TEST_HOST": "collector.internal"}, "http://collector.internal:4318"),
    ],
    ids=["unset", "empty", "set"],
)
def test_variable_with_default(tmp_path, monkeypatch, env, expected):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    path = write(tmp_path, "otlp:\n  endpoint: http://${BOTANU_TEST_HOST:-localhost}:4318\n")
    assert BotanuConfig.from_yaml(path).otlp_endpoint == expected


def test_variables_expand_inside_headers(tmp_path, monkeypatch):
    monkeypatch.setenv("BOTANU_TEST_ENV", "secret")
    path = write(
        tmp_path,
        """\
        otlp:
          headers:
            authorization: Bearer ${BOTANU_TEST_ENV}
            x-team: ${BOTANU_TEST_HOST:-platform}
        """,
    )
    config = BotanuConfig.from_yaml(path)
    assert config.otlp_headers == {"authorization": "Bearer secret", "x-team": "platform"}


def test_empty_file_sets_nothing(tmp_path):
    config = BotanuConfig.from_yaml(write(tmp_path, "# all defaults\n"))
    assert config == BotanuConfig()
    assert dict(config.sources) == {}


def test_an_empty_known_section_sets_nothing(tmp_path):
    config = BotanuConfig.from_yaml(write(tmp_path, "otlp:\n  # endpoint: later\nservice:\n"))
    assert config == BotanuConfig()


def test_a_known_section_given_a_scalar_says_it_must_be_a_mapping(tmp_path):
    path, message = error_of(tmp_path, "service: billing\n")
    assert "'service' must be a section" in message
    assert str(path) in message


def test_unknown_key_names_the_key_and_the_file(tmp_path):
    path, message = error_of(tmp_path, "service:\n  name: a\n  colour: red\n")
    assert "service.colour" in message
    assert str(path) in message
    assert "service.name" in message  # lists what is known, to fix a typo


def test_unknown_top_level_key_names_the_key_and_the_file(tmp_path):
    path, message = error_of(tmp_path, "exporters: otlp\n")
    assert "'exporters'" in message
    assert str(path) in message


def test_syntax_error_names_file_and_line(tmp_path):
    path, message = error_of(tmp_path, "service:\n  name: a\n\tenvironment: b\n")
    assert f"{path}:3" in message
    assert "invalid YAML" in message


def test_missing_file_names_the_file(tmp_path):
    missing = tmp_path / "nowhere.yaml"
    with pytest.raises(BotanuConfigError, match=r"nowhere\.yaml") as info:
        BotanuConfig.from_yaml(missing)
    assert "cannot read config file" in str(info.value)


@pytest.mark.parametrize("text", ["- a\n- b\n", "just a string\n", "42\n"])
def test_top_level_must_be_a_mapping(tmp_path, text):
    path, message = error_of(tmp_path, text)
    assert str(path) in message
    assert "top level must be a mapping" in message


def test_headers_must_be_a_mapping(tmp_path):
    _, message = error_of(tmp_path, "otlp:\n  headers: authorization=x\n")
    assert "otlp.headers" in message
    assert "mapping" in message


# --- validation ----------------------------------------------------------------------------


def test_config_error_is_a_value_error_and_a_botanu_error():
    assert issubclass(BotanuConfigError, ValueError)
    assert issubclass(BotanuConfigError, BotanuError)


@pytest.mark.parametrize(
    ("config", "fragments"),
    [
        (
            BotanuConfig(propagation_mode="medium"),
            ["propagation_mode", "'medium'", "lean, full", "from code"],
        ),
        (
            BotanuConfig.from_env({"BOTANU_PROPAGATION_MODE": "medium"}),
            ["'medium'", "env BOTANU_PROPAGATION_MODE", "lean, full"],
        ),
        (
            BotanuConfig(exporter="zipkin"),
            ["exporter", "'zipkin'", "otlp, console, local, none"],
        ),
        (
            BotanuConfig.from_env({"BOTANU_EXPORTER": "jaeger"}),
            ["'jaeger'", "env BOTANU_EXPORTER", "otlp, console, local, none"],
        ),
        (
            BotanuConfig(otlp_endpoint="localhost:4318"),
            ["otlp_endpoint", "'localhost:4318'", "http://", "https://"],
        ),
        (
            BotanuConfig(otlp_endpoint="grpc://collector:4317"),
            ["'grpc://collector:4317'", "http://"],
        ),
        (BotanuConfig(otlp_endpoint="http://:4318"), ["'http://:4318'", "http://"]),
        (
            BotanuConfig(otlp_endpoint="http://collector:99999"),
            ["'http://collector:99999'", "port"],
        ),
        (BotanuConfig(otlp_endpoint="http://collector:abc"), ["'http://collector:abc'", "port"]),
        (BotanuConfig(service_name="  "), ["service_name", "blank"]),
    ],
    ids=[
        "mode-code",
        "mode-env",
        "exporter-code",
        "exporter-env",
        "endpoint-no-scheme",
        "endpoint-grpc",
        "endpoint-no-host",
        "port-out-of-range",
        "port-not-a-number",
        "blank-service-name",
    ],
)
def test_resolved_rejects_bad_values_with_a_message_that_says_what_to_fix(config, fragments):
    with pytest.raises(BotanuConfigError) as info:
        config.resolved()
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message


def test_bad_value_from_a_file_names_the_file(tmp_path):
    path = write(tmp_path, "propagation:\n  mode: medium\n")
    with pytest.raises(BotanuConfigError, match="medium") as info:
        BotanuConfig.from_yaml(path).resolved()
    assert f"file {path}" in str(info.value)


@pytest.mark.parametrize(
    "endpoint", ["http://collector:4318", "https://collector.example.com", "http://127.0.0.1:1"]
)
def test_valid_endpoints_pass(endpoint):
    assert BotanuConfig(otlp_endpoint=endpoint).resolved().otlp_endpoint == endpoint


# --- traces endpoint -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("endpoint", "expected"),
    [
        ("http://collector:4318", "http://collector:4318/v1/traces"),
        ("http://collector:4318/", "http://collector:4318/v1/traces"),
        ("https://gateway.example.com/otlp", "https://gateway.example.com/otlp/v1/traces"),
        ("http://collector:4318/v1/traces", "http://collector:4318/v1/traces"),
    ],
)
def test_base_endpoint_gets_the_traces_path(endpoint, expected):
    assert BotanuConfig(otlp_endpoint=endpoint).traces_endpoint == expected
    env = BotanuConfig.from_env({"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint})
    assert env.traces_endpoint == expected


@pytest.mark.parametrize(
    "endpoint", ["http://collector:4318", "http://collector:4318/custom/traces"]
)
def test_traces_endpoint_variable_is_used_as_is(endpoint):
    config = BotanuConfig.from_env({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": endpoint})
    assert config.resolved().traces_endpoint == endpoint


def test_traces_endpoint_variable_stays_as_is_after_merging(tmp_path):
    env_layer = BotanuConfig.from_env({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://t:4318/x"})
    file_layer = BotanuConfig.from_yaml(write(tmp_path, "service:\n  name: svc\n"))
    merged = BotanuConfig(service_name="code").merged_over(env_layer).merged_over(file_layer)
    assert merged.resolved().traces_endpoint == "http://t:4318/x"


def test_no_endpoint_leaves_the_exporter_default():
    assert BotanuConfig().resolved().traces_endpoint is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("otlp,console", "otlp"),
        ("otlp_proto_http", "otlp"),
        ("zipkin,console", "console"),
        ("zipkin", None),
        ("NONE", "none"),
    ],
)
def test_otel_traces_exporter_is_a_lenient_hint(value, expected):
    config = BotanuConfig.from_env({"OTEL_TRACES_EXPORTER": value})
    assert config.exporter == expected
    assert config.resolved().exporter == (expected or "otlp")
