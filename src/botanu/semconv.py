"""The SDK <-> engine contract: every attribute, baggage key, span and event name botanu
writes or reads, defined once. Nothing else crosses between the two halves.

Run identity names are kept from the published SDK so existing collector configs work;
GenAI, database and messaging names follow the current OpenTelemetry conventions.
"""

from __future__ import annotations

from typing import Final

# --- run identity: span attributes and W3C baggage keys share these names ----------------
RUN_ID: Final = "botanu.run_id"
WORKFLOW: Final = "botanu.workflow"
WORKFLOW_LABEL: Final = "botanu.workflow_label"  # botanu_use_case(name, workflow=...) sub-label
EVENT_ID: Final = "botanu.event_id"
CUSTOMER_ID: Final = "botanu.customer_id"
TENANT_ID: Final = "botanu.tenant_id"
ENVIRONMENT: Final = "botanu.environment"
PARENT_RUN_ID: Final = "botanu.parent_run_id"
ROOT_RUN_ID: Final = "botanu.root_run_id"
ATTEMPT: Final = "botanu.attempt"
RETRY_OF_RUN_ID: Final = "botanu.retry_of_run_id"
DEADLINE: Final = "botanu.deadline"  # epoch milliseconds
LEGACY_USE_CASE: Final = "botanu.use_case"  # read only: the published SDK's lean baggage

LEAN_KEYS: Final = (RUN_ID, WORKFLOW, EVENT_ID, CUSTOMER_ID)
FULL_KEYS: Final = (
    *LEAN_KEYS,
    WORKFLOW_LABEL,
    TENANT_ID,
    ENVIRONMENT,
    PARENT_RUN_ID,
    ROOT_RUN_ID,
    ATTEMPT,
    RETRY_OF_RUN_ID,
    DEADLINE,
)

# --- business context (set_business_context) ---------------------------------------------
TEAM: Final = "botanu.team"
COST_CENTER: Final = "botanu.cost_center"
REGION: Final = "botanu.region"

# --- spans and events ---------------------------------------------------------------------
RUN_SPAN_PREFIX: Final = "botanu.run/"
OUTCOME_EVENT: Final = "botanu.outcome_emitted"
# a late outcome (`resolve_outcome`): a root span of its own, carrying EVENT_ID and the
# OUTCOME_* attributes, never part of a run; the latest one of an event wins
OUTCOME_RESOLUTION_SPAN: Final = "botanu.outcome_resolved"
# written by the engine: what was dropped from a span on the way in, and why
INGEST_NOTE: Final = "botanu.ingest.note"

# --- outcome --------------------------------------------------------------------------------
OUTCOME_STATUS: Final = "botanu.outcome.status"
OUTCOME_VALUE_TYPE: Final = "botanu.outcome.value_type"
OUTCOME_VALUE_AMOUNT: Final = "botanu.outcome.value_amount"
OUTCOME_CONFIDENCE: Final = "botanu.outcome.confidence"
OUTCOME_REASON: Final = "botanu.outcome.reason"
OUTCOME_ERROR_TYPE: Final = "botanu.outcome.error_type"
OUTCOME_METADATA_PREFIX: Final = "botanu.outcome.metadata."
# who recorded the outcome: on a run, "sdk" (emit_outcome) or "auto" (the run's return or
# exception); on a late outcome, the resolver's name ("zendesk", "review", ...)
OUTCOME_SOURCE: Final = "botanu.outcome.source"
OUTCOME_SOURCE_SDK: Final = "sdk"
OUTCOME_SOURCE_AUTO: Final = "auto"
# the values of OUTCOME_STATUS (`RunStatus`); the last four are failures (waste)
OUTCOME_STATUSES: Final = ("success", "partial", "failed", "timeout", "canceled", "abandoned")
# keys of the outcome event's attributes, as the Outcomes seed shows them
EVENT_STATUS: Final = "status"
EVENT_VALUE_TYPE: Final = "value_type"
EVENT_VALUE_AMOUNT: Final = "value_amount"

