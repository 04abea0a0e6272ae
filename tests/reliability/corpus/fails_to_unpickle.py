from flowtui import FlowSpec, step


class Fragile:
    def __reduce__(self):
        return (_explode, ())


def _explode():
    raise ValueError("this value cannot be rebuilt")


class FragileFlow(FlowSpec):
    @step
    def start(self):
        self.value = Fragile()
        self.next(self.end)

    @step
    def end(self):
        print(self.value)
