"""`metaflow.user_decorators`, where Metaflow defines its user-defined decorators: flowtui's
(`flowtui.flow.user_decorators`), for flows that import them from there (type hints on a
mutator's `mutate(self, mutable_step: MutableStep)`, say)."""
