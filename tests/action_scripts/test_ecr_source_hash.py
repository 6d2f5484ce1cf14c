"""The content address: .dockerignore semantics and what does and does not change the hash."""

from __future__ import annotations

from pathlib import Path

import pytest

from action_scripts.ecr_source_hash import is_ignored, parse_dockerignore, source_hash


@pytest.mark.parametrize(
    ("patterns", "path", "ignored"),
    [
        ("*.md", "README.md", True),
        ("*.md", "docs/README.md", False),  # `*` does not cross directories
        ("**/*.md", "docs/deep/README.md", True),
        ("**/*.md", "README.md", True),  # `**/` also matches no directory at all
        ("docs", "docs/a/b.txt", True),  # a matching parent excludes everything below
        ("/build", "build/x", True),  # a leading slash means the context root
        ("*.md\n!KEEP.md", "KEEP.md", False),  # the last matching rule wins
        ("!KEEP.md\n*.md", "KEEP.md", True),
        ("# comment\n\n tmp ", "tmp/x", True),
        ("file?.txt", "file1.txt", True),
        ("file?.txt", "file10.txt", False),
        ("[a-c].txt", "b.txt", True),
        ("[!a-c].txt", "b.txt", False),
        ("node_modules", "src/node_modules/x", False),  # patterns are anchored at the root
    ],
)
def test_dockerignore_matching(patterns: str, path: str, ignored: bool) -> None:
    """Patterns behave as moby's patternmatcher: anchored, `**` spans, parents, last rule wins."""
    assert is_ignored(path, parse_dockerignore(patterns)) is ignored


def app(tmp_path: Path) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "main.py").write_text("print('hi')\n")
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY src /src\n")
    return tmp_path


def digest(context: Path, **overrides: object) -> str:
    args: dict[str, object] = {"context": context, "dockerfile": context / "Dockerfile",
                               "build_args": (), "platform": "linux/amd64"}
    args.update(overrides)
    return source_hash(**args)  # type: ignore[arg-type]


def test_hash_is_stable_and_sensitive_to_each_input(tmp_path: Path) -> None:
    """Same inputs give the same hash; file content, build args, platform, Dockerfile change it."""
    context = app(tmp_path)
    base = digest(context)
    assert digest(context) == base
    assert digest(context, build_args=(("A", "1"),)) != base
    assert digest(context, build_args=(("A", "1"), ("B", "2"))) == digest(
        context, build_args=(("B", "2"), ("A", "1")))
    assert digest(context, platform="linux/arm64") != base
    (context / "src" / "main.py").write_text("print('bye')\n")
    changed = digest(context)
    assert changed != base
    (context / "src" / "main.py").chmod(0o755)
    assert digest(context) != changed  # the executable bit is part of the image
    (context / "Dockerfile").write_text("FROM scratch\nCOPY src /app\n")
    assert digest(context) not in {base, changed}


def test_ignored_files_and_git_do_not_change_the_hash(tmp_path: Path) -> None:
    """Files excluded by .dockerignore, and the .git directory, are not part of the address."""
    context = app(tmp_path)
    (context / ".dockerignore").write_text("*.log\n")
    base = digest(context)
    (context / "debug.log").write_text("noise\n")
    (context / ".git").mkdir()
    (context / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    assert digest(context) == base
    (context / "new.txt").write_text("not ignored\n")
    assert digest(context) != base


def test_dockerfile_specific_ignore_file_takes_precedence(tmp_path: Path) -> None:
    """<Dockerfile>.dockerignore beside the Dockerfile replaces the context's .dockerignore."""
    context = app(tmp_path)
    (context / ".dockerignore").write_text("src\n")
    only_general = digest(context)
    (context / "Dockerfile.dockerignore").write_text("nothing-here\n")
    with_specific = digest(context)
    assert with_specific != only_general
    (context / "src" / "main.py").write_text("changed\n")
    assert digest(context) != with_specific  # src counts again under the specific file


def test_symlinks_hash_by_target_and_special_files_are_skipped(tmp_path: Path) -> None:
    """A symlink counts by its target text (even dangling); a FIFO is skipped, never read."""
    import os

    context = app(tmp_path)
    (context / "link").symlink_to(tmp_path / "missing")
    first = digest(context)
    (context / "link").unlink()
    (context / "link").symlink_to(tmp_path / "elsewhere")
    second = digest(context)
    assert second != first
    os.mkfifo(context / "pipe")  # reading it would block forever
    assert digest(context) == second
