"""Speaking to Microsoft Graph: the client over msgraph-sdk's request adapter (`client`), the
bounded httpx transport beneath it, the JSON `$batch` envelope, the tenant a token names,
reading the live tenant into `Live` (`read`), and the directory audit log (`audit`). The
token is handed in by the command line; nothing here reads the environment for it.

It imports only `core`: it sends `Request`s without knowing plans, and reads what the registry
describes without knowing files.
"""
