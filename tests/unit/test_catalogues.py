"""The pages' catalogues are complete: every string a page or a sentence says exists in Kazakh and Russian (issue 20).

The messages are extracted afresh from the code (as ``make i18n`` does) and
compared with each committed catalogue, so a new phrase marked for
translation fails here until it is translated, and a translation keeps the
placeholders of its English original.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "api" / "pages" / "locale"
PLACEHOLDER = re.compile(r"\{(\w*)\}")


def _extracted(tmp_path: Path) -> set[str]:
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", str(LOCALE.parent / "babel.cfg"),
                    "-k", "N_", "--no-location", "-o", str(pot), "."],
                   cwd=ROOT, check=True, capture_output=True)
    with pot.open("rb") as handle:
        return {message.id if isinstance(message.id, str) else message.id[0] for message in read_po(handle)
                if message.id}


def _catalogue(language: str):  # noqa: ANN202
    with (LOCALE / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=language)


@pytest.mark.parametrize("language", ["kk", "ru"])
def test_every_extracted_phrase_is_translated_with_its_placeholders(language: str, tmp_path: Path) -> None:
    catalogue = _catalogue(language)
    translated = {}
    for message in catalogue:
        if not message.id:
            continue
        key = message.id if isinstance(message.id, str) else message.id[0]
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        translated[key] = (message, strings)
    missing = sorted(_extracted(tmp_path) - set(translated))
    assert not missing, f"run `make i18n` and translate into {language}: {missing}"
    problems = []
    for key, (message, strings) in translated.items():
        if message.fuzzy or not all(strings):
            problems.append(f"untranslated or fuzzy: {key!r}")
            continue
        wanted = set(PLACEHOLDER.findall(key))
        for string in strings:
            if set(PLACEHOLDER.findall(string)) != wanted:
                problems.append(f"placeholders differ: {key!r} -> {string!r}")
    assert not problems, "\n".join(problems)
