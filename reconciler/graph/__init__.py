"""Speaking to Microsoft Graph: the client over msgraph-sdk's request adapter (`client`), the
bounded httpx transport beneath it, the JSON `$batch` envelope, the tenant a token names,
reading the live tenant into `Live` (`read`), and the directory audit log (`audit`). The
token is handed in by the command line; nothing here reads the environment for it.

It imports only `core`: it sends `Request`s without knowing plans, and reads what the registry
describes without knowing files.
"""

import sys

# httpx imports its command-line client (`httpx._main`, with rich's console and pygments) whenever
# they are installed, as rich is for xtap's progress line: a tenth of a second of every Graph
# command's start for a program xtap never runs. Marked absent, httpx defines a stub instead
# (httpx/__init__.py catches the ImportError).
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
