"""Which files of a policies folder are read, as what: its layout, worked out once from two
directory listings and handed to everything that needs it (xtap.yaml's reading, which types a
plan reads from Graph, the worker pool's size, the load itself), so a command looks at the
folder once.

The rules come from the registry: each singleton has its own file at the top (`file`), each
keyed type a folder of one file per instance (`folder`); anything else that looks like a policy
is a problem rather than silently skipped. The folder is self-contained: a symbolic link that
leads out of it is refused at the link, and nothing is read through it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from reconciler.core.registry import REGISTRY, SINGLETON_FILES, ResourceType
from reconciler.policies.problems import PolicyError, Problem

# xtap's own settings (docs/policies.md), beside the policy files.
SETTINGS_FILE = "xtap.yaml"
YAML_SUFFIXES = (".yaml", ".yml")
JSON_SUFFIX = ".json"
# Each keyed type's folder of one file per instance.
KEYED_FOLDERS: Mapping[str, ResourceType] = MappingProxyType(
    {rtype.folder: rtype for rtype in REGISTRY if rtype.folder is not None}
)
# A folder of at least this many files is read in worker processes (`workers`): below it,
# starting them costs more than they save.
PARALLEL_FILES = 2000
# A symbolic link is read through only where it resolves inside the policies folder (`_listing`).
LINK_OUTSIDE = (
    "symbolic link that leads outside the policies folder; xtap reads nothing outside it: copy the file "
    "or folder in, or link to one inside the folder"
)


@dataclass(frozen=True)
class Layout:
    """A policies folder as its listings show it: each policy file with the resource type it
    declares (singletons, then each keyed folder, each by name), xtap.yaml if there is one, and
    the problems with the layout itself. `links_outside` are those of them that stop even the
    reading of xtap.yaml: nothing from outside the folder may get as far as a request to Graph."""

    root: Path
    files: tuple[tuple[str, ResourceType], ...]  # each file's path as `str(Path)` writes it
    settings: str | None
    problems: tuple[Problem, ...]
    links_outside: tuple[Problem, ...]
    types: frozenset[str]  # the resource types it holds a file of

    def manages(self, resource: str) -> bool:
        """Whether a file of `resource` is in the folder: for a singleton, exactly whether the
        folder manages it once loaded (a file with only comments declares its reset), so the
        reads of a plan can be chosen before the files load (`graph.read.scope`)."""
        return resource in self.types


def read_layout(root: Path | str) -> Layout:
    """The layout of the folder `root`; PolicyError if there is no such folder."""
    root = Path(root)
    if not root.is_dir():
        raise PolicyError([Problem.whole(root, "policies directory not found (use --policies DIR)")])
    inside = os.path.realpath(root)
    problems: list[Problem] = []
    links: list[Problem] = []
    files: list[tuple[str, ResourceType]] = []
    settings = None
    folders: list[str] = []
    top = str(root)
    for path, name, is_dir in _entries(top, inside, problems, links):
        if is_dir:
            if name in KEYED_FOLDERS:
                folders.append(name)
            else:
                problems.append(Problem.whole(path, f"unknown folder; {_keyed_places()}"))
        elif name in SINGLETON_FILES:
            files.append((path, SINGLETON_FILES[name]))
        elif name == SETTINGS_FILE:
            settings = path
        elif name.lower().endswith(YAML_SUFFIXES):
            problems.append(Problem.whole(path, f"unknown policy file; expected {_expected()}"))
    for folder_name in folders:
        rtype = KEYED_FOLDERS[folder_name]
        for path, name, is_dir in _entries(_child(top, folder_name), inside, problems, links):
            if is_dir:  # never silently skip an instance someone filed in a subfolder
                message = f"folders inside {folder_name}/ are not read; put {rtype.name} files directly in it"
                problems.append(Problem.whole(path, message))
            elif name.lower().endswith(YAML_SUFFIXES):
                files.append((path, rtype))
    types = frozenset(rtype.name for _, rtype in files)
    return Layout(root, tuple(files), settings, (*problems, *links), tuple(links), types)


def as_layout(folder: Path | str | Layout) -> Layout:
    """A layout already worked out, or the folder's, worked out now."""
    return folder if isinstance(folder, Layout) else read_layout(folder)


def _keyed_places() -> str:
    return ", ".join(f"{rtype.name} files go in {name}/" for name, rtype in KEYED_FOLDERS.items())


def _expected() -> str:
    keyed = " or ".join(f"a {rtype.name} file in {name}/" for name, rtype in KEYED_FOLDERS.items())
    return f"{', '.join([*SINGLETON_FILES, SETTINGS_FILE])} or {keyed}"


def _entries(
    folder: str, inside: str, problems: list[Problem], links: list[Problem]
) -> Iterator[tuple[str, str, bool]]:
    """The folder's entries that may be policies (`_listing`), by name, each with its path; a
    JSON file is a problem, since its author surely meant it as one. Paths and suffixes are
    worked out on strings: a Path per file was most of the time of listing 10,000."""
    prefix = _child(folder, "")
    for name, is_dir in sorted(_listing(folder, inside, links)):
        if name.lower().endswith(JSON_SUFFIX):
            stem = name[: -len(JSON_SUFFIX)]
            problems.append(
                Problem.whole(prefix + name, f"xtap reads YAML files only; JSON is YAML, so rename it to {stem}.yaml")
            )
            continue
        yield prefix + name, name, is_dir


def _child(folder: str, name: str) -> str:
    """What `str(Path(folder) / name)` is, for a `folder` as a Path writes it."""
    return name if folder == "." else os.path.join(folder, name)


def _listing(folder: str, inside: str, links: list[Problem]) -> list[tuple[str, bool]]:
    """The names in `folder` that may be policies, each with whether it is a folder (from the
    directory listing: a `stat` per file was a tenth of validating 10,000). Hidden names
    (`.git`, `.DS_Store`, emacs's `.#x.yaml` lock, vim's `.x.yaml.swp`) and backups (`x.yaml~`)
    are never policies, so they are skipped silently.

    A symbolic link must resolve inside the policies folder, whose real path is `inside`: a
    folder is reviewed as what it holds, and a link to `/proc/self/environ` or
    `~/.azure/msal_token_cache.json` would otherwise be read, and its content quoted in the
    problems a pull request's plan posts. Such a link is a problem (added to `links`) and is
    left out, so nothing is read through it. The listing tells a link without a `stat`; only
    links are resolved."""
    names: list[tuple[str, bool]] = []
    with os.scandir(folder) as listing:
        for entry in listing:
            name = entry.name
            if name.startswith(".") or name.endswith("~"):
                continue
            if entry.is_symlink() and not _resolves_inside(_child(folder, name), inside):
                links.append(Problem.whole(_child(folder, name), LINK_OUTSIDE))
                continue
            names.append((name, entry.is_dir()))
    return names


def _resolves_inside(path: str, inside: str) -> bool:
    """Whether `path`, every link along it followed (links to links, `..` after a link), ends in
    the folder `inside` or below it."""
    real = os.path.realpath(path)
    return real == inside or real.startswith(inside.rstrip(os.sep) + os.sep)
