"""A small AI studio whose generations are paid for with credits through `creditgate.gate.Gate`.

`generators` holds fake models (deterministic; the video model fails at random from an
injected random source), `app` the FastAPI app over an `Engine` or a `Client`.
"""

from examples.ai_app.app import create_app, from_environment
from examples.ai_app.generators import GenerationFailed, PromptRefused, Studio

__all__ = ["GenerationFailed", "PromptRefused", "Studio", "create_app", "from_environment"]
