#!/usr/bin/python3
"""Checks an exported GGUF against the Python side, through the agentinfer program.

  /usr/bin/python3 tools/train/check_export.py models/default.gguf [--bin build/bin/agentinfer]

1. Tokenizer: `agentinfer tokenize --parse-special` must give SentencePiece's ids exactly,
   on training dialogues (with the special tokens), held-out KJV text and odd strings.
2. Chat template: `agentinfer chat-render` with the file's tokenizer.chat_template must give
   chatfmt.render()'s text exactly (the text the model was trained on), with and without
   tools, with and without the generation prompt, with calls whose arguments are objects
   or JSON strings, and several calls in one turn.
Exit status 0 when everything matches, 1 otherwise.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import sentencepiece as spm  # noqa: E402

import chatfmt  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("gguf")
    ap.add_argument("--bin", default=os.path.join(HERE, "..", "..", "build", "bin", "agentinfer"))
    ap.add_argument("--n", type=int, default=40, help="dialogues to check")
    args = ap.parse_args()
    sp = spm.SentencePieceProcessor(model_file=os.path.join(HERE, "tokenizer.model"))
    out = os.path.join(HERE, "out")
    with open(os.path.join(out, "dialogues.train.jsonl"), encoding="utf-8") as f:
        dialogues = [json.loads(l) for l, _ in zip(f, range(args.n))]
    kjv = open(os.path.join(out, "kjv.heldout.txt"), encoding="utf-8").read()
    tmp = tempfile.mkdtemp()
    bad = 0

    texts = [d["text"] for d in dialogues] + [kjv[i * 3000:(i + 1) * 3000] for i in range(10)]
    texts += ["h\u00e9llo w\u00f6rld \u2713 \u65e5\u672c", "  two  spaces\tand tab\n\nnewlines",
              "x" * 50, "1234567.89 + (3 - 4)", "<tool_call>\n{}\n</tool_call>", ""]
    for t in texts:
        p = os.path.join(tmp, "t.txt")
        with open(p, "w", encoding="utf-8") as f:
            f.write(t)
        r = subprocess.run([args.bin, "tokenize", "-m", args.gguf, "-f", p, "--parse-special"],
                           capture_output=True, text=True)
        got = [int(x) for x in r.stdout.split()]
        if r.returncode != 0 or got != sp.encode(t):
            bad += 1
            print("tokenize mismatch (rc %d) on %r" % (r.returncode, t[:60]), r.stderr[:200])
    print("tokenizer: %d texts, %d mismatches" % (len(texts), bad))

    tools_path = os.path.join(tmp, "tools.json")
    with open(tools_path, "w", encoding="utf-8") as f:
        json.dump(chatfmt.TOOLS, f)
    cases = []
    for d in dialogues:
        cases.append((d["messages"], True, False))
        cases.append((d["messages"][:2], True, True))
    cases.append(([{"role": "user", "content": "hi"}], False, True))
    cases.append(([{"role": "user", "content": "hi"},
                   {"role": "assistant", "content": "Let me check.", "tool_calls": [
                       {"type": "function", "function": {"name": "calculator",
                                                         "arguments": "{\"expression\": \"1 + 1\"}"}},
                       {"type": "function", "function": {"name": "current_time", "arguments": {}}}]},
                   {"role": "tool", "content": "{\"result\": 2}"}], True, True))
    n_bad = 0
    for msgs, tools, gen in cases:
        p = os.path.join(tmp, "m.json")
        with open(p, "w", encoding="utf-8") as f:
            json.dump(msgs, f)
        cmd = [args.bin, "chat-render", "-m", args.gguf, "--messages", p]
        if tools:
            cmd += ["--tools", tools_path]
        if not gen:
            cmd += ["--no-generation-prompt"]
        r = subprocess.run(cmd, capture_output=True, text=True)
        want = chatfmt.render(msgs, chatfmt.TOOLS if tools else None, gen)
        if r.returncode != 0 or r.stdout != want:
            n_bad += 1
            print("chat-render mismatch (rc %d)" % r.returncode, r.stderr[:200])
    print("chat template: %d conversations, %d mismatches" % (len(cases), n_bad))
    return 1 if bad or n_bad else 0


if __name__ == "__main__":
    sys.exit(main())
