"""`run --with card`: a step without a card, and one with a card of another type and id."""

from metaflow import FlowSpec, card, step


class WithCardFlow(FlowSpec):
    @step
    def start(self):
        self.x = 1
        self.next(self.middle)

    @card(type="blank", id="notes")
    @step
    def middle(self):
        self.y = 2
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    WithCardFlow()
