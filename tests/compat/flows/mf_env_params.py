"""Parameters given as METAFLOW_RUN_<NAME> in the environment, as Metaflow's run reads them."""

from metaflow import FlowSpec, IncludeFile, Parameter, step


class EnvParamsFlow(FlowSpec):
    alpha = Parameter("alpha", default=1)
    flag = Parameter("flag", default=True)
    dashed_name = Parameter("dashed-name", default="default")
    untouched = Parameter("untouched", default="kept")
    notes = IncludeFile("notes", default="default.txt")

    @step
    def start(self):
        self.seen = (self.alpha, self.flag, self.dashed_name, self.untouched, self.notes)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    EnvParamsFlow()
