"""A step @retry runs three times, and an end step whose ExternalCommandFailed @catch keeps."""

from metaflow import FlowSpec, catch, current, retry, step
from metaflow.exception import ExternalCommandFailed


class RetryAttemptsFlow(FlowSpec):
    @retry(times=2, minutes_between_retries=0)
    @step
    def start(self):
        self.attempt_seen = current.retry_count
        if current.retry_count < 2:
            raise ValueError("not yet")
        self.next(self.end)

    @catch(var="ex", print_exception=False)
    @step
    def end(self):
        raise ExternalCommandFailed("catch me")


if __name__ == "__main__":
    RetryAttemptsFlow()
