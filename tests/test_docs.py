"""Every code snippet in the docs (docs/**/*.md and README.md) runs, and prints what it shows.

What runs, block by block:

- ```` ```python ```` with ``>>>`` examples: run with doctest, output compared (ELLIPSIS on;
  whitespace and exception details compared exactly, so a caret that moves is caught). The
  examples of one file share a namespace, as a reader's session does: block k continues from
  blocks 0..k-1 (replayed when they did not just run). README.md's are left to
  ``test_package.test_readme_examples_run_as_shown``, which runs them already.
- ```` ```python ```` without ``>>>``: run as a script by a fresh interpreter in an empty
  folder, so the files it writes land in tmp and nothing it registers or patches leaks into
  this process. A block that reads a name an earlier python block of its file defines (a page
  that builds on its first example) runs after that block, in the same script. Functions it
  defines named ``test_*`` are then called (hypothesis under a small deterministic profile),
  except in README.md, whose example calls the reader's own ``my_einsum``. A ```` ```text ````
  block right after it, marked ``<!-- output -->``, is what the script prints, compared as a
  doctest output is.
- shell blocks (```` ```console ````, ```` ```sh ````, or no language) whose first command is
  ``einviz ...``: every command of the block runs in bash, in one empty folder, with
  ``einviz`` meaning ``python -m einviz`` of this interpreter. A command must exit 0 (or the
  status of an ``<!-- exit N -->`` marker), unless the next command is ``echo $?``, whose
  shown output then says the status. Lines after a ``$ `` command are its output (stdout and
  stderr, as a terminal shows them), compared when shown.

Markers are HTML comments on the line before a fence: ``<!-- no-run -->`` (e.g. a script the
reader does not have), ``<!-- exit N -->``, ``<!-- output -->``, ``<!-- requires: MODULE -->``
(skip when MODULE cannot be imported). A block that imports torch, jax or playwright is
skipped when that library is missing.
"""

from __future__ import annotations

import ast
import builtins
import doctest
import inspect
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
FILES = sorted((ROOT / "docs").rglob("*.md")) + [ROOT / "README.md"]
SHELL_LANGUAGES = {"", "console", "shell", "sh", "bash", "shell-session"}
OPTIONAL = ("torch", "jax", "playwright")
FLAGS = doctest.ELLIPSIS
# hypothesis tests in the snippets: deterministic and small, like the `ci` profile of conftest.
HYPOTHESIS_PROFILE = (
    "from hypothesis import HealthCheck, settings\n"
    "settings.register_profile('docs', derandomize=True, deadline=None, max_examples=25,\n"
    "                          database=None, suppress_health_check=[HealthCheck.too_slow])\n"
    "settings.load_profile('docs')\n"
)
BEGIN = "@@einviz-docs-block"
RUNNER = (
    "import runpy, sys\n"
    "if sys.argv[2] == 'hypothesis':\n"
    "    exec(sys.argv[3])\n"
    "namespace = runpy.run_path(sys.argv[1], run_name='__main__')\n"
    "if sys.argv[4] == 'call':\n"
    "    for name, value in list(namespace.items()):\n"
    "        if name.startswith('test_') and callable(value):\n"
    "            value()\n"
)


@dataclass
class Block:
    path: Path
    number: int  # the block's place among the file's fenced blocks, from 0
    line: int  # the line of its opening fence, from 1
    language: str
    text: str
    markers: list[str] = field(default_factory=list)
    output: str | None = None  # the `<!-- output -->` text block that follows a python block

    @property
    def name(self) -> str:
        return str(self.path.relative_to(ROOT))

    @property
    def kind(self) -> str:
        if self.language == "python":
            return "doctest" if re.search(r"^\s*>>> ", self.text, re.M) else "python"
        if self.language in SHELL_LANGUAGES:
            commands = shell_commands(self.text)
            if commands and commands[0][0].startswith("einviz "):
                return "shell"
        return "other"

    def marker(self, key: str) -> str | None:
        for marker in self.markers:
            if marker == key or marker.startswith(key + ":") or marker.startswith(key + " "):
                return marker[len(key):].lstrip(": ").strip()
        return None

    def where(self) -> str:
        return f"{self.name}, block {self.number} (line {self.line})"


