"""A step whose process kills itself on every attempt, under @retry and @catch."""

import os
import signal

from metaflow import FlowSpec, catch, retry, step


class CatchKilledFlow(FlowSpec):
    @step
    def start(self):
        self.kept = "from start"
        self.next(self.die)

    @catch(var="ex", print_exception=False)
    @retry(times=1, minutes_between_retries=0)
    @step
    def die(self):
        self.never_stored = True
        os.kill(os.getpid(), signal.SIGKILL)
        self.next(self.end)

    @step
    def end(self):
        self.caught = (self.ex.type, self.ex.exception)
        self.got_past = hasattr(self, "never_stored")


if __name__ == "__main__":
    CatchKilledFlow()
