"""A flow that fails in a middle step, to try resume.

`train` raises unless the environment variable FLOWTUI_FIX is set to 1. Run it once and watch
it fail; then fix it (set FLOWTUI_FIX=1, or edit `train`) and resume: `start` and `prepare`
are reused from the failed run, only `train` and `end` run again.

    flowtui run examples/flaky.py                        # fails in train
    FLOWTUI_FIX=1 flowtui resume examples/flaky.py       # reuses start and prepare
"""

import os

from flowtui import FlowSpec, step


class FlakyFlow(FlowSpec):
    """Prepare data, then train on it: training fails until FLOWTUI_FIX=1."""

    @step
    def start(self):
        """Pick the size of the data."""
        self.size = 5
        self.next(self.prepare)

    @step
    def prepare(self):
        """Make the (expensive, reusable) data."""
        self.data = [i * i for i in range(self.size)]
        print(f"prepared {len(self.data)} rows")
        self.next(self.train)

    @step
    def train(self):
        """Fit a 'model'; fails unless FLOWTUI_FIX=1."""
        print(f"training on {self.data}")
        if os.environ.get("FLOWTUI_FIX") != "1":
            raise RuntimeError("train is broken on purpose; set FLOWTUI_FIX=1 and resume")
        self.model = sum(self.data) / len(self.data)
        self.next(self.end)

    @step
    def end(self):
        """Report."""
        print(f"model: {self.model}")


if __name__ == "__main__":
    FlakyFlow()
