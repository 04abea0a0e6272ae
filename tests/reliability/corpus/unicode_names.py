from flowtui import FlowSpec, step


class ÜnïcødeFlow(FlowSpec):
    @step
    def start(self):
        self.größe = "groß"
        self.next(self.ende)

    @step
    def ende(self):
        self.next(self.end)

    @step
    def end(self):
        pass
