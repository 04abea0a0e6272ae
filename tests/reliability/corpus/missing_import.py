import no_such_module_for_flowtui_tests
from flowtui import FlowSpec, step


class MissingImportFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
