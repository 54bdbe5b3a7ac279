"""The prompt bundle on the shared volume: layout, content addressing, reuse, safety checks, and
atomic publication under racing builders."""

from __future__ import annotations

import os
import posixpath
import stat
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from supervisor import bundle
from supervisor.runspec import SkillRef

BUNDLE_DIR = ".paperclip-supervisor/prompt-bundles"
POD_ROOT = "/paperclip"


@pytest.fixture
def volume(tmp_path: Path) -> Path:
    """A shared volume root (the daemon's view) holding two skills."""
    root = tmp_path / "volume"
    for name, files in {
        "paperclip": {"SKILL.md": "# Paperclip\n", "scripts/run.sh": "echo hi\n"},
        "review": {"SKILL.md": "# Review\n"},
    }.items():
        for relative, text in files.items():
            path = root / "skills" / name / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    return root


SKILLS = [
    SkillRef(name="paperclip", path="skills/paperclip"),
    SkillRef(name="review", path="skills/review"),
]


def prepare(
    volume: Path, *, instructions: str | None = "Be kind.", skills: list[SkillRef] = SKILLS
) -> bundle.PromptBundle:
    result = bundle.prepare_bundle(
        host_root=volume,
        pod_root=POD_ROOT,
        bundle_dir=BUNDLE_DIR,
        instructions=instructions,
        skills=skills,
    )
    assert result is not None
    return result


def key(
    volume: Path, *, instructions: str | None = "Be kind.", skills: list[SkillRef] = SKILLS
) -> str:
    return bundle.bundle_key(host_root=volume, instructions=instructions, skills=skills)


def temp_dirs(volume: Path) -> list[Path]:
    return sorted((volume / BUNDLE_DIR).glob(bundle.TEMP_PREFIX + "*"))


class TestLayout:
    def test_nothing_to_bundle(self, volume: Path) -> None:
        assert (
            bundle.prepare_bundle(
                host_root=volume,
                pod_root=POD_ROOT,
                bundle_dir=BUNDLE_DIR,
                instructions=None,
                skills=[],
            )
            is None
        )
        assert not (volume / BUNDLE_DIR).exists()

    def test_paths_on_both_sides(self, volume: Path) -> None:
        built = prepare(volume)
        assert built.host_dir == volume / BUNDLE_DIR / built.key
        assert built.pod_dir == f"{POD_ROOT}/{BUNDLE_DIR}/{built.key}"
        assert built.instructions_pod_path == f"{built.pod_dir}/agent-instructions.md"
        assert built.skill_names == ("paperclip", "review")

    def test_instructions_file(self, volume: Path) -> None:
        built = prepare(volume, instructions="# Rules\nBe kind. ✓\n")
        assert (built.host_dir / "agent-instructions.md").read_text() == "# Rules\nBe kind. ✓\n"

    def test_no_instructions_file_without_instructions(self, volume: Path) -> None:
        built = prepare(volume, instructions=None)
        assert built.instructions_pod_path is None
        assert not (built.host_dir / "agent-instructions.md").exists()

    def test_skills_are_symlinks_to_the_skill_directories(self, volume: Path) -> None:
        built = prepare(volume)
        link = built.host_dir / ".claude/skills/paperclip"
        assert link.is_symlink()
        assert link.resolve() == (volume / "skills/paperclip").resolve()
        assert (link / "scripts/run.sh").read_text() == "echo hi\n"

    def test_links_are_relative_so_the_pod_resolves_them_too(self, volume: Path) -> None:
        built = prepare(volume)
        target = os.readlink(built.host_dir / ".claude/skills/review")
        assert not target.startswith("/")
        pod_link_dir = posixpath.join(built.pod_dir, ".claude/skills")
        assert (
            posixpath.normpath(posixpath.join(pod_link_dir, target)) == f"{POD_ROOT}/skills/review"
        )

    def test_readable_by_another_user_whatever_the_umask(self, volume: Path) -> None:
        previous = os.umask(0o077)
        try:
            built = prepare(volume)
        finally:
            os.umask(previous)
        for directory in (
            built.host_dir,
            built.host_dir / ".claude",
            built.host_dir / ".claude/skills",
        ):
            assert stat.S_IMODE(directory.stat().st_mode) == 0o755
        assert stat.S_IMODE((built.host_dir / "agent-instructions.md").stat().st_mode) == 0o644

    def test_no_temporary_directory_left(self, volume: Path) -> None:
        prepare(volume)
        assert temp_dirs(volume) == []


