"""Knowing a flow without running it: parse the file's text, lint it, lay it out, draw it."""
