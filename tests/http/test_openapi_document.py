import json
from pathlib import Path

from creditgate import Engine
from creditgate.app import openapi_document

DOCUMENT = Path(__file__).parents[2] / "docs" / "openapi.json"


def test_openapi_document_in_docs_is_what_the_service_serves(engine: Engine) -> None:
    served = json.loads(openapi_document(engine))

    kept = json.loads(DOCUMENT.read_text())

    assert kept == served, "run `make openapi` and review the change"
