"""Metaflow's run options: --with retry, --max-num-splits, --namespace, --tag."""

from metaflow import FlowSpec, current, get_namespace, retry, step


class OptionsFlow(FlowSpec):
    @step
    def start(self):
        self.items = [1, 2, 3]
        self.next(self.work, foreach="items")

    @step
    def work(self):
        if current.retry_count == 0 and self.input == 2:
            raise ValueError("the first attempt of item 2 fails")
        self.attempt = current.retry_count
        self.next(self.join)

    @step
    def join(self, inputs):
        self.attempts = [i.attempt for i in inputs]
        self.namespaces = (current.namespace, get_namespace())
        self.tags = sorted(t for t in current.tags if t in ("a", "b"))
        self.next(self.end)

    @retry(times=0)
    @step
    def end(self):
        self.own_retry_kept = current.retry_count == 0


if __name__ == "__main__":
    OptionsFlow()
