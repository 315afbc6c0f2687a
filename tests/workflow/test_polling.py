"""The poll scheduler: a first poll placed by the estimate, then aimed at the finish that progress predicts.

Behaviour, not tuning: each test pins what a schedule does with the policy's
own values (``PollPolicy()`` fields), so retuning the constants keeps them
meaningful; how well the tuning does is a benchmark (``bench/poll_simulation.py``).
"""

from __future__ import annotations

import random

import pytest

from seedream._polling import (
    COARSE_PROGRESS_STEP,
    FINISH_PROGRESS,
    PollPolicy,
    PollScheduler,
    is_terminal,
)

POLICY = PollPolicy()


class NoJitter(random.Random):
    def random(self) -> float:
        return 0.0


class FullJitter(random.Random):
    def random(self) -> float:
        return 1.0


def scheduler(estimate: float | None, rng: random.Random | None = None, **policy: float) -> PollScheduler:
    return PollScheduler(estimated_time=estimate, policy=PollPolicy(**policy), rng=rng or NoJitter())


def test_a_short_task_is_first_polled_just_before_its_estimate() -> None:
    first = scheduler(14).first_poll_at()
    assert first == pytest.approx(POLICY.first_poll_fraction * 14)
    assert 0.9 * 14 <= first < 14


def test_a_long_task_is_first_polled_a_slack_after_its_earliest_plausible_finish() -> None:
    first = scheduler(45).first_poll_at()
    assert first == pytest.approx(POLICY.earliest_finish_fraction * 45 + POLICY.first_poll_slack)
    assert POLICY.earliest_finish_fraction * 45 < first < POLICY.first_poll_fraction * 45
    assert scheduler(45, earliest_finish_fraction=0.4, first_poll_slack=3).first_poll_at() == pytest.approx(21.0)


def test_missing_estimate_uses_the_policy_default_and_zero_means_soon() -> None:
    assert scheduler(None, default_estimate=20).first_poll_at() == pytest.approx(scheduler(20).first_poll_at())
    assert scheduler(0, min_interval=1.0).first_poll_at() == pytest.approx(1.0)


def test_a_near_finish_is_aimed_at_just_after_the_progress_rate_reaches_done() -> None:
    s = scheduler(45)
    s.observe(30.0, 61)
    s.observe(40.0, 81)  # 2 %/s -> FINISH_PROGRESS at t = 40 + (99 - 81) / 2
    finish = 40.0 + (FINISH_PROGRESS - 81) / 2
    assert s.predicted_finish() == pytest.approx(finish)
    assert s.next_delay(40.0) == pytest.approx(finish - 40.0 + POLICY.aim_margin)


def test_aimed_polls_are_never_jittered() -> None:
    aimed = scheduler(45, rng=FullJitter())
    aimed.observe(30.0, 61)
    aimed.observe(40.0, 81)
    assert aimed.next_delay(40.0) == pytest.approx((FINISH_PROGRESS - 81) / 2 + POLICY.aim_margin)


def test_a_far_finish_is_probed_halfway_first() -> None:
    s = scheduler(100, max_interval=60.0)
    s.observe(20.0, 20)  # one point: 1 %/s since creation -> finish at 99 s, 79 s away (more than probe_ratio x 20 s)
    assert s.predicted_finish() == pytest.approx(20.0 * FINISH_PROGRESS / 20)
    assert s.next_delay(20.0) == pytest.approx((s.predicted_finish() - 20.0) / 2)


def test_a_single_progress_point_extrapolates_from_creation() -> None:
    s = scheduler(45)
    s.observe(36.0, 90)
    assert s.predicted_finish() == pytest.approx(36.0 * FINISH_PROGRESS / 90)
    assert s.next_delay(36.0) == pytest.approx(s.predicted_finish() - 36.0 + POLICY.aim_margin)


def test_progress_in_coarse_steps_is_read_as_half_a_step_further_and_done_at_100() -> None:
    assert COARSE_PROGRESS_STEP <= 10
    coarse = scheduler(100)
    coarse.observe(20.0, 40)
    coarse.observe(30.0, 50)  # steps of 10: really 45..55 % at these times, on average half a step further
    assert coarse.predicted_finish() == pytest.approx(30.0 + (100 - 50 - 5) * 1.0)
    fine = scheduler(100)
    fine.observe(20.0, 41)
    fine.observe(30.0, 51)
    assert fine.predicted_finish() == pytest.approx(30.0 + (FINISH_PROGRESS - 51) * 1.0)


