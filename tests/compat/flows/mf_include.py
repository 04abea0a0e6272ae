"""IncludeFile: a text file and a binary file, by relative paths."""

from metaflow import FlowSpec, IncludeFile, step


class IncludeFlow(FlowSpec):
    notes = IncludeFile("notes", default="data/notes.txt")
    blob = IncludeFile("blob", is_text=False, default="data/blob.bin")

    @step
    def start(self):
        self.lines = self.notes.splitlines()
        self.blob_size = len(self.blob)
        self.next(self.end)

    @step
    def end(self):
        self.first_line = self.lines[0]


if __name__ == "__main__":
    IncludeFlow()
