"""The command line: click's parsing (`cli`, and `emulator` for that command's many knobs), one
module per command or family (`validate`, `plan`, `apply`, `show`, `drift`, `export`, `check`,
`demo`), each a function returning its exit code, and the plumbing they share once: options,
exit codes, stderr lines, format dispatch, loading and running Graph work (`run`), and the plan
made while the files load and the tenant is read (`planning`).

The top of the flow: it may import every other package, and nothing imports it. It reads the
environment for the token and hands it down; `demo` is the one place that starts the emulator
for the user.
"""
