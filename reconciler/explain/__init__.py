"""What the cross-tenant access settings allow, and why: the verdict for one subject (a user, the
groups they are in, an application) through one setting of one partner, with the chain of
settings that decided it (`explain`), by the rules Microsoft documents for reading them
(`access`); and what two tenants' settings for each other let happen between them (`peers`).
docs/explain.md is the reference, with its sources.

Pure: it works on settings in Graph's wire form, from policies/ or from the tenant as read, and
imports only `core`; the command gathers them, `render` prints the result.
"""
