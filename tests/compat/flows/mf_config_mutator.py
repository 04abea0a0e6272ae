"""Config read by a FlowMutator: it adds @environment to the steps but end from the config's
values, and a StepMutator's `mutable_step.flow.configs` sees them too (end's @environment)."""

import os

from metaflow import Config, FlowMutator, FlowSpec, Parameter, StepMutator, environment, step


class EnvFromConfig(FlowMutator):
    def pre_mutate(self, mutable_flow):
        # configs are not parameters; the flow stores what the mutator saw
        mutable_flow.add_parameter(
            "saw", Parameter("saw", default=",".join(n for n, _ in mutable_flow.parameters))
        )

    def mutate(self, mutable_flow):
        for name, value in mutable_flow.configs:
            if name == "settings":
                for step_name, mutable_step in mutable_flow.steps:
                    if step_name == "end":
                        continue
                    mutable_step.add_decorator(
                        environment, deco_kwargs={"vars": {"MODE": value.mode}}
                    )


class Tagged(StepMutator):
    def mutate(self, mutable_step):
        levels = dict(mutable_step.flow.configs)["settings"].levels
        mutable_step.add_decorator(environment, deco_kwargs={"vars": {"LEVELS": str(levels)}})


@EnvFromConfig
class ConfigMutatorFlow(FlowSpec):
    settings = Config("settings", default_value={"mode": "fast", "levels": [1, 2]})
    size = Parameter("size", default=2)

    @step
    def start(self):
        self.mode = os.environ["MODE"]
        self.next(self.end)

    @Tagged
    @step
    def end(self):
        self.levels = os.environ["LEVELS"]


if __name__ == "__main__":
    ConfigMutatorFlow()
