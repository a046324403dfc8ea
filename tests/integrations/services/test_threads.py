"""Work handed to other threads stays in its run: `asyncio.to_thread` copies the context
by itself; executors and plain threads need `botanu.integrations.threads`."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading

from opentelemetry import trace

from botanu import get_current_run_context, run_botanu, semconv
from botanu.integrations.threads import ThreadPoolExecutor, in_current_context

tracer = trace.get_tracer("tests.threads")


def work(item: int) -> str | None:
    with tracer.start_as_current_span(f"item {item}"):
        run = get_current_run_context()
        return run.run_id if run else None


def run_ids_of(spans, prefix: str) -> set:
    return {
        (s.attributes or {}).get(semconv.RUN_ID) for s in spans.spans if s.name.startswith(prefix)
    }


def test_a_plain_thread_pool_loses_the_run(spans):
    # the reason the helpers exist: submit() does not copy the caller's context
    with run_botanu("batch", event_id="b-1"), concurrent.futures.ThreadPoolExecutor(2) as pool:
        assert list(pool.map(work, range(3))) == [None, None, None]


def test_botanus_thread_pool_keeps_the_run_of_the_submitter(spans):
    with run_botanu("batch", event_id="b-1") as run, ThreadPoolExecutor(max_workers=2) as pool:
        seen = list(pool.map(work, range(4)))
        seen.append(pool.submit(work, 9).result())
    assert seen == [run.run_id] * 5
    assert run_ids_of(spans, "item ") == {run.run_id}
    # after the run, the same pool's threads are outside any run again
    with ThreadPoolExecutor(max_workers=2) as pool:
        assert pool.submit(work, 10).result() is None


def test_in_current_context_binds_a_callable_for_threads_and_executors(spans):
    results: list[str | None] = []
    with run_botanu("batch", event_id="b-1") as run:
        bound = in_current_context(lambda: results.append(work(1)))
        thread = threading.Thread(target=bound)
        thread.start()
        thread.join()

        async def in_loop() -> str | None:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(None, in_current_context(work), 2)

        results.append(asyncio.run(in_loop()))
        # one bound callable may run in several threads at once
        bound_work = in_current_context(work)
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            results.extend(pool.map(bound_work, range(3, 8)))
    assert results == [run.run_id] * 7


def test_asyncio_to_thread_already_carries_the_run(spans):
    async def main() -> tuple[str | None, str]:
        async with run_botanu("batch", event_id="b-1") as run:
            return await asyncio.to_thread(work, 1), run.run_id

    seen, run_id = asyncio.run(main())
    assert seen == run_id
    assert run_ids_of(spans, "item ") == {run_id}
