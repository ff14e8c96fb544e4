"""Applying a plan: its requests in dependency phases of `$batch`es paced by one throttling
gate, each change's outcome (applied, failed, skipped, interrupted), and the verifying re-read
of what was written (`verify`).

It imports `core`, `plan` (what to send) and `graph` (how to send it).
"""
