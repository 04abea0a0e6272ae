"""FlowMutators (Metaflow >= 2.16), as Metaflow's docs write them: one on a base flow that
adds @retry and a user decorator to every step, one that adds and removes parameters and a
flow decorator in pre_mutate and changes a step in mutate."""

import os

from metaflow import (
    FlowMutator,
    FlowSpec,
    Parameter,
    current,
    environment,
    step,
    user_step_decorator,
)
from metaflow.user_decorators.mutable_flow import MutableFlow


@user_step_decorator
def fallback(step_name, flow, inputs, attributes):
    try:
        yield
    except Exception as e:
        if current.retry_count < 1:
            raise  # @retry tries again first
        print(f"fallback: {step_name} failed on attempt {current.retry_count}: {e}")
        setattr(flow, attributes.get("indicator", "fell_back"), f"{type(e).__name__}: {e}")


class robust_flow(FlowMutator):
    def init(self, *args, **kwargs):
        self.disable_fallback = bool(kwargs.get("disable_fallback"))
        self.fallback_attributes = {}
        indicator = kwargs.get("fallback_indicator")
        if indicator:
            self.fallback_attributes["indicator"] = indicator

    def mutate(self, mutable_flow):
        for _name, step_ in mutable_flow.steps:
            step_.add_decorator("retry:times=1,minutes_between_retries=0", duplicates=step_.IGNORE)
            if not self.disable_fallback:
                step_.add_decorator(
                    fallback, deco_kwargs=self.fallback_attributes, duplicates=step_.IGNORE
                )


class with_knobs(FlowMutator):
    def pre_mutate(self, mutable_flow: MutableFlow):
        mutable_flow.add_parameter("alpha", Parameter("alpha", default=0.5))
        mutable_flow.remove_parameter("obsolete")
        mutable_flow.add_decorator("project:name=knobs_proj")
        names = sorted(name for name, _ in mutable_flow.parameters)
        mutable_flow.add_parameter("known", Parameter("known", default=",".join(names)))

    def mutate(self, mutable_flow):
        if mutable_flow.has_decorator("project"):
            mutable_flow.start.add_decorator(environment, deco_kwargs={"vars": {"KNOB": "on"}})


@robust_flow(fallback_indicator="failure_message")
class BaseFlow(FlowSpec):
    beta = Parameter("beta", default=2)


@with_knobs
class KnobsFlow(BaseFlow):
    obsolete = Parameter("obsolete", default="gone")

    @step
    def start(self):
        self.knob = os.environ.get("KNOB")
        self.values = (self.alpha, self.beta, self.known, hasattr(self, "obsolete"))
        self.project = current.project_name
        self.next(self.flaky)

    @step
    def flaky(self):
        self.attempt = current.retry_count
        raise ValueError(f"attempt {current.retry_count} fails")
        self.next(self.end)

    @step
    def end(self):
        self.parameter_names = current.parameter_names


if __name__ == "__main__":
    KnobsFlow()
