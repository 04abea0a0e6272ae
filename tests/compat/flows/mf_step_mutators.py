"""StepMutators adding and removing a step's decorators (flowtui's own and a user one), so
that they take effect; and a user decorator added to every step with --with."""

import os
import time

from metaflow import (
    FlowSpec,
    StepMutator,
    card,
    catch,
    current,
    environment,
    retry,
    step,
    timeout,
    user_step_decorator,
)
from metaflow.cards import Markdown
from metaflow.user_decorators.mutable_step import MutableStep


@user_step_decorator
def note(step_name, flow, inputs=None):
    print(f"note: {step_name} attempt {current.retry_count}")
    flow.noted = step_name
    yield


@user_step_decorator
def everywhere(step_name, flow, inputs, attributes):
    print(f"everywhere: {step_name} {attributes}")
    flow.everywhere_attributes = dict(attributes)
    yield


class Hardened(StepMutator):
    def init(self, *args, **kwargs):
        self.times = kwargs.get("times", 1)

    def mutate(self, mutable_step):
        mutable_step.add_decorator(
            retry, deco_kwargs={"times": self.times, "minutes_between_retries": 0}
        )
        mutable_step.add_decorator("catch:var=failure")
        mutable_step.add_decorator(note)
        mutable_step.remove_decorator("environment")


class Quick(StepMutator):
    def mutate(self, mutable_step):
        mutable_step.add_decorator(timeout, deco_kwargs={"seconds": 1})
        mutable_step.add_decorator(catch, deco_kwargs={"var": "timed_out"})
        mutable_step.add_decorator("note")
        mutable_step.add_decorator(card, deco_kwargs={"type": "blank", "id": "added"})


class NoRetries(StepMutator):
    def mutate(self, mutable_step: MutableStep):
        if mutable_step.has_decorator("retry"):
            mutable_step.add_decorator("retry:times=0", duplicates=MutableStep.OVERRIDE)


class MutatedFlow(FlowSpec):
    @Hardened(times=2)
    @environment(vars={"FROM_ENV": "set"})
    @step
    def start(self):
        self.env_seen = os.environ.get("FROM_ENV")
        self.attempt = current.retry_count
        print(f"start: attempt {current.retry_count}")
        if current.retry_count < 2:
            raise RuntimeError(f"attempt {current.retry_count} fails")
        self.next(self.slow)

    @Quick
    @step
    def slow(self):
        current.card["added"].append(Markdown("# added by a mutator"))
        self.before_sleep = True
        time.sleep(20)
        self.after_sleep = True
        self.next(self.fixed)

    @NoRetries
    @catch(var="fixed_error")
    @retry(times=3, minutes_between_retries=0)
    @step
    def fixed(self):
        self.fixed_attempt = current.retry_count
        raise ValueError(f"fixed fails on attempt {current.retry_count}")
        self.next(self.end)

    @step
    def end(self):
        self.summary = (
            self.failure is None,
            self.timed_out.type,
            self.fixed_error.type,
            self.fixed_error.exception,
        )


if __name__ == "__main__":
    MutatedFlow()
