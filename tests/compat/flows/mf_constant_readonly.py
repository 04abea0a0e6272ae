"""A step that tries to change a class constant: Metaflow refuses (AttributeError)."""

from metaflow import FlowSpec, step


class ConstantReadOnlyFlow(FlowSpec):
    LIMIT = 5
    labels = ["a", "b"]

    @step
    def start(self):
        self.tried = self._try_set()
        self.next(self.middle)

    @step
    def middle(self):
        self.tried_again = self._try_set()
        self.seen = (self.LIMIT, self.labels)
        self.next(self.end)

    @step
    def end(self):
        pass

    def _try_set(self):
        try:
            self.LIMIT = 6
        except AttributeError:
            return "refused"
        return "changed"


if __name__ == "__main__":
    ConstantReadOnlyFlow()
