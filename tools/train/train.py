#!/usr/bin/python3
"""Trains the default model (model.py) on KJV text + generated tool-use dialogues, on the CPU.

Run from the repository root, after gen_dialogues.py and train_tokenizer.py:
  nice -n 10 /usr/bin/python3 tools/train/train.py --steps 2000 --out tools/train/out/ckpt.pt

Batches (seeded, so a run is reproducible up to floating-point thread nondeterminism):
- KJV batches (--kjv-frac of the steps): B random windows of T tokens of out/kjv.train.txt.
- Dialogue batches: every dialogue starts with the same long system turn (the tool list,
  ~230 tokens) followed by the conversation. A batch picks one system text, runs that
  prefix ONCE (batch 1) and lets all B rows attend to its keys/values (expanded, with
  gradients flowing back through them), and fills each row with T - P tokens of
  conversations that follow that system turn. Concatenating several conversations after
  one system turn is itself a valid multi-turn conversation. This halves the compute per
  useful token; the loss is taken on everything after the system turn.

Writes the checkpoint (model weights + config + tokenizer path + loss log) every
--save-every steps and at the end, and the loss curve PNG (tools/train/loss.png).
"""

import argparse
import json
import math
import os
import random
import time

import numpy as np
import sentencepiece as spm
import torch
import torch.nn.functional as F

import model as M

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "out")


def load_data(sp, extra=()):
    kjv_ids = np.array(sp.encode(open(os.path.join(OUT, "kjv.train.txt"), encoding="utf-8").read()),
                       dtype=np.int32)
    groups = {}  # system prefix (tuple of ids) -> list of conversation id arrays
    texts = []
    for path in [os.path.join(OUT, "dialogues.train.jsonl")] + list(extra):
        with open(path, encoding="utf-8") as f:
            for line in f:
                texts.append(json.loads(line)["text"])
    marker = "<|im_end|>\n"
    start, end = sp.piece_to_id("<|im_start|>"), sp.piece_to_id("<|im_end|>")
    role, nl = sp.piece_to_id("assistant"), sp.piece_to_id("<0x0A>")
    for t in texts:
        cut = t.index(marker) + len(marker)
        pre = tuple(sp.encode(t[:cut]))
        ids = sp.encode(t[cut:])
        # mask[i] = 1 for the tokens the assistant writes: everything after
        # "<|im_start|>assistant\n" up to and including the turn's <|im_end|>.
        mask = np.zeros(len(ids), dtype=np.float32)
        inside = False
        for i, tok in enumerate(ids):
            if inside:
                mask[i] = 1.0
                if tok == end:
                    inside = False
            elif tok == nl and i >= 2 and ids[i - 1] == role and ids[i - 2] == start:
                inside = True
        groups.setdefault(pre, []).append((np.array(ids, dtype=np.int32), mask))
    return kjv_ids, groups


