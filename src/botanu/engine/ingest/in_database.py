"""Normalize inside the database: the SQL of each `SpanRecord` field over a span kept as
the Collector's ClickHouse exporter keeps it (every attribute value as text in a map),
generated from the same declarations as `normalize` (`fields`, `bounds`).

SQL takes a value only where it reads it exactly as `normalize` would: a count that is
plain digits, money and floats in plain decimal notation, a provider name in ASCII. Any
other value marks its span `python` (a count spelled " 12", a float "1e3", a time no
clock reads ...): the pricing job hands those spans to `normalize` itself, so no rule is
written twice and no reading is approximated.
"""

from __future__ import annotations

from botanu import semconv as sc
from botanu.engine.batch import SCALAR_FIELDS
from botanu.engine.ingest.bounds import FIELD_BOUNDS, TIME_MAX_NS, TIME_MIN_NS
from botanu.engine.ingest.fields import (
    CATEGORY_FIELDS,
    DB_SYSTEM_KEYS,
    EXCLUSIVE_INPUT,
    LLM_INPUT_KEYS,
    LLM_MODEL_KEYS,
    LLM_OUTPUT_KEYS,
    LLM_PROVIDER_KEYS,
    MESSAGE_OPERATIONS,
    OLD_PROVIDERS,
    SPAN_FIELDS,
    Field,
)

__all__ = ["first_value", "normalized_columns"]


def _literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


class _Reader:
    """SQL over one span's attribute map `attributes`; collects what leaves it to Python."""

    def __init__(self, attributes: str) -> None:
        self.map = attributes
        self.unsure: list[str] = []

    def raw(self, keys: tuple[str, ...]) -> str:
        """The text of the first of `keys` present, else ''."""
        return first_value(self.map, keys)

    def text(self, *keys: str) -> str:
        return f"nullIf({self.raw(keys)}, '')"

    def read(self, field: Field) -> str:
        """The field as `Group.read` reads it, a value beyond its bound dropped."""
        if field.read == "text":
            return self.text(*field.keys)
        raw = self.raw(field.keys)
        value = _PARSE[field.read].format(raw=raw)
        if field.read == "count":  # plain digits: any reader makes the same number of them
            plain = f"(length({raw}) <= 18 AND trim(BOTH '0123456789' FROM {raw}) = '')"
        else:  # the text written back from the value is the text itself: `normalize`'s
            # reader gives the same value (a double's shortest text reads back as it)
            plain = f"ifNull(toString({value}) = {raw}, false)"
        self.unsure.append(f"({raw} != '' AND NOT {plain})")
        if field.read == "money":  # negative money: `normalize` drops it
            plain = f"{plain} AND {value} >= 0"
        bound = FIELD_BOUNDS.get(field.name)
        if bound is not None:
            limit = f"toDecimal128('{bound}', 0)" if field.read == "money" else f"{bound}"
            plain = f"{plain} AND {value} <= {limit}"
        return f"if({raw} != '' AND {plain}, {value}, NULL)"


_CATEGORIES = ("llm", "db", "storage", "messaging", "other")
# text to a number (where it is one)
_PARSE = {
    "count": "toUInt64OrZero({raw})",
    "float": "toFloat64OrNull({raw})",
    "money": "toDecimal128OrNull({raw}, 18)",
}


def first_value(attributes: str, keys: tuple[str, ...]) -> str:
    """The text of the first of `keys` present in the map `attributes` ('' when none
    is: `normalize` reads an absent value and an empty one alike, as nothing)."""
    # a key's position among the map's keys (0: absent) finds it ~6x faster than m[key];
    # the first present key's position is picked before any text is copied
    at = [f"indexOf(mapKeys({attributes}), {_literal(key)})" for key in keys]
    if len(at) > 1:
        pairs = ", ".join(f"{position} > 0, {position}" for position in at)
        at = [f"multiIf({pairs}, 0)"]
    return f"mapValues({attributes})[{at[0]}]"


