"""Outside text that would be markup in a GitHub comment, as it must be shown instead, and the
check that nothing became markup: what the escaping tests of core/escape.py and of each report
that writes markdown (render/drift.py) or SARIF (render/check.py) share."""

from __future__ import annotations

# A file name that would be an image and a link in a comment, and a Graph-like message that would
# also open a code span, split a table row, notify someone and open an HTML element.
MARKUP_FILE = "<img src=x>[x](http:evil.example).yaml"


MARKUP_FILE_SHOWN = "&lt;img src=x&gt;&#91;x&#93;&#40;http:evil.example&#41;.yaml"


MARKUP_MESSAGE = "see `x` | @octocat <details>[here](http://evil.example)"


MARKUP_MESSAGE_SHOWN = (
    "see &#96;x&#96; &#124; @&#8203;octocat &lt;details&gt;&#91;here&#93;&#40;http://evil.example&#41;"
)


def assert_no_markup(markdown: str) -> None:
    """No image, link, mention or stray element from outside: GitHub shows the text as text."""
    assert "<img" not in markdown and "](" not in markdown and "@octocat" not in markdown
    assert markdown.count("<details>") == markdown.count("</details>")
