"""A join whose first merge_artifacts fails: nothing is merged, and the errors are Metaflow's."""

from metaflow import FlowSpec, step
from metaflow.exception import (
    MetaflowException,
    MissingInMergeArtifactsException,
    UnhandledInMergeArtifactsException,
)
from metaflow.metaflow_current import current


class MergeFailedFlow(FlowSpec):
    @step
    def start(self):
        self.same = "s"
        self.next(self.a, self.b)

    @step
    def a(self):
        self.differs = "a"
        self.next(self.join)

    @step
    def b(self):
        self.differs = "b"
        self.next(self.join)

    @step
    def join(self, inputs):
        self.failed_merge = self._attempt(lambda: self.merge_artifacts(inputs))
        self.same_after_failure = hasattr(self, "same")
        self.both_options = self._attempt(
            lambda: self.merge_artifacts(inputs, include=["same"], exclude=["differs"])
        )
        self.missing = self._attempt(lambda: self.merge_artifacts(inputs, include=["nope"]))
        self.differs = "join"
        self.merge_artifacts(inputs)
        self.merged = (self.same, self.differs)
        self.step_seen = current.step_name
        self.next(self.end)

    @step
    def end(self):
        self.not_a_join = self._attempt(lambda: self.merge_artifacts([]))

    def _attempt(self, merge):
        try:
            merge()
        except UnhandledInMergeArtifactsException:
            return "unhandled"
        except MissingInMergeArtifactsException:
            return "missing"
        except MetaflowException:
            return "metaflow"
        return "merged"


if __name__ == "__main__":
    MergeFailedFlow()
