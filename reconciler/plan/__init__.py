"""Planning, pure: `Desired` + `Live` into a `Plan` (plain data, `model`), the Graph requests of
each action, the canonical forms computed while Graph is read, each change's risk, the
settings a plan states, the drift report made from a plan, what a partner inherits, and the
versioned plan file (`file`).

It imports only `core`: no HTTP, no files but the plan file's text, no terminal.
"""
