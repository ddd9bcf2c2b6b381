"""Tests of the ctypes binding against the peer fixtures (../shared/fixtures
or $AI_FIXTURES): token ids, greedy continuations and log-probabilities
computed by llama.cpp, embeddings, chat renderings by Python Jinja2, and
hand-written tool-call texts.  Run: /usr/bin/python3 -m unittest test_agentinfer
"""

import json
import math
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import agentinfer as ai  # noqa: E402

FIX = os.environ.get("AI_FIXTURES") or os.path.join(HERE, "..", "..", "..", "shared", "fixtures")
HAVE_FIX = os.path.isdir(os.path.join(FIX, "models"))
need_fixtures = unittest.skipUnless(HAVE_FIX, "fixtures absent (../shared/fixtures)")


def fx(*parts):
    return os.path.join(FIX, *parts)


def ref(name):
    with open(fx("refs", name), encoding="utf-8") as f:
        return json.load(f)


def log_softmax_at(logits, ids):
    m = max(logits)
    lse = m + math.log(sum(math.exp(x - m) for x in logits))
    return [logits[i] - lse for i in ids]


class Basics(unittest.TestCase):
    def test_version(self):
        self.assertEqual(ai.version(), "%d.%d.0" % (ai.HEADER_MAJOR, ai.HEADER_MINOR))
        self.assertIn("kernels=", ai.system_info())

    def test_missing_file_raises_with_message(self):
        with self.assertRaises(ai.AgentInferError) as cm:
            ai.Model("/nonexistent/model.gguf")
        self.assertEqual(cm.exception.status, -3)  # AI_E_IO
        self.assertEqual(cm.exception.name, "AI_E_IO")
        self.assertIn("nonexistent", str(cm.exception))

    def test_not_gguf_raises_format(self):
        with tempfile.NamedTemporaryFile(suffix=".gguf") as f:
            f.write(b"GGUF\x03\x00\x00\x00" + b"\xff" * 40)
            f.flush()
            with self.assertRaises(ai.AgentInferError) as cm:
                ai.Model(f.name)
        self.assertEqual(cm.exception.status, -4)  # AI_E_FORMAT
        self.assertTrue(cm.exception.message)

    def test_unknown_option(self):
        with self.assertRaises(ai.AgentInferError) as cm:
            ai.render_template("x", [], no_such_option=1)
        self.assertEqual(cm.exception.status, -6)

    def test_parse_hermes(self):
        tools = [{"type": "function", "function": {"name": "calculator", "parameters": {
            "type": "object", "properties": {"expression": {"type": "string"}}}}}]
        text = 'Sure.\n<tool_call>\n{"name": "calculator", "arguments": {"expression": "6*7"}}\n</tool_call>'
        r = ai.parse_tool_calls(text, "hermes", tools)
        self.assertEqual(r["content"], "Sure.")
        self.assertFalse(r["error"])
        self.assertEqual(r["tool_calls"], [{"name": "calculator", "arguments": {"expression": "6*7"}}])

    def test_parse_llama3_and_malformed(self):
        r = ai.parse_tool_calls('{"name": "f", "parameters": {"x": 1}}', "llama3_json")
        self.assertEqual([(c["name"], c["arguments"]) for c in r["tool_calls"]], [("f", {"x": 1})])
        bad = ai.parse_tool_calls('<tool_call>{"name": "f", "arguments": {</tool_call>', "hermes")
        self.assertTrue(bad["error"])
        self.assertEqual(bad["tool_calls"], [])
        # a tool not among the declared ones is malformed output, not a call
        other = ai.parse_tool_calls('<tool_call>{"name": "rm", "arguments": {}}</tool_call>', "hermes",
                                    [{"name": "ls", "parameters": {}}])
        self.assertTrue(other["error"])

    def test_unknown_format_raises(self):
        with self.assertRaises(ai.AgentInferError) as cm:
            ai.parse_tool_calls("x", "no_such_format")
        self.assertEqual(cm.exception.status, -11)

    def test_invalid_utf8_raises_format(self):
        with self.assertRaises(ai.AgentInferError) as cm:
            ai.parse_tool_calls(b"\xff\xfe", "hermes")
        self.assertEqual(cm.exception.status, -4)

    def test_template_error_message(self):
        with self.assertRaises(ai.AgentInferError) as cm:
            ai.render_template("{{ raise_exception('no system role') }}", [])
        self.assertIn("no system role", str(cm.exception))

    def test_library_override(self):
        # AGENTINFER_LIB is honoured: a wrong path fails to import, the
        # right one imports.
        env = dict(os.environ, AGENTINFER_LIB="/nonexistent/libagentinfer.so")
        p = subprocess.run([sys.executable, "-B", "-c", "import agentinfer"], cwd=HERE, env=env,
                           capture_output=True, text=True)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("AGENTINFER_LIB", p.stderr)
        env["AGENTINFER_LIB"] = ai.library_path
        p = subprocess.run([sys.executable, "-B", "-c", "import agentinfer as a; print(a.library_path)"],
                           cwd=HERE, env=env, capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.strip(), ai.library_path)


