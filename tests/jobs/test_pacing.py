"""The pacer hands out posting slots within the workspace rate and one a second per channel."""

from __future__ import annotations

import itertools

from jobs.pacing import Pacer


class FrozenClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_slots_respect_the_workspace_rate_and_each_channel() -> None:
    clock = FrozenClock()
    pacer = Pacer(per_second=50, per_channel=1, clock=clock)
    slots = [pacer.reserve(f"C{n}") for n in range(100)]  # 100 channels, one post each
    assert slots[0] == 100.0
    assert all(b - a >= 1 / 50 - 1e-9 for a, b in itertools.pairwise(slots))
    assert slots[-1] - slots[0] < 2.0  # 100 posts at 50/s: just under two seconds
    same = [pacer.reserve("CSAME") for _ in range(3)]
    assert same[1] - same[0] >= 1.0 and same[2] - same[1] >= 1.0


def test_time_passing_frees_slots() -> None:
    clock = FrozenClock()
    pacer = Pacer(per_second=10, per_channel=1, clock=clock)
    assert pacer.reserve("C1") == 100.0
    clock.now = 105.0
    assert pacer.reserve("C1") == 105.0  # long after the last post: no wait
