"""Work handed to threads stays in its run.

`asyncio.to_thread` copies the caller's context by itself. A plain
`concurrent.futures.ThreadPoolExecutor` does not: use botanu's drop-in
`ThreadPoolExecutor`, or wrap a callable with `in_current_context` for `threading.Thread`
and `loop.run_in_executor`.
"""

import asyncio
import concurrent.futures
import threading

from botanu import get_current_run_context, run_botanu
from botanu.integrations.threads import ThreadPoolExecutor, in_current_context
from botanu.testing import capture_spans

capture_spans()  # spans stay in memory for this example; apps export OTLP


def which_run(_: object = None) -> str:
    run = get_current_run_context()
    return run.run_id[-12:] if run else "no run"


async def in_async_code() -> list[str]:
    loop = asyncio.get_running_loop()
    return [
        await asyncio.to_thread(which_run),
        await loop.run_in_executor(None, in_current_context(which_run)),
    ]


with run_botanu("nightly-report", event_id="report-1") as run:
    print("the run:                       ", run.run_id[-12:])
    with concurrent.futures.ThreadPoolExecutor(2) as plain:
        print("plain ThreadPoolExecutor:      ", list(plain.map(which_run, range(2))))
    with ThreadPoolExecutor(2) as pool:
        print("botanu ThreadPoolExecutor:     ", list(pool.map(which_run, range(2))))
    seen: list[str] = []
    thread = threading.Thread(target=in_current_context(lambda: seen.append(which_run())))
    thread.start()
    thread.join()
    print("threading.Thread + in_current_context:", seen)
    print("asyncio.to_thread, run_in_executor:   ", asyncio.run(in_async_code()))
