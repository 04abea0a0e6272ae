"""Defaults of another type than the declared `type=`: Metaflow (click) converts them."""

from metaflow import FlowSpec, Parameter, step


class TypedDefaultsFlow(FlowSpec):
    whole = Parameter("whole", type=int, default="5")
    ratio = Parameter("ratio", type=float, default="0.5")
    epochs = Parameter("epochs", type=float, default=3)
    rounded = Parameter("rounded", type=int, default=2.0)
    off = Parameter("off", type=bool, default="false")
    on = Parameter("on", type=bool, default="yes")
    kept = Parameter("kept", type=str, default=3)

    @step
    def start(self):
        self.branch = "on" if self.off else "off"  # a string "false" would be truthy
        self.next(self.end)

    @step
    def end(self):
        self.doubled = self.whole * 2


if __name__ == "__main__":
    TypedDefaultsFlow()
