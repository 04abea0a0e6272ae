"""Reads another flow's latest successful run through the client, inside a step."""

from metaflow import Flow, FlowSpec, step


class ReaderFlow(FlowSpec):
    @step
    def start(self):
        run = Flow("BranchesFlow").latest_successful_run
        self.read_summary = run.data.summary
        self.read_score = run["join"].task.data.score
        self.read_steps = sorted(s.id for s in run)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ReaderFlow()
