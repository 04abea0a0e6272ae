"""Config: values from Metaflow's variables, `**config` in a decorator, and parameter defaults
from a config (an expression above it, a function reading `ctx.configs`)."""

import os

from metaflow import Config, FlowSpec, Parameter, config_expr, environment, step


def one_more(ctx):
    return ctx.configs.limits.top + 1


class ConfigEnvFlow(FlowSpec):
    early = Parameter("early", default=config_expr("limits").top, type=int)
    computed = Parameter("computed", default=one_more, type=int)
    limits = Config("limits", default_value={"top": 1})
    env = Config("env", default_value={"vars": {"SHOUT": "quiet"}})

    @environment(**env)
    @step
    def start(self):
        self.values = (self.early, self.computed, self.limits.top, os.environ["SHOUT"])
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ConfigEnvFlow()
