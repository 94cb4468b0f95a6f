"""Point the course at a repository and a git ref: one command writes the address everywhere.

The repository's address appears in ``_config.yml`` (the launch buttons and the repository link,
``repository.url`` and ``repository.branch``), in the first cell of every chapter (which installs
``vae_utils`` from it where the package is missing, as on Colab) and in the README. This script
writes all of them from its arguments; ``--check`` says whether they agree. The deploy workflow
runs it with the repository it runs in and the commit it builds, so a fork's book links to the
fork, and a chapter opened from the book installs the package the book was built with.

Usage:
    python scripts/set_repository.py https://github.com/OWNER/NAME [--ref main]
    python scripts/set_repository.py --check
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPOSITORY = re.compile(r"https://github\.com/([\w.-]+)/([\w.-]+)")
CONFIG_URL = re.compile(r"^(  url: )(\S+)$", re.M)  # under `repository:`, the only such line
CONFIG_REF = re.compile(r"^(  branch: )(\S+)$", re.M)
# In a notebook's JSON: "package = \"vae_utils @ git+<url>@<ref>\""
INSTALL = re.compile(r'(vae_utils @ git\+)(https://github\.com/[\w.-]+/[\w.-]+)@([\w./-]+)(\\")')


def _only(pattern: re.Pattern[str], text: str, where: str) -> re.Match[str]:
    matches = list(pattern.finditer(text))
    if len(matches) != 1:
        raise SystemExit(
            f"{where}: expected one match of {pattern.pattern!r}, found {len(matches)}"
        )
    return matches[0]


def configured(root: Path = ROOT) -> tuple[str, str]:
    """The repository address and the git ref in ``_config.yml``."""
    text = (root / "_config.yml").read_text()
    url = _only(CONFIG_URL, text, "_config.yml").group(2)
    ref = _only(CONFIG_REF, text, "_config.yml").group(2)
    return url, ref


def disagreements(root: Path = ROOT) -> list[str]:
    """Every place where the address or the ref differs from ``_config.yml``'s, in words."""
    url, ref = configured(root)
    owner, name = _only(REPOSITORY, url, "_config.yml repository.url").groups()
    problems = []
    for notebook in sorted((root / "notebooks").glob("*.ipynb")):
        found = [(m.group(2), m.group(3)) for m in INSTALL.finditer(notebook.read_text())]
        if found != [(url, ref)]:
            problems.append(f"{notebook.name}: installs from {found}, not [({url!r}, {ref!r})]")
    readme = (root / "README.md").read_text()
    for other in {m.group(0) for m in REPOSITORY.finditer(readme)} - {url}:
        problems.append(f"README.md: links to {other}, not {url}")
    if f"https://{owner.lower()}.github.io/{name}/" not in readme:
        problems.append(
            f"README.md: no link to the book at https://{owner.lower()}.github.io/{name}/"
        )
    return problems


def set_repository(url: str, ref: str, root: Path = ROOT) -> None:
    """Write ``url`` and ``ref`` in ``_config.yml``, every chapter's install cell and the README."""
    match = REPOSITORY.fullmatch(url)
    if match is None:
        raise SystemExit(f"url must look like https://github.com/OWNER/NAME, got {url!r}")
    if not re.fullmatch(r"[\w./-]+", ref):
        raise SystemExit(f"ref must be a branch, a tag or a commit, e.g. main, got {ref!r}")
    old_url, old_ref = configured(root)
    old_owner, old_name = _only(REPOSITORY, old_url, "_config.yml repository.url").groups()
    owner, name = match.groups()

    config = root / "_config.yml"
    text = CONFIG_URL.sub(lambda m: m.group(1) + url, config.read_text())
    config.write_text(CONFIG_REF.sub(lambda m: m.group(1) + ref, text))
    for notebook in (root / "notebooks").glob("*.ipynb"):
        text = notebook.read_text()
        notebook.write_text(INSTALL.sub(lambda m: f"{m.group(1)}{url}@{ref}{m.group(4)}", text))
    readme = root / "README.md"
    text = readme.read_text()
    text = text.replace(f"/{old_url.removeprefix('https://github.com/')}/blob/{old_ref}/",
                        f"/{owner}/{name}/blob/{ref}/")  # fmt: skip
    text = text.replace(old_url, url)
    text = text.replace(f"https://{old_owner.lower()}.github.io/{old_name}/",
                        f"https://{owner.lower()}.github.io/{name}/")  # fmt: skip
    readme.write_text(re.sub(rf"\bcd {re.escape(old_name)}\b", f"cd {name}", text))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", nargs="?", help="https://github.com/OWNER/NAME")
    parser.add_argument("--ref", default="main", help="the branch, tag or commit to install from")
    parser.add_argument("--check", action="store_true", help="only check that all places agree")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not args.check:
        if args.url is None:
            parser.error("give the repository's url, or --check")
        set_repository(args.url, args.ref, args.root)
    problems = disagreements(args.root)
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        url, ref = configured(args.root)
        print(f"repository {url} at {ref}, everywhere")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
