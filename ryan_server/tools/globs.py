"""The tools' `glob` argument: ripgrep's glob dialect translated to a regex, and the filter built on it.

A glob without a slash matches file names anywhere (`*.py`); one with a slash matches the path from
the workspace root (`src/**/*.ts`). list_files and both search backends filter with the same
`GlobFilter`, so they agree on which files pass.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .workspace import ToolError


def glob_to_regex(glob: str) -> str:
    """Translate a glob (ripgrep/globset dialect: `*`, `?`, `**`, `[a-z]`, `[!x]`, `{a,b}`) to a regex."""
    out: list[str] = []
    i, n, depth = 0, len(glob), 0
    while i < n:
        c = glob[i]
        if c == "*":
            if glob.startswith("**", i):
                at_start = i == 0 or glob[i - 1] == "/"
                after = i + 2
                if at_start and after < n and glob[after] == "/":
                    out.append("(?:.*/)?")
                    i = after + 1
                    continue
                if at_start and after == n:
                    out.append(".*")
                    i = after
                    continue
                out.append("[^/]*")
                i = after
                continue
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = i + 1
            if j < n and glob[j] in "!^":
                j += 1
            if j < n and glob[j] == "]":
                j += 1
            while j < n and glob[j] != "]":
                j += 1
            if j >= n:
                raise ToolError(f"invalid glob {glob!r}: unclosed character class '['")
            body = glob[i + 1 : j]
            negate = body[:1] in ("!", "^")
            if negate:
                body = body[1:]
            body = body.replace("\\", "\\\\")
            out.append(("[^/" if negate else "[") + body + "]")
            i = j
        elif c == "{":
            depth += 1
            out.append("(?:")
        elif c == "}" and depth:
            depth -= 1
            out.append(")")
        elif c == "," and depth:
            out.append("|")
        elif c == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(glob[i]))
        else:
            out.append(re.escape(c))
        i += 1
    if depth:
        raise ToolError(f"invalid glob {glob!r}: unclosed '{{'")
    return "".join(out)


@dataclass(frozen=True, slots=True)
class GlobFilter:
    """A `glob` argument: without a slash it matches file names, with one the path from the root."""

    glob: str
    by_name: bool
    regex: re.Pattern[str]

    @classmethod
    def parse(cls, glob: str) -> GlobFilter:
        g = glob.strip()
        while g.startswith("./"):
            g = g[2:]
        g = g.lstrip("/")
        if g.endswith("/"):
            g += "**"
        if not g:
            raise ToolError(f"invalid glob {glob!r}: it is empty")
        try:
            regex = re.compile(glob_to_regex(g) + r"\Z", re.DOTALL)
        except re.error as exc:
            raise ToolError(f"invalid glob {glob!r}: {exc}") from exc
        return cls(g, "/" not in g, regex)

    def matches(self, rel: str) -> bool:
        """Whether the root-relative posix path `rel` passes."""
        return self.regex.match(rel.rsplit("/", 1)[-1] if self.by_name else rel) is not None
