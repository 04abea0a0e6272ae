"""Parameters of each type, typed by type= or by the default's type."""

from metaflow import FlowSpec, JSONType, Parameter, current, step


class ParamsFlow(FlowSpec):
    count = Parameter("count", default=3)
    ratio = Parameter("ratio", default=0.5)
    label = Parameter("label", default="plain")
    enabled = Parameter("enabled", default=False)
    typed = Parameter("typed", type=int, default=7)
    limit = Parameter("limit", type=float)
    config = Parameter("config", type=JSONType, default='{"depth": 2, "tags": ["a"]}')
    words = Parameter("words", default="a,b", separator=",")
    dashed = Parameter("dashed-name", default="d")

    @step
    def start(self):
        values = [
            self.count,
            self.ratio,
            self.label,
            self.enabled,
            self.typed,
            self.limit,
            self.config,
            self.words,
            self.dashed,
        ]
        self.types = [type(v).__name__ for v in values]
        self.doubled = self.count * 2
        self.current_view = (
            current.flow_name,
            current.step_name,
            current.is_running_flow,
            current.retry_count,
            current.origin_run_id,
            current.pathspec.split("/")[2],
            self.input,
            self.index,
        )
        self.next(self.end)

    @step
    def end(self):
        self.seen_in_end = (self.count, self.enabled, self.config)


if __name__ == "__main__":
    ParamsFlow()
