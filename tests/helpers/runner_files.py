"""Reading what the runner module wrote: ``$GITHUB_OUTPUT``/``$GITHUB_ENV`` heredoc blocks."""

from __future__ import annotations


def parse_file_commands(text: str) -> dict[str, str]:
    """Parse name<<DELIM ... DELIM blocks the way the runner does."""
    values: dict[str, str] = {}
    lines = text.split("\n")
    index = 0
    while index < len(lines) and lines[index]:
        name, delimiter = lines[index].split("<<", 1)
        end = lines.index(delimiter, index + 1)
        values[name] = "\n".join(lines[index + 1 : end])
        index = end + 1
    return values
