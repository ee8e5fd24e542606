"""The intake's gate per case (``infra.cases._case_gate``): a burst of starts to one case from one process goes to
the server a few at a time, in turn, instead of being refused past the server's in-flight limit and backing off."""

from __future__ import annotations

import asyncio

from infra import cases


async def test_a_burst_to_one_case_is_let_through_a_few_at_a_time_in_turn_and_other_cases_are_not_held() -> None:
    inside: dict[str, int] = {"burst": 0, "other": 0}
    most: dict[str, int] = {"burst": 0, "other": 0}
    order: list[int] = []

    async def start(case_id: str, i: int) -> None:
        async with cases._case_gate(case_id):
            inside[case_id] += 1
            most[case_id] = max(most[case_id], inside[case_id])
            if case_id == "burst":
                order.append(i)
            await asyncio.sleep(0.01)
            inside[case_id] -= 1

    burst = [asyncio.create_task(start("burst", i)) for i in range(40)]
    await asyncio.sleep(0)  # the burst holds the burst's slots and queues
    other = asyncio.create_task(start("other", 0))
    await asyncio.wait_for(other, 1.0)  # not behind the burst
    await asyncio.gather(*burst)
    assert most == {"burst": cases._PER_CASE_IN_FLIGHT, "other": 1}
    assert order == sorted(order)  # first come, first let through
    assert not cases._GATES  # nothing kept once a case's starts are done


async def test_a_start_given_up_while_it_waits_frees_its_place() -> None:
    holders = [asyncio.Event() for _ in range(cases._PER_CASE_IN_FLIGHT)]

    async def hold(done: asyncio.Event) -> None:
        async with cases._case_gate("c"):
            await done.wait()

    held = [asyncio.create_task(hold(e)) for e in holders]
    await asyncio.sleep(0)
    waiting = asyncio.create_task(hold(asyncio.Event()))
    await asyncio.sleep(0)
    waiting.cancel()  # the caller went away (an HTTP client gave up)
    await asyncio.gather(waiting, return_exceptions=True)
    for e in holders:
        e.set()
    await asyncio.gather(*held)
    assert not cases._GATES
