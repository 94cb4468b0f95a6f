"""The code a chapter writes in the open is the library's code (d2l's ``#@save`` convention).

A chapter teaches a piece of ``vae_utils`` by defining it in a visible cell whose first line names
the module that keeps it, ``# @save vae_utils/losses.py``; later chapters import it from there.
This test parses every marked cell and compares each definition's code (its AST, without
docstrings: a chapter may say less than the library's reference docs) with the module's.

A class may be shown in part: each method the chapter defines must be the library's, and the
library may have more (methods that a later chapter explains, such as a VAE's log-likelihood).
"""

import ast
import difflib
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
MARKER = re.compile(r"# @save (vae_utils/\w+\.py)$")
Definition = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef


def marked_cells(path: Path) -> list[tuple[int, str, str]]:
    """``(cell index, module path, source)`` of every code cell of ``path`` with the marker."""
    cells = json.loads(path.read_text())["cells"]
    found = []
    for index, cell in enumerate(cells):
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and (marker := MARKER.match(source.split("\n")[0])):
            found.append((index, marker.group(1), source))
    return found


def without_docstring(node: ast.AST) -> ast.AST:
    """A copy of a definition without the docstrings of it and of its methods."""
    node = ast.parse(ast.unparse(node)).body[0]
    for inner in ast.walk(node):
        body = getattr(inner, "body", None)
        if isinstance(inner, Definition) and body and isinstance(body[0], ast.Expr):
            if isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
                inner.body = body[1:] or [ast.Pass()]
    return node


def differences(shown: ast.AST, kept: ast.AST) -> str:
    """A unified diff of two definitions' code, or '' where their ASTs are equal."""
    shown, kept = without_docstring(shown), without_docstring(kept)
    if ast.dump(shown) == ast.dump(kept):
        return ""
    lines = [ast.unparse(node).splitlines() for node in (shown, kept)]
    return "\n".join(difflib.unified_diff(*lines, "chapter", "library", lineterm=""))


def compare(shown: Definition, kept: Definition) -> list[str]:
    """What differs between a chapter's definition and the module's, one entry per difference."""
    if not isinstance(shown, ast.ClassDef):
        return [diff] if (diff := differences(shown, kept)) else []
    headers = [
        ast.ClassDef(node.name, node.bases, node.keywords, [ast.Pass()], decorator_list=[])
        for node in (shown, kept)
    ]
    problems = [diff] if (diff := differences(*headers)) else []
    methods = {node.name: node for node in kept.body if isinstance(node, Definition)}
    for node in shown.body:
        if isinstance(node, Definition):
            if node.name not in methods:
                problems.append(f"the library's {kept.name} has no method {node.name}")
            elif diff := differences(node, methods[node.name]):
                problems.append(f"method {node.name}:\n{diff}")
        elif not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):
            statements = [ast.dump(statement) for statement in kept.body]
            if ast.dump(node) not in statements:
                problems.append(f"the library's {kept.name} lacks: {ast.unparse(node)}")
    return problems


CELLS = [
    (path, index, module, source)
    for path in NOTEBOOKS
    for index, module, source in marked_cells(path)
]


def test_the_chapters_write_the_core_code():
    shown = {(path.stem, module) for path, _, module, _ in CELLS}
    assert ("02_autoencoders", "vae_utils/train.py") in shown  # the training loop
    assert ("03_variational_autoencoders", "vae_utils/models.py") in shown  # the VAE and its draw
    assert ("03_variational_autoencoders", "vae_utils/losses.py") in shown  # the KL and the loss


@pytest.mark.parametrize(
    ("path", "index", "module", "source"),
    CELLS,
    ids=[f"{path.stem}-cell{index}" for path, index, _, _ in CELLS],
)
def test_a_marked_cell_defines_what_its_module_keeps(path, index, module, source):
    where = f"{path.name}, cell {index} (# @save {module})"
    cell = ast.parse(source)
    library = {
        node.name: node
        for node in ast.parse((ROOT / module).read_text()).body
        if isinstance(node, Definition)
    }
    definitions = [node for node in cell.body if isinstance(node, Definition)]
    assert definitions, f"{where} defines nothing"
    for node in cell.body:
        assert isinstance(node, Definition | ast.Import | ast.ImportFrom), (
            f"{where}: a marked cell holds imports and definitions only, not "
            f"{ast.unparse(node)[:80]!r}; move it to another cell"
        )
    for node in definitions:
        assert node.name in library, f"{where}: {module} has no top-level {node.name}"
        problems = compare(node, library[node.name])
        assert not problems, (
            f"{where}: {node.name} is not the library's {node.name} "
            f"({module}, line {library[node.name].lineno}); change both, or neither:\n"
            + "\n".join(problems)
        )
