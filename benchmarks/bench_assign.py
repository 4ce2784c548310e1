"""Assignment speed of the Python SDK, compared with the growthbook SDK in the same run.

Run: ``.venv/bin/python benchmarks/bench_assign.py`` (about 30 s on 2 cores). Prints the median
of several runs (µs per call) for each scenario and the machine it ran on.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx
from growthbook import Experiment, GrowthBook

from tests.sdk.fake_server import config_experiment
from vekst_sdk import Client, ClientOptions

IDS = 200_000
RUNS = 7


def config(count: int) -> dict[str, Any]:
    return {
        "version": 1,
        "experiments": [
            config_experiment(key=f"exp-{n}", salt=f"{n:012x}", overrides={}) for n in range(count)
        ],
    }


def per_call_us(loop: Callable[[list[str]], None], ids: list[str]) -> float:
    start = time.perf_counter()
    loop(ids)
    return (time.perf_counter() - start) / len(ids) * 1e6


def median_us(
    make_loop: Callable[[], Callable[[list[str]], None]], ids_for_run: Callable[[int], list[str]]
) -> float:
    return statistics.median(per_call_us(make_loop(), ids_for_run(run)) for run in range(RUNS))


def vekst_loop(client: Client, key: str) -> Callable[[list[str]], None]:
    def loop(ids: list[str]) -> None:
        assign = client.assign
        for unit_id in ids:
            assign(key, unit_id)

    return loop


def growthbook_loop() -> Callable[[list[str]], None]:
    gb = GrowthBook(attributes={"id": "warm-up"})
    exp = Experiment(key="exp-0", variations=["multi-step", "one-page"])

    def loop(ids: list[str]) -> None:
        for unit_id in ids:
            gb.set_attributes({"id": unit_id})
            gb.run(exp)

    return loop


def main() -> None:
    fixed_ids = [f"visitor-{n}" for n in range(IDS)]

    def same_ids(_run: int) -> list[str]:
        return fixed_ids

    def fresh_ids(run: int) -> list[str]:
        return [f"run{run}-visitor-{n}" for n in range(IDS)]

    offline = Client.from_config(config(1))
    one = median_us(lambda: vekst_loop(offline, "exp-0"), same_ids)
    gb = median_us(growthbook_loop, lambda _run: fixed_ids[: IDS // 10])
    many_client = Client.from_config(config(100))
    many = median_us(lambda: vekst_loop(many_client, "exp-57"), same_ids)

    sent = [0]

    def count_and_discard(request: httpx.Request) -> httpx.Response:
        sent[0] += request.content.count(b'"event_id"')
        return httpx.Response(202, json={"accepted": 0, "duplicates": 0, "rejected": []})

    def logging_client(options: ClientOptions) -> Client:
        transport = httpx.MockTransport(count_and_discard)
        return Client.from_config(
            config(1), "https://vekst.invalid", "bench-key", transport=transport, options=options
        )

    # Room for every exposure of every run: nothing is forgotten or dropped while measuring.
    roomy = ClientOptions(
        exposure_cache_size=(RUNS + 1) * IDS * 2 + 2, max_queue_size=(RUNS + 1) * IDS + 1
    )
    sending_client = logging_client(roomy)
    vekst_loop(sending_client, "exp-0")(fixed_ids)
    # Let the sender drain the warm-up exposures so it does not compete with the measurement.
    while sent[0] < IDS:
        time.sleep(0.05)
    repeat = median_us(lambda: vekst_loop(sending_client, "exp-0"), same_ids)
    first = median_us(lambda: vekst_loop(sending_client, "exp-0"), fresh_ids)
    sending_client.close(timeout=30)

    # Same, with the sender idle during the measurement: the request-path cost alone.
    idle_client = logging_client(
        replace(roomy, flush_interval=3600, max_batch_size=(RUNS + 1) * IDS + 1)
    )
    first_idle = median_us(lambda: vekst_loop(idle_client, "exp-0"), fresh_ids)
    idle_client.close(timeout=60)

    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {sys.version.split()[0]}, {platform.system()}"
    )
    print(f"median of {RUNS} runs, {IDS:,} distinct ids per run (growthbook: {IDS // 10:,})")
    print(f"vekst assign, 1 experiment, offline:          {one:.3f} us/call")
    print(f"growthbook set_attributes + run(), same run:  {gb:.3f} us/call  ({gb / one:.1f}x)")
    print(f"vekst assign, 100 experiments in the config:  {many:.3f} us/call")
    print(f"vekst assign + first exposure (logging on):   {first:.3f} us/call")
    print(f"  same, sender idle (request path only):      {first_idle:.3f} us/call")
    print(f"vekst assign, already exposed (logging on):   {repeat:.3f} us/call")


if __name__ == "__main__":
    main()
