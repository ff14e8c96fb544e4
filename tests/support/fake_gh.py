"""A stand-in for the GitHub CLI in the workflow tests (see workflow_steps.FakeGitHub): no network.

`gh api [flags] ENDPOINT` prints the JSON that $FAKE_GH_ROUTES (a JSON object) holds for
`METHOD ENDPOINT` (`-X`, say `PUT repos/...`) or else for ENDPOINT, or fails as gh does on a 404.
A route `{"error": "<message> (HTTP 403)"}` fails as gh does with that message;
`{"in_turn": [...]}` gives its answers one call at a time. `--input -`
records the body read from stdin. `gh pr comment N --body-file F` records the body. Every call is
appended to $FAKE_GH_LOG as a JSON line, with the repository and whether a token was set."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

# gh api's flags that take a value; the first other word is the endpoint.
VALUED = {"-H", "--header", "-q", "--jq", "-X", "--method", "-f", "--raw-field", "-F", "--field", "-t", "--template"}


def endpoint(words: list[str]) -> str | None:
    index = 0
    while index < len(words):
        word = words[index]
        if word in VALUED:
            index += 2
        elif word.startswith("-"):
            index += 1
        else:
            return word
    return None


def main(args: list[str]) -> int:
    call: dict[str, object] = {
        "args": args,
        "repo": os.environ.get("GH_REPO"),
        "token": bool(os.environ.get("GH_TOKEN")),
    }
    status = 2
    if args[:1] == ["api"]:
        routes = json.loads(Path(os.environ["FAKE_GH_ROUTES"]).read_text())
        found = endpoint(args[1:])
        method = next((args[i + 1] for i in range(len(args) - 1) if args[i] in ("-X", "--method")), "GET")
        if "--input" in args and args[args.index("--input") + 1] == "-":
            call["input"] = json.loads(sys.stdin.read())
        answer = routes.get(f"{method} {found}", routes.get(found) if method == "GET" else None)
        if isinstance(answer, dict) and set(answer) == {"in_turn"}:
            # One answer per call, in order (the last one again after that).
            earlier = Path(os.environ["FAKE_GH_LOG"])
            asked = [json.loads(line)["args"] for line in earlier.read_text().splitlines()] if earlier.exists() else []
            answer = answer["in_turn"][min(asked.count(args), len(answer["in_turn"]) - 1)]
        if isinstance(answer, dict) and set(answer) == {"error"}:
            print(f"gh: {answer['error']}", file=sys.stderr)
            status = 1
        elif answer is not None:
            print(json.dumps(answer))
            status = 0
        else:
            print("gh: Not Found (HTTP 404)", file=sys.stderr)
            status = 1
    elif args[:2] == ["pr", "comment"] and "--body-file" in args:
        call["body"] = Path(args[args.index("--body-file") + 1]).read_text()
        status = 0
    with Path(os.environ["FAKE_GH_LOG"]).open("a") as log:
        log.write(json.dumps(call) + "\n")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
