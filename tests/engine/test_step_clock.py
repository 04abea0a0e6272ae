"""The runner's backstop for a @timeout step counts from when the task says its step started,
and stops when the task says the step's code ended (engine/step_clock.py): a task that takes
long to start (a busy machine, a Ray worker starting, a queue) or to store its artifacts is not
killed for it."""

from __future__ import annotations

from flowtui.engine import step_clock
from flowtui.engine.running import Running
from flowtui.engine.scheduler import PendingTask
from flowtui.engine.task import TaskOutcome, TaskRequest

OUTCOME = (TaskOutcome(ok=True).to_json() + "\n").encode()


def _running(timeout: float | None = 1.0) -> Running:
    request = TaskRequest(
        "flow.py", "F", "/store", "1", "start", "1", 0, "out", "err", {}, timeout=timeout
    )
    pending = PendingTask("start", (), (), ())
    return Running(pending, "1", 0, None, request, started=0.0)  # type: ignore[arg-type]


def test_a_task_that_has_not_started_its_step_has_no_deadline_however_long_ago_it_launched():
    running = _running()
    running.take(b"", now=1000.0)  # launched at 0: a slow start is not the step's time
    assert running.deadline is None


def test_the_deadline_counts_from_the_step_start_and_ends_with_the_step():
    running = _running()
    running.take(step_clock.STARTED, now=100.0)
    assert running.deadline == 100.0 + 1.0 + step_clock.GRACE
    running.take(step_clock.STOPPED + OUTCOME[:10], now=101.0)
    assert running.deadline is None  # storing its artifacts is flowtui's time, not the step's
    running.take(OUTCOME[10:], now=200.0)
    assert bytes(running.buffer) == OUTCOME  # the notes never reach the outcome
    assert TaskOutcome.from_json(running.buffer.decode()).ok


def test_notes_read_together_leave_the_last_one_in_force():
    running = _running()
    running.take(step_clock.STARTED + step_clock.STOPPED, now=5.0)
    assert running.deadline is None
    running.take(step_clock.STOPPED + step_clock.STARTED, now=6.0)
    assert running.deadline == 6.0 + 1.0 + step_clock.GRACE


def test_a_task_that_waited_at_a_breakpoint_is_never_timed_again():
    running = _running()
    running.untimed = True  # engine/watching.py: time in a debugger is the user's
    running.take(step_clock.STARTED, now=5.0)
    assert running.deadline is None


def test_an_outcome_never_holds_the_notes_raw():
    text = TaskOutcome.raised(ValueError("\x01\x02 in a message"), "tb \x01\x02").to_json()
    assert step_clock.STARTED not in text.encode() and step_clock.STOPPED not in text.encode()
