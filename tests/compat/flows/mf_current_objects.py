"""`current.run` and `current.task`, kept as artifacts and read again downstream."""

from metaflow import FlowSpec, current, namespace, step


class CurrentObjectsFlow(FlowSpec):
    @step
    def start(self):
        self.task_obj = current.task
        self.run_obj = current.run
        self.next(self.end)

    @step
    def end(self):
        namespace("nobody-has-this-tag")  # unpickled objects need no namespace
        self.seen = (
            self.task_obj.pathspec
            == f"{current.flow_name}/{current.run_id}/start/" + self.task_obj.id,
            self.task_obj.parent.id,
            self.run_obj.id == current.run_id,
            self.run_obj["start"].id,
            type(self.run_obj).__name__,
        )


if __name__ == "__main__":
    CurrentObjectsFlow()
