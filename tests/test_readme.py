"""The README's Python example runs as written and prints what its comments say."""

import contextlib
import io
import re
from pathlib import Path

import pytest

README = Path(__file__).parents[1] / "README.md"


def test_readme_python_example_prints_its_commented_figures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = re.search(r"```python\n(.*?)```", README.read_text(), re.DOTALL)
    assert source is not None
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()

    with contextlib.redirect_stdout(out):
        namespace: dict[str, object] = {}
        exec(compile(source.group(1), "README.md", "exec"), namespace)
        engine = namespace["engine"]
        engine.close()  # type: ignore[attr-defined]

    assert out.getvalue().splitlines() == [
        "3 57",
        "40 s = 3 x 15 s x 1 credit = 3 credits",
        "False 50 32",
        "50 32 18",
    ]
    assert (tmp_path / "credits.db").exists()
