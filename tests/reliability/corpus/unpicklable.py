import threading
from flowtui import FlowSpec, step


class LockFlow(FlowSpec):
    @step
    def start(self):
        self.lock = threading.Lock()
        self.next(self.end)

    @step
    def end(self):
        pass
