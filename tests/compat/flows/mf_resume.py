"""Fails in `work` until a file named `fixed` exists in the working directory; then resume."""

import os

from metaflow import FlowSpec, step


class ResumeFlow(FlowSpec):
    @step
    def start(self):
        with open("start_runs.txt", "a") as f:
            f.write("start ran\n")
        self.items = [1, 2, 3]
        self.next(self.work, foreach="items")

    @step
    def work(self):
        if self.input == 2 and not os.path.exists("fixed"):
            raise RuntimeError("not fixed yet")
        self.square = self.input**2
        self.next(self.join)

    @step
    def join(self, inputs):
        self.squares = [i.square for i in inputs]
        self.next(self.end)

    @step
    def end(self):
        self.total = sum(self.squares)


if __name__ == "__main__":
    ResumeFlow()
