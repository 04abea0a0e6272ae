"""`current.parameter_names` and `current.tags`, as a step can observe them."""

from metaflow import FlowSpec, IncludeFile, JSONType, Parameter, current, step


class Base(FlowSpec):
    inherited = Parameter("inherited", default=0)


class CurrentNamesFlow(Base):
    zeta = Parameter("zeta", default=1)
    alpha_beta = Parameter("alpha-beta", default="x")
    conf = Parameter("conf", type=JSONType, default='{"a": 1}')
    notes = IncludeFile("notes", default="data/notes.txt")

    @step
    def start(self):
        self.observe()
        self.items = [1, 2]
        self.next(self.each, foreach="items")

    @step
    def each(self):
        self.observe()
        self.next(self.join)

    @step
    def join(self, inputs):
        self.observe()
        self.next(self.end)

    @step
    def end(self):
        self.observe()

    def observe(self):
        self.names = current.parameter_names
        self.names_type = type(current.parameter_names).__name__
        tags = current.tags
        self.tags_type = type(tags).__name__
        self.tags = sorted(tags)
        self.has_a = "a" in tags
        self.has_c = "c" in tags
        self.union = sorted(tags | {"z"})
        self.count = len(tags)


if __name__ == "__main__":
    CurrentNamesFlow()
