"""A backup archive: a gzip'd tar (Python's ``tarfile``) whose ``manifest.json`` names every member's SHA-256.

The manifest comes first in the archive. ``read_archive`` checks the
manifest's format, that every member it names is a regular file with a
plain relative name (no ``..``, no absolute path, no link), that no member
is missing or extra, and that each one's SHA-256 and size are the
manifest's, before anything is extracted: a damaged or altered archive
changes nothing.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

FORMAT = "qoltanba-backup/1"
MANIFEST = "manifest.json"
_CHUNK = 1 << 20


class ArchiveError(Exception):
    """The archive is not one we wrote, or it was damaged or altered; the message says what."""


@dataclass(frozen=True)
class Archive:
    manifest: dict[str, Any]
    sha256: str                      # of the whole archive file
    members: dict[str, Path]         # name -> the extracted file, its digest checked


def digest(path: Path) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            sha.update(chunk)
    return sha.hexdigest()


def _plain(name: str) -> bool:
    path = PurePosixPath(name)
    return bool(name) and not path.is_absolute() and ".." not in path.parts and name == str(path)


def write_archive(target: Path, files: Mapping[str, Path], manifest: Mapping[str, Any]) -> str:
    """Write ``files`` (archive name -> file) with the manifest (``files`` filled in); returns the archive's SHA-256."""
    entries = {}
    for name, path in sorted(files.items()):
        if not _plain(name) or name == MANIFEST:
            raise ArchiveError(f"not a member name: {name!r}")
        entries[name] = {"sha256": digest(path), "size": path.stat().st_size}
    body = json.dumps({**manifest, "format": FORMAT, "files": entries}, indent=1, sort_keys=True,
                      ensure_ascii=False).encode()
    partial = target.with_name(f".{target.name}.partial")
    with tarfile.open(partial, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mode = len(body), 0o600
        tar.addfile(info, io.BytesIO(body))
        for name, path in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size, info.mode = path.stat().st_size, 0o600
            with open(path, "rb") as handle:
                tar.addfile(info, handle)
    partial.chmod(0o600)
    partial.replace(target)
    return digest(target)


def read_archive(source: Path, into: Path) -> Archive:
    """The manifest, and every member streamed into the directory ``into``, each checked against the manifest."""
    members: dict[str, Path] = {}
    manifest: Any = None
    try:
        with tarfile.open(source, "r:gz") as tar:
            for number, info in enumerate(tar):
                if not info.isfile() or not _plain(info.name):
                    raise ArchiveError(f"the archive holds {info.name!r}, which is not a plain file")
                if info.name in members or (info.name == MANIFEST and manifest is not None):
                    raise ArchiveError(f"the archive holds {info.name!r} twice")
                handle = tar.extractfile(info)
                if info.name == MANIFEST:
                    manifest = json.loads(handle.read()) if handle is not None else None
                    continue
                target = into / f"{number:06d}"
                with open(target, "wb") as out:
                    while handle is not None and (chunk := handle.read(_CHUNK)):
                        out.write(chunk)
                members[info.name] = target
    except (tarfile.TarError, OSError, EOFError) as error:
        raise ArchiveError(f"not a readable backup archive: {error}") from error
    except ValueError as error:
        raise ArchiveError("the archive's manifest.json is not JSON") from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ArchiveError(f"not a {FORMAT} archive (no manifest.json of that format)")
    named = manifest.get("files") or {}
    problems = [f"{name}: missing" for name in sorted(set(named) - set(members))]
    problems += [f"{name}: not in the manifest" for name in sorted(set(members) - set(named))]
    for name in sorted(set(named) & set(members)):
        path = members[name]
        if digest(path) != named[name].get("sha256") or path.stat().st_size != named[name].get("size"):
            problems.append(f"{name}: its SHA-256 is not the manifest's")
    if problems:
        raise ArchiveError("the archive was damaged or altered: " + "; ".join(problems))
    return Archive(manifest, digest(source), members)


__all__ = ["Archive", "ArchiveError", "FORMAT", "MANIFEST", "digest", "read_archive", "write_archive"]