def read_blocks(path: Path) -> list[Block]:
    blocks: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    k = 0
    while k < len(lines):
        opening = re.match(r"^(\s*)```(\S*)\s*$", lines[k])
        if not opening:
            k += 1
            continue
        indent, language = opening.groups()
        markers = []
        before = k - 1
        while before >= 0 and re.fullmatch(r"\s*<!--.*-->\s*", lines[before]):
            markers.insert(0, lines[before].strip()[4:-3].strip())
            before -= 1
        end = k + 1
        while end < len(lines) and not re.match(rf"^{indent}```\s*$", lines[end]):
            end += 1
        body = [line.removeprefix(indent) for line in lines[k + 1:end]]
        block = Block(path, len(blocks), k + 1, language, "\n".join(body) + "\n", markers)
        if "output" in markers and blocks and blocks[-1].language == "python":
            blocks[-1].output = block.text
        blocks.append(block)
        k = end + 1
    return blocks


def shell_commands(text: str) -> list[tuple[str, str]]:
    """The commands of a shell block, each with the output shown after it ('' when none)."""
    lines = text.rstrip("\n").splitlines()
    prompted = any(line.startswith("$ ") for line in lines)
    commands: list[tuple[str, list[str]]] = []
    continued = False
    for line in lines:
        if continued:
            commands[-1] = (commands[-1][0] + "\n" + line, commands[-1][1])
        elif not prompted:
            if line.strip():
                commands.append((line, []))
        elif line.startswith("$ "):
            commands.append((line[2:], []))
        elif commands:
            commands[-1][1].append(line)
        continued = line.endswith("\\")
    return [(command, "\n".join(output).strip("\n")) for command, output in commands]


ALL = [block for path in FILES if path.exists() for block in read_blocks(path)]
RUNNABLE = [block for block in ALL if block.kind != "other" and "no-run" not in block.markers
            and not (block.kind == "doctest" and block.path.name == "README.md")]


def block_id(block: Block) -> str:
    return f"{block.name.removeprefix('docs/')}-{block.number}-{block.kind}"


def skip_when_missing(block: Block) -> None:
    required = block.marker("requires")
    if required:
        pytest.importorskip(required)
    for library in OPTIONAL:
        if re.search(rf"^\s*(>>> )?(import|from) {library}\b", block.text, re.M):
            pytest.importorskip(library)


def same(expected: str, got: str) -> bool:
    """Compare shown output with real output, as doctest does (``...`` matches anything)."""
    def tidy(text: str) -> str:
        return "\n".join(line.rstrip() for line in text.strip("\n").splitlines()) + "\n"

    return doctest.OutputChecker().check_output(tidy(expected), tidy(got), FLAGS)


@pytest.mark.parametrize("block", RUNNABLE, ids=block_id)
def test_snippet_runs(block: Block, tmp_path, monkeypatch):
    skip_when_missing(block)
    monkeypatch.chdir(tmp_path)
    {"doctest": run_doctest, "python": run_script, "shell": run_shell}[block.kind](block, tmp_path)


# The namespace each file's doctest session has after its latest block: (block number, globals).
# Tests run in file order, so block k usually continues from block k-1 instead of replaying.
SESSIONS: dict[Path, tuple[int, dict[str, object]]] = {}


def run_doctest(block: Block, tmp_path: Path) -> None:
    parser = doctest.DocTestParser()
    earlier = [b for b in read_blocks(block.path)
               if b.kind == "doctest" and b.number < block.number]
    done, namespace = SESSIONS.get(block.path, (-1, {}))
    if not earlier or done != earlier[-1].number:
        done, namespace = -1, {"__name__": "__docs__"}
    with np.printoptions(legacy=False):
        for setup in earlier:
            if setup.number <= done:
                continue
            # The reader's session so far: run quietly, its own test checks its output.
            test = parser.get_doctest(setup.text, namespace, setup.where(), str(block.path),
                                      setup.line)
            quiet = doctest.DocTestRunner(optionflags=FLAGS)
            quiet.run(test, out=lambda _text: None, clear_globs=False)
            namespace = test.globs
        test = parser.get_doctest(block.text, namespace, block.where(), str(block.path), block.line)
        report: list[str] = []
        runner = doctest.DocTestRunner(optionflags=FLAGS)
        runner.run(test, out=report.append, clear_globs=False)
    SESSIONS[block.path] = (block.number, test.globs)
    assert runner.tries > 0
    assert runner.failures == 0, "".join(report)


