"""Read another revision of the repository (the PR's base) without touching the work tree."""

from __future__ import annotations

from pathlib import Path

from fleetgen.core.errors import UsageError

# What a revision contributes to a plan: inputs and the hand-maintained bases.
INPUT_DIRS = ("fleet", "environments", "base")


def export_revision(root: Path, ref: str, dest: Path, files: tuple[str, ...] = ()) -> Path:
    """Write the input directories of `ref`, and the named top-level `files` it holds (the
    repository's configuration), into `dest` (works in shallow clones too)."""
    import git  # lazy: gitpython costs ~50 ms to import

    try:
        repo = git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
        raise UsageError(f"{root} is not inside a git repository") from exc
    try:
        commit = repo.commit(ref)
    except (git.BadName, ValueError) as exc:
        raise UsageError(
            f"unknown revision {ref!r} (in CI, fetch it first: git fetch origin {ref})"
        ) from exc
    prefix = Path(root).resolve().relative_to(Path(repo.working_tree_dir or root).resolve())
    tree = commit.tree
    if prefix.parts:
        try:
            tree = tree / prefix.as_posix()
        except KeyError as exc:
            raise UsageError(f"{prefix} does not exist at {ref}") from exc
    for name in files:
        try:
            blob = tree / name
        except KeyError:
            continue
        if blob.type == "blob":
            dest.mkdir(parents=True, exist_ok=True)
            (dest / name).write_bytes(blob.data_stream.read())
    for top in INPUT_DIRS:
        try:
            subtree = tree / top
        except KeyError:
            continue
        for item in subtree.traverse():
            if item.type != "blob":  # type: ignore[union-attr]
                continue
            rel = Path(str(item.path)).relative_to(prefix) if prefix.parts else Path(str(item.path))  # type: ignore[union-attr]
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            mode = item.mode  # type: ignore[union-attr]
            if mode == 0o120000:  # a symlink: keep it a link, checks decide if it escapes
                target.symlink_to(item.data_stream.read().decode())  # type: ignore[union-attr]
            else:
                target.write_bytes(item.data_stream.read())  # type: ignore[union-attr]
    return dest
