"""The README's "Reading the figures" section runs as written: its Python blocks are the
example files, run in order in a fresh folder, and each console block's commands print
exactly the output shown under them."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
SECTION = README[README.index("### Reading the figures") : README.index("\nPrices: a cost")]
FILES = [ROOT / "examples" / "reading_the_figures.py", ROOT / "examples" / "late_outcome.py"]
BOTANU = Path(sys.executable).parent / "botanu"


def steps():
    """(kind, text) of each code block of the section, in order."""
    return re.findall(r"```(python|console)\n(.*?)```", SECTION, re.S)


def commands(block):
    """(command, expected output) of each `$ ` line of a console block."""
    found = []
    for line in block.splitlines():
        if line.startswith("$ "):
            found.append((line[2:], []))
        else:
            found[-1][1].append(line)
    return [(command, "\n".join(lines)) for command, lines in found]


def test_the_section_shows_each_rule_with_an_example():
    for rule in ("Total and priced cost", "Waste", "Pending", "Late outcomes", "Value and ROI"):
        assert f"**{rule}" in SECTION
    kinds = [kind for kind, _ in steps()]
    assert kinds.count("python") == len(FILES)
    assert kinds.count("console") == 5


def test_the_sections_examples_print_what_it_shows(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOTANU_", "OTEL_"))}
    env["COLUMNS"] = "200"
    files = iter(FILES)
    for kind, text in steps():
        if kind == "python":
            example = next(files)
            assert text == example.read_text(), example.name
            done = subprocess.run(
                [sys.executable, str(example)],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert done.returncode == 0, done.stderr
            continue
        for command, expected in commands(text):
            argv = shlex.split(command)
            assert argv[0] == "botanu"
            done = subprocess.run(
                [str(BOTANU), *argv[1:]],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert done.returncode == 0, done.stderr
            assert done.stdout.rstrip("\n") == expected, command