def bound_and_loaded(code: str) -> tuple[set[str], set[str]]:
    """The names a script binds (anywhere) and the names it reads."""
    bound, loaded = set(), set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
    return bound, loaded


def session(block: Block) -> list[Block]:
    """The python blocks to run for ``block``: it, and the earlier ones of its file that
    define a name it reads but does not define itself (and theirs), in the file's order."""
    earlier = [b for b in read_blocks(block.path) if b.kind == "python" and b.number < block.number]
    needed = {block.number: block}
    todo = [block]
    while todo:
        current = todo.pop()
        bound, loaded = bound_and_loaded(current.text)
        for name in loaded - bound - set(dir(builtins)):
            sources = [b for b in earlier
                       if b.number < current.number and name in bound_and_loaded(b.text)[0]]
            if sources and sources[-1].number not in needed:
                needed[sources[-1].number] = sources[-1]
                todo.append(sources[-1])
    return [needed[number] for number in sorted(needed)]


def run_script(block: Block, tmp_path: Path) -> None:
    chain = session(block)
    # The markdown file with every other line blanked, so a traceback's line numbers are its own.
    lines: list[str] = []
    for part in chain:
        lines += [""] * (part.line - len(lines)) + part.text.splitlines()
    # On the fence's own (blank) line: where the block's output starts.
    lines[block.line - 1] = f"print({BEGIN!r})"
    script = tmp_path / f"{block.path.name}.py"
    script.write_text("\n".join(lines) + "\n", encoding="utf-8")
    uses_hypothesis = any("hypothesis" in part.text for part in chain)
    call_tests = block.path.name != "README.md"
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, str(script), "hypothesis" if uses_hypothesis else "-",
         HYPOTHESIS_PROFILE, "call" if call_tests else "-"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path, stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, f"{block.where()} failed:\n{done.stdout}\n{done.stderr}"
    if block.output is not None:
        printed = done.stdout.split(BEGIN + "\n", 1)[1]
        assert same(block.output, printed), (
            f"{block.where()} prints\n{printed}\nbut the docs show\n{block.output}")


def run_shell(block: Block, tmp_path: Path) -> None:
    commands = shell_commands(block.text)
    status = int(block.marker("exit") or 0)
    script = ['einviz() { "$EINVIZ_PYTHON" -m einviz "$@"; }',
              'python() { "$EINVIZ_PYTHON" "$@"; }',
              "set -o pipefail", "status=0"]
    for k, (command, _) in enumerate(commands):
        script += [f"printf '@@begin {k}\\n'", '(exit "$status")',
                   "{ " + command + "\n} 2>&1", "status=$?",
                   f"printf '\\n@@end {k} %d\\n' \"$status\""]
    environment = dict(os.environ, EINVIZ_PYTHON=sys.executable, NO_COLOR="1", TERM="dumb",
                       COLUMNS="100")
    done = subprocess.run(["bash", "-c", "\n".join(script)], capture_output=True, text=True,
                          timeout=300, cwd=tmp_path, env=environment, stdin=subprocess.DEVNULL)
    results = {int(k): (text, int(code)) for k, text, code in
               re.findall(r"@@begin (\d+)\n(.*?)\n?@@end \1 (\d+)\n", done.stdout, re.S)}
    assert len(results) == len(commands), (
        f"{block.where()}: the block did not finish\n{done.stdout}{done.stderr}")
    for k, (command, shown) in enumerate(commands):
        got, code = results[k]
        followed_by_status = k + 1 < len(commands) and commands[k + 1][0].strip() == "echo $?"
        if not followed_by_status:
            assert code == status, (f"{block.where()}: `{command}` exited {code}, expected "
                                    f"{status}\n{got}")
        if shown:
            assert same(shown, got), (
                f"{block.where()}: `{command}` prints\n{got}\nbut the docs show\n{shown}")


