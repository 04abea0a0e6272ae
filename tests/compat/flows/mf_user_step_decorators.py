"""User step decorators (Metaflow >= 2.16): the generator form and the class form, around
plain, join and failing steps, with @retry and @catch."""

from metaflow import (
    USER_SKIP_STEP,
    FlowSpec,
    UserStepDecorator,
    catch,
    current,
    retry,
    step,
    user_step_decorator,
)


@user_step_decorator
def stamp(step_name, flow, inputs=None):
    print(f"stamp: before {step_name}")
    flow.stamped_before = step_name
    yield
    flow.stamped_after = f"{step_name} after attempt {current.retry_count}"
    print(f"stamp: after {step_name}")


@user_step_decorator
def tagged(step_name, flow, inputs, attributes):
    flow.tag_attributes = dict(attributes)
    flow.input_count = None if inputs is None else len(list(inputs))
    yield


@user_step_decorator
def skip_when(step_name, flow, inputs, attributes):
    if attributes.get("skip"):
        print(f"skip_when: skipping {step_name}")
        yield USER_SKIP_STEP
    else:
        yield


@user_step_decorator
def swallow(step_name, flow, inputs=None):
    try:
        yield
    except ValueError as e:
        print(f"swallow: {e}")
        flow.swallowed = str(e)


@user_step_decorator
def replace_error(step_name, flow, inputs=None):
    try:
        yield
    except KeyError as e:
        raise RuntimeError(f"replaced {e}") from None


class Labelled(UserStepDecorator):
    def init(self, *args, **kwargs):
        self.label = kwargs.get("label", "none")

    def pre_step(self, step_name, flow, inputs=None):
        print(f"Labelled: pre {self.label} {step_name}")
        flow.label_seen = f"{self.label}:{step_name}"

    def post_step(self, step_name, flow, exception=None):
        flow.label_post = repr(exception)
        return exception, None


@user_step_decorator
def instead(step_name, flow, inputs=None):
    def run_instead(self):
        print(f"instead: {step_name} replaced")
        self.ran_instead = True
        return True  # then self.next as the step would have called it

    yield run_instead


class SkipByProperty(UserStepDecorator):
    def pre_step(self, step_name, flow, inputs=None):
        self.skip_step = True

    def post_step(self, step_name, flow, exception=None):
        return None  # no exception; keep the skip's self.next


class StepOnce(FlowSpec):
    @stamp
    @step
    def start(self):
        print("start: the step itself")
        self.from_step = 1
        self.next(self.a, self.b, self.c, self.d, self.e, self.f)

    @tagged(color="red", size=3)
    @Labelled(label="outer")
    @step
    def a(self):
        self.order = ["a step"]
        self.next(self.join)

    @skip_when(skip=True)
    @step
    def b(self):
        self.never = "the step ran"
        self.next(self.join)

    @swallow
    @step
    def c(self):
        self.before_raise = "kept"
        raise ValueError("c failed")
        self.next(self.join)

    @catch(var="caught")
    @retry(times=1, minutes_between_retries=0)
    @stamp
    @replace_error
    @step
    def d(self):
        self.attempt = current.retry_count
        raise KeyError("k")
        self.next(self.join)

    @instead
    @step
    def e(self):
        self.ran_instead = False
        self.next(self.join)

    @SkipByProperty
    @skip_when
    @step
    def f(self):
        self.never = "f ran"
        self.next(self.join)

    @tagged
    @step
    def join(self, inputs):
        self.swallowed = inputs.c.swallowed
        self.caught_type = inputs.d.caught.type
        self.caught_message = inputs.d.caught.exception
        self.d_attempt = inputs.d.attempt
        self.d_stamped = inputs.d.stamped_after
        self.b_has_never = hasattr(inputs.b, "never")
        self.e_instead = inputs.e.ran_instead
        self.f_has_never = hasattr(inputs.f, "never")
        self.a_seen = (inputs.a.label_seen, inputs.a.label_post, inputs.a.tag_attributes)
        self.next(self.end)

    @step
    def end(self):
        print("end")


if __name__ == "__main__":
    StepOnce()
