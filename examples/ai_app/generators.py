"""Fake generative models: instant, deterministic, and failing when told to.

They stand in for the paid APIs an AI app calls (an image model, a video model, text to
speech, a streaming LLM). Outputs are derived from the prompt, so tests can predict them;
the video model fails at random, drawing from a `random.Random` the app injects, so a
seeded run fails the same generations every time.
"""

import hashlib
import math
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass

BLOCKED_WORD = "forbidden"
"""The safety filter refuses any prompt containing this word."""

SPEECH_WORDS_PER_S = 2.5
"""How fast the fake voice speaks."""


class GenerationFailed(Exception):
    """The model failed (a timeout, an error upstream): nothing was made."""


class PromptRefused(GenerationFailed):
    """The safety filter refused the prompt before the model ran."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Asset:
    """Something a model made: its id and, for clips, its length."""

    id: str
    kind: str
    seconds: int | None = None


def count_tokens(text: str) -> int:
    """The fake tokenizer: one token per word."""
    return len(text.split())


def _id(kind: str, *parts: object) -> str:
    digest = hashlib.sha256("|".join(map(str, (kind, *parts))).encode()).hexdigest()
    return f"{kind}_{digest[:12]}"


def _screen(prompt: str) -> None:
    if BLOCKED_WORD in prompt.lower().split():
        raise PromptRefused(f"the prompt contains {BLOCKED_WORD!r}")


class Studio:
    """The app's models.

    Args:
        rng: where the video model's failures are drawn from (seeded in tests).
        video_failure_rate: the chance that one video generation fails.
        chat_tokens_per_word: how many tokens the chat model answers per word of prompt.
        chat_fails_after_tokens: the chat model raises after sending this many tokens.
    """

    def __init__(
        self,
        *,
        rng: random.Random | None = None,
        video_failure_rate: float = 0.2,
        chat_tokens_per_word: int = 8,
        chat_fails_after_tokens: int | None = None,
    ) -> None:
        self.rng = rng or random.Random()  # noqa: S311 - failures of a fake, not secrets
        self.video_failure_rate = video_failure_rate
        self.chat_tokens_per_word = chat_tokens_per_word
        self.chat_fails_after_tokens = chat_fails_after_tokens

    def image(self, prompt: str, *, model: str) -> Asset:
        """One image for the prompt."""
        _screen(prompt)
        return Asset(id=_id("img", model, prompt), kind="image")

    def video(self, prompt: str, *, seconds: int) -> Asset:
        """A clip of at most `seconds`: one second per word of prompt, the scene's length.

        Raises:
            PromptRefused: the safety filter refused the prompt.
            GenerationFailed: the model failed (at random, at `video_failure_rate`).
        """
        _screen(prompt)
        if self.rng.random() < self.video_failure_rate:
            raise GenerationFailed("the video model timed out")
        length_s = max(1, min(seconds, count_tokens(prompt)))
        return Asset(id=_id("vid", prompt, length_s), kind="video", seconds=length_s)

    def speech(self, text: str, *, max_seconds: int) -> Asset:
        """The text spoken, cut at `max_seconds`.

        Raises:
            PromptRefused: the safety filter refused the text.
        """
        _screen(text)
        length_s = min(max_seconds, max(1, math.ceil(count_tokens(text) / SPEECH_WORDS_PER_S)))
        return Asset(id=_id("aud", text, length_s), kind="audio", seconds=length_s)

    def chat_length(self, prompt: str, *, max_tokens: int) -> int:
        """How many tokens the chat model answers `prompt` with."""
        return min(max_tokens, count_tokens(prompt) * self.chat_tokens_per_word)

    async def chat(self, prompt: str, *, max_tokens: int) -> AsyncIterator[str]:
        """The answer, one token (a word and a space) at a time: the prompt read backwards.

        Raises:
            PromptRefused: the safety filter refused the prompt.
            GenerationFailed: after `chat_fails_after_tokens` tokens, when set.
        """
        _screen(prompt)
        words = prompt.split()[::-1]
        for index in range(self.chat_length(prompt, max_tokens=max_tokens)):
            if index == self.chat_fails_after_tokens:
                raise GenerationFailed("the chat model dropped the connection")
            yield words[index % len(words)] + " "
