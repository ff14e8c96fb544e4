"""What one run may be made to read, hold or wait for by whoever answers in Graph's place.

Plain data, so the command line can state the limits in `--help` without importing
msgraph-sdk. docs/security.md lists each with the reason for its value; a reply or a listing
past one of them is an error naming its request, never a larger wait or a larger process.
"""

from __future__ import annotations

# Bytes of one reply, decoded (and, for a gzip reply, as sent too), counted as they arrive.
# Graph's largest replies are a page of partners (a page of 100 is tens of KB) and a `$batch`
# of 20 answers; 16 MiB is hundreds of times either, and small enough that holding one reply,
# with its parsed form, stays well under 300 MB.
MAX_REPLY_BYTES = 16 * 2**20

# Levels of JSON objects and arrays in one reply, the reply itself being the first. A page of
# partners, Graph's deepest reply here, nests 7 (page, value, partner, a setting such as
# b2bCollaborationInbound, usersAndGroups, targets, a target); a `$batch` reply about as many.
# Checked without recursion right after parsing, so nothing recursive (canonical form,
# deepdiff, rendering) ever sees deeper data.
MAX_REPLY_DEPTH = 32

# Pages and items of one listing (`@odata.nextLink` followed). Graph does not document the page
# size of the partner list; at the 100 a page the emulator serves, 10,000 pages hold
# 1,000,000 partners, thousands of times a large tenant's.
MAX_PAGES = 10_000
MAX_LISTED = 1_000_000

# The largest `--timeout`, in seconds: a deadline on one whole exchange with Graph (connect,
# send, the whole reply, and the SDK's retries with their Retry-After waits). The SDK retries a
# 429/503/504 three times and only after a wait under 180 s, so 600 s lets its longest honest
# retry sequence finish, and still ends a stuck request within ten minutes.
MAX_TIMEOUT = 600.0
