"""@project: the names and branch a local run gets."""

from metaflow import FlowSpec, current, project, step


@project(name="demo_proj")
class ProjectFlow(FlowSpec):
    @step
    def start(self):
        self.names = (
            current.project_name,
            current.branch_name,
            current.is_production,
            current.project_flow_name,
        )
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ProjectFlow()
