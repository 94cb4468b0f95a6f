"""scripts/set_repository.py: the repository's address and ref, written everywhere they appear."""

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from set_repository import ROOT, configured, disagreements, main


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the files that carry the address."""
    shutil.copy(ROOT / "_config.yml", tmp_path)
    shutil.copy(ROOT / "README.md", tmp_path)
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks", ignore=shutil.ignore_patterns(".*"))
    return tmp_path


def test_the_committed_tree_agrees_everywhere():
    assert disagreements() == []
    assert main(["--check"]) == 0


def test_a_fork_at_a_commit_is_written_everywhere(tree: Path):
    url, ref = "https://github.com/Someone/vae-course", "0123abcd"
    assert main([url, "--ref", ref, "--root", str(tree)]) == 0
    assert configured(tree) == (url, ref)
    assert disagreements(tree) == []
    readme = (tree / "README.md").read_text()
    assert "understanding-vaes" not in readme
    assert "https://someone.github.io/vae-course/" in readme
    assert f"colab.research.google.com/github/Someone/vae-course/blob/{ref}/" in readme
    assert "cd vae-course" in readme
    for notebook in (tree / "notebooks").glob("*.ipynb"):
        assert f"vae_utils @ git+{url}@{ref}" in notebook.read_text()
        assert "understanding-vaes" not in notebook.read_text()


def test_a_notebook_that_installs_from_elsewhere_is_named(tree: Path, capsys):
    notebook = sorted((tree / "notebooks").glob("*.ipynb"))[3]
    notebook.write_text(notebook.read_text().replace("@main", "@v0.1"))
    assert main(["--check", "--root", str(tree)]) == 1
    assert notebook.name in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["http://github.com/a/b"], "must look like https://github.com/OWNER/NAME"),
        (["https://gitlab.com/a/b"], "must look like https://github.com/OWNER/NAME"),
        (["https://github.com/a/b", "--ref", "main; rm -rf /"], "ref must be a branch"),
    ],
)
def test_a_bad_address_or_ref_is_refused_and_nothing_is_written(tree: Path, args, message):
    before = (tree / "_config.yml").read_text()
    with pytest.raises(SystemExit, match=message):
        main([*args, "--root", str(tree)])
    assert (tree / "_config.yml").read_text() == before
