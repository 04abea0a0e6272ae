"""A split-switch step (Metaflow >= 2.18): only the case the condition picks runs."""

import os

from metaflow import FlowSpec, Parameter, step


class SwitchFlow(FlowSpec):
    score = Parameter("score", type=int, default=7)
    force = Parameter("force", default="")

    @step
    def start(self):
        self.route = self.force or ("high" if self.score > 5 else "low")
        self.next({"high": self.high, "low": self.low}, condition="route")

    @step
    def high(self):
        if self.score > 100 and not os.path.exists("fixed"):
            raise ValueError("scores over 100 need the fix")
        self.verdict = "high"
        self.next(self.merge)

    @step
    def low(self):
        self.verdict = "low"
        self.next(self.merge)

    @step
    def merge(self):
        self.seen = (self.route, self.verdict)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    SwitchFlow()
