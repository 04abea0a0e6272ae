"""How a task process that ended without reporting an outcome is described: by the signal
that killed it, or by its exit code (one of them meaning the step closed flowtui's pipe)."""

from __future__ import annotations

import os
import signal

from flowtui.engine.task_process import RESULT_PIPE_LOST
from flowtui.run.status import EXIT, SIGNAL, TaskError

_SIGNAL_CAUSES: dict[int, str] = {
    signal.SIGKILL: "out of memory, or killed from outside?",
    signal.SIGSEGV: "a crash in native code: a C extension or a corrupt input?",
    signal.SIGBUS: "a crash in native code: a C extension or a corrupt input?",
    signal.SIGABRT: "aborted by native code: a failed assertion in a C extension?",
    signal.SIGTERM: "terminated from outside",
}


def describe_exit(status: int) -> TaskError:
    """The error of a task process that ended with `waitpid` status `status`, unreported."""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        why = _SIGNAL_CAUSES.get(sig, "killed from outside?")
        return TaskError("Killed", f"the task process was killed by {name} ({why})", reason=SIGNAL)
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else status
    if code == RESULT_PIPE_LOST:
        return TaskError(
            "ResultPipeClosed",
            "the step closed the pipe flowtui reads its result from (a file descriptor it "
            "did not open, e.g. with os.closerange); close only descriptors the step opened",
            reason=EXIT,
        )
    return TaskError(
        "ProcessExit",
        f"the task process exited with code {code} before the step finished "
        "(os._exit or a crash in native code?)",
        reason=EXIT,
    )
