#!/usr/bin/python3
"""Quality evaluation of a checkpoint, in PyTorch (greedy decoding, KV cache), or of a GGUF
file through our own agent example (what a user runs).

  /usr/bin/python3 tools/train/eval.py --ckpt tools/train/out/ckpt.pt [-v]
  /usr/bin/python3 tools/train/eval.py --ckpt ... --engine agent --model models/default.gguf

With --engine agent every question goes through build/examples/agent (greedy, the four tools
implemented in C over out/kjv.tsv, the clock fixed with AI_AGENT_NOW): the call is what the
agent parsed with ai_toolcalls_parse, the result what its tool returned, the answer what it
printed. The perplexity always comes from the checkpoint (PyTorch).

On the 50 held-out questions of out/eval.jsonl (gen_dialogues.py), each run as an agent
loop would run it: render [system, user] with the tools and the generation prompt, generate
until <|im_end|>, parse a hermes <tool_call>, execute the tool for real (KJV lookup/search,
calculator, a fixed clock), append the call and the `tool` message, generate the answer.
Measures:
  tool_ok    the right tool, called with valid arguments: lookup_verse's ref names the
             asked verse (any spelling kjv.parse_ref accepts), search_verses' query is the
             asked word, calculator's expression evaluates to the asked value,
             current_time has no arguments. Target >= 90%.
  answer_ok  the final answer contains the tool's result (the verse text, the first match's
             reference, the number, the asked time/date/weekday). Target >= 80%.
  malformed  outputs with <tool_call> markup that does not parse (counted, never fatal).
Also: 6 questions that need no tool (does the model answer without calling?), and the
perplexity of the held-out KJV chapters (out/kjv.heldout.txt, never trained on), per token
and as bits per character.
"""

import argparse
import datetime
import json
import math
import os
import re
import subprocess
import sys
import time

import sentencepiece as spm
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import calc  # noqa: E402
import chatfmt  # noqa: E402
import gen_dialogues as G  # noqa: E402
import kjv  # noqa: E402
import model as M  # noqa: E402

NOTOOL_QUESTIONS = ["Hello!", "What can you do?", "Thank you!", "Who are you?",
                    "Tell me a joke.", "Goodbye!"]
CALL_RE = re.compile(r"<tool_call>(.*?)</tool_call>", re.S)


def generate(model, sp, prompt_ids, max_new, stop_id):
    caches = [{} for _ in range(model.cfg.n_layer)]
    out = []
    with torch.no_grad():
        logits = model(torch.tensor([prompt_ids]), caches)[0, -1]
        for _ in range(max_new):
            nxt = int(torch.argmax(logits))
            if nxt == stop_id:
                break
            out.append(nxt)
            if len(prompt_ids) + len(out) >= model.cfg.n_ctx:
                break
            logits = model(torch.tensor([[nxt]]), caches)[0, -1]
    return sp.decode(out), len(out)


def parse_calls(text):
    """Hermes calls in text: (calls, malformed). A call is (name, arguments dict)."""
    if "<tool_call>" not in text:
        return [], False
    calls = []
    blocks = CALL_RE.findall(text)
    if not blocks or text.count("<tool_call>") != len(blocks):
        return [], True
    for b in blocks:
        try:
            obj = json.loads(b.strip())
        except ValueError:
            return [], True
        if not isinstance(obj, dict) or not isinstance(obj.get("name"), str):
            return [], True
        args = obj.get("arguments", obj.get("parameters", {}))
        if isinstance(args, str):
            try:
                args = json.loads(args)
            except ValueError:
                return [], True
        if not isinstance(args, dict):
            return [], True
        calls.append((obj["name"], args))
    return calls, False


class Tools:
    def __init__(self, index, clock):
        self.k = index
        self.clock = clock

    def run(self, name, args):
        if name == "lookup_verse":
            return self.k.lookup(args.get("ref", ""))
        if name == "search_verses":
            return self.k.search(args.get("query", ""))
        if name == "calculator":
            return calc.tool(args.get("expression", ""))
        if name == "current_time":
            t = self.clock
            return {"date": t.strftime("%Y-%m-%d"), "weekday": G.WEEKDAYS[t.weekday()],
                    "time": t.strftime("%H:%M")}
        return {"error": "unknown tool: %s" % name}


