"""Config: files and values read once as the run starts, in steps, decorators and defaults.

Reads config.json and settings.toml from the working directory (the tests write them); the
end step fails while a file named fail-end is there.
"""

import os

from metaflow import (
    Config,
    FlowSpec,
    Parameter,
    config_expr,
    current,
    environment,
    project,
    resources,
    retry,
    step,
)


def shouted(text):
    """A parser: `key=value` lines, values upper-cased."""
    return dict(line.split("=", 1) for line in text.upper().splitlines() if "=" in line)


@project(name=config_expr("config.project"))
class ConfigFlow(FlowSpec):
    config = Config("config", default="config.json", help="The main settings.")
    settings = Config("settings", default="settings.toml", parser="tomllib.loads")
    defaults = Config("defaults", default_value={"k": [1, 2], "nested": {"m": 3}})
    computed = Config("computed", default_value=lambda ctx: {"for": ctx.parameter_name})
    lines = Config("lines", default_value="a=1\nb=two", parser=shouted)
    text = Config("text", default_value="as it is", plain=True)
    alpha = Parameter("alpha", default=config.alpha)
    beta = Parameter("beta", default=config_expr("config.alpha + 1"))

    @retry(times=config.retries)
    @environment(vars={"GREETING": config.greeting})
    @resources(cpu=config.cpu)
    @step
    def start(self):
        if current.retry_count < self.config.retries:
            raise RuntimeError("fails until its last retry")
        self.attempts = current.retry_count
        self.greeting = os.environ["GREETING"]
        self.seen = (self.alpha, self.beta, self.config.alpha, self.config["greeting"])
        self.nested = (self.defaults.nested.m, self.defaults["k"], self.computed)
        self.model = self.settings.model.name
        self.parsed = (self.lines, self.text)
        self.project = current.project_name
        self.parameter_names = current.parameter_names
        self.kinds = (type(self.config).__name__, isinstance(self.config, dict))
        self.copy = self.config.to_dict()
        self.whole = self.config
        refused = []
        for change in (
            lambda: setattr(self.config, "alpha", 5),
            lambda: self.config.__setitem__("alpha", 5),
            lambda: self.config.update({"alpha": 5}),
        ):
            try:
                change()
            except TypeError as e:
                refused.append(type(e).__name__)
        try:
            self.config = {"alpha": 5}
        except AttributeError as e:
            refused.append(type(e).__name__)
        self.refused = refused
        self.next(self.end)

    @step
    def end(self):
        self.at_end = (self.config.alpha, self.settings.model.layers)
        if os.path.exists("fail-end"):  # a resume test's failure, until the file is gone
            raise RuntimeError("end fails while fail-end exists")


if __name__ == "__main__":
    ConfigFlow()
