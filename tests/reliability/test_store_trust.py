"""The store is private and trusts only what is its own (defects 5, 6 and 8 of issue 10, and
readers that never create a store)."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest
from lab import Lab

from flowtui.errors import FlowtuiError
from flowtui.store import Store, find_store_root

FLOW = """
    from flowtui import FlowSpec, step

    class TinyFlow(FlowSpec):
        @step
        def start(self):
            print("hello")
            self.answer = 42
            self.next(self.end)

        @step
        def end(self):
            pass
"""


def test_a_store_planted_by_someone_else_is_skipped_with_a_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    planted = tmp_path / ".flowtui"
    planted.mkdir()
    os.chmod(planted, 0o777)  # world-writable, as in /tmp
    work = tmp_path / "project" / "src"
    work.mkdir(parents=True)
    root = find_store_root(start=work)
    assert root == work / ".flowtui"
    assert f"skipped the store {planted}: it is writable by other users" in capsys.readouterr().err


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a folder to another user")
def test_a_store_owned_by_another_user_is_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    planted = tmp_path / ".flowtui"
    planted.mkdir(mode=0o700)
    os.chown(planted, 65534, 65534)
    (tmp_path / "mine").mkdir()
    assert find_store_root(start=tmp_path / "mine") == tmp_path / "mine" / ".flowtui"
    assert "it belongs to another user (uid 65534)" in capsys.readouterr().err
    with pytest.raises(FlowtuiError, match="cannot be used: it belongs to another user"):
        find_store_root(start=tmp_path)  # the one right here is not ours either
    with pytest.raises(FlowtuiError, match="Not writing to the store"):
        Store(planted)


def test_my_own_private_store_found_walking_up_is_used(tmp_path: Path):
    mine = tmp_path / ".flowtui"
    mine.mkdir(mode=0o700)
    (tmp_path / "a" / "b").mkdir(parents=True)
    assert find_store_root(start=tmp_path / "a" / "b") == mine


def test_everything_a_run_stores_is_private_whatever_the_umask(lab: Lab):
    lab.write("tiny.py", FLOW)
    old = os.umask(0)
    try:
        ran = lab.cli("run", "tiny.py")
    finally:
        os.umask(old)
    assert ran.code == 0, ran.output
    assert stat.S_IMODE(lab.store_path.stat().st_mode) == 0o700
    for path in lab.store_path.rglob("*"):
        mode = stat.S_IMODE(path.lstat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), path


def test_log_files_never_follow_a_planted_symlink(lab: Lab):
    lab.write("tiny.py", FLOW)
    assert lab.cli("run", "tiny.py").code == 0
    victim = lab.root / "victim.txt"
    victim.write_text("precious")
    # the next run's first task will be run 2, task 3: plant its log files
    folder = lab.store_path / "logs" / "2" / "start"
    folder.mkdir(parents=True)
    for name in ("3.0.out", "3.0.err"):
        (folder / name).symlink_to(victim)
    ran = lab.cli("run", "tiny.py")
    assert victim.read_text() == "precious"
    assert ran.code != 0
    assert "already exists" in ran.output and "Traceback" not in ran.output


def test_an_emptied_database_never_silently_resets_the_store(lab: Lab):
    lab.write("tiny.py", FLOW)
    assert lab.cli("run", "tiny.py").code == 0
    logs_before = {p: p.read_bytes() for p in (lab.store_path / "logs").rglob("*") if p.is_file()}
    (lab.store_path / "metadata.db").write_bytes(b"")  # emptied (truncated)
    for leftover in ("metadata.db-wal", "metadata.db-shm"):
        (lab.store_path / leftover).unlink(missing_ok=True)
    ran = lab.cli("run", "tiny.py")
    assert ran.code == 2
    assert "metadata.db is missing or empty" in ran.stderr
    assert "Traceback" not in ran.output
    assert (lab.store_path / "metadata.db").stat().st_size == 0  # nothing written
    after = {p: p.read_bytes() for p in (lab.store_path / "logs").rglob("*") if p.is_file()}
    assert after == logs_before
    (lab.store_path / "metadata.db").unlink()  # gone altogether: the same
    assert "metadata.db is missing or empty" in lab.cli("run", "tiny.py").stderr


def test_readers_never_create_a_store(lab: Lab, tmp_path: Path):
    empty = tmp_path / "not-a-store"
    empty.mkdir()
    for args in (["runs", "TinyFlow"], ["logs", "TinyFlow/1/start"], ["artifacts", "1/start"]):
        ran = lab.cli(*args, "--store", str(empty))
        assert ran.code == 2, ran.output
        assert "no flowtui store" in ran.stderr.lower(), ran.stderr
    assert list(empty.iterdir()) == []
    with pytest.raises(FlowtuiError):
        Store(empty, create=False).meta  # noqa: B018
    assert list(empty.iterdir()) == []
    shutil.rmtree(empty)