def args_valid(item, name, args):
    exp = item["expect_call"]
    if name != exp["name"]:
        return False
    if name == "lookup_verse":
        return kjv.parse_ref(args.get("ref")) == kjv.parse_ref(exp["arguments"]["ref"]) \
            and set(args) == {"ref"}
    if name == "search_verses":
        q = args.get("query")
        return isinstance(q, str) and q.strip().lower() == exp["arguments"]["query"] \
            and set(args) == {"query"}
    if name == "calculator":
        try:
            got = calc.evaluate(args.get("expression"))
            want = calc.evaluate(exp["arguments"]["expression"])
        except calc.CalcError:
            return False
        return abs(got - want) <= 1e-6 * max(1.0, abs(want)) and set(args) == {"expression"}
    if name == "current_time":
        return args == {}
    return False


STEP_RE = re.compile(r"^\[(model [0-9.]+s|call|result [0-9.]+s|malformed tool call)\] ?", re.M)


def run_agent(args, it, clock):
    """One question through our C agent: (first output, calls of round 1, malformed, result,
    answer, generated-token estimate unknown -> 0)."""
    env = dict(os.environ, AI_AGENT_NOW=clock.strftime("%Y-%m-%d %H:%M"))
    p = subprocess.run([args.agent, "-m", args.model, "--verses", os.path.join(kjv.OUT, "kjv.tsv"),
                        "--system", it["system"], "--temp", "0", "-n", "160", "--rounds", "2",
                        it["user"]], capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)
    err = p.stderr
    marks = list(STEP_RE.finditer(err))
    events = []
    for k, m in enumerate(marks):
        end = marks[k + 1].start() if k + 1 < len(marks) else len(err)
        events.append((m.group(1).split(" ")[0], err[m.end():end].rstrip("\n")))
    out1, calls, malformed, result, rnd = "", [], False, None, 0
    for kind, text in events:
        if kind == "model":
            rnd += 1
            if rnd == 1:
                out1 = text
        elif kind == "call" and rnd == 1:
            name, _, a = text.partition(" ")
            try:
                calls.append((name, json.loads(a)))
            except ValueError:
                malformed = True
        elif kind == "result" and rnd == 1 and result is None:
            try:
                result = json.loads(text)
            except ValueError:
                result = text
        elif kind == "malformed" and rnd == 1:
            malformed = True
    answer = p.stdout.strip() if calls else ""
    return out1, calls, malformed, result, answer, p.returncode


def time_kind(user):
    for q, kind in G.TIME_Q:
        if q == user:
            return kind
    return "both"


def answer_contains(item, answer, clock):
    if item["kind"] == "time":
        t = clock
        kind = time_kind(item["user"])
        date_forms = [t.strftime("%Y-%m-%d"), "%d %s %d" % (t.day, G.MONTHS[t.month - 1], t.year)]
        if kind == "time":
            return t.strftime("%H:%M") in answer
        if kind == "day":
            return G.WEEKDAYS[t.weekday()] in answer
        if kind == "date":
            return any(d in answer for d in date_forms)
        return t.strftime("%H:%M") in answer and any(
            d in answer for d in date_forms + [G.WEEKDAYS[t.weekday()]])
    return all(s in answer for s in item["expect"])


