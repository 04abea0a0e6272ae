"""Fingerprints of a flow's code: one per step, and one for the whole file.

A step's fingerprint is a hash of its method's syntax tree (decorators, signature and body),
so reformatting it or editing a comment does not count as a change, while any change of what
it does does. Runs keep their flow file's text, so the fingerprints of any past run can be
computed again from it: a resume compares the origin run's with the current file's.
"""

from __future__ import annotations

import ast
import hashlib


def file_hash(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8", errors="surrogatepass")).hexdigest()


def step_fingerprints(source: str, flow: str) -> dict[str, str]:
    """Step name -> fingerprint for every method of class `flow` (or its bases in the same
    file); empty when the text does not parse or has no such class."""
    try:
        module = ast.parse(source)
    except (SyntaxError, ValueError):
        return {}
    classes = {n.name: n for n in ast.walk(module) if isinstance(n, ast.ClassDef)}
    out: dict[str, str] = {}
    seen: set[str] = set()

    def visit(name: str) -> None:
        cls = classes.get(name)
        if cls is None or name in seen:
            return
        seen.add(name)
        for node in cls.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name not in out:
                dump = ast.dump(node, include_attributes=False)
                out[node.name] = hashlib.sha256(dump.encode()).hexdigest()[:16]
        for base in cls.bases:
            if isinstance(base, ast.Name):
                visit(base.id)

    visit(flow)
    return out


def changed_steps(before: str, after: str, flow: str, steps: list[str]) -> list[str]:
    """Which of `steps` have different code in `after` than in `before` (in `steps`' order).
    A step missing from `before` counts as changed; nothing is changed when `before` is empty
    (a run recorded without its code)."""
    if not before:
        return []
    old, new = step_fingerprints(before, flow), step_fingerprints(after, flow)
    return [s for s in steps if old.get(s) != new.get(s)]
