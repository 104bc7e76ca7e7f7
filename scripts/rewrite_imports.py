"""Rewrite references to moved modules across the tree (issue 21: the rooms).

    python scripts/rewrite_imports.py docs/moves/*.txt

Each moves file has one move a line, ``old.dotted.module new.dotted.module``
(``#`` starts a comment). Every reference to an old module in the
project's Python, Markdown, TOML and INI files — ``import old``, ``from old
import``, ``old.attribute`` and the file path ``old/path.py`` — is replaced
by the new one. Longer names go first, so ``signing.stamp_layout`` is not
caught by ``signing.stamp``. Idempotent: running it again after a merge
fixes references that a branch added meanwhile.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIP = {".git", ".venv", "build", "dist", "__pycache__", ".pytest_cache", ".hypothesis"}
SUFFIXES = {".py", ".md", ".toml", ".ini", ".cfg", ".txt"}


def moves(files: list[str]) -> list[tuple[str, str]]:
    found = []
    for name in files:
        for line in Path(name).read_text(encoding="utf-8").splitlines():
            line = line.split("#", 1)[0].strip()
            if line:
                old, new = line.split()
                found.append((old, new))
    return sorted(found, key=lambda pair: -len(pair[0]))


def rewrite(text: str, pairs: list[tuple[str, str]]) -> str:
    for old, new in pairs:
        dotted = re.compile(rf"(?<![\w.]){re.escape(old)}(?![\w])")
        text = dotted.sub(new, text)
        slashed = re.compile(rf"(?<![\w/]){re.escape(old.replace('.', '/'))}\.py\b")
        text = slashed.sub(new.replace(".", "/") + ".py", text)
    return text


def clashes(pairs: list[tuple[str, str]]) -> list[str]:
    """Moves that would not be idempotent: a new name inside an old one's namespace.

    (A module that becomes a package of the same name moves to its ``__init__.py`` and needs no line.)
    """
    olds = {old for old, _ in pairs}
    return [f"{new} lies inside the moved {old}" for _, new in pairs for old in olds
            if new.startswith(old + ".")]


def main(argv: list[str]) -> int:
    pairs = moves(argv)
    problems = clashes(pairs)
    if problems:
        print("rewrite_imports: " + "; ".join(problems), file=sys.stderr)
        return 2
    changed = 0
    for path in ROOT.rglob("*"):
        if path.suffix not in SUFFIXES or SKIP.intersection(path.relative_to(ROOT).parts) or not path.is_file():
            continue
        # The moves and the architecture notes name the old paths on purpose.
        if path.parent.name in {"moves", "architecture"} or path == Path(__file__).resolve():
            continue
        text = path.read_text(encoding="utf-8")
        new = rewrite(text, pairs)
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed += 1
    print(f"rewrite_imports: {len(pairs)} moves, {changed} files changed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
