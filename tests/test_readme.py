"""The README's front door: two commands at the top, and its example is the file that the
first command runs, producing a run span with its outcome."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_readme_starts_with_the_two_commands():
    blocks = re.findall(r"```(\w*)\n(.*?)```", README, re.S)
    assert [lang for lang, _ in blocks[:2]] == ["bash", "bash"]
    install_and_run, tests = (body.strip() for _, body in blocks[:2])
    assert install_and_run.endswith("botanu demo")
    assert tests == "bash scripts/check"
    assert "bash scripts/check" in (ROOT / ".ci" / "run").read_text()


def test_readme_quick_start_is_the_example_file_and_runs():
    python_blocks = re.findall(r"```python\n(.*?)```", README, re.S)
    example = (ROOT / "examples" / "quickstart.py").read_text()
    assert python_blocks[0] == example
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "quickstart.py")],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    lines = out.stdout.splitlines()
    assert lines[-1] == "Your order ships tomorrow."
    llm, run = lines[0], lines[1]
    assert llm.startswith("chat gpt-4o-mini")
    assert run.startswith("botanu.run/resolve-ticket")
    assert run.endswith("success")
    run_id = run.split()[2]
    assert run_id in llm  # the LLM span carries the run's id
    assert out.stderr == ""


def test_readme_integration_examples_are_the_files_the_tests_run():
    shown = re.findall(
        r"<summary><code>(examples/integrations/\w+\.py)</code></summary>\n\n```python\n(.*?)```",
        README,
        re.S,
    )
    files = sorted((ROOT / "examples" / "integrations").glob("*.py"))
    assert sorted(name for name, _ in shown) == [str(f.relative_to(ROOT)) for f in files]
    for name, code in shown:
        assert code == (ROOT / name).read_text(), name
