"""The vocabulary every step shares: addresses, the registry of resource types (with the key kinds
that tell their instances apart and the hooks the steps call for each), the Graph
models, the canonical form used to compare, `Desired` and `Live` (what the steps hand each
other), `Request` (a write as data), xtap.yaml's `Settings` and the `xtap:` key, the clouds
(and which resource types each one's Graph has), the bounds on Graph's replies, escaping and
signal handling.

It imports no other xtap package, and nothing here does I/O beyond reading the process's own
signals: every other package may import it.
"""
