"""A step @timeout stops, whose exception @catch keeps."""

import time

from metaflow import FlowSpec, catch, step, timeout


class TimeoutCaughtFlow(FlowSpec):
    @catch(var="ex", print_exception=False)
    @timeout(seconds=1)
    @step
    def start(self):
        self.before = True
        while self.before:
            time.sleep(0.05)
        self.next(self.end)

    @step
    def end(self):
        self.caught_type = self.ex.type


if __name__ == "__main__":
    TimeoutCaughtFlow()
