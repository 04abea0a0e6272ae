"""A @parallel gang, as Metaflow runs one locally (not mf_*: the Ray parity test skips it, since
a gang runs on the local executor only)."""

from metaflow import FlowSpec, current, parallel, step


class GangFlow(FlowSpec):
    @step
    def start(self):
        self.before = "set before the gang"
        self.next(self.train, num_parallel=3)

    @parallel
    @step
    def train(self):
        p = current.parallel
        self.place = (p.node_index, p.num_nodes, p.main_ip, self.input, current.is_parallel)
        self.has_control = p.control_task_id is not None
        self.next(self.join)

    @step
    def join(self, inputs):
        self.places = sorted(i.place for i in inputs)
        self.merge_artifacts(inputs, include=["before"])
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    GangFlow()
