"""The command palette's flowtui commands: run, resume, artifacts, run history."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

#: (title, help, app action) for each command.
FLOWTUI_COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("Run", "Run the flow (parameters form first when it has any)", "run"),
    ("Go to step…", "Select a step by typing part of its name", "goto_step"),
    ("Resume from step…", "Resume the last run from the selected step", "resume"),
    ("Cancel run", "Stop the live run, wherever it was started", "cancel_run"),
    ("Open artifacts…", "Browse the artifacts of the selected task", "artifacts"),
    ("Open cards…", "The cards (@card) of the selected task, live while it runs", "cards"),
    ("Show run history", "Past runs of this flow, to open any of them", "history"),
    ("Toggle dark/light theme", "Switch between the dark and the light theme", "toggle_theme"),
    ("Help", "Keys and the edit-run-fix-resume loop", "help"),
)


class FlowtuiCommands(Provider):
    """Offers flowtui's actions in the command palette (ctrl+p)."""

    async def discover(self) -> Hits:
        for title, help_text, action in FLOWTUI_COMMANDS:
            yield DiscoveryHit(title, partial(self.app.run_action, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, action in FLOWTUI_COMMANDS:
            score = matcher.match(title)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(title),
                    partial(self.app.run_action, action),
                    text=title,
                    help=help_text,
                )
