from flowtui import FlowSpec, step


class NoEndFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.middle)

    @step
    def middle(self):
        self.next(self.start)
