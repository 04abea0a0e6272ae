"""The client's answers, read by the flow's own end step: step and task order, metadata_dict,
system tags, the `name` artifact, and a @catch task's `successful`."""

from metaflow import FlowSpec, Run, catch, current, step

KEYS = ("attempt", "attempt_ok", "attempt-done", "user", "ds-type", "origin-run-id", "script-name")


class ClientShapesFlow(FlowSpec):
    @step
    def start(self):
        self.items = [1, 2, 3]
        self.next(self.work, foreach="items")

    @catch(var="problem", print_exception=False)
    @step
    def work(self):
        self.item = self.input
        if self.input == 2:
            raise ValueError("item 2 is caught")
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        run = Run(f"{current.flow_name}/{current.run_id}")
        self.step_order = [s.id for s in run]
        work = list(run["work"])
        self.task_order = [t.data.item for t in work]
        self.successful = [(t.data.item, t.successful, t.finished) for t in work]
        start = run["start"].task
        meta = start.metadata_dict
        self.metadata = {k: meta.get(k) for k in KEYS}
        self.name_artifact = (start["name"].data, start.data.name, "name" in start)
        self.system_tags = sorted(
            t for t in run.system_tags if t.startswith(("user:", "python_version:"))
        )


if __name__ == "__main__":
    ClientShapesFlow()
