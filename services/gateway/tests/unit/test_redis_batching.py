"""PipelineBatcher: concurrent callers share pipelines and each gets exactly its own results."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from gateway_service.adapters.redis_batching import PipelineBatcher


class Recorder:
    def __init__(self, *, fail: bool = False, delay: float = 0.0) -> None:
        self.pipelines: list[list[str]] = []
        self.fail = fail
        self.delay = delay

    async def run(self, commands: list[str]) -> Sequence[object]:
        self.pipelines.append(commands)
        await asyncio.sleep(self.delay)
        if self.fail:
            raise ConnectionError("redis is down")
        return [f"result of {command}" for command in commands]


async def test_callers_of_one_turn_share_one_pipeline_and_get_their_own_results() -> None:
    recorder = Recorder()
    batcher: PipelineBatcher[str] = PipelineBatcher(recorder.run)
    results = await asyncio.gather(*(batcher.submit([f"ip{n}", f"account{n}"]) for n in range(20)))
    assert len(recorder.pipelines) == 1
    assert recorder.pipelines[0] == [command for n in range(20) for command in (f"ip{n}", f"account{n}")]
    for n, result in enumerate(results):
        assert result == [f"result of ip{n}", f"result of account{n}"]


async def test_a_lone_caller_is_a_batch_of_one() -> None:
    recorder = Recorder()
    batcher: PipelineBatcher[str] = PipelineBatcher(recorder.run)
    assert await batcher.submit(["only"]) == ["result of only"]
    assert recorder.pipelines == [["only"]]


async def test_callers_arriving_while_pipelines_are_in_flight_form_the_next_batch() -> None:
    recorder = Recorder(delay=0.05)
    batcher: PipelineBatcher[str] = PipelineBatcher(recorder.run, max_in_flight=1)
    first = asyncio.create_task(batcher.submit(["a"]))
    await asyncio.sleep(0.01)  # the first pipeline is in flight now
    later = [asyncio.create_task(batcher.submit([name])) for name in ("b", "c", "d")]
    assert await first == ["result of a"]
    assert [await task for task in later] == [["result of b"], ["result of c"], ["result of d"]]
    assert recorder.pipelines == [["a"], ["b", "c", "d"]]


async def test_batches_are_bounded_in_size() -> None:
    recorder = Recorder()
    batcher: PipelineBatcher[str] = PipelineBatcher(recorder.run, max_in_flight=1, max_commands=4)
    await asyncio.gather(*(batcher.submit([f"{n}a", f"{n}b"]) for n in range(5)))
    assert [len(pipeline) for pipeline in recorder.pipelines] == [4, 4, 2]


async def test_a_failed_pipeline_fails_every_caller_of_that_batch() -> None:
    batcher: PipelineBatcher[str] = PipelineBatcher(Recorder(fail=True).run)
    outcomes = await asyncio.gather(*(batcher.submit([str(n)]) for n in range(3)), return_exceptions=True)
    assert all(isinstance(outcome, ConnectionError) for outcome in outcomes)


async def test_a_cancelled_caller_does_not_disturb_the_others() -> None:
    recorder = Recorder(delay=0.02)
    batcher: PipelineBatcher[str] = PipelineBatcher(recorder.run)
    gone = asyncio.create_task(batcher.submit(["gone"]))
    kept = asyncio.create_task(batcher.submit(["kept"]))
    await asyncio.sleep(0.005)
    gone.cancel()
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert await kept == ["result of kept"]
