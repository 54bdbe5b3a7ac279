"""The prompt bundle: a content-addressed directory of skills and instructions on the shared volume.

Why this module exists: Claude in the Job pod must see the agent's skills and instructions, and
the only thing the daemon and the pod share is the workspace volume. So the daemon materialises a
directory there and the pod gets ``--add-dir <it>`` (skills under ``.claude/skills/``) and
``--append-system-prompt-file <it>/agent-instructions.md``.

Layout, under ``<volume root>/<bundle_dir>/<key>/``::

    .claude/skills/<name>  -> relative symlink to the skill directory on the same volume
    agent-instructions.md     (only when instructions were given)

* The key is a sha256 over the instructions text and, for every skill, its name, its path and a
  hash of its directory tree (names, file bytes, symlink targets). Same inputs → same key → the
  existing directory is reused untouched; any change → a new directory.
* A bundle is built in a temporary sibling directory and published with one ``rename``, so a
  reader sees either no bundle or a complete one; when concurrent builders race, the first rename
  wins and the others discard their copy.
* Symlinks are relative, so they resolve the same from the daemon's view of the volume (its host
  directory) and from the pod's (its mount path).
* Files are made world-readable (0644, directories 0755): the pod usually runs as another user.
"""

from __future__ import annotations

import errno
import hashlib
import os
import posixpath
import secrets
import shutil
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

BUNDLE_FORMAT = b"paperclip-supervisor-prompt-bundle:v1\n"
INSTRUCTIONS_FILE_NAME = "agent-instructions.md"
SKILLS_SUBDIR = ".claude/skills"
TEMP_PREFIX = ".tmp-"
_DIR_MODE = 0o755
_FILE_MODE = 0o644
_READ_CHUNK = 1 << 16


class BundleError(RuntimeError):
    """The bundle cannot be built (missing skill, skill outside the volume, I/O failure)."""


class Skill(Protocol):
    """A skill to link: ``name`` in the bundle, ``path`` relative to the volume root."""

    @property
    def name(self) -> str: ...

    @property
    def path(self) -> str: ...


@dataclass(frozen=True)
class PromptBundle:
    """A published bundle, seen from both sides of the shared volume."""

    key: str
    host_dir: Path
    """Where the daemon sees the bundle."""
    pod_dir: str
    """Where the pod sees it: the ``--add-dir`` argument."""
    instructions_pod_path: str | None
    """The ``--append-system-prompt-file`` argument, when instructions were given."""
    skill_names: tuple[str, ...]


def bundle_key(*, host_root: Path, instructions: str | None, skills: Sequence[Skill]) -> str:
    """The content hash naming a bundle.

    Raises:
        BundleError: a skill directory is missing or resolves outside the volume.
    """
    digest = hashlib.sha256(BUNDLE_FORMAT)
    if instructions is None:
        digest.update(b"instructions:none\n")
    else:
        _update_field(digest, b"instructions", instructions.encode("utf-8"))
    for skill in sorted(skills, key=lambda s: s.name):
        _update_field(digest, b"skill", skill.name.encode())
        _update_field(digest, b"path", skill.path.encode())
        _hash_tree(digest, _skill_dir(host_root, skill), b"")
    return digest.hexdigest()


def prepare_bundle(
    *,
    host_root: Path,
    pod_root: str,
    bundle_dir: str,
    instructions: str | None,
    skills: Sequence[Skill],
) -> PromptBundle | None:
    """Build (or reuse) the bundle for these skills and instructions; None when there are neither.

    Args:
        host_root: the shared volume's root as the daemon sees it.
        pod_root: the same root as the pod sees it (the workspace mount path).
        bundle_dir: where bundles live, relative to the root.
        instructions: the instructions file's text, or None.
        skills: skill directories to link.

    Raises:
        BundleError: a skill is missing or outside the volume, or the bundle cannot be written.
    """
    if instructions is None and not skills:
        return None
    key = bundle_key(host_root=host_root, instructions=instructions, skills=skills)
    parent = host_root / bundle_dir
    final = parent / key
    if not final.is_dir():
        try:
            parent.mkdir(parents=True, exist_ok=True)
            temp = parent / f"{TEMP_PREFIX}{key[:16]}-{secrets.token_hex(6)}"
            temp.mkdir(mode=_DIR_MODE)
        except OSError as exc:
            raise BundleError(f"cannot create prompt bundle under {parent}: {exc}") from exc
        try:
            _populate(
                temp, final=final, host_root=host_root, instructions=instructions, skills=skills
            )
        except OSError as exc:
            shutil.rmtree(temp, ignore_errors=True)
            raise BundleError(f"cannot write prompt bundle {final}: {exc}") from exc
        publish(temp, final)
    pod_dir = posixpath.join(pod_root, bundle_dir, key)
    return PromptBundle(
        key=key,
        host_dir=final,
        pod_dir=pod_dir,
        instructions_pod_path=(
            None if instructions is None else posixpath.join(pod_dir, INSTRUCTIONS_FILE_NAME)
        ),
        skill_names=tuple(sorted(skill.name for skill in skills)),
    )


