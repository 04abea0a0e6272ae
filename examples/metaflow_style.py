"""A flow written for Metaflow that runs unchanged under flowtui (and under Metaflow).

foreach over shards, @retry on a step that fails on its first attempt, @catch on a step that
fails for one shard: the join sees which shard failed instead of the run stopping.

    flowtui examples/metaflow_style.py
    python examples/metaflow_style.py run      # with Metaflow installed
"""

from metaflow import FlowSpec, Parameter, catch, current, retry, step


class MetaflowStyleFlow(FlowSpec):
    """Process shards in parallel, retrying a flaky fetch and catching a bad shard."""

    shards = Parameter("shards", default=3, help="How many shards to process.")

    @step
    def start(self):
        """List the shards."""
        self.shard_ids = list(range(self.shards))
        self.next(self.process, foreach="shard_ids")

    @retry(times=2, minutes_between_retries=0)
    @catch(var="error", print_exception=False)
    @step
    def process(self):
        """Fetch then process one shard: the fetch fails on its first attempt, shard 1 is bad."""
        self.shard = self.input
        if current.retry_count == 0:
            raise ConnectionError("the fetch fails once; @retry tries again")
        if self.shard == 1:
            raise ValueError("shard 1 is corrupt; @catch keeps the run going")
        self.rows = (self.shard + 1) * 100
        self.next(self.gather)

    @step
    def gather(self, inputs):
        """Count the rows of the good shards, name the bad ones."""
        self.rows = sum(task.rows for task in inputs if task.error is None)
        self.failed = [task.shard for task in inputs if task.error is not None]
        self.next(self.end)

    @step
    def end(self):
        """Report."""
        print(f"{self.rows} rows; failed shards: {self.failed}")


if __name__ == "__main__":
    MetaflowStyleFlow()
