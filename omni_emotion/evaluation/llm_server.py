"""Label extraction by an OpenAI-compatible chat server (vLLM's ``vllm serve``, llama.cpp's server, ...).

The benchmark's authors extract labels by sending their prompt (``mentions.AUTHORS_EXTRACTION_PROMPT``) to
Qwen2.5 as the only, user, message, sampling with temperature 0.7, top_p 0.8 and repetition penalty 1.05 for
up to 512 tokens; ``ChatServer`` defaults to the same. It is the ``generate`` callable of
``mentions.LLMExtractor``. Only the standard library is used (``urllib``): no client package to install.

Run a server, then point ``eval`` at it::

    vllm serve Qwen/Qwen2.5-7B-Instruct --port 8000
    omni-emotion eval --gt check-openset.csv --pred reasons.jsonl --extractor llm \
        --llm-url http://127.0.0.1:8000/v1
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from omni_emotion.errors import ConfigError, LLMServerError

__all__ = ["ChatServer"]


@dataclass(frozen=True)
class ChatServer:
    """One OpenAI-compatible server: ``server(prompt) -> reply text``.

    base_url: the API root, e.g. ``http://127.0.0.1:8000/v1`` (``/chat/completions`` is appended).
    model: the served model's name; "" asks the server (``GET /models``) and takes the first one.
    repetition_penalty: a vLLM sampling parameter (None leaves it out, for servers that refuse it).
    timeout_s: seconds to wait for each answer.
    """

    base_url: str
    model: str = ""
    temperature: float = 0.7
    top_p: float = 0.8
    repetition_penalty: float | None = 1.05
    max_tokens: int = 512
    timeout_s: float = 300.0

    def __post_init__(self) -> None:
        if not self.base_url.startswith(("http://", "https://")):
            raise ConfigError(
                f"The LLM server URL must start with http:// or https:// (got {self.base_url!r})."
            )
        if self.temperature < 0 or not 0 < self.top_p <= 1 or self.max_tokens < 1 or self.timeout_s <= 0:
            raise ConfigError(
                "The LLM sampling settings need temperature >= 0, 0 < top_p <= 1, max_tokens >= 1 and a "
                f"positive timeout (got {self.temperature}, {self.top_p}, {self.max_tokens}, "
                f"{self.timeout_s})."
            )

    def _url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path

    def _request(self, path: str, body: dict[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        request = urllib.request.Request(self._url(path), data=data, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                return json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as err:
            raise LLMServerError(
                f"The LLM server at {self._url(path)} answered HTTP {err.code} ({err.reason})."
            ) from err
        except (urllib.error.URLError, TimeoutError, OSError) as err:
            reason = getattr(err, "reason", err)
            raise LLMServerError(f"The LLM server at {self._url(path)} did not answer ({reason}).") from err
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise LLMServerError(f"The LLM server at {self._url(path)} did not answer with JSON.") from err

    def served_model(self) -> str:
        """``model``, or the first model the server lists."""
        if self.model:
            return self.model
        listing = self._request("/models")
        try:
            return str(listing["data"][0]["id"])
        except (KeyError, IndexError, TypeError) as err:
            raise LLMServerError(
                f"The LLM server at {self.base_url} lists no model; pass --llm-model."
            ) from err

    def __call__(self, prompt: str) -> str:
        body: dict[str, Any] = {
            "model": self.served_model(),
            "messages": [{"role": "user", "content": prompt}],
            "temperature": self.temperature,
            "top_p": self.top_p,
            "max_tokens": self.max_tokens,
        }
        if self.repetition_penalty is not None:
            body["repetition_penalty"] = self.repetition_penalty
        answer = self._request("/chat/completions", body)
        try:
            content = answer["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError) as err:
            raise LLMServerError(f"The LLM server at {self.base_url} sent no chat completion.") from err
        return content if isinstance(content, str) else ""
