"""Metaflow's exceptions, imported from `metaflow.exception` and caught around the client
inside a step: a missing flow, a missing run, and a run outside the namespace."""

from metaflow import Flow, FlowSpec, Run, current, namespace, step
from metaflow.exception import MetaflowException, MetaflowNamespaceMismatch, MetaflowNotFound


class ClientErrorsFlow(FlowSpec):
    @step
    def start(self):
        self.caught = {}
        asks = {
            "flow": lambda: Flow("NoSuchFlow"),
            "run": lambda: Run(f"{current.flow_name}/999999"),
        }
        for what, ask in asks.items():
            try:
                ask()
            except MetaflowNotFound as e:
                self.caught[what] = ("not found", isinstance(e, MetaflowException))
        namespace("user:nobody")
        try:
            Run(f"{current.flow_name}/{current.run_id}")
        except MetaflowNotFound:
            self.caught["other namespace"] = "not found"
        except MetaflowNamespaceMismatch as e:
            self.caught["other namespace"] = ("mismatch", isinstance(e, MetaflowException))
        namespace(None)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ClientErrorsFlow()
