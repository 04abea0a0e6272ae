"""A step that crashes its interpreter with a segmentation fault after printing a line."""

import ctypes

from metaflow import FlowSpec, step


class SegfaultFlow(FlowSpec):
    @step
    def start(self):
        print("Crash and burn!", flush=True)
        ctypes.string_at(0)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    SegfaultFlow()
