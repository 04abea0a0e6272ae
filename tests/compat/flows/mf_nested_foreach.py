"""A foreach inside a foreach: self.input, self.index, foreach_stack and join order."""

from metaflow import FlowSpec, step


class NestedForeachFlow(FlowSpec):
    @step
    def start(self):
        self.groups = ["a", "b", "c"]
        self.next(self.per_group, foreach="groups")

    @step
    def per_group(self):
        self.group = self.input
        self.group_index = self.index
        self.sizes = list(range(self.index + 2))
        self.next(self.per_size, foreach="sizes")

    @step
    def per_size(self):
        self.cell = f"{self.group}{self.input}"
        self.cell_index = self.index
        self.stack = [(index, splits, value) for index, splits, value in self.foreach_stack()]
        self.next(self.join_sizes)

    @step
    def join_sizes(self, inputs):
        self.cells = [i.cell for i in inputs]
        self.merge_artifacts(inputs, include=["group", "group_index"])
        self.next(self.join_groups)

    @step
    def join_groups(self, inputs):
        self.all_cells = [i.cells for i in inputs]
        self.groups_seen = [i.group for i in inputs]
        self.next(self.end)

    @step
    def end(self):
        self.count = sum(len(c) for c in self.all_cells)


if __name__ == "__main__":
    NestedForeachFlow()
