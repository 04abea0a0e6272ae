"""S3, profile, parallel_map and metaflow_config, as flows use them (needs an S3 server)."""

import contextlib
import io
import os
import re

from metaflow import S3, FlowSpec, current, parallel_imap_unordered, parallel_map, profile, step
from metaflow.metaflow_config import DATATOOLS_S3ROOT, S3_ENDPOINT_URL, S3_RETRY_COUNT


def view(obj, root):
    """What a user reads off an S3 object, with the run's own root made stable."""
    stable = obj.key.replace(root, "ROOT"), obj.url.replace(root, "ROOT")
    return (*stable, obj.exists, obj.text, obj.size)


class S3Flow(FlowSpec):
    @step
    def start(self):
        self.config = (DATATOOLS_S3ROOT, bool(S3_ENDPOINT_URL), S3_RETRY_COUNT)
        root = os.path.join(DATATOOLS_S3ROOT, current.flow_name, current.run_id)
        with S3(run=self) as s3:
            self.put_url = s3.put("one.txt", "first").replace(root, "ROOT")
            s3.put("raw/two.bin", b"\x00\x01second")
            many = s3.put_many([("dir/a.txt", "A"), ("dir/sub/b.txt", "B")])
            self.put_many = [(k, u.replace(root, "ROOT")) for k, u in many]
            with open("local.txt", "w") as f:
                f.write("from a file")
            files = s3.put_files([("files/local.txt", "local.txt")])
            self.put_files = [(k, u.replace(root, "ROOT")) for k, u in files]
            one = s3.get("one.txt")
            self.got = view(one, root)
            self.local_copy_is_a_file = os.path.isfile(one.path)
            self.blob = s3.get("raw/two.bin").blob
            self.missing = view(s3.get("nope.txt", return_missing=True), root)
            try:
                s3.get("nope.txt")
                self.missing_raises = None
            except Exception as e:
                self.missing_raises = type(e).__name__
            self.many = [view(o, root) for o in s3.get_many(["dir/a.txt", "one.txt"])]
            self.all = sorted(view(o, root) for o in s3.get_all())
            self.paths = sorted(view(o, root) for o in s3.list_paths())
            self.paths_dir = sorted(view(o, root) for o in s3.list_paths(["dir"]))
            self.recursive = sorted(view(o, root) for o in s3.list_recursive(["dir"]))
        self.tmp_removed = not os.path.exists(one.path)
        with S3(s3root=root + "/dir") as s3:
            self.rooted = view(s3.get("sub/b.txt"), root)
        with S3() as s3:
            self.by_url = view(s3.get(root + "/one.txt"), root)
        with S3(tmproot=".", s3root=root) as s3:
            self.tmproot_here = os.path.dirname(os.path.dirname(s3.get("one.txt").path)) in (
                ".",
                os.getcwd(),
            )

        stats = {}
        with profile("twice", stats_dict=stats):
            pass
        with profile("twice", stats_dict=stats):
            pass
        self.stats_keys = sorted(stats)
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed), profile("loading"):
            print("inside")
        self.profile_lines = re.sub(r"\d+ms", "Nms", printed.getvalue()).splitlines()

        offset = 10
        self.mapped = parallel_map(lambda x: x * x + offset, range(6), max_parallel=2)
        self.unordered = sorted(parallel_imap_unordered(lambda x: -x, [3, 1, 2]))
        self.next(self.end)

    @step
    def end(self):
        self.seen = (self.got, self.mapped)


if __name__ == "__main__":
    S3Flow()
