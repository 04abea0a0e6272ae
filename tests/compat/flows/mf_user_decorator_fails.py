"""A user step decorator that fails (raises, returns without yielding, yields twice), by
the parameter `case`."""

from metaflow import FlowSpec, Parameter, step, user_step_decorator


@user_step_decorator
def misbehave(step_name, flow, inputs=None):
    if flow.case == "no_yield":
        return
    if flow.case == "raise":
        raise RuntimeError("the decorator refuses")
    yield
    if flow.case == "twice":
        yield


class DecoratorFailsFlow(FlowSpec):
    case = Parameter("case", default="raise")

    @misbehave
    @step
    def start(self):
        print("start ran")
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    DecoratorFailsFlow()