def normalized_columns(resource: str) -> tuple[dict[str, str], str]:
    """The SQL of every scalar `SpanRecord` field of a row of the exporter's traces table
    (`resource`: its resource attribute map, or `map()` where it has none), and the SQL
    of the flag that leaves a span to `normalize` in Python."""
    r = _Reader("SpanAttributes")
    start = "toUnixTimestamp64Nano(Timestamp)"
    columns: dict[str, str] = {
        "trace_id": "TraceId",
        "span_id": "SpanId",
        "parent_span_id": "nullIf(ParentSpanId, '')",
        "name": "toString(SpanName)",
        # kind and status in both spellings exporters wrote
        "kind": "lower(replaceRegexpOne(toString(SpanKind), '^SPAN_KIND_', ''))",
        "start_ns": start,
        "end_ns": f"{start} + toInt64(Duration)",
        "status_code": "lower(replaceRegexpOne(toString(StatusCode), '^STATUS_CODE_', ''))",
        "is_run_span": f"startsWith(toString(SpanName), {_literal(sc.RUN_SPAN_PREFIX)})",
    }
    # times no clock reads: `prepare_spans` sets the span aside and says why
    r.unsure.append(
        f"({start} < {TIME_MIN_NS} OR {start} > {TIME_MAX_NS} "
        f"OR Duration > {TIME_MAX_NS} - {start})"
    )
    # late outcomes: the store keeps them beside the span (`resolutions`)
    r.unsure.append(f"toString(SpanName) = {_literal(sc.OUTCOME_RESOLUTION_SPAN)}")
    columns |= {f.name: r.read(f) for f in SPAN_FIELDS}
    own = r.raw((sc.ENVIRONMENT,))
    environment = first_value(resource, (sc.RESOURCE_DEPLOYMENT_ENVIRONMENT,))
    columns["environment"] = f"nullIf(if({own} != '', {own}, {environment}), '')"
    service = first_value(resource, (sc.RESOURCE_SERVICE_NAME,))
    columns["service_name"] = f"nullIf({service}, '')"
    provider = r.text(*LLM_PROVIDER_KEYS)
    r.unsure.append(f"lengthUTF8({provider}) != length({provider})")  # Python lowers beyond ASCII
    model = r.text(*LLM_MODEL_KEYS)
    tokens_in = r.read(Field("input_tokens", LLM_INPUT_KEYS, "count"))
    tokens_out = r.read(Field("output_tokens", LLM_OUTPUT_KEYS, "count"))
    is_llm = (
        f"({provider} IS NOT NULL OR {model} IS NOT NULL "
        f"OR {tokens_in} IS NOT NULL OR {tokens_out} IS NOT NULL)"
    )
    db_system = r.text(*DB_SYSTEM_KEYS)
    storage = (
        f"coalesce({r.text(sc.STORAGE_SYSTEM)}, "
        f"if({first_value(r.map, (sc.AWS_S3_BUCKET,))} != '', 's3', NULL))"
    )
    messaging = r.text(sc.MESSAGING_SYSTEM)
    # the category as its position in _CATEGORIES: fields test a number, not a text
    code = (
        f"multiIf({is_llm}, 1, {db_system} IS NOT NULL, 2, "
        f"{storage} IS NOT NULL, 3, {messaging} IS NOT NULL, 4, 5)"
    )
    # named inside the category's SQL, so each field reads it rather than working it out
    columns["category"] = f"[{', '.join(map(_literal, _CATEGORIES))}][({code}) AS _category]"
    by_category: dict[str, dict[str, str]] = {
        name: {f.name: r.read(f) for f in fields} for name, fields in CATEGORY_FIELDS.items()
    }
    llm = by_category["llm"]
    old, new = zip(*sorted(OLD_PROVIDERS.items()), strict=True)
    lowered = f"lower({provider})"
    llm["provider"] = (
        f"transform({lowered}, [{', '.join(map(_literal, old))}], "
        f"[{', '.join(map(_literal, new))}], {lowered})"
    )
    llm["request_model"] = model
    # a total smaller than its own parts was sent exclusive (Anthropic's raw usage), and
    # so is every total of an emitter known to send it so (EXCLUSIVE_INPUT)
    parts = f"(ifNull({llm['cache_read_tokens']}, 0) + ifNull({llm['cache_write_tokens']}, 0))"
    exclusive = [f"{tokens_in} < {parts}"] + [
        f"({r.text(rule.marker)} IS NOT NULL AND {llm['provider']} IN "
        f"({', '.join(map(_literal, rule.providers))}))"
        for rule in EXCLUSIVE_INPUT
    ]
    llm["input_tokens"] = f"if({' OR '.join(exclusive)}, {tokens_in} + {parts}, {tokens_in})"
    reasoning = llm["reasoning_tokens"]
    llm["output_tokens"] = (
        f"if({tokens_out} < {reasoning}, {tokens_out} + {reasoning}, {tokens_out})"
    )
    by_category["db"]["system"] = db_system
    by_category["storage"]["system"] = storage
    messages = by_category["messaging"]
    messages["system"] = messaging
    singles = ", ".join(map(_literal, sorted(MESSAGE_OPERATIONS)))
    messages["message_count"] = (
        f"if({messages['message_count']} IS NULL AND {messages['operation']} IN ({singles}), "
        f"1, {messages['message_count']})"
    )
    fields: dict[str, dict[str, str]] = {}
    for name, read in by_category.items():
        for field, sql in read.items():
            fields.setdefault(field, {})[name] = sql
    for field, per_category in fields.items():
        branches = ", ".join(
            f"_category = {_CATEGORIES.index(c) + 1}, {sql}" for c, sql in per_category.items()
        )
        columns[field] = f"multiIf({branches}, NULL)"
    missing = set(SCALAR_FIELDS) - columns.keys()
    assert not missing, f"fields without SQL: {sorted(missing)}"
    python = f"ifNull({' OR '.join(r.unsure)}, false)"
    return {name: columns[name] for name in SCALAR_FIELDS}, python
