"""metaflow.S3 against an endpoint that is not there, or without credentials: what a step that
catches Metaflow's S3 exception sees (needs METAFLOW_S3_ENDPOINT_URL and DATATOOLS_S3ROOT)."""

from metaflow import S3, FlowSpec, step
from metaflow.exception import MetaflowException


def attempt(op):
    try:
        op()
    except MetaflowException as e:
        return type(e).__name__
    except Exception as e:
        return "not a MetaflowException: " + type(e).__name__
    return None


class S3ErrorsFlow(FlowSpec):
    @step
    def start(self):
        with S3(run=self) as s3:
            self.put = attempt(lambda: s3.put("k", "v"))
            self.get = attempt(lambda: s3.get("k"))
            self.listed = attempt(lambda: s3.list_paths())
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    S3ErrorsFlow()
