"""The package's layout: layers that import only downward, as docs/architecture.rst lists them.

The architecture page lists every module of the package from the bottom
layer up; these tests hold the tree, the page and every import statement of
the package (at module level and inside functions) to that one order.
"""

import ast
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "sklearn_hform"
ARCHITECTURE = ROOT / "docs" / "architecture.rst"


def documented_order():
    """The modules of the architecture page (paths relative to the package), in the page's order."""
    text = ARCHITECTURE.read_text(encoding="utf-8")
    return re.findall(r"^``([\w/]+\.py)``$", text, flags=re.M)


def modules_in_tree():
    return sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py"))


def dotted(path):
    """``stability/_screen.py`` -> ``sklearn_hform.stability._screen`` (a package's ``__init__`` is the package)."""
    parts = ["sklearn_hform", *Path(path).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def module_file(name):
    """The path (relative to the package) of the module ``name``, or None if the tree has none."""
    parts = name.split(".")[1:]
    for candidate in (Path(*parts).with_suffix(".py") if parts else None, Path(*parts, "__init__.py")):
        if candidate is not None and (PACKAGE / candidate).is_file():
            return str(candidate)
    return None


def resolve(importer, level, module):
    """The absolute name of ``from <level dots><module> import ...`` written in ``importer``."""
    if not level:
        return module
    package = dotted(importer).split(".")
    if not importer.endswith("__init__.py"):
        package = package[:-1]
    base = package[: len(package) - (level - 1)]
    return ".".join(base + ([module] if module else []))


def imported_modules(path):
    """(line, module name, module file or None) of every module of the package that ``path`` imports, anywhere in it.

    Also the modules named by a ``lazy_exports`` table, which imports them on first use.
    """
    syntax = ast.parse((PACKAGE / path).read_text(encoding="utf-8"))
    found = []

    def add(line, name):
        found.append((line, name, module_file(name)))

    for node in ast.walk(syntax):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "sklearn_hform":
                    add(node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = resolve(path, node.level, node.module)
            if base.split(".")[0] != "sklearn_hform":
                continue
            for alias in node.names:
                # "from . import x" imports the module x when there is one, else a name of the package.
                sub = f"{base}.{alias.name}"
                add(node.lineno, sub if module_file(sub) else base)
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "lazy_exports":
            targets = [k.value for k in node.args[1].keys] if len(node.args) > 1 else []
            for keyword in node.keywords:
                if keyword.arg == "submodules":
                    targets += [e.value for e in keyword.value.elts]
            for target in targets:
                # lazy_exports imports f".{target}" relative to the package.
                relative = "." + target
                module = relative.lstrip(".")
                add(node.lineno, resolve(path, len(relative) - len(module), module))
    return found


def test_architecture_page_lists_every_module_once():
    order = documented_order()
    duplicates = sorted({m for m in order if order.count(m) > 1})
    assert duplicates == []
    assert sorted(order) == modules_in_tree(), "docs/architecture.rst must list exactly the modules of the tree"


def test_nothing_imports_upward():
    order = documented_order()
    position = {m: i for i, m in enumerate(order)}
    problems = []
    for path in order:
        for line, name, target in imported_modules(path):
            if target is None:
                problems.append(f"{path}:{line} imports {name}, which is no module of the tree")
            elif target == path or position[target] > position[path]:
                problems.append(f"{path}:{line} imports {target}, listed after it")
    assert problems == []


def test_layout_checker_sees_imports_inside_functions_and_relative_ones():
    found = {target for _, _, target in imported_modules("stability/_screen.py")}
    # datasets._oqmd and prediction are imported inside functions only.
    assert {"datasets/_oqmd.py", "prediction.py", "stability/_systems.py", "composition/_formula.py"} <= found
    found = {target for _, _, target in imported_modules("neural_network/__init__.py")}
    assert {"neural_network/_mlp.py", "_training/_callbacks.py", "_lazy.py"} <= found
    assert resolve("cli/__main__.py", 1, None) == "sklearn_hform.cli"


SUBPACKAGES = sorted(str(p.parent.relative_to(PACKAGE)) for p in PACKAGE.glob("*/__init__.py"))


@pytest.mark.parametrize("subpackage", SUBPACKAGES)
def test_each_subpackage_says_what_it_holds_and_exports_it(subpackage):
    package = importlib.import_module(f"sklearn_hform.{subpackage.replace('/', '.')}")
    assert package.__doc__ and len(package.__doc__.strip()) > 40
    assert package.__all__ == sorted(set(package.__all__)) or subpackage == "cli"
    for name in package.__all__:
        assert getattr(package, name) is not None
    # Every public name of its private modules is exported by the subpackage.
    for path in sorted((PACKAGE / subpackage).glob("_*.py")):
        if path.name in ("__init__.py", "__main__.py"):
            continue
        module = importlib.import_module(f"{package.__name__}.{path.stem}")
        missing = sorted(set(module.__all__) - set(package.__all__))
        assert missing == [], f"{subpackage}/{path.name} defines public names its package does not export"
        for name in module.__all__:
            assert getattr(package, name) is getattr(module, name)


def test_modules_of_a_subpackage_are_private():
    public = sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.glob("*/*.py")
                    if not p.name.startswith("_") and p.parent.name != "cli")
    # The command modules keep their command's name: they are found by it.
    assert public == []


def test_only_the_public_re_export_imports_scikit_learns_private_constraints():
    # An extension copies what the package and its docs do; none of them may
    # reach into sklearn.utils._param_validation but the one module that
    # gives its classes a public name (sklearn_hform.utils).
    private = "sklearn.utils._param_validation"
    files = [*PACKAGE.rglob("*.py"), *(ROOT / "docs").rglob("*.py"), *(ROOT / "examples").rglob("*.py")]
    importers = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            if any(n == private or n.startswith(private + ".") for n in names):
                importers.append(str(path.relative_to(ROOT)))
    assert importers == ["sklearn_hform/utils/_constraints.py"]
    from sklearn.utils import _param_validation

    from sklearn_hform import utils

    # The very classes scikit-learn validates with, not look-alikes.
    for name in ("HasMethods", "Interval", "Options", "StrOptions"):
        assert getattr(utils, name) is getattr(_param_validation, name)
