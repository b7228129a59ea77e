"""Content hashing, free of wandb: the store's digests and wandb's file digests alike.

The store names versions and code folders by content, and a run's upload needs each file's
digest as wandb records it. Both are computed from bytes already in memory, on whichever
thread has them, without importing wandb (which the store worker and the CLI must not load).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping


def content_digest(files: Mapping[str, bytes]) -> str:
    """sha256 over the sorted (file name, sha256 of content) pairs: equal files, equal digest."""
    return digest_of_hashes(file_hashes(files))


def file_hashes(files: Mapping[str, bytes]) -> dict[str, str]:
    """Each file's sha256: computed once by a caller, then shared by the digest and the manifest
    (a notebook copy with large outputs costs tens of milliseconds per pass)."""
    return {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}


def digest_of_hashes(hashes: Mapping[str, str]) -> str:
    """`content_digest` from the files' sha256s."""
    outer = hashlib.sha256()
    for name in sorted(hashes):
        outer.update(f"{name}\0{hashes[name]}\n".encode())
    return outer.hexdigest()


def upload_digests(files: Mapping[str, bytes]) -> dict[str, str]:
    """Each file's digest as wandb records it for an MD5 artifact (base64 of the MD5), from memory.

    A caller holding the bytes can hash them on another thread, instead of wandb reading them
    back and hashing them on the notebook's thread.
    """
    return {
        name: base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode("ascii")
        for name, data in files.items()
    }
