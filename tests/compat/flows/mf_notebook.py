"""A flow to read back through the client as a notebook does: a foreach, a branch and its
join, a step @catch caught, output on both streams, and a join that fails until a file named
`fixed` exists in the working directory (then resume)."""

import os
import sys

from metaflow import FlowSpec, catch, step


class NotebookFlow(FlowSpec):
    @step
    def start(self):
        print("start says hello")
        print("start warns", file=sys.stderr)
        self.items = ["a", "b", "c"]
        self.next(self.fan, foreach="items")

    @step
    def fan(self):
        self.x = self.input.upper()
        print(f"fan {self.input}")
        self.next(self.gather)

    @step
    def gather(self, inputs):
        self.xs = [i.x for i in inputs]
        self.next(self.split)

    @step
    def split(self):
        self.next(self.left, self.right)

    @catch(var="oops", print_exception=False)
    @step
    def left(self):
        self.side = "L"
        raise ValueError("left is caught")
        self.next(self.join)

    @step
    def right(self):
        self.side = "R"
        self.next(self.join)

    @step
    def join(self, inputs):
        if not os.path.exists("fixed"):
            raise RuntimeError("join is not fixed yet")
        self.sides = sorted(str(i.side) for i in inputs)
        self.merge_artifacts(inputs, exclude=["side"])
        self.next(self.end)

    @step
    def end(self):
        self.result = "".join(self.xs)


if __name__ == "__main__":
    NotebookFlow()