@need_fixtures
class Templates(unittest.TestCase):
    def test_renders_match_jinja2(self):
        with open(fx("templates", "conversations-shared.json"), encoding="utf-8") as f:
            convs = {c["id"]: c for c in json.load(f)["conversations"]}
        n = 0
        with open(fx("templates", "expected.jsonl"), encoding="utf-8") as f:
            for line in f:
                rec = json.loads(line)
                if rec["template"] not in ("Qwen-Qwen2.5-7B-Instruct.jinja",
                                           "meta-llama-Llama-3.1-8B-Instruct.jinja"):
                    continue
                with open(fx("templates", rec["template"]), encoding="utf-8") as t:
                    tpl = t.read()
                conv = convs[rec["conversation"]]
                args = dict(tools=conv["tools"], bos_token=rec["bos_token"], eos_token=rec["eos_token"],
                            add_generation_prompt=rec["add_generation_prompt"], chat_time=1768435200)
                if "expected" in rec:
                    self.assertEqual(ai.render_template(tpl, conv["messages"], **args), rec["expected"],
                                     (rec["template"], rec["conversation"]))
                else:
                    with self.assertRaises(ai.AgentInferError):
                        ai.render_template(tpl, conv["messages"], **args)
                n += 1
        self.assertGreater(n, 10)

    def test_detect_format(self):
        with open(fx("templates", "Qwen-Qwen2.5-7B-Instruct.jinja"), encoding="utf-8") as t:
            self.assertEqual(ai.detect_tool_call_format(t.read()), "hermes")
        with open(fx("templates", "meta-llama-Llama-3.1-8B-Instruct.jinja"), encoding="utf-8") as t:
            self.assertEqual(ai.detect_tool_call_format(t.read()), "llama3_json")


