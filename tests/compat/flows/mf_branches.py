"""Branches joined with merge_artifacts: agreeing values merge, the join's own value wins."""

import random

from metaflow import FlowSpec, step


class BranchesFlow(FlowSpec):
    GREETING = "hello"  # a class constant: Metaflow stores it as an artifact

    @step
    def start(self):
        self.shared = {"k": [1, 2]}
        self.score = 0
        self.token = random.random()  # random by design: compared by type
        self.next(self.left, self.right)

    @step
    def left(self):
        self.score = 1
        self.only_left = "L"
        self.same_both = (1, "x")
        self.next(self.join)

    @step
    def right(self):
        self.score = 2
        self.only_right = b"R"
        self.same_both = (1, "x")
        self.next(self.join)

    @step
    def join(self, inputs):
        self.score = max(i.score for i in inputs)  # set here, so merge_artifacts leaves it
        self.left_score = inputs.left.score
        self.merge_artifacts(inputs)
        self.next(self.end)

    @step
    def end(self):
        self.summary = (self.score, self.only_left, self.only_right, self.same_both)


if __name__ == "__main__":
    BranchesFlow()
