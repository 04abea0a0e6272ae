"""Parameter(multiple=True): every value given, as a tuple."""

from metaflow import FlowSpec, Parameter, step


class MultipleFlow(FlowSpec):
    vals = Parameter("val", type=int, multiple=True, help="repeatable")
    names = Parameter("name", type=str, multiple=True, default=["a", "b"])
    single = Parameter("single", type=int, default=0)

    @step
    def start(self):
        self.seen = (self.vals, self.names, self.single)
        self.total = sum(self.vals)
        self.next(self.end)

    @step
    def end(self):
        self.kinds = [type(self.vals).__name__, type(self.names).__name__]


if __name__ == "__main__":
    MultipleFlow()
