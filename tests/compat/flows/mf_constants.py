"""Class constants through joins that do not merge artifacts: Metaflow passes them (with the
parameters) down from a join's first input, so every later task has them as artifacts."""

from metaflow import FlowSpec, Parameter, step


class ConstantsFlow(FlowSpec):
    LIMIT = 5
    WORDS = ("a", "b")
    scale = Parameter("scale", default=2)

    @step
    def start(self):
        self.next(self.left, self.right)

    @step
    def left(self):
        self.next(self.branches_in)

    @step
    def right(self):
        self.next(self.branches_in)

    @step
    def branches_in(self, inputs):
        self.next(self.fan)

    @step
    def fan(self):
        self.items = [1, 2]
        self.next(self.each, foreach="items")

    @step
    def each(self):
        self.value = self.input * self.scale * self.LIMIT
        self.next(self.fan_in)

    @step
    def fan_in(self, inputs):
        self.values = [i.value for i in inputs]
        self.next(self.end)

    @step
    def end(self):
        self.seen = (self.LIMIT, self.WORDS, self.scale)


if __name__ == "__main__":
    ConstantsFlow()
