"""The poll scheduler: estimate first, progress next, capped jittered backoff once overdue."""

from __future__ import annotations

import random

import pytest

from seedream._polling import PollPolicy, PollScheduler, is_terminal


class NoJitter(random.Random):
    def random(self) -> float:
        return 0.0


def scheduler(estimate: float | None, **policy: float) -> PollScheduler:
    return PollScheduler(estimated_time=estimate, policy=PollPolicy(**policy), rng=NoJitter())


def test_first_poll_comes_near_the_estimate() -> None:
    assert scheduler(45).first_poll_at() == pytest.approx(0.8 * 45)
    assert scheduler(45, first_poll_fraction=0.5).first_poll_at() == pytest.approx(22.5)


def test_missing_estimate_uses_the_policy_default_and_zero_means_soon() -> None:
    assert scheduler(None, default_estimate=20).first_poll_at() == pytest.approx(16)
    assert scheduler(0, min_interval=1.0).first_poll_at() == pytest.approx(1.0)


def test_next_poll_is_aimed_at_the_finish_predicted_from_progress() -> None:
    s = scheduler(45)
    s.observe(20.0, 40)
    s.observe(30.0, 60)  # 2 %/s -> 100 % at t = 50
    assert s.predicted_finish() == pytest.approx(50.0)
    assert s.next_delay(30.0) == pytest.approx(min(20.0, PollPolicy().max_interval))


def test_a_single_progress_point_extrapolates_from_creation() -> None:
    s = scheduler(45)
    s.observe(36.0, 90)
    assert s.predicted_finish() == pytest.approx(40.0)
    assert s.next_delay(36.0) == pytest.approx(4.0)


def test_without_progress_the_estimate_is_the_target() -> None:
    s = scheduler(30)
    s.observe(10.0, 0)
    assert s.next_delay(10.0) == pytest.approx(min(20.0, PollPolicy().max_interval))


def test_overdue_polls_back_off_geometrically_up_to_the_cap() -> None:
    s = scheduler(10, min_interval=1.0, backoff_factor=2.0, max_interval=5.0)
    delays = []
    t = 12.0  # past the estimate, no progress
    for _ in range(6):
        delay = s.next_delay(t)
        delays.append(delay)
        t += delay
    assert delays == pytest.approx([1.0, 2.0, 4.0, 5.0, 5.0, 5.0])


def test_jitter_only_shortens_and_stays_within_its_share() -> None:
    rng = random.Random(7)
    policy = PollPolicy(jitter=0.2, min_interval=0.1)
    seen = []
    for _ in range(200):
        s = PollScheduler(estimated_time=10, policy=policy, rng=rng)
        seen.append(s.next_delay(5.0))  # aimed at t = 10
    assert all(5.0 * 0.8 - 1e-9 <= d <= 5.0 for d in seen)
    assert len({round(d, 6) for d in seen}) > 50  # actually spread


def test_progress_going_backwards_discards_the_old_rate() -> None:
    s = scheduler(100)
    s.observe(10.0, 50)
    s.observe(20.0, 60)
    s.observe(30.0, 10)  # restarted upstream
    assert s.predicted_finish() == pytest.approx(300.0)


def test_updated_estimate_from_a_poll_is_used() -> None:
    s = scheduler(10)
    s.observe(8.0, 0, estimated_time=40)
    assert s.predicted_finish() == pytest.approx(40.0)


def test_delays_never_drop_below_the_minimum_interval() -> None:
    s = scheduler(10, min_interval=0.5)
    s.observe(9.9, 99)
    assert s.next_delay(9.9) >= 0.5


def test_terminal_statuses_include_cancelled_from_callbacks() -> None:
    assert all(is_terminal(s) for s in ("completed", "failed", "cancelled"))
    assert not any(is_terminal(s) for s in ("pending", "processing", "paused", None))


@pytest.mark.parametrize(
    ("field", "value"),
    [("first_poll_fraction", 0.0), ("min_interval", 0.0), ("backoff_factor", 0.5), ("jitter", 1.0)],
)
def test_bad_policy_values_name_the_field(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        PollPolicy(**{field: value})


def test_scaled_policy_multiplies_every_duration() -> None:
    scaled = PollPolicy().scaled(0.1)
    assert scaled.min_interval == pytest.approx(PollPolicy().min_interval * 0.1)
    assert scaled.max_interval == pytest.approx(PollPolicy().max_interval * 0.1)
    assert scaled.first_poll_fraction == PollPolicy().first_poll_fraction
