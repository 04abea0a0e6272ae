"""A user step decorator below @step, on a plain function: refused when the file loads."""

from metaflow import FlowSpec, step, user_step_decorator


@user_step_decorator
def stamp(step_name, flow, inputs=None):
    yield


class MisplacedFlow(FlowSpec):
    @step
    @stamp
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    MisplacedFlow()
