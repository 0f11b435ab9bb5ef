"""The README's examples run as written and print what their comments say."""

import contextlib
import io
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.servers import free_port

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


def _curl_examples() -> list[tuple[str, str]]:
    """The README's curl commands, each with the output its comment shows (… for anything)."""
    block = re.search(r"```bash\nKEY=(.*?)```", README.read_text(), re.DOTALL)
    assert block is not None
    text = "KEY=" + block.group(1).replace("\\\n", " ")
    key = text.splitlines()[0]
    examples: list[tuple[str, str]] = []
    command = None
    for line in text.splitlines()[1:]:
        if line.startswith("curl "):
            command = line
        elif line.startswith("# {") and command is not None:
            examples.append((f"{key}; {command}", line.removeprefix("# ")))
            command = None
    return examples


def _wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server stopped while starting"
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{url}/readyz").status_code == 200:
                return
        time.sleep(0.1)
    raise AssertionError("the server did not become ready")


def test_readme_curl_examples_answer_what_their_comments_show(tmp_path: Path) -> None:
    examples = _curl_examples()
    port = free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "creditgate"), "serve", "--demo", "--port", str(port)],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_ready(f"http://127.0.0.1:{port}", server)

        answers = [
            subprocess.run(
                ["bash", "-c", command.replace("localhost:8000", f"127.0.0.1:{port}")],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            for command, _ in examples
        ]
    finally:
        server.terminate()
        server.wait(10)

    assert len(examples) == 5
    for (_, shown), answer in zip(examples, answers, strict=True):
        pattern = ".*".join(re.escape(part) for part in shown.split("…"))
        assert re.fullmatch(pattern, answer.strip()), (shown, answer)
