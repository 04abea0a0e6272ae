"""A static split: three branches do different work on the same data, a join gathers them.

Open it in the TUI:

    flowtui examples/branch_join.py
"""

from flowtui import FlowSpec, step


class BranchJoinFlow(FlowSpec):
    """Describe a list of numbers three ways at once."""

    @step
    def start(self):
        """Make the data every branch reads."""
        self.numbers = [3, 1, 4, 1, 5, 9, 2, 6]
        self.next(self.add_up, self.measure, self.order)

    @step
    def add_up(self):
        """Sum of the numbers."""
        self.x = sum(self.numbers)
        print(f"total: {self.x}")
        self.next(self.join)

    @step
    def measure(self):
        """Largest minus smallest."""
        self.x = max(self.numbers) - min(self.numbers)
        print(f"spread: {self.x}")
        self.next(self.join)

    @step
    def order(self):
        """The numbers in order."""
        self.ordered = sorted(self.numbers)
        print(f"sorted: {self.ordered}")
        self.next(self.join)

    @step
    def join(self, inputs):
        """Pick each branch's result; merge what they all agree on (numbers, ordered)."""
        self.total = inputs.add_up.x
        self.spread = inputs.measure.x
        self.merge_artifacts(inputs, exclude=["x"])
        self.next(self.end)

    @step
    def end(self):
        """Report."""
        print(f"total={self.total} spread={self.spread} sorted={self.ordered}")


if __name__ == "__main__":
    BranchJoinFlow()