def test_without_progress_polls_are_evenly_spaced_then_back_off_past_the_estimate() -> None:
    s = scheduler(50, min_interval=0.5, max_interval=100.0, backoff_factor=2.0, blind_step_fraction=0.1)
    s.observe(20.0, 0)  # pending: no progress yet
    assert s.next_delay(20.0) == pytest.approx(5.0)
    assert s.next_delay(40.0) == pytest.approx(5.0)
    delays = [s.next_delay(t) for t in (55.0, 60.0, 70.0)]
    assert delays == pytest.approx([5.0, 10.0, 20.0])


def test_overdue_polls_with_progress_back_off_geometrically_from_the_minimum_up_to_the_cap() -> None:
    s = scheduler(10, min_interval=1.0, backoff_factor=2.0, max_interval=5.0)
    s.observe(8.0, 90)  # predicted finish 8.8 s: overdue from then on
    delays = []
    t = 12.0
    for _ in range(6):
        delay = s.next_delay(t)
        delays.append(delay)
        t += delay
    assert delays == pytest.approx([1.0, 2.0, 4.0, 5.0, 5.0, 5.0])


def test_jitter_only_shortens_probes_and_stays_within_its_share() -> None:
    rng = random.Random(7)
    policy = PollPolicy(jitter=0.2, min_interval=0.1)
    seen = []
    for _ in range(200):
        s = PollScheduler(estimated_time=100, policy=policy, rng=rng)
        seen.append(s.next_delay(5.0))  # no progress: a blind step of the estimate
    step = policy.blind_step_fraction * 100
    assert all(step * 0.8 - 1e-9 <= d <= step for d in seen)
    assert len({round(d, 6) for d in seen}) > 50  # actually spread


def test_progress_going_backwards_discards_the_old_rate() -> None:
    s = scheduler(100)
    s.observe(10.0, 50)
    s.observe(20.0, 60)
    s.observe(30.0, 10)  # restarted upstream
    assert s.predicted_finish() == pytest.approx(30.0 * FINISH_PROGRESS / 10)


def test_updated_estimate_from_a_poll_is_used() -> None:
    s = scheduler(10)
    s.observe(8.0, 0, estimated_time=40)
    assert s.predicted_finish() == pytest.approx(40.0)


def test_delays_never_drop_below_the_minimum_interval() -> None:
    s = scheduler(10, min_interval=0.5)
    s.observe(9.9, 98)
    assert s.next_delay(9.9) >= 0.5


def test_linear_progress_is_caught_soon_after_the_end_in_a_few_polls() -> None:
    duration, s = 50.0, scheduler(45)
    t = s.first_poll_at()
    polls = 1
    while t < duration:
        s.observe(t, int(FINISH_PROGRESS * t / duration))
        t += s.next_delay(t)
        polls += 1
    assert t - duration < 1.0  # fixed 3-s polling: 1.5 s on average
    assert polls <= 5  # fixed 3-s polling: 17


def test_terminal_statuses_include_cancelled_from_callbacks() -> None:
    assert all(is_terminal(s) for s in ("completed", "failed", "cancelled"))
    assert not any(is_terminal(s) for s in ("pending", "processing", "paused", None))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("first_poll_fraction", 0.0),
        ("earliest_finish_fraction", 1.5),
        ("blind_step_fraction", 0.0),
        ("min_interval", 0.0),
        ("backoff_factor", 0.5),
        ("jitter", 1.0),
        ("first_poll_slack", -1.0),
        ("aim_margin", -0.1),
        ("probe_ratio", 0.0),
    ],
)
def test_bad_policy_values_name_the_field(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        PollPolicy(**{field: value})


def test_scaled_policy_multiplies_every_duration_and_keeps_every_share() -> None:
    scaled = POLICY.scaled(0.1)
    for name in ("min_interval", "max_interval", "default_estimate", "first_poll_slack", "aim_margin"):
        assert getattr(scaled, name) == pytest.approx(getattr(POLICY, name) * 0.1), name
    for name in ("first_poll_fraction", "earliest_finish_fraction", "blind_step_fraction", "probe_ratio"):
        assert getattr(scaled, name) == getattr(POLICY, name), name
    assert scheduler(45).first_poll_at() * 0.1 == pytest.approx(
        PollScheduler(estimated_time=4.5, policy=scaled).first_poll_at()
    )
