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


def _signal_name(sig: int) -> str:
    try:
        return signal.Signals(sig).name
    except ValueError:
        return f"signal {sig}"


def died_with_server(server_pid: int, status: int | None) -> TaskError:
    """The error of a task that died with its fork server (its parent: PR_SET_PDEATHSIG),
    the server's `waitpid` status `status` (None: not known)."""
    if status is None:
        how = "ended"
    elif os.WIFSIGNALED(status):
        how = f"was killed by {_signal_name(os.WTERMSIG(status))}"
    else:
        how = f"exited with code {os.WEXITSTATUS(status)}"
    return TaskError(
        "ForkServerDied",
        f"flowtui's fork server, this task's parent (pid {server_pid}), {how}, and the task "
        "died with it; @retry or flowtui resume runs the task again",
        reason=SIGNAL,
    )


def describe_exit(status: int) -> TaskError:
    """The error of a task process that ended with `waitpid` status `status`, unreported."""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        why = _SIGNAL_CAUSES.get(sig, "killed from outside?")
        message = f"the task process was killed by {_signal_name(sig)} ({why})"
        return TaskError("Killed", message, reason=SIGNAL)
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else status
    if code == RESULT_PIPE_LOST:
        return TaskError(
            "ResultPipeClosed",
            "the step closed the pipe flowtui reads its result from (a file descriptor it "
            "did not open, e.g. with os.closerange); close only descriptors the step opened",
            reason=EXIT,
        )
    return TaskError(  # os._exit and os.exec* in the step say so themselves (task_process)
        "ProcessExit",
        f"the task process exited with code {code} before the step finished, from native "
        "code (a C library calling exit()), without a Python error",
        reason=EXIT,
    )
