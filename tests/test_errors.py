

def test_every_missing_extra_hint_comes_from_install_hint():
    """One wording for a missing optional dependency, quoted for zsh: no module spells a
    ``pip install "einviz[...]"`` of its own."""
    import pathlib
    import re

    import einviz
    from einviz.errors import install_hint

    assert install_hint("gif") == 'pip install "einviz[gif]"'
    root = pathlib.Path(einviz.__file__).parent
    spelled = [str(path.relative_to(root)) for path in sorted(root.rglob("*.py"))
               if path.name != "errors.py"
               and re.search(r"pip install ['\"]?einviz\[", path.read_text(encoding="utf-8"))]
    assert spelled == [], spelled
