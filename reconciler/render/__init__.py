"""Every output a person or a tool reads: plans, drift reports and check findings as text,
markdown, JSON (and SARIF, annotations), fitted to a GitHub comment (`markdown`), and the live
progress line (`progress`). Outside text goes through `core.escape` on its way out.

It imports `core`, `check` (findings come located by the command), `plan`, `explain` and `apply`
(outcome lines); nothing imports it but `commands`.
"""
