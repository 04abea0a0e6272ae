"""The smallest flow with an artifact: a run to read back (tags, client answers)."""

from metaflow import FlowSpec, step


class TwoStepsFlow(FlowSpec):
    @step
    def start(self):
        self.value = 1
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    TwoStepsFlow()
