"""The policies folder, in both directions: reading it into `Desired` (the layout rules, the
bounded YAML reader, every problem at its `file:line:col`, the worker processes for a large
folder, xtap.yaml), writing the tenant into it (`xtap export`), and the JSON Schema of its
files (`xtap schema`).

It imports `core`, and `check` for the rule catalogue only. It never talks to Graph.
"""
