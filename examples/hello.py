"""The smallest useful flow: a parameter, a few steps, artifacts passed along.

Open it in the TUI, or run it headless:

    flowtui examples/hello.py
    flowtui run examples/hello.py --who Ada
"""

from flowtui import FlowSpec, Parameter, step


class HelloFlow(FlowSpec):
    """Greet someone, count the letters of their name, say goodbye."""

    who = Parameter("who", default="world", help="Who to greet.")

    @step
    def start(self):
        """Build the greeting."""
        self.greeting = f"Hello, {self.who}!"
        print(self.greeting)
        self.next(self.count)

    @step
    def count(self):
        """Count the letters of the name."""
        self.letters = sum(ch.isalpha() for ch in self.who)
        print(f"{self.who} has {self.letters} letters")
        self.next(self.shout)

    @step
    def shout(self):
        """Make the greeting louder."""
        self.loud = self.greeting.upper()
        print(self.loud)
        self.next(self.end)

    @step
    def end(self):
        """Say goodbye."""
        print(f"Goodbye, {self.who} ({self.letters} letters).")


if __name__ == "__main__":
    HelloFlow()
