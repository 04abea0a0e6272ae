"""A fork waits while another thread is inside `quiet()` (the heartbeat writing SQLite, the
console printing): a forked task never inherits those locks held. CI caught a task hung for
ever on SQLite's lock, forked while the runner's heartbeat wrote."""

from __future__ import annotations

import os
import threading

from flowtui.forksafe import quiet


def test_a_fork_waits_for_a_thread_inside_quiet() -> None:
    held, release = threading.Event(), threading.Event()
    children: list[int] = []

    def holder() -> None:
        with quiet():
            held.set()
            release.wait()

    def fork_in_thread() -> None:
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        children.append(pid)

    keeper = threading.Thread(target=holder)
    keeper.start()
    held.wait()
    forker = threading.Thread(target=fork_in_thread)
    forker.start()
    try:
        # While the gate is held no child may appear, however long we look (a second here;
        # without the gate the fork lands at once and this fails).
        gone_ahead = threading.Event()
        for _ in range(200):
            if children or gone_ahead.wait(0.005):
                break
        assert not children, "fork went ahead while another thread was inside quiet()"
    finally:
        release.set()
        keeper.join()
        forker.join()
    assert len(children) == 1
    _, status = os.waitpid(children[0], 0)
    assert os.WIFEXITED(status)
