"""Exceptions whose message is a sentence for the user.

Internals raise these (or subclasses) with a message that names the thing and the fix; the CLI
and TUI edges print the message alone, never a traceback of flowtui's own code.
"""

from __future__ import annotations


class FlowtuiError(Exception):
    """An error the user can act on. ``exit_code`` is what the CLI exits with."""

    exit_code = 1


class UsageError(FlowtuiError):
    """Bad input on the command line or a file that cannot be used (exit code 2)."""

    exit_code = 2
