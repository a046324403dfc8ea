"""Provider and system names normalised to the OpenTelemetry well-known values.

Keys are lower-cased spellings users and older instrumentations send; unknown names pass
through lower-cased, so a new provider still groups consistently.
"""

from __future__ import annotations

from botanu import semconv
from botanu.sdk._guard import warn_misuse

# Keys are compared lower-cased with "-" and " " read as "_" ("Azure-OpenAI" -> "azure_openai")
_GEN_AI_PROVIDERS: dict[str, str] = {
    # the registry's own values map to themselves
    **{
        value: value
        for value in (
            semconv.PROVIDER_OPENAI,
            semconv.PROVIDER_ANTHROPIC,
            semconv.PROVIDER_AWS_BEDROCK,
            semconv.PROVIDER_AZURE_OPENAI,
            semconv.PROVIDER_AZURE_INFERENCE,
            semconv.PROVIDER_GCP_GEN_AI,
            semconv.PROVIDER_GCP_VERTEX_AI,
            semconv.PROVIDER_GCP_GEMINI,
            semconv.PROVIDER_COHERE,
            semconv.PROVIDER_MISTRAL_AI,
            semconv.PROVIDER_GROQ,
            semconv.PROVIDER_DEEPSEEK,
            semconv.PROVIDER_PERPLEXITY,
            semconv.PROVIDER_X_AI,
            semconv.PROVIDER_IBM_WATSONX,
            semconv.PROVIDER_MOONSHOT_AI,
        )
    },
    "open_ai": semconv.PROVIDER_OPENAI,
    "claude": semconv.PROVIDER_ANTHROPIC,
    "anthropic_ai": semconv.PROVIDER_ANTHROPIC,
    "bedrock": semconv.PROVIDER_AWS_BEDROCK,
    "aws_bedrock": semconv.PROVIDER_AWS_BEDROCK,
    "amazon_bedrock": semconv.PROVIDER_AWS_BEDROCK,
    "bedrock_runtime": semconv.PROVIDER_AWS_BEDROCK,
    "azure": semconv.PROVIDER_AZURE_OPENAI,
    "azure_openai": semconv.PROVIDER_AZURE_OPENAI,
    "az.ai.openai": semconv.PROVIDER_AZURE_OPENAI,
    "azure_ai_inference": semconv.PROVIDER_AZURE_INFERENCE,
    "az.ai.inference": semconv.PROVIDER_AZURE_INFERENCE,
    "vertex": semconv.PROVIDER_GCP_VERTEX_AI,
    "vertex_ai": semconv.PROVIDER_GCP_VERTEX_AI,
    "vertexai": semconv.PROVIDER_GCP_VERTEX_AI,
    "google_vertex": semconv.PROVIDER_GCP_VERTEX_AI,
    "google_vertex_ai": semconv.PROVIDER_GCP_VERTEX_AI,
    "gemini": semconv.PROVIDER_GCP_GEMINI,
    "google": semconv.PROVIDER_GCP_GEMINI,
    "google_ai_studio": semconv.PROVIDER_GCP_GEMINI,
    "google_gemini": semconv.PROVIDER_GCP_GEMINI,
    "google_genai": semconv.PROVIDER_GCP_GEN_AI,
    "cohere_ai": semconv.PROVIDER_COHERE,
    "mistral": semconv.PROVIDER_MISTRAL_AI,
    "mistralai": semconv.PROVIDER_MISTRAL_AI,
    "groq_cloud": semconv.PROVIDER_GROQ,
    "deep_seek": semconv.PROVIDER_DEEPSEEK,
    "perplexity_ai": semconv.PROVIDER_PERPLEXITY,
    "xai": semconv.PROVIDER_X_AI,
    "grok": semconv.PROVIDER_X_AI,
    "watsonx": semconv.PROVIDER_IBM_WATSONX,
    "watsonx.ai": semconv.PROVIDER_IBM_WATSONX,
    "ibm_watsonx": semconv.PROVIDER_IBM_WATSONX,
    "moonshot": semconv.PROVIDER_MOONSHOT_AI,
    "moonshotai": semconv.PROVIDER_MOONSHOT_AI,
    "kimi": semconv.PROVIDER_MOONSHOT_AI,
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
    """The well-known `gen_ai.provider.name` for `name`; other names pass through lower-cased."""
    return known_gen_ai_provider(name_or_unknown("provider", name))


def known_gen_ai_provider(name: str) -> str:
    """`gen_ai_provider` for a name already known to be a string (no warning)."""
    lowered = name.strip().lower()
    key = lowered.replace("-", "_").replace(" ", "_")
    return _GEN_AI_PROVIDERS.get(key, lowered)


def messaging_system(name: object) -> str:
    key = name_or_unknown("system", name).lower()
    return _MESSAGING_SYSTEMS.get(key, key)


def db_system(name: object) -> str:
    key = name_or_unknown("system", name).lower()
    return _DB_SYSTEMS.get(key, key)


def messaging_operation_type(operation: str) -> str | None:
    return _MESSAGING_OPERATION_TYPES.get(operation.lower())
