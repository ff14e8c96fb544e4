"""`xtap check`'s engine: the built-in guardrail rules as data, subjects made from `Desired`
and `Live`, findings with their waivers, and the worker process that runs the rules of your
own (CEL) under a budget.

It imports only `core`. The loader (`policies`) imports the rule catalogue from here to refuse
a waiver or a `rules:` entry that names no rule; rendering the findings belongs to `render`.
"""
