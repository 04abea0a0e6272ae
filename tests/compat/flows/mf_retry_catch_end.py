"""A step that fails on its first attempt and @retry runs again, and an end step whose
exception @catch catches: what the client says of the attempts and of such a run."""

from metaflow import FlowSpec, catch, current, retry, step


class RetryCatchEndFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.flaky)

    @retry(times=2, minutes_between_retries=0)
    @step
    def flaky(self):
        print(f"attempt {current.retry_count}")
        self.tried = current.retry_count  # each attempt's own value (Task(p, attempt=N).data)
        if current.retry_count < 1:
            raise RuntimeError("the first attempt fails")
        self.next(self.end)

    @catch(var="oops", print_exception=False)
    @step
    def end(self):
        self.result = "end ran"
        raise ValueError("end is caught")


if __name__ == "__main__":
    RetryCatchEndFlow()
