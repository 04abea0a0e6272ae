"""A @timeout step that cannot stop itself: SIGALRM blocked, as in C code that never returns to
Python. Only the runner's backstop ends it (engine/step_clock.py)."""

import signal
import time

from flowtui import FlowSpec, step, timeout


class StuckFlow(FlowSpec):
    @timeout(seconds=1)
    @step
    def start(self):
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        while True:
            time.sleep(0.5)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    StuckFlow()
