"""Provider and system names normalised to the OpenTelemetry well-known values.

Keys are lower-cased spellings users and older instrumentations send; unknown names pass
through lower-cased, so a new provider still groups consistently.
"""

from __future__ import annotations

from botanu import semconv
from botanu._internal.guard import warn_misuse

_GEN_AI_PROVIDERS: dict[str, str] = {
    "openai": semconv.PROVIDER_OPENAI,
    "anthropic": semconv.PROVIDER_ANTHROPIC,
    "claude": semconv.PROVIDER_ANTHROPIC,
    "bedrock": semconv.PROVIDER_AWS_BEDROCK,
    "aws_bedrock": semconv.PROVIDER_AWS_BEDROCK,
    "aws.bedrock": semconv.PROVIDER_AWS_BEDROCK,
    "azure": semconv.PROVIDER_AZURE_OPENAI,
    "azure_openai": semconv.PROVIDER_AZURE_OPENAI,
    "az.ai.openai": semconv.PROVIDER_AZURE_OPENAI,
    "azure.ai.openai": semconv.PROVIDER_AZURE_OPENAI,
    "az.ai.inference": semconv.PROVIDER_AZURE_INFERENCE,
    "azure.ai.inference": semconv.PROVIDER_AZURE_INFERENCE,
    "vertex": semconv.PROVIDER_GCP_VERTEX_AI,
    "vertex_ai": semconv.PROVIDER_GCP_VERTEX_AI,
    "vertexai": semconv.PROVIDER_GCP_VERTEX_AI,
    "gcp.vertex_ai": semconv.PROVIDER_GCP_VERTEX_AI,
    "gemini": semconv.PROVIDER_GCP_GEMINI,
    "google": semconv.PROVIDER_GCP_GEMINI,
    "gcp.gemini": semconv.PROVIDER_GCP_GEMINI,
    "gcp.gen_ai": semconv.PROVIDER_GCP_GEN_AI,
    "cohere": semconv.PROVIDER_COHERE,
    "mistral": semconv.PROVIDER_MISTRAL_AI,
    "mistralai": semconv.PROVIDER_MISTRAL_AI,
    "mistral_ai": semconv.PROVIDER_MISTRAL_AI,
    "groq": semconv.PROVIDER_GROQ,
    "deepseek": semconv.PROVIDER_DEEPSEEK,
    "perplexity": semconv.PROVIDER_PERPLEXITY,
    "xai": semconv.PROVIDER_X_AI,
    "x_ai": semconv.PROVIDER_X_AI,
    "grok": semconv.PROVIDER_X_AI,
    "watsonx": semconv.PROVIDER_IBM_WATSONX,
    "ibm.watsonx.ai": semconv.PROVIDER_IBM_WATSONX,
}

_MESSAGING_SYSTEMS: dict[str, str] = {
    "sqs": "aws_sqs",
    "aws_sqs": "aws_sqs",
    "sns": "aws.sns",
    "aws.sns": "aws.sns",
    "pubsub": "gcp_pubsub",
    "gcp_pubsub": "gcp_pubsub",
    "service_bus": "servicebus",
    "servicebus": "servicebus",
    "kafka": "kafka",
    "rabbitmq": "rabbitmq",
}

_DB_SYSTEMS: dict[str, str] = {
    "postgres": "postgresql",
    "postgresql": "postgresql",
    "dynamodb": "aws.dynamodb",
    "cosmosdb": "azure.cosmosdb",
    "mssql": "microsoft.sql_server",
    "sqlserver": "microsoft.sql_server",
}

# messaging.operation.type is one of create, send, receive, process, settle
_MESSAGING_OPERATION_TYPES: dict[str, str] = {
    "publish": "send",
    "send": "send",
    "produce": "send",
    "create": "create",
    "receive": "receive",
    "consume": "process",
    "process": "process",
    "ack": "settle",
    "settle": "settle",
}


def name_or_unknown(kind: str, value: object) -> str:
    """A tracker's system/provider/operation name; misuse is a warning and "unknown"."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    warn_misuse(f"{kind} must be a non-empty string, got {value!r}; recorded as 'unknown'.")
    return "unknown"


def gen_ai_provider(name: object) -> str:
    key = name_or_unknown("provider", name).lower()
    return _GEN_AI_PROVIDERS.get(key, key)


def messaging_system(name: object) -> str:
    key = name_or_unknown("system", name).lower()
    return _MESSAGING_SYSTEMS.get(key, key)


def db_system(name: object) -> str:
    key = name_or_unknown("system", name).lower()
    return _DB_SYSTEMS.get(key, key)


def messaging_operation_type(operation: str) -> str | None:
    return _MESSAGING_OPERATION_TYPES.get(operation.lower())