def test_the_docs_have_snippets_of_every_kind():
    kinds = {block.kind for block in RUNNABLE}
    assert {"doctest", "python", "shell"} <= kinds
    assert len(RUNNABLE) > 20


def test_markers_are_used_sparingly():
    marked = [block.where() for block in ALL if "no-run" in block.markers]
    assert len(marked) <= 6, marked


# --------------------------------------------------------------------------------------------
# docs/api.md shows every public name with its real signature
# --------------------------------------------------------------------------------------------

ANIMATION_MEMBERS = ("to_svg", "frame_svg", "to_png", "to_gif", "to_html", "n_frames", "frames",
                     "granularity", "duration", "player_html")


def public_names() -> list[tuple[str, object]]:
    import einviz
    import einviz.testing

    names = [(f"einviz.{name}", getattr(einviz, name)) for name in einviz.__all__]
    names += [(f"einviz.testing.{name}", getattr(einviz.testing, name))
              for name in einviz.testing.__all__]
    names += [(f"Animation.{name}", inspect.getattr_static(einviz.Animation, name))
              for name in ANIMATION_MEMBERS]
    return names


def signature_line(qualified: str, obj: object) -> str:
    """How api.md shows a name: its signature without annotations, then its return type."""
    def returns(annotation: object) -> str:
        if annotation in (inspect.Signature.empty, None, "None"):
            return ""
        text = annotation if isinstance(annotation, str) else inspect.formatannotation(annotation)
        return " -> " + text.removeprefix("st.")

    if isinstance(obj, property):
        return f"{qualified}: {returns(obj.fget.__annotations__.get('return'))[4:]}"
    if not callable(obj):
        return f"{qualified}: {type(obj).__name__}"
    signature = inspect.signature(obj)
    parameters = [parameter.replace(annotation=inspect.Parameter.empty)
                  for parameter in signature.parameters.values()
                  if not parameter.name.startswith("_") and parameter.name != "self"]
    plain = str(signature.replace(parameters=parameters, return_annotation=inspect.Signature.empty))
    if isinstance(obj, type):
        return f"class {qualified}{plain}"
    return f"{qualified}{plain}{returns(signature.return_annotation)}"


def test_the_api_reference_shows_every_public_name_with_its_real_signature():
    api = ROOT / "docs" / "api.md"
    shown = {line for block in read_blocks(api) if block.language == "text"
             for line in block.text.splitlines()}
    lines = [signature_line(qualified, obj) for qualified, obj in public_names()]
    missing = [line for line in lines if line not in shown]
    assert not missing, "docs/api.md lacks (or shows another signature for):\n" + "\n".join(missing)


# --------------------------------------------------------------------------------------------
# Links
# --------------------------------------------------------------------------------------------


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading."""
    text = re.sub(r"[`*]|\\(?=_)", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = re.sub(r"^```.*?^```", "", path.read_text(encoding="utf-8"), flags=re.S | re.M)
    return {slug(heading) for heading in re.findall(r"^#+ (.*)$", text, re.M)}


def test_local_links_and_their_anchors_resolve():
    broken = []
    for path in FILES:
        text = re.sub(r"^```.*?^```", "", path.read_text(encoding="utf-8"), flags=re.S | re.M)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):
                continue
            file, _, anchor = target.partition("#")
            resolved = (path.parent / file).resolve() if file else path
            if not resolved.exists():
                broken.append(f"{path.relative_to(ROOT)}: {target} (no such file)")
            elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
                broken.append(f"{path.relative_to(ROOT)}: {target} (no such heading)")
    assert not broken, "\n".join(broken)


def test_the_front_page_links_every_page():
    index = (ROOT / "docs" / "index.md").read_text(encoding="utf-8")
    pages = [path.name for path in sorted((ROOT / "docs").glob("*.md"))] + ["gallery/index.md"]
    assert [page for page in pages if page != "index.md" and f"]({page})" not in index] == []