class TestKey:
    def test_stable(self, volume: Path) -> None:
        assert key(volume) == key(volume)
        assert len(key(volume)) == 64

    def test_skill_order_does_not_matter(self, volume: Path) -> None:
        assert key(volume, skills=list(reversed(SKILLS))) == key(volume)

    def test_changes_with_instructions(self, volume: Path) -> None:
        assert key(volume, instructions="Be brief.") != key(volume)
        assert key(volume, instructions=None) != key(volume, instructions="")

    def test_changes_with_a_skill_file(self, volume: Path) -> None:
        before = key(volume)
        (volume / "skills/review/SKILL.md").write_text("# Review v2\n")
        assert key(volume) != before

    def test_changes_when_a_file_is_added(self, volume: Path) -> None:
        before = key(volume)
        (volume / "skills/review/extra.md").write_text("")
        assert key(volume) != before

    def test_changes_with_a_symlink_target(self, volume: Path) -> None:
        link = volume / "skills/review/ref"
        link.symlink_to("SKILL.md")
        before = key(volume)
        link.unlink()
        link.symlink_to("other.md")
        assert key(volume) != before

    def test_changes_with_the_skill_name_or_path(self, volume: Path) -> None:
        renamed = [SkillRef(name="paperclip2", path="skills/paperclip"), SKILLS[1]]
        assert key(volume, skills=renamed) != key(volume)
        (volume / "copy").mkdir()
        (volume / "copy/SKILL.md").write_text("# Review\n")
        moved = [SKILLS[0], SkillRef(name="review", path="copy")]
        assert key(volume, skills=moved) != key(volume)

    def test_instructions_cannot_imitate_a_skill(self, volume: Path) -> None:
        one = key(volume, instructions="a", skills=[])
        two = key(volume, instructions="a\nskill 1\nb", skills=[])
        assert one != two


class TestReuse:
    def test_same_inputs_reuse_the_directory_untouched(self, volume: Path) -> None:
        first = prepare(volume)
        inode = (first.host_dir / "agent-instructions.md").stat().st_ino
        second = prepare(volume)
        assert second == first
        assert (second.host_dir / "agent-instructions.md").stat().st_ino == inode

    def test_changed_skill_gives_a_new_bundle(self, volume: Path) -> None:
        first = prepare(volume)
        (volume / "skills/review/SKILL.md").write_text("# Review v2\n")
        second = prepare(volume)
        assert second.key != first.key
        assert first.host_dir.is_dir() and second.host_dir.is_dir()


class TestErrors:
    def test_missing_skill_directory(self, volume: Path) -> None:
        with pytest.raises(bundle.BundleError, match="skill 'gone'.*'skills/gone' not found"):
            prepare(volume, skills=[SkillRef(name="gone", path="skills/gone")])

    def test_skill_escaping_the_volume(self, volume: Path, tmp_path: Path) -> None:
        outside = tmp_path / "outside"
        outside.mkdir()
        (volume / "skills/escape").symlink_to(outside)
        with pytest.raises(bundle.BundleError, match="outside the shared volume"):
            prepare(volume, skills=[SkillRef(name="escape", path="skills/escape")])

    def test_unwritable_bundle_root(self, volume: Path) -> None:
        (volume / ".paperclip-supervisor").write_text("not a directory")
        with pytest.raises(bundle.BundleError, match="cannot create prompt bundle"):
            prepare(volume)


class TestAtomicPublication:
    def test_losing_the_race_keeps_the_winners_bundle(self, volume: Path) -> None:
        winner = prepare(volume)
        loser = volume / BUNDLE_DIR / f"{bundle.TEMP_PREFIX}loser"
        loser.mkdir()
        (loser / "agent-instructions.md").write_text("written by the loser")
        bundle.publish(loser, winner.host_dir)
        assert not loser.exists()
        assert (winner.host_dir / "agent-instructions.md").read_text() == "Be kind."

    def test_publish_failure_for_another_reason(self, volume: Path) -> None:
        temp = volume / "temp"
        temp.mkdir()
        with pytest.raises(bundle.BundleError, match="cannot publish"):
            bundle.publish(temp, volume / "missing-parent" / "final")
        assert not temp.exists()

    def test_racing_builders_agree_and_leave_one_complete_bundle(self, volume: Path) -> None:
        workers = 8
        start = threading.Barrier(workers)

        def build_one(_: int) -> bundle.PromptBundle:
            start.wait()
            return prepare(volume)

        with ThreadPoolExecutor(workers) as pool:
            results = list(pool.map(build_one, range(workers)))
        assert len(set(results)) == 1
        assert [p.name for p in (volume / BUNDLE_DIR).iterdir()] == [results[0].key]
        assert temp_dirs(volume) == []
        assert_complete(results[0].host_dir)

    def test_a_reader_never_sees_a_half_written_bundle(self, volume: Path) -> None:
        final = volume / BUNDLE_DIR / key(volume)
        done = threading.Event()
        observed: list[bool] = []

        def watch() -> None:
            while not done.is_set():
                if final.exists():
                    observed.append(is_complete(final))

        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            with ThreadPoolExecutor(4) as pool:
                list(pool.map(lambda _: prepare(volume), range(4)))
            # Keep watching until the watcher has seen the published bundle at least once.
            for _ in range(10_000):
                if observed:
                    break
                threading.Event().wait(0.001)
        finally:
            done.set()
            watcher.join(timeout=10)
        assert observed and all(observed)


def is_complete(directory: Path) -> bool:
    try:
        return (directory / "agent-instructions.md").read_text() == "Be kind." and sorted(
            p.name for p in (directory / ".claude/skills").iterdir()
        ) == ["paperclip", "review"]
    except OSError:
        return False


def assert_complete(directory: Path) -> None:
    assert is_complete(directory)


@pytest.fixture(autouse=True)
def _no_thread_leaks() -> Iterator[None]:
    before = threading.active_count()
    yield
    assert threading.active_count() == before
