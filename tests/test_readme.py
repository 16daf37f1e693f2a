"""Every ```python block of README.md runs as printed, top to bottom, in one namespace.

A reader pastes the blocks into one session in order, so later blocks may use what
earlier ones defined (``clf``, ``X_test``). Each block is one test, named by its line and
heading; a traceback points at README.md's own lines. Files the blocks write go to a
temporary folder. A block that needs an optional extra that is not installed is skipped.
"""

import importlib.util
import re
import sys
import traceback
import warnings
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"

# The README has nine Python blocks today; a parser that finds far fewer is broken.
MIN_BLOCKS = 8

# Imports of optional extras: a block failing on one of these skips rather than fails.
OPTIONAL_MODULES = {"matplotlib", "onnx", "onnxruntime", "skops", "dask", "distributed",
                    "tqdm", "rich", "pandas"}

if importlib.util.find_spec("matplotlib") is not None:
    import matplotlib

    matplotlib.use("Agg")


def _python_blocks(path=README):
    """Return ``(first code line, heading, source)`` of each ```python block."""
    blocks, heading, fence, lines, start = [], "top", None, [], 0
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if fence is None:  # prose
            if line.startswith("```"):
                fence, lines, start = line[3:].strip(), [], number + 1
            elif line.startswith("#"):
                heading = line.lstrip("#").strip()
        elif line.strip() == "```":  # the end of a code block (of any language)
            if fence == "python":
                blocks.append((start, heading, "\n".join(lines) + "\n"))
            fence = None
        else:
            lines.append(line)
    assert fence is None, f"README.md: the code block at line {start - 1} is never closed"
    return blocks


BLOCKS = _python_blocks()


def _block_id(block):
    start, heading, _ = block
    return f"L{start}-" + re.sub(r"[^0-9a-z]+", "-", heading.lower()).strip("-")


def test_readme_has_python_blocks():
    assert len(BLOCKS) >= MIN_BLOCKS, (
        f"found {len(BLOCKS)} ```python blocks in README.md, expected >= {MIN_BLOCKS}")


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    """The reader's session: one namespace, one working folder, the blocks run so far."""
    # "__main__", so that the dask block's `if __name__ == "__main__":` body runs.
    return {"namespace": {"__name__": "__main__"},
            "folder": tmp_path_factory.mktemp("readme"), "failed": None}


@pytest.mark.parametrize("block", BLOCKS, ids=[_block_id(b) for b in BLOCKS])
def test_readme_block(block, session, monkeypatch):
    start, heading, source = block
    if session["failed"] is not None:
        pytest.skip(f"not run: the block at README.md line {session['failed']} failed, "
                    "and later blocks build on it")
    monkeypatch.chdir(session["folder"])
    # Padding keeps README's line numbers, so a traceback shows README.md's own lines.
    code = compile("\n" * (start - 1) + source, str(README), "exec")
    try:
        with warnings.catch_warnings():
            # A second cluster (another test run) moves the dask dashboard to a free port.
            warnings.filterwarnings("ignore", message="Port .* is already in use")
            exec(code, session["namespace"])
    except Exception as exc:
        missing = exc.name if isinstance(exc, ModuleNotFoundError) else None
        if (missing or "").partition(".")[0] in OPTIONAL_MODULES:
            pytest.skip(f"README.md line {start} ({heading}) needs {missing} (an extra)")
        session["failed"] = start
        # The traceback from the block down, each frame with its line: README.md's own
        # lines for the block (pytest's would print the README from its first line).
        frames = exc.__traceback__.tb_next
        report = "".join(traceback.format_exception(type(exc), exc, frames))
    finally:
        if "matplotlib.pyplot" in sys.modules:
            sys.modules["matplotlib.pyplot"].close("all")
    if session["failed"] == start:
        pytest.fail(f"README.md block at line {start} ({heading}) failed:\n{report}",
                    pytrace=False)


def test_readme_install_and_test_commands_match_ci():
    """CI (.ci/run) runs the README's install and test commands; keep them the same."""
    ci = README.parent / ".ci" / "run"
    if not ci.is_file():
        pytest.skip(".ci/run is not part of this checkout")
    readme, ci = README.read_text(encoding="utf-8"), ci.read_text(encoding="utf-8")
    for command in ['pip install ".[test]"', "pytest"]:
        assert command in readme, f"README.md no longer shows `{command}`"
    assert 'pip install --quiet ".[test]"' in ci
    assert re.search(r"python -m pytest\b", ci)
    assert "python3 -m venv .venv" in readme, "README.md: the virtual-environment lines"

