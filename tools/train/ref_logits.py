#!/usr/bin/python3
"""PyTorch reference logits for the exported default model, for a C test of our forward pass.

  /usr/bin/python3 tools/train/ref_logits.py --ckpt tools/train/out/ckpt.pt \
      --out-prefix tests/data/default-f16

Writes PREFIX.p0.json (plain KJV text) and PREFIX.p1.json (a chat prompt with the tools, a
tool call and its result, ending at the answer's generation prompt), in the schema of
../shared/fixtures/refs/*.pN.json:
  model, prompt, parse_special (whether the special-token text in `prompt` was parsed as
  special tokens), n_vocab, tokens (= SentencePiece ids; no BOS, add_bos_token is false),
  positions[i] = {lse, top: 16 x [id, logit]} for the logits after token i (one batch),
  last_logits (all n_vocab logits of the last position),
  greedy: 16 greedy steps after the prompt, each {id, logits: {lse, top: 8 x [id, logit]}}.

With --gguf FILE the weights are the ones stored in FILE (f32, f16 or Q8_0, dequantized),
e.g. the shipped models/default.gguf: then the test compares our engine with PyTorch on
exactly the numbers in the file, and the exporter, the quantizer and the forward pass are
all checked at once (the checkpoint still gives the configuration).
With --weights f16 (the default) every matrix is first rounded to f16, exactly the values
stored in the f16 GGUF; norms stay f32; all arithmetic is f32. So a C engine running the f16
file with f32 activations should agree to ~1e-4 in log-probabilities; one that rounds
activations to f16 like the peer to ~1e-2.
"""

import argparse
import json
import os
import sys

import sentencepiece as spm
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import chatfmt  # noqa: E402
import model as M  # noqa: E402

P0 = ("1 In the beginning was the Word, and the Word was with God, and the Word was God.\n"
      "2 The same was in the beginning with God.\n")
P1_MESSAGES = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "What is 12 times 34?"},
    {"role": "assistant", "content": "", "tool_calls": [{"type": "function", "function": {
        "name": "calculator", "arguments": {"expression": "12 * 34"}}}]},
    {"role": "tool", "content": "{\"result\": 408}"},
]


def r5(x):
    return round(float(x), 5)


def entry(logits, k):
    lse = torch.logsumexp(logits.double(), dim=-1)
    v, i = torch.topk(logits, k)
    return {"lse": r5(lse), "top": [[int(a), r5(b)] for a, b in zip(i.tolist(), v.tolist())]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default=os.path.join(HERE, "out", "ckpt.pt"))
    ap.add_argument("--weights", choices=["f16", "f32"], default="f16")
    ap.add_argument("--gguf", help="take every weight from this GGUF file instead")
    ap.add_argument("--out-prefix", required=True)
    args = ap.parse_args()
    torch.set_num_threads(2)
    model, ck = M.load_checkpoint(args.ckpt)
    if args.gguf:
        import numpy as np
        import export_gguf
        _, tensors = export_gguf.read_gguf(args.gguf)
        with torch.no_grad():
            for name, t in model.gguf_tensors():
                a = np.asarray(tensors[name], dtype=np.float32)
                if tuple(a.shape) != tuple(t.shape):
                    raise SystemExit("%s: shape %s in the file, %s in the model"
                                     % (name, a.shape, tuple(t.shape)))
                t.copy_(torch.from_numpy(a.copy()))
        args.weights = "gguf " + os.path.basename(args.gguf)
    elif args.weights == "f16":
        with torch.no_grad():
            for _, t in model.gguf_tensors():
                if t.dim() >= 2:
                    t.copy_(t.half().float())
    sp = spm.SentencePieceProcessor(model_file=os.path.join(HERE, "tokenizer.model"))
    prompts = [(P0, False),
               (chatfmt.render(P1_MESSAGES, chatfmt.TOOLS, add_generation_prompt=True), True)]
    for n, (prompt, special) in enumerate(prompts):
        toks = sp.encode(prompt)
        with torch.no_grad():
            logits = model(torch.tensor([toks]))[0]
            caches = [{} for _ in range(model.cfg.n_layer)]
            last = model(torch.tensor([toks]), caches)[0, -1]
            greedy = []
            for _ in range(16):
                nxt = int(torch.argmax(last))
                greedy.append({"id": nxt, "logits": entry(last, 8)})
                last = model(torch.tensor([[nxt]]), caches)[0, -1]
        rec = {"model": "default-%s (%s, step %d)" % (args.weights, os.path.basename(args.ckpt),
                                                     ck.get("step", -1)),
               "prompt": prompt, "parse_special": special, "n_vocab": model.cfg.n_vocab,
               "tokens": toks, "positions": [entry(logits[i], 16) for i in range(len(toks))],
               "last_logits": [r5(x) for x in logits[-1].tolist()], "greedy": greedy}
        path = "%s.p%d.json" % (args.out_prefix, n)
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(rec, f, ensure_ascii=False, separators=(",", ":"))
            f.write("\n")
        print("wrote %s: %d tokens, greedy %r" % (path, len(toks),
                                                   sp.decode([g["id"] for g in greedy])))


if __name__ == "__main__":
    main()