# --- GenAI (OpenTelemetry semantic conventions) -----------------------------------------------
GEN_AI_OPERATION_NAME: Final = "gen_ai.operation.name"
GEN_AI_PROVIDER_NAME: Final = "gen_ai.provider.name"
GEN_AI_REQUEST_MODEL: Final = "gen_ai.request.model"
GEN_AI_RESPONSE_MODEL: Final = "gen_ai.response.model"
GEN_AI_RESPONSE_ID: Final = "gen_ai.response.id"
GEN_AI_RESPONSE_FINISH_REASONS: Final = "gen_ai.response.finish_reasons"
GEN_AI_REQUEST_STREAM: Final = "gen_ai.request.stream"
GEN_AI_USAGE_INPUT_TOKENS: Final = "gen_ai.usage.input_tokens"
GEN_AI_USAGE_OUTPUT_TOKENS: Final = "gen_ai.usage.output_tokens"
GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: Final = "gen_ai.usage.cache_read.input_tokens"
GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS: Final = "gen_ai.usage.cache_write.input_tokens"
# the v1.40-1.41 name of cache writes; emitted beside the newest one for older readers
GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: Final = "gen_ai.usage.cache_creation.input_tokens"
GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: Final = "gen_ai.usage.reasoning.output_tokens"
GEN_AI_TOOL_NAME: Final = "gen_ai.tool.name"
GEN_AI_TOOL_CALL_ID: Final = "gen_ai.tool.call.id"
GEN_AI_TOOL_TYPE: Final = "gen_ai.tool.type"  # function, extension, datastore
GEN_AI_TOOL_DESCRIPTION: Final = "gen_ai.tool.description"
GEN_AI_CONVERSATION_ID: Final = "gen_ai.conversation.id"
GEN_AI_REQUEST_MAX_TOKENS: Final = "gen_ai.request.max_tokens"
OPENAI_REQUEST_SERVICE_TIER: Final = "openai.request.service_tier"
OPENAI_RESPONSE_SERVICE_TIER: Final = "openai.response.service_tier"  # what was billed
SERVER_ADDRESS: Final = "server.address"
SERVER_PORT: Final = "server.port"
ERROR_TYPE: Final = "error.type"

# botanu's own LLM-call attributes (no OTel convention exists for these)
LLM_CLIENT_REQUEST_ID: Final = "botanu.llm.client_request_id"
LLM_ATTEMPT: Final = "botanu.llm.attempt"
# on a tracked model call whose client instrumentation made its own span with the same
# usage inside it: the engine prices the inner span only, so the call is counted once
LLM_USAGE_ON_CHILD: Final = "botanu.llm.usage_on_child"
TOOL_RESULT_PREFIX: Final = "botanu.tool.result."

# well-known gen_ai.provider.name values
PROVIDER_OPENAI: Final = "openai"
PROVIDER_ANTHROPIC: Final = "anthropic"
PROVIDER_AWS_BEDROCK: Final = "aws.bedrock"
PROVIDER_AZURE_OPENAI: Final = "azure.ai.openai"
PROVIDER_AZURE_INFERENCE: Final = "azure.ai.inference"
PROVIDER_GCP_GEN_AI: Final = "gcp.gen_ai"
PROVIDER_GCP_VERTEX_AI: Final = "gcp.vertex_ai"
PROVIDER_GCP_GEMINI: Final = "gcp.gemini"
PROVIDER_COHERE: Final = "cohere"
PROVIDER_MISTRAL_AI: Final = "mistral_ai"
PROVIDER_GROQ: Final = "groq"
PROVIDER_DEEPSEEK: Final = "deepseek"
PROVIDER_PERPLEXITY: Final = "perplexity"
PROVIDER_X_AI: Final = "x_ai"
PROVIDER_IBM_WATSONX: Final = "ibm.watsonx.ai"
PROVIDER_MOONSHOT_AI: Final = "moonshot_ai"

# --- databases (OpenTelemetry semantic conventions) -------------------------------------------
DB_SYSTEM_NAME: Final = "db.system.name"
DB_OPERATION_NAME: Final = "db.operation.name"
DB_NAMESPACE: Final = "db.namespace"
DB_COLLECTION_NAME: Final = "db.collection.name"
DB_QUERY_SUMMARY: Final = "db.query.summary"
DB_RESPONSE_RETURNED_ROWS: Final = "db.response.returned_rows"
# botanu's cost drivers with no OTel convention
DB_BYTES_SCANNED: Final = "botanu.db.bytes_scanned"
DB_QUERY_ID: Final = "botanu.db.query_id"
DB_ROWS_AFFECTED: Final = "botanu.db.rows_affected"
DB_REQUEST_UNITS: Final = "botanu.db.request_units"

# --- object storage (no OTel convention beyond aws.s3.*: botanu's own names) ------------------
STORAGE_SYSTEM: Final = "botanu.storage.system"
STORAGE_OPERATION: Final = "botanu.storage.operation"
STORAGE_BUCKET: Final = "botanu.storage.bucket"
STORAGE_BYTES_READ: Final = "botanu.storage.bytes_read"
STORAGE_BYTES_WRITTEN: Final = "botanu.storage.bytes_written"
STORAGE_OBJECT_COUNT: Final = "botanu.storage.object_count"

# --- messaging (OpenTelemetry semantic conventions) -------------------------------------------
MESSAGING_SYSTEM: Final = "messaging.system"
MESSAGING_OPERATION_TYPE: Final = "messaging.operation.type"
MESSAGING_OPERATION_NAME: Final = "messaging.operation.name"
MESSAGING_DESTINATION_NAME: Final = "messaging.destination.name"
MESSAGING_BATCH_MESSAGE_COUNT: Final = "messaging.batch.message_count"
MESSAGING_MESSAGE_BODY_SIZE: Final = "messaging.message.body.size"
MESSAGING_MESSAGE_ID: Final = "messaging.message.id"
# the consumer-side span botanu opens around a message's handling (span name
# "process <destination>"); it makes no broker request, so it carries no messaging.system
# and the engine never counts it as a billable queue call
MESSAGING_OPERATION_PROCESS: Final = "process"

