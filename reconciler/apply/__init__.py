"""Applying a plan: its requests in `$batch`es, each once what it waits for is done, paced by one throttling
gate, each change's outcome (applied, failed, skipped, interrupted), and the verifying re-read
of what was written (`verify`).

It imports `core`, `plan` (what to send) and `graph` (how to send it).
"""
