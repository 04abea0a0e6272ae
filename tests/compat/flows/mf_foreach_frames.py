"""Nested foreaches reading Metaflow's own frames, `self._foreach_stack`, and the step's
name, `self._current_step`."""

from metaflow import FlowSpec, step


class ForeachFramesFlow(FlowSpec):
    @step
    def start(self):
        self.lineage = (self._current_step,)
        self.letters = ["a", "b"]
        self.next(self.outer, foreach="letters")

    @step
    def outer(self):
        self.numbers = [1, 2, 3]
        self.next(self.inner, foreach="numbers")

    @step
    def inner(self):
        self.frames = [(f.step, f.var, f.num_splits, f.index) for f in self._foreach_stack]
        self.values = [str(getattr(self, f.var)) for f in self._foreach_stack]
        self.lineage += (self._current_step,)
        self.next(self.join_inner)

    @step
    def join_inner(self, inputs):
        self.frames = [i.frames for i in inputs]
        self.next(self.join_outer)

    @step
    def join_outer(self, inputs):
        self.frames = [i.frames for i in inputs]
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ForeachFramesFlow()