def perplexity(model, sp, text, ctx, stride):
    ids = sp.encode(text)
    nll, n = 0.0, 0
    with torch.no_grad():
        pos = 0
        while pos < len(ids) - 1:
            start = max(0, pos + stride - ctx) if pos else 0
            end = min(len(ids), start + ctx)
            x = torch.tensor([ids[start:end]])
            logits = model(x[:, :-1])[0]
            tgt = x[0, 1:]
            first = pos - start if pos else 0  # score only tokens not scored before
            l = F.cross_entropy(logits[first:], tgt[first:], reduction="sum")
            nll += float(l)
            n += len(tgt) - first
            pos = end - 1
            if end == len(ids):
                break
    return math.exp(nll / n), nll / math.log(2) / len(text), n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default=os.path.join(HERE, "out", "ckpt.pt"))
    ap.add_argument("--eval", default=os.path.join(HERE, "out", "eval.jsonl"))
    ap.add_argument("--out", default=os.path.join(HERE, "out", "eval_results.json"))
    ap.add_argument("--ppl-chars", type=int, default=0, help="limit the perplexity text (0: all)")
    ap.add_argument("--limit", type=int, default=0, help="only the first N questions (quick look)")
    ap.add_argument("--no-notool", action="store_true", help="skip the no-tool questions")
    ap.add_argument("--engine", choices=["torch", "agent"], default="torch")
    ap.add_argument("--model", default=os.path.join(HERE, "..", "..", "models", "default.gguf"),
                    help="GGUF file for --engine agent")
    ap.add_argument("--agent", default=os.path.join(HERE, "..", "..", "build", "examples", "agent"))
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(2)
    model, ck = M.load_checkpoint(args.ckpt)
    sp = spm.SentencePieceProcessor(model_file=os.path.join(HERE, "tokenizer.model"))
    stop = sp.piece_to_id("<|im_end|>")
    index = kjv.load_index()
    items = [json.loads(l) for l in open(args.eval, encoding="utf-8")]
    if args.limit:
        items = items[::max(1, len(items) // args.limit)][:args.limit]
    t0 = time.time()
    results = []
    n_tool = n_ans = n_mal = 0
    n_gen = 0
    for it in items:
        # A fixed clock per question (deterministic, different from any training clock draw).
        clock = datetime.datetime(2026, 1, 1) + datetime.timedelta(minutes=7919 * (it["id"] + 1) % 525600)
        tools = Tools(index, clock)
        if args.engine == "agent":
            out1, calls, malformed, res, answer, rc = run_agent(args, it, clock)
            extra = {"exit": rc}
        else:
            msgs = [{"role": "system", "content": it["system"]}, {"role": "user", "content": it["user"]}]
            out1, k1 = generate(model, sp, sp.encode(chatfmt.render(msgs, chatfmt.TOOLS, True)), 80, stop)
            n_gen += k1
            calls, malformed = parse_calls(out1)
            res, answer, extra = None, "", {}
            if calls:
                name, a = calls[0]
                res = tools.run(name, a)
                msgs.append({"role": "assistant", "content": "", "tool_calls": [
                    {"type": "function", "function": {"name": name, "arguments": a}}]})
                msgs.append({"role": "tool", "content": kjv.tool_json(res)})
                answer, k2 = generate(model, sp, sp.encode(chatfmt.render(msgs, chatfmt.TOOLS, True)),
                                      160, stop)
                n_gen += k2
        n_mal += malformed
        ok_tool = len(calls) == 1 and args_valid(it, *calls[0])
        ok_ans = bool(calls) and answer_contains(it, answer, clock)
        rec = {"id": it["id"], "kind": it["kind"], "user": it["user"], "output": out1,
               "malformed": malformed, "calls": calls, "tool_result": res, "answer": answer,
               "tool_ok": ok_tool, "answer_ok": ok_ans}
        rec.update(extra)
        n_tool += ok_tool
        n_ans += ok_ans
        results.append(rec)
        if args.verbose:
            print("[%2d %-6s] tool %s answer %s | %s\n    -> %r\n    => %r" % (
                it["id"], it["kind"], "ok " if ok_tool else "BAD", "ok " if ok_ans else "BAD",
                it["user"], out1, answer), flush=True)
    notool = []
    for q in ([] if args.no_notool else NOTOOL_QUESTIONS):
        if args.engine == "agent":
            out, calls, mal, _, _, _ = run_agent(args, {"system": chatfmt.DEFAULT_SYSTEM, "user": q},
                                                 datetime.datetime(2026, 1, 1, 12, 0))
            notool.append({"user": q, "output": out,
                           "called_tool": bool(calls or mal or "<tool_call>" in out)})
            if args.verbose:
                print("[notool] %s -> %r" % (q, out))
            continue
        msgs = [{"role": "system", "content": chatfmt.DEFAULT_SYSTEM}, {"role": "user", "content": q}]
        out, k = generate(model, sp, sp.encode(chatfmt.render(msgs, chatfmt.TOOLS, True)), 80, stop)
        n_gen += k
        notool.append({"user": q, "output": out, "called_tool": "<tool_call>" in out})
        if args.verbose:
            print("[notool] %s -> %r" % (q, out))
    t_gen = time.time() - t0
    text = open(os.path.join(kjv.OUT, "kjv.heldout.txt"), encoding="utf-8").read()
    if args.ppl_chars:
        text = text[:args.ppl_chars]
    ppl, bpc, n_tok = perplexity(model, sp, text, model.cfg.n_ctx, model.cfg.n_ctx // 2)
    summary = {
        "checkpoint": args.ckpt, "step": ck.get("step"), "questions": len(items),
        "tool_ok": n_tool, "tool_ok_pct": 100.0 * n_tool / len(items),
        "answer_ok": n_ans, "answer_ok_pct": 100.0 * n_ans / len(items),
        "malformed_calls": n_mal,
        "notool_answered_without_call": sum(not r["called_tool"] for r in notool),
        "notool_questions": len(notool),
        "heldout_kjv_tokens": n_tok, "heldout_kjv_ppl_per_token": ppl,
        "heldout_kjv_bits_per_char": bpc,
        "generated_tokens": n_gen, "generation_seconds": round(t_gen, 1),
    }
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump({"summary": summary, "results": results, "notool": notool}, f, indent=1,
                  ensure_ascii=False)
    for k, v in summary.items():
        print("%-30s %s" % (k, round(v, 3) if isinstance(v, float) else v))


if __name__ == "__main__":
    main()
