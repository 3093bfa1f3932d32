"""Every code example in README.md and docs/*.md runs as documented.

Fenced blocks, in document order, one working folder per document (a temporary
copy of ``scenarios/`` and ``data/``, so relative paths work and nothing is
written into the repository):

- ``console``: each ``$ `` line is a shell command (a trailing ``# comment`` is
  dropped, a trailing backslash continues the line). It must exit 0, or the code
  named by a ``# exits N`` comment, without a traceback. Lines after a command
  that do not start with ``$ `` are its documented output: each must appear in
  what the command printed (``...`` lines are skipped).
- ``python``: executed in one namespace per document; must not raise.
- ``yaml``: parsed with PyYAML. A scenario fragment (``name:`` and ``extends:``)
  is read as a scenario file in ``scenarios/`` and checked against the network;
  otherwise a file with ``events:`` is validated as an event file. A block whose
  first line is ``# <file>.yaml`` is also written to that file, for the commands
  after it.
- ``bash``, ``sh`` and other blocks are set-up (``pip install``), run by CI, not here.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

import routesim
from routesim.models import EventFile

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
COMMAND_TIMEOUT_S = 300

_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*)$")
_COMMENT = re.compile(r"\s+#(?:\s.*)?$")
_EXITS = re.compile(r"#\s*exits\s+(\d+)\b")
_FILE_COMMENT = re.compile(r"^#\s*(?P<name>[\w./-]+\.ya?ml)\s*$")


@dataclass(frozen=True)
class Block:
    """A fenced code block: its language and body, ``line`` = 1-based line of the body's first line."""

    lang: str
    line: int
    body: str


@dataclass(frozen=True)
class Command:
    """A ``$ `` line of a console block."""

    line: int
    shell: str
    exit_code: int = 0
    output: tuple[str, ...] = ()


def code_blocks(text: str) -> list[Block]:
    """The fenced code blocks of a Markdown text, in order."""
    blocks: list[Block] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if m is None:
            i += 1
            continue
        fence, indent = m["fence"], len(m["indent"])
        lang = m["info"].split()[0].lower() if m["info"].split() else ""
        body: list[str] = []
        j = i + 1
        while j < len(lines):
            stripped = lines[j].strip()
            if stripped.startswith(fence[0] * len(fence)) and not stripped.strip(fence[0]):
                break
            line = lines[j]
            body.append(line[min(indent, len(line) - len(line.lstrip(" "))):])
            j += 1
        blocks.append(Block(lang, i + 2, "\n".join(body) + "\n"))
        i = j + 1
    return blocks


def console_commands(block: Block) -> list[Command]:
    """The ``$ `` commands of a console block, with expected exit code and documented output."""
    commands: list[Command] = []
    lines = block.body.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.startswith("$ "):
            if line.strip() and commands:
                last = commands[-1]
                commands[-1] = Command(last.line, last.shell, last.exit_code, (*last.output, line.strip()))
            i += 1
            continue
        start = i
        text = line[2:]
        while text.endswith("\\") and i + 1 < len(lines):
            i += 1
            text = text[:-1] + " " + lines[i].strip()
        comment = _COMMENT.search(text)
        exits = _EXITS.search(comment.group(0)) if comment else None
        shell = text[: comment.start()] if comment else text
        commands.append(Command(block.line + start, shell.strip(), int(exits.group(1)) if exits else 0))
        i += 1
    return commands


def _squash(text: str) -> str:
    return " ".join(text.split())


def run_commands(commands: list[Command], cwd: Path, where: str) -> None:
    """Run console commands in order in ``cwd``; assert exit codes, no traceback, documented output."""
    env = dict(os.environ)
    # the `routesim` and `python` of the interpreter running the tests come first
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    for cmd in commands:
        proc = subprocess.run(cmd.shell, shell=True, cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=COMMAND_TIMEOUT_S)
        label = f"{where}:{cmd.line}: $ {cmd.shell}"
        assert proc.returncode == cmd.exit_code, (
            f"{label}\nexit {proc.returncode}, expected {cmd.exit_code}\n"
            f"stdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-3000:]}"
        )
        assert "Traceback" not in proc.stderr, f"{label}\n{proc.stderr[-3000:]}"
        printed = _squash(proc.stdout + "\n" + proc.stderr)
        for expected in cmd.output:
            if expected.strip(".… ") == "":
                continue
            assert _squash(expected) in printed, f"{label}\ndocumented output not printed: {expected!r}\n{printed}"