def plot(log, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4))
    for kind, color in (("dialogue", "tab:blue"), ("kjv", "tab:orange"), ("copy", "tab:green")):
        pts = [(r["step"], r["loss"]) for r in log if r["kind"] == kind]
        if not pts:
            continue
        s, l = zip(*pts)
        ax.plot(s, l, ".", ms=2, alpha=0.35, color=color)
        k = 15
        if len(l) > k:
            sm = np.convolve(l, np.ones(k) / k, mode="valid")
            ax.plot(s[k - 1:], sm, color=color, label="%s (moving avg)" % kind)
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy (nats/token)")
    ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title("default model training loss")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--ctx", type=int, default=512)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--min-lr-frac", type=float, default=0.05)
    ap.add_argument("--warmup", type=int, default=60)
    ap.add_argument("--schedule", choices=["cosine", "wsd"], default="cosine",
                    help="cosine decay over all steps, or warmup-stable-decay: constant lr, then "
                         "linear decay from --decay-start to the last step")
    ap.add_argument("--decay-start", type=int, default=0)
    ap.add_argument("--wd", type=float, default=0.05)
    ap.add_argument("--kjv-frac", type=float, default=0.25)
    ap.add_argument("--copy-frac", type=float, default=0.0,
                    help="fraction of steps that are copy batches: KJV spans each written twice, "
                         "loss on the second copy only (teaches the model to copy from its context, "
                         "which verse lookups and searches need)")
    ap.add_argument("--loss-on", choices=["all", "assistant"], default="assistant",
                    help="dialogue tokens in the loss: all after the system turn, or only what "
                         "the assistant writes (tool calls and answers)")
    ap.add_argument("--extra-data", action="append", default=[],
                    help="more dialogue files (gen_dialogues.py --extra), mixed in with the others")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--save-every", type=int, default=50)
    ap.add_argument("--out", default=os.path.join(OUT, "ckpt.pt"))
    ap.add_argument("--plot", default=os.path.join(HERE, "loss.png"))
    ap.add_argument("--resume", action="store_true", help="continue from --out if it exists")
    ap.add_argument("--config", default="{}", help="JSON overrides of model.Config fields")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    sp = spm.SentencePieceProcessor(model_file=os.path.join(HERE, "tokenizer.model"))
    cfg = M.Config(n_vocab=sp.get_piece_size(), n_ctx=args.ctx, **json.loads(args.config))
    model = M.Llama(cfg)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.wd},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), eps=1e-8)
    log, step0, elapsed0 = [], 0, 0.0
    history = [dict(vars(args), from_step=0)]  # every (re)start's arguments, for the record
    if args.resume and os.path.exists(args.out):
        ck = torch.load(args.out, map_location="cpu")
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        log, step0, elapsed0 = ck["log"], ck["step"], ck["elapsed"]
        history = ck.get("args_history", [dict(ck["args"], from_step=0)]) + [
            dict(vars(args), from_step=step0)]
        rng.setstate(ck["rng"])
        torch.set_rng_state(ck["torch_rng"])
        print("resumed at step", step0)
    print("params %d, config %s" % (M.n_params(model), cfg.to_dict()), flush=True)

    kjv_ids, groups = load_data(sp, args.extra_data)
    prefixes = sorted(groups)
    weights = [len(groups[p]) for p in prefixes]
    print("kjv tokens %d, dialogues %d in %d system variants" % (len(kjv_ids), sum(weights),
                                                                 len(prefixes)), flush=True)

    def lr_at(step):
        if step < args.warmup:
            return args.lr * (step + 1) / args.warmup
        if args.schedule == "wsd":
            if step < args.decay_start:
                return args.lr
            p = (step - args.decay_start) / max(1, args.steps - args.decay_start)
            return args.lr * (1 - (1 - args.min_lr_frac) * min(1.0, p))
        p = (step - args.warmup) / max(1, args.steps - args.warmup)
        return args.lr * (args.min_lr_frac + (1 - args.min_lr_frac) * 0.5 * (1 + math.cos(math.pi * p)))

    def save(step, elapsed):
        ck = {"model": model.state_dict(), "opt": opt.state_dict(), "config": cfg.to_dict(),
              "step": step, "elapsed": elapsed, "log": log, "args": vars(args),
              "args_history": history,
              "rng": rng.getstate(), "torch_rng": torch.get_rng_state()}
        torch.save(ck, args.out + ".tmp")
        os.replace(args.out + ".tmp", args.out)
        plot(log, args.plot)

    t_start = time.time()
    model.train()
    for step in range(step0, args.steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        B, T = args.batch, args.ctx
        r = rng.random()
        if r < args.copy_frac:
            kind = "copy"
            rows, masks = [], []
            for _ in range(B):
                parts, mparts, n = [], [], 0
                while n < T + 1:
                    k = rng.randint(8, 80)
                    s = rng.randrange(len(kjv_ids) - k)
                    seg = kjv_ids[s:s + k]
                    parts += [seg, seg]
                    mparts += [np.zeros(k, dtype=np.float32), np.ones(k, dtype=np.float32)]
                    n += 2 * k
                rows.append(np.concatenate(parts)[:T + 1])
                masks.append(np.concatenate(mparts)[:T + 1])
            x = torch.from_numpy(np.stack(rows)).long()
            w = torch.from_numpy(np.stack(masks))[:, 1:]
            logits = model(x[:, :-1])
            per = F.cross_entropy(logits.reshape(-1, cfg.n_vocab), x[:, 1:].reshape(-1),
                                  reduction="none").view(B, T)
            n_tok = float(w.sum())
            loss = (per * w).sum() / max(1.0, n_tok)
        elif r < args.copy_frac + args.kjv_frac:
            kind = "kjv"
            rows = []
            for _ in range(B):
                s = rng.randrange(len(kjv_ids) - T - 1)
                rows.append(kjv_ids[s:s + T + 1])
            x = torch.from_numpy(np.stack(rows)).long()
            logits = model(x[:, :-1])
            loss = F.cross_entropy(logits.reshape(-1, cfg.n_vocab), x[:, 1:].reshape(-1))
            n_tok = B * T
        else:
            kind = "dialogue"
            pre = rng.choices(prefixes, weights)[0]
            P = len(pre)
            L = T - P
            convs = groups[pre]
            rows, masks = [], []
            for _ in range(B):
                parts, mparts, n = [], [], 0
                while n < L + 1:
                    c, cm = convs[rng.randrange(len(convs))]
                    parts.append(c)
                    mparts.append(cm)
                    n += len(c)
                rows.append(np.concatenate(parts)[:L + 1])
                masks.append(np.concatenate(mparts)[:L + 1])
            y = torch.from_numpy(np.stack(rows)).long()            # [B, L+1]
            w = torch.from_numpy(np.stack(masks))                  # [B, L+1] assistant tokens
            if args.loss_on == "all":
                w = torch.ones_like(w)
            caches = [{} for _ in range(cfg.n_layer)]
            pl = model(torch.tensor([pre], dtype=torch.long), caches)  # prefix once: [1, P, V]
            for c in caches:
                c["k"] = c["k"].expand(B, -1, -1, -1)
                c["v"] = c["v"].expand(B, -1, -1, -1)
            logits = model(y[:, :-1], caches)                      # [B, L, V]
            # Targets: the first conversation token is predicted from the prefix's last position.
            first = F.cross_entropy(pl[0, -1:].expand(B, -1), y[:, 0], reduction="none")
            rest = F.cross_entropy(logits.reshape(-1, cfg.n_vocab), y[:, 1:].reshape(-1),
                                   reduction="none").view(B, L)
            n_tok = float(w.sum())
            loss = ((first * w[:, 0]).sum() + (rest * w[:, 1:]).sum()) / max(1.0, n_tok)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gn = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        elapsed = elapsed0 + time.time() - t_start
        log.append({"step": step, "kind": kind, "loss": float(loss), "lr": lr_at(step),
                    "gnorm": float(gn), "elapsed": round(elapsed, 1), "tokens": n_tok})
        if step % 10 == 0 or step == args.steps - 1:
            print("step %5d  %-8s loss %.4f  lr %.2e  gnorm %.2f  %.0fs" %
                  (step, kind, float(loss), lr_at(step), float(gn), elapsed), flush=True)
        if (step + 1) % args.save_every == 0 or step == args.steps - 1:
            save(step + 1, elapsed)
    print("done: %d steps in %.0f s" % (args.steps, elapsed0 + time.time() - t_start))


if __name__ == "__main__":
    main()