@need_fixtures
class Decoder(unittest.TestCase):
    def test_tokenize_matches_peer(self):
        for name in ("llama-f16", "qwen2-f16"):
            r = ref(name + ".p0.json")
            with ai.Model(fx("models", name + ".gguf")) as m:
                self.assertEqual(m.tokenize(r["prompt"]), r["tokens"], name)
                self.assertEqual(m.vocab_size, r["n_vocab"])

    def test_vocab_fixture(self):
        base = fx("vocab", "ggml-vocab-llama-spm.gguf")
        with open(base + ".inp", encoding="utf-8") as f:
            inputs = f.read().split("\n__ggml_vocab_test__\n")
        with open(base + ".out", encoding="utf-8") as f:
            outputs = f.read().split("\n")
        m = ai.Model(base)
        for text, ids in list(zip(inputs, outputs))[:20]:
            want = [int(x) for x in ids.split()]
            self.assertEqual(m.tokenize(text, add_special=False), want, repr(text))

    def test_greedy_and_logprobs_match_peer(self):
        for name in ("llama-f16", "qwen2-f16"):
            r = ref(name + ".p0.json")
            m = ai.Model(fx("models", name + ".gguf"))
            s = ai.Session(m, temperature=0, max_tokens=16)
            s.eval(r["tokens"])
            top = r["positions"][-1]["top"]
            got = log_softmax_at(s.logits(), [i for i, _ in top])
            want = [v - r["positions"][-1]["lse"] for _, v in top]
            # the fixtures' README: f16 engines agree to about 1e-2 in log-prob
            self.assertLess(max(abs(a - b) for a, b in zip(got, want)), 3e-2, name)
            ids = [s.next_token() for _ in range(len(r["greedy"]))]
            self.assertEqual(ids, [g["id"] for g in r["greedy"]], name)

    def test_stream_and_callback_agree(self):
        r = ref("llama-f16.p1.json")
        m = ai.Model(fx("models", "llama-f16.gguf"))
        s = ai.Session(m, temperature=0, max_tokens=16)
        pieces = list(s.stream(r["tokens"]))
        self.assertTrue(pieces)
        seen = []
        text = s.generate(r["tokens"], on_piece=seen.append)
        self.assertEqual(text, "".join(pieces))
        self.assertEqual(seen, pieces)
        # the text is that of the peer's greedy tokens (the first piece's
        # leading space aside: see the next test)
        ids = [g["id"] for g in r["greedy"]]
        cont = m.detokenize(r["tokens"] + ids)[len(m.detokenize(r["tokens"])):]
        self.assertEqual(text, cont[1:] if cont.startswith(" ") else cont)
        # stopping from the callback is a cancellation
        with self.assertRaises(ai.AgentInferError) as cm:
            s.generate(r["tokens"], on_piece=lambda p: True)
        self.assertEqual(cm.exception.name, "AI_E_CANCELLED")

    # A generation continues its prompt: SentencePiece's rule that drops the
    # space before the first word of a text must not drop it here.
    def test_stream_keeps_first_space(self):
        r = ref("llama-f16.p0.json")
        m = ai.Model(fx("models", "llama-f16.gguf"))
        s = ai.Session(m, temperature=0, max_tokens=16)
        ids = [g["id"] for g in r["greedy"]]
        cont = m.detokenize(r["tokens"] + ids)[len(m.detokenize(r["tokens"])):]
        self.assertTrue(cont.startswith(" "))  # the premise of this test
        self.assertEqual(s.generate(r["tokens"]), cont)

    def test_prompt_reuses_prefix(self):
        r = ref("llama-f16.p0.json")
        m = ai.Model(fx("models", "llama-f16.gguf"))
        s = ai.Session(m)
        s.prompt(r["tokens"][:20])
        s.prompt(r["tokens"])
        self.assertEqual(s.n_reused, 20)
        fresh = ai.Session(m)
        fresh.eval(r["tokens"])
        self.assertEqual(s.logits(), fresh.logits())

    def test_session_on_encoder_raises(self):
        m = ai.Model(fx("models", "bert-f16.gguf"))
        with self.assertRaises(ai.AgentInferError) as cm:
            ai.Session(m)
        self.assertEqual(cm.exception.name, "AI_E_UNSUPPORTED")
        self.assertTrue(cm.exception.message)

    def test_chat_render_with_model(self):
        m = ai.Model(fx("models", "qwen2-f16.gguf"))
        # no template in this file: the documented ChatML fallback
        out = m.chat_render([{"role": "user", "content": "hi"}])
        self.assertEqual(out, "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n")
        self.assertEqual(m.tool_call_format(), "generic_json")


@need_fixtures
class Embeddings(unittest.TestCase):
    def test_match_peer(self):
        for name in ("bert-f16", "nomic-bert-f16"):
            m = ai.Model(fx("models", name + ".gguf"))
            e = ai.Embedder(m)
            refs = [ref("%s.e%d.json" % (name, i)) for i in (0, 1)]
            vecs = e.embed_batch([r["prompt"] for r in refs])
            for r, v in zip(refs, vecs):
                self.assertEqual(len(v), len(r["embedding"]))
                cos = sum(a * b for a, b in zip(v, r["embedding"])) / math.sqrt(
                    sum(a * a for a in v) * sum(b * b for b in r["embedding"]))
                self.assertGreater(cos, 0.999, name)
                self.assertEqual(e.embed(r["prompt"]), v)


if __name__ == "__main__":
    unittest.main()
