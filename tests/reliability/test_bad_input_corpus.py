"""Every file of tests/reliability/corpus/ gets one sentence and a stable exit code from
`flowtui check` and `flowtui run`, and never a traceback of flowtui's own code."""

from __future__ import annotations

from pathlib import Path

import pytest
from lab import Lab

CORPUS = Path(__file__).with_name("corpus")

# file: (check exit code, run exit code, a phrase of what is said)
EXPECTED = {
    "syntax_error.py": (1, 2, "Syntax error: expected ':'"),
    "not_a_flow.py": (2, 2, "defines no flow"),
    "empty.py": (2, 2, "defines no flow"),
    "binary.py": (2, 2, "is not UTF-8 text (bad byte at line 1)"),
    "missing_import.py": (0, 1, "raised ModuleNotFoundError while being imported"),
    "raises_at_import.py": (0, 1, "raised RuntimeError while being imported"),
    "no_end.py": (1, 2, "has no end step"),
    "unpicklable.py": (0, 1, "self.lock (lock cannot be pickled"),
    "fails_to_unpickle.py": (0, 1, "this value cannot be rebuilt"),
    "unicode_names.py": (0, 0, "ÜnïcødeFlow"),
    "huge.py": (0, 0, "ÜnïcødeFlow"),  # 5 MB of source is still a flow file (made below)
}


@pytest.fixture(scope="module")
def huge_flow(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """huge.py: 5 MB of comments above a real flow (written per run, not kept in the repo)."""
    path = tmp_path_factory.mktemp("corpus") / "huge.py"
    path.write_text(("# " + "x" * 98 + "\n") * 52_000 + (CORPUS / "unicode_names.py").read_text())
    return path


def test_the_corpus_is_covered():
    assert {p.name for p in CORPUS.glob("*.py")} | {"huge.py"} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_bad_input_is_one_sentence_and_a_stable_exit_code(
    lab: Lab, name: str, huge_flow: Path
):
    check_code, run_code, phrase = EXPECTED[name]
    file = str(huge_flow if name == "huge.py" else CORPUS / name)
    checked = lab.cli("check", file)
    assert checked.code == check_code, checked.output
    ran = lab.cli("run", file, "--quiet")
    assert ran.code == run_code, ran.output
    assert phrase in checked.output + ran.output
    for said in (checked, ran):
        assert "flowtui/" not in said.output.replace(str(Path(file).parent), "")  # none of ours
