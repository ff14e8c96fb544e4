"""The command line: click's parsing (`cli`) and each command end to end, returning its exit
code; the shared plumbing of a run (options, credentials, the load-while-reading pipeline,
format dispatch); and `xtap demo`, the one place that starts the emulator for the user.

The top of the flow: it may import every other package, and nothing imports it.
"""
