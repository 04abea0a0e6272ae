"""A foreach: one task per item of a list, run in parallel, then a join aggregates them.

Open it in the TUI:

    flowtui examples/foreach.py
"""

from flowtui import FlowSpec, step


class ForeachFlow(FlowSpec):
    """Score a few words, one task per word, and keep the best."""

    @step
    def start(self):
        """Choose the words; each becomes one task of `score`."""
        self.words = ["apple", "kiwi", "banana", "fig"]
        self.next(self.score, foreach="words")

    @step
    def score(self):
        """Score one word (self.input is this task's word)."""
        self.word = self.input
        self.points = len(set(self.word)) * 10
        print(f"task {self.index}: {self.word} scores {self.points}")
        self.next(self.best)

    @step
    def best(self, inputs):
        """Gather every task's score and pick the best word."""
        self.scores = {task.word: task.points for task in inputs}
        self.winner = max(self.scores, key=self.scores.get)
        self.next(self.end)

    @step
    def end(self):
        """Report."""
        print(f"scores: {self.scores}; best: {self.winner}")


if __name__ == "__main__":
    ForeachFlow()