def check_yaml(block: Block, cwd: Path, where: str) -> None:
    """Parse a YAML block; validate event files and scenario fragments; write ``# name.yaml`` blocks."""
    label = f"{where}:{block.line}"
    data = yaml.safe_load(block.body)
    first = block.body.lstrip().splitlines()[0] if block.body.strip() else ""
    named = _FILE_COMMENT.match(first)
    if named:
        (cwd / named["name"]).parent.mkdir(parents=True, exist_ok=True)
        (cwd / named["name"]).write_text(block.body, encoding="utf-8")
    if not isinstance(data, dict):
        return
    if "name" in data and "extends" in data:
        # a fragment extends a shipped scenario: read it from beside them (hidden, so `scenarios/*.yaml` skips it)
        path = cwd / "scenarios" / f".doc-example-{block.line}.yaml"
        path.write_text(block.body, encoding="utf-8")
        try:
            routesim.load_scenario(path)
        except routesim.RoutesimError as exc:
            pytest.fail(f"{label}: scenario fragment does not validate:\n{exc}")
        finally:
            path.unlink()
    elif "events" in data:
        EventFile.model_validate(data)


def run_document(doc: Path, cwd: Path) -> dict[str, int]:
    """Run every example of ``doc`` in ``cwd``; returns how many of each kind ran."""
    where = doc.relative_to(ROOT).as_posix()
    namespace: dict[str, object] = {"__name__": "__doc_example__"}
    counts = {"console": 0, "python": 0, "yaml": 0}
    for block in code_blocks(doc.read_text(encoding="utf-8")):
        if block.lang == "console":
            commands = console_commands(block)
            run_commands(commands, cwd, where)
            counts["console"] += len(commands)
        elif block.lang in ("python", "py"):
            # leading newlines keep the document's line numbers in tracebacks
            code = compile("\n" * (block.line - 1) + block.body, where, "exec")
            exec(code, namespace)
            counts["python"] += 1
        elif block.lang in ("yaml", "yml"):
            check_yaml(block, cwd, where)
            counts["yaml"] += 1
    return counts


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for folder in ("scenarios", "data"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.slow
@pytest.mark.parametrize("doc", DOCUMENTS, ids=[d.name for d in DOCUMENTS])
def test_document_examples_run(doc: Path, workdir: Path) -> None:
    run_document(doc, workdir)


def test_readme_has_console_and_python_examples() -> None:
    blocks = code_blocks((ROOT / "README.md").read_text(encoding="utf-8"))
    commands = [c for b in blocks if b.lang == "console" for c in console_commands(b)]
    assert commands, "no console examples found in README.md"
    assert any(b.lang == "python" for b in blocks), "no python examples found in README.md"
    assert any(c.exit_code == 2 for c in commands), "README.md lost its example of a clean error (# exits 2)"


SAMPLE = """\
Text.

```console
$ echo one   # a comment
$ routesim route Damascus "Aleppo city"   # exits 2
routesim: error: unknown place
$ echo a \\
    b
```

- item

  ```python
  x = 1
  ```

```bash
pip install .
```
"""


def test_harness_parses_blocks_commands_and_comments() -> None:
    blocks = code_blocks(SAMPLE)
    assert [(b.lang, b.line) for b in blocks] == [("console", 4), ("python", 14), ("bash", 18)]
    assert blocks[1].body == "x = 1\n"
    commands = console_commands(blocks[0])
    assert [(c.shell, c.exit_code, c.line) for c in commands] == [
        ("echo one", 0, 4), ('routesim route Damascus "Aleppo city"', 2, 5), ("echo a  b", 0, 7)]
    assert commands[1].output == ("routesim: error: unknown place",)


def test_harness_fails_on_wrong_exit_traceback_or_output(tmp_path: Path) -> None:
    for cmd in (Command(1, "exit 3"), Command(1, "true", exit_code=2),
                Command(1, "echo Traceback >&2"), Command(1, "echo yes", output=("no",))):
        with pytest.raises(AssertionError):
            run_commands([cmd], tmp_path, "sample")
    run_commands([Command(1, "exit 2", exit_code=2), Command(1, "echo a   b", output=("a b", "..."))],
                 tmp_path, "sample")
