"""What a group of spans used, as Arrow arrays: the category (the first of LLM call,
database, storage, messaging that a span shows, else other) and the fields of that
category. A group whose spans differ in category is split first (`categories`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from botanu import semconv as sc
from botanu.engine.ingest.fields import (
    CATEGORY_FIELDS,
    DB_SYSTEM_KEYS,
    EXCLUSIVE_INPUT,
    LLM_INPUT_KEYS,
    LLM_MODEL_KEYS,
    LLM_OUTPUT_KEYS,
    Field,
)

if TYPE_CHECKING:
    from botanu.engine.ingest._group import Group

__all__ = ["categories", "usage_fields"]

Array = Any
Fields = dict[str, Array | None]


_TOKENS_IN = Field("input_tokens", LLM_INPUT_KEYS, "count")
_TOKENS_OUT = Field("output_tokens", LLM_OUTPUT_KEYS, "count")


def categories(group: Group) -> list[str]:
    """The category of each span of the group (by the same rules, row by row)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    def shown(*columns: Array | None) -> Array:
        found = pa.repeat(pa.scalar(False), group.size)
        for column in columns:
            if column is not None:
                found = pc.or_(found, pc.is_valid(column))
        return found

    llm = shown(
        group.provider(), group.text(*LLM_MODEL_KEYS), group.read(_TOKENS_IN),
        group.read(_TOKENS_OUT),
    )  # fmt: skip
    tests = [
        ("llm", llm),
        ("db", shown(group.text(*DB_SYSTEM_KEYS))),
        ("storage", shown(group.storage_system())),
        ("messaging", shown(group.text(sc.MESSAGING_SYSTEM))),
    ]
    names = ["other"] * group.size
    for row in range(group.size):
        names[row] = next((name for name, mask in tests if mask[row].as_py()), "other")
    return names


def usage_fields(group: Group) -> Fields | None:
    provider = group.provider()
    model = group.text(*LLM_MODEL_KEYS)
    tokens_in = group.read(_TOKENS_IN)
    tokens_out = group.read(_TOKENS_OUT)
    found = _every(provider, model, tokens_in, tokens_out)
    if found:
        return _llm(group, provider, model, tokens_in, tokens_out)
    if found is None:
        return None
    systems: tuple[tuple[str, Callable[[], Array | None]], ...] = (
        ("db", lambda: group.text(*DB_SYSTEM_KEYS)),
        ("storage", group.storage_system),
        ("messaging", lambda: group.text(sc.MESSAGING_SYSTEM)),
    )
    for category, system in systems:
        name = system()
        found = _every(name)
        if found is None:
            return None
        if found:
            filled = {f.name: group.read(f) for f in CATEGORY_FIELDS[category]}
            if category == "messaging":
                filled["message_count"] = group.message_count(
                    filled["message_count"], filled["operation"]
                )
            return {"category": _repeat(category, group.size), "system": name} | filled
    return {"category": _repeat("other", group.size)}


def _llm(
    group: Group, provider: Array, model: Array, tokens_in: Array, tokens_out: Array
) -> Fields:
    import pyarrow.compute as pc

    fields = {f.name: group.read(f) for f in CATEGORY_FIELDS["llm"]}
    read, write = fields["cache_read_tokens"], fields["cache_write_tokens"]
    reasoning = fields["reasoning_tokens"]
    # a total smaller than its own parts was sent exclusive (Anthropic's raw usage), and
    # so is every total of an emitter known to send it so (EXCLUSIVE_INPUT)
    if tokens_in is not None and (read is not None or write is not None):
        parts = [pc.fill_null(c, 0) for c in (read, write) if c is not None]
        total = parts[0] if len(parts) == 1 else pc.add_checked(parts[0], parts[1])
        tokens_in = _grown(tokens_in, total, _exclusive_input(group, provider))
    if tokens_out is not None and reasoning is not None:
        tokens_out = _grown(tokens_out, reasoning)
    return {
        **fields,
        "category": _repeat("llm", group.size),
        "provider": provider,
        "request_model": model,
        "input_tokens": tokens_in,
        "output_tokens": tokens_out,
    }


def _grown(total: Array, parts: Array, exclusive: Array | None = None) -> Array:
    """`total + parts` where the total is below its parts or known `exclusive` of them,
    else the total as it is."""
    import pyarrow.compute as pc

    below = pc.fill_null(pc.less(total, parts), False)
    if exclusive is not None:
        below = pc.or_(below, exclusive)
    return pc.if_else(below, pc.add_checked(total, parts), total)


def _exclusive_input(group: Group, provider: Array | None) -> Array | None:
    """Spans whose input count an `EXCLUSIVE_INPUT` row says leaves out the cache parts
    (a boolean mask), or None when no span's is."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if provider is None:
        return None
    found = None
    for rule in EXCLUSIVE_INPUT:
        marker = group.text(rule.marker)
        if marker is None:
            continue
        theirs = pc.and_(pc.is_valid(marker), pc.is_in(provider, pa.array(rule.providers)))
        found = theirs if found is None else pc.or_(found, theirs)
    return None if found is None else pc.fill_null(found, False)


def _every(*columns: Array | None) -> bool | None:
    """Whether every span has one of the values (True), none has (False), or it varies."""
    import pyarrow.compute as pc

    present = [c for c in columns if c is not None]
    if any(c.null_count == 0 for c in present):
        return True
    if all(c.null_count == len(c) for c in present):
        return False
    valid = pc.is_valid(present[0])
    for column in present[1:]:
        valid = pc.or_(valid, pc.is_valid(column))
    if valid.false_count == 0:
        return True
    return False if valid.true_count == 0 else None


def _repeat(value: str, size: int) -> Array:
    import pyarrow as pa

    return pa.repeat(pa.scalar(value, pa.string()), size)
