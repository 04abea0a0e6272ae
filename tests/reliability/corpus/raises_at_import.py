from flowtui import FlowSpec, step

raise RuntimeError("configuration file not found")


class ImportErrorFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
