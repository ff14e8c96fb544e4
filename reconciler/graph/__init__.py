"""Speaking to Microsoft Graph: the client over msgraph-sdk's request adapter (`client`), the
bounded httpx transport beneath it, the JSON `$batch` envelope, the tenant a token names, and
reading the live tenant into `Live` (`read`).

It imports only `core`: it sends `Request`s without knowing plans, and reads what the registry
describes without knowing files.
"""