def publish(temp: Path, final: Path) -> None:
    """Move a complete bundle from ``temp`` to ``final`` in one step; if another builder got
    there first, keep theirs (same key, same content) and discard ``temp``.

    Raises:
        BundleError: the rename failed for another reason.
    """
    try:
        os.rename(temp, final)
    except OSError as exc:
        shutil.rmtree(temp, ignore_errors=True)
        if exc.errno in (errno.EEXIST, errno.ENOTEMPTY) and final.is_dir():
            return
        raise BundleError(f"cannot publish prompt bundle {final}: {exc}") from exc


def _populate(
    temp: Path,
    *,
    final: Path,
    host_root: Path,
    instructions: str | None,
    skills: Sequence[Skill],
) -> None:
    os.chmod(temp, _DIR_MODE)  # mkdir's mode is cut by the umask
    if skills:
        links = temp / SKILLS_SUBDIR
        links.mkdir(parents=True)
        for directory in (temp / ".claude", links):
            os.chmod(directory, _DIR_MODE)
        # Relative to where the links will live after the rename: same depth as `temp`.
        final_links = final / SKILLS_SUBDIR
        for skill in skills:
            target = os.path.relpath(host_root / skill.path, start=final_links)
            os.symlink(target, links / skill.name)
    if instructions is not None:
        path = temp / INSTRUCTIONS_FILE_NAME
        path.write_bytes(instructions.encode("utf-8"))
        os.chmod(path, _FILE_MODE)


def _skill_dir(host_root: Path, skill: Skill) -> Path:
    path = host_root / skill.path
    if not path.is_dir():
        raise BundleError(
            f"skill {skill.name!r}: directory {skill.path!r} not found under {host_root}"
        )
    real_root = host_root.resolve()
    real = path.resolve()
    if real != real_root and real_root not in real.parents:
        raise BundleError(
            f"skill {skill.name!r}: {skill.path!r} resolves outside the shared volume ({real})"
        )
    return path


def _update_field(digest: hashlib._Hash, tag: bytes, value: bytes) -> None:
    # Length-prefixed, so no text inside a value can imitate a field boundary.
    digest.update(b"%s %d\n" % (tag, len(value)))
    digest.update(value)
    digest.update(b"\n")


def _hash_tree(digest: hashlib._Hash, directory: Path, relative: bytes) -> None:
    with os.scandir(directory) as scan:
        entries = sorted(scan, key=lambda e: e.name)
    for entry in entries:
        rel = relative + b"/" + os.fsencode(entry.name)
        mode = entry.stat(follow_symlinks=False).st_mode
        if stat.S_ISLNK(mode):
            _update_field(digest, b"symlink", rel)
            _update_field(digest, b"target", os.fsencode(os.readlink(entry.path)))
        elif stat.S_ISDIR(mode):
            _update_field(digest, b"dir", rel)
            _hash_tree(digest, Path(entry.path), rel)
        elif stat.S_ISREG(mode):
            _update_field(digest, b"file", rel)
            digest.update(b"%d\n" % entry.stat(follow_symlinks=False).st_size)
            with open(entry.path, "rb") as handle:
                while chunk := handle.read(_READ_CHUNK):
                    digest.update(chunk)
        else:
            _update_field(digest, b"other", rel)
