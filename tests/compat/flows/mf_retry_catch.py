"""@retry that succeeds on the second attempt; @catch with and without an exception."""

from metaflow import FlowSpec, catch, current, retry, step


class RetryCatchFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.flaky, self.risky, self.calm, self.stubborn)

    @retry(times=2, minutes_between_retries=0)
    @step
    def flaky(self):
        self.attempt_seen = current.retry_count
        if current.retry_count == 0:
            raise RuntimeError("the first attempt fails")
        self.next(self.join)

    @catch(var="risky_error", print_exception=False)
    @step
    def risky(self):
        self.before_error = "set before the error"
        if self.before_error:
            raise ValueError("bad value 42")
        self.next(self.join)

    @catch(var="calm_error")
    @step
    def calm(self):
        self.calm_attempt = current.retry_count
        self.next(self.join)

    @catch(var="stubborn_error", print_exception=False)
    @retry(times=1, minutes_between_retries=0)
    @step
    def stubborn(self):
        self.stubborn_attempt = current.retry_count
        raise KeyError(f"attempt {current.retry_count}")
        self.next(self.join)

    @step
    def join(self, inputs):
        self.flaky_attempt = inputs.flaky.attempt_seen
        self.risky_type = inputs.risky.risky_error.type
        self.risky_message = inputs.risky.risky_error.exception
        self.risky_before = inputs.risky.before_error
        self.calm_error_is_none = inputs.calm.calm_error is None
        self.stubborn_attempt = inputs.stubborn.stubborn_attempt
        self.stubborn_message = inputs.stubborn.stubborn_error.exception
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    RetryCatchFlow()