# --- data-tracker errors ------------------------------------------------------------------------
OPERATION_ERROR_MESSAGE: Final = "botanu.error.message"

# --- HTTP (OpenTelemetry semantic conventions) ----------------------------------------------
HTTP_RESPONSE_STATUS_CODE: Final = "http.response.status_code"

# --- resource ---------------------------------------------------------------------------------
RESOURCE_SERVICE_NAME: Final = "service.name"
RESOURCE_SERVICE_VERSION: Final = "service.version"
RESOURCE_DEPLOYMENT_ENVIRONMENT: Final = "deployment.environment.name"

# --- read on ingest: other instrumentations and older convention versions --------------------
GEN_AI_SYSTEM_DEPRECATED: Final = "gen_ai.system"
GEN_AI_USAGE_PROMPT_TOKENS_DEPRECATED: Final = "gen_ai.usage.prompt_tokens"
GEN_AI_USAGE_COMPLETION_TOKENS_DEPRECATED: Final = "gen_ai.usage.completion_tokens"
OPENLLMETRY_CACHE_READ_INPUT_TOKENS: Final = "gen_ai.usage.cache_read_input_tokens"
OPENLLMETRY_CACHE_CREATION_INPUT_TOKENS: Final = "gen_ai.usage.cache_creation_input_tokens"
OPENLLMETRY_REASONING_TOKENS: Final = "gen_ai.usage.reasoning_tokens"
OPENINFERENCE_PROVIDER: Final = "llm.provider"
OPENINFERENCE_SYSTEM: Final = "llm.system"
OPENINFERENCE_MODEL_NAME: Final = "llm.model_name"
OPENINFERENCE_PROMPT_TOKENS: Final = "llm.token_count.prompt"
OPENINFERENCE_COMPLETION_TOKENS: Final = "llm.token_count.completion"
OPENINFERENCE_CACHE_READ_TOKENS: Final = "llm.token_count.prompt_details.cache_read"
OPENINFERENCE_CACHE_WRITE_TOKENS: Final = "llm.token_count.prompt_details.cache_write"
OPENINFERENCE_REASONING_TOKENS: Final = "llm.token_count.completion_details.reasoning"
OPENINFERENCE_COST_TOTAL: Final = "llm.cost.total"
OPENLIT_COST: Final = "gen_ai.usage.cost"
# OpenLIT writes the metric's name as a span attribute too: only its spans carry it
OPENLIT_TOKEN_USAGE: Final = "gen_ai.client.token.usage"
OPENINFERENCE_EMBEDDING_MODEL_NAME: Final = "embedding.model_name"
LOGFIRE_COST: Final = "operation.cost"  # USD, from genai-prices when it prices the model
LITELLM_COST: Final = "gen_ai.cost.total_cost"  # its OpenTelemetry callback, USD
LITELLM_V2_COST: Final = "litellm.cost.total"  # the same with LITELLM_OTEL_V2 set
DB_SYSTEM_DEPRECATED: Final = "db.system"
DB_OPERATION_DEPRECATED: Final = "db.operation"
MESSAGING_OPERATION_DEPRECATED: Final = "messaging.operation"
AWS_S3_BUCKET: Final = "aws.s3.bucket"
AZURE_COSMOSDB_REQUEST_CHARGE: Final = "azure.cosmosdb.operation.request_charge"
# the published botanu SDK's own names (services still on it): cache counts beside
# gen_ai.usage.input_tokens, which it passes through as the caller gave it
PUBLISHED_VENDOR: Final = "botanu.vendor"  # on its LLM spans only: ours never write it
PUBLISHED_CACHE_READ_TOKENS: Final = "botanu.usage.cache_read_tokens"
PUBLISHED_CACHED_TOKENS: Final = "botanu.usage.cached_tokens"  # its alias of cache reads
PUBLISHED_CACHE_WRITE_TOKENS: Final = "botanu.usage.cache_write_tokens"
PUBLISHED_WAREHOUSE_BYTES_SCANNED: Final = "botanu.warehouse.bytes_scanned"
PUBLISHED_DATA_OBJECTS_COUNT: Final = "botanu.data.objects_count"
PUBLISHED_DATA_BYTES_READ: Final = "botanu.data.bytes_read"
PUBLISHED_DATA_BYTES_WRITTEN: Final = "botanu.data.bytes_written"
PUBLISHED_DATA_ROWS_RETURNED: Final = "botanu.data.rows_returned"
PUBLISHED_DATA_ROWS_AFFECTED: Final = "botanu.data.rows_affected"
PUBLISHED_MESSAGING_MESSAGE_COUNT: Final = "botanu.messaging.message_count"
# a cost already computed by the application itself, in USD
REPORTED_COST: Final = "botanu.cost.reported"
# the 1-hour part of the cache writes (Anthropic prices it apart from 5-minute writes)
CACHE_WRITE_1H_INPUT_TOKENS: Final = "botanu.usage.cache_write_1h.input_tokens"
