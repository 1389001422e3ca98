"""LLM label extraction through an OpenAI-compatible server: a real HTTP server on 127.0.0.1 stands in for
vLLM, and the tests check what it received (the authors' prompt, the sampling settings), not only scores."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from test_eval_wheels import write_tables

from omni_emotion.cli import main
from omni_emotion.errors import ConfigError, LLMServerError
from omni_emotion.evaluation.llm_server import ChatServer
from omni_emotion.mentions import AUTHORS_EXTRACTION_PROMPT, extraction_prompt

GT = "name,openset\ns1,\"['happy', 'angry']\"\ns2,\"['calm']\"\n"
REASONS = {
    "s1": "He shouts, then laughs; overall he is not calm.",  # the rules find no label to keep here
    "s2": "She speaks slowly.",
}
REPLIES = {"s1": "Output: [happy, angry]", "s2": "[calm]"}


class FakeServer(ThreadingHTTPServer):
    """Answers /v1/models and /v1/chat/completions like vLLM; records every chat request body."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.bodies: list[dict] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def _send(self, payload: dict, status: int = 200) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path == "/v1/models":
            self._send({"object": "list", "data": [{"id": "qwen2.5-test", "object": "model"}]})
        else:
            self._send({"error": "not found"}, 404)

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.bodies.append(body)
        if self.path != "/v1/chat/completions":
            self._send({"error": "not found"}, 404)
            return
        prompt = body["messages"][-1]["content"]
        found = [name for name, reason in REASONS.items() if f"Input: {reason};" in prompt]
        reply = REPLIES[found[0]] if found else "[]"
        self._send({"choices": [{"index": 0, "message": {"role": "assistant", "content": reply}}]})


@pytest.fixture()
def server():
    fake = FakeServer()
    thread = threading.Thread(target=fake.serve_forever, daemon=True)
    thread.start()
    yield fake
    fake.shutdown()
    fake.server_close()


@pytest.fixture()
def files(tmp_path, monkeypatch):
    monkeypatch.setenv("OMNI_EMOTION_CACHE", str(tmp_path / "cache"))
    gt = tmp_path / "gt.csv"
    gt.write_text(GT)
    pred = tmp_path / "reasons.jsonl"
    pred.write_text("".join(json.dumps({"name": n, "reason": r}) + "\n" for n, r in REASONS.items()))
    return gt, pred, write_tables(tmp_path / "wheels")


def _eval(capsys, *args):
    code = main(["eval", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_prompt_is_the_authors_text_with_the_description_inserted():
    prompt = extraction_prompt("She frowns.")
    assert prompt.startswith("Please assume the role of an expert in the field of emotions. We provide clues")
    assert prompt.endswith("Output: [happy, sad, angry] Input: She frowns.; Output: ")
    assert prompt == AUTHORS_EXTRACTION_PROMPT.replace("{reason}", "She frowns.")
    assert extraction_prompt("a {reason} b") == AUTHORS_EXTRACTION_PROMPT.replace("{reason}", "a {reason} b")


def test_eval_sends_each_description_to_the_server_and_scores_its_labels(server, files, capsys):
    gt, pred, wheels = files
    code, out, _ = _eval(capsys, "--gt", gt, "--pred", pred, "--wheels", wheels, "--json")
    rules = json.loads(out.splitlines()[-1])
    code, out, err = _eval(
        capsys,
        "--gt",
        gt,
        "--pred",
        pred,
        "--wheels",
        wheels,
        "--json",
        "--extractor",
        "llm",
        "--llm-url",
        server.url,
    )
    assert code == 0, err
    summary = json.loads(out.splitlines()[-1])
    assert summary["M1"] == pytest.approx(1.0) and rules["M1"] < 1.0  # the server's labels were scored
    assert [body["messages"] for body in server.bodies] == [
        [{"role": "user", "content": extraction_prompt(reason)}] for reason in REASONS.values()
    ]
    for body in server.bodies:  # the authors' sampling, and the model the server listed
        assert body["model"] == "qwen2.5-test"
        assert (body["temperature"], body["top_p"], body["max_tokens"]) == (0.7, 0.8, 512)
        assert body["repetition_penalty"] == 1.05


def test_an_unreachable_or_wrong_server_is_one_sentence(server, files, capsys):
    gt, pred, wheels = files
    server.shutdown()
    server.server_close()
    base = ("--gt", gt, "--pred", pred, "--wheels", wheels, "--extractor", "llm")
    code, _, err = _eval(capsys, *base, "--llm-url", server.url)
    assert code == 2 and "did not answer" in err and "Traceback" not in err
    code, _, err = _eval(capsys, *base, "--llm-url", "ftp://example")
    assert code == 2 and "http://" in err
    code, _, err = _eval(capsys, "--gt", gt, "--pred", pred, "--wheels", wheels, "--llm-url", server.url)
    assert code == 2 and "--extractor llm" in err


def test_server_settings_are_checked_and_odd_answers_are_errors(server):
    with pytest.raises(ConfigError, match="top_p"):
        ChatServer(server.url, top_p=0)
    with pytest.raises(LLMServerError, match="HTTP 404"):
        ChatServer(server.url.removesuffix("/v1") + "/nowhere", model="m")("x")
    assert ChatServer(server.url).served_model() == "qwen2.5-test"
    assert ChatServer(server.url, model="mine", repetition_penalty=None)("x") == "[]"
    assert server.bodies[-1]["model"] == "mine" and "repetition_penalty" not in server.bodies[-1]
