#!/usr/bin/python3
"""A second held-out question set, out/eval2.jsonl: 50 questions (18 lookups, 10 searches,
14 calculations, 8 clock questions, as eval.jsonl) whose verse, search word or expression
occurs in no training dialogue (out/dialogues.train.jsonl and, if present,
out/dialogues.extra.jsonl), drawn with a seed of its own. eval.jsonl was looked at during
training (to decide what to train next and when to stop); this one was made afterwards.

  /usr/bin/python3 tools/train/make_eval2.py
  /usr/bin/python3 tools/train/eval.py --engine agent --eval tools/train/out/eval2.jsonl --no-notool
"""
import json
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen_dialogues as G  # noqa: E402
import kjv  # noqa: E402

OUT = os.path.join(HERE, "out")
refs, words, exprs = set(), set(), set()
for fn in ('dialogues.train.jsonl', 'dialogues.extra.jsonl'):
    if not os.path.exists(os.path.join(OUT, fn)):
        continue
    for line in open(os.path.join(OUT, fn), encoding='utf-8'):
        for m in json.loads(line)['messages']:
            for tc in m.get('tool_calls') or []:
                a = tc['function']['arguments']
                if 'ref' in a: refs.add(a['ref'])
                if 'query' in a: words.update(a['query'].split())
                if 'expression' in a: exprs.add(a['expression'])
g = G.Gen(1234, kjv.load_index())
G.make_eval(g)                     # the original 50: their bans apply here too
g.rng = random.Random(20261121)
need = {'lookup': 18, 'search': 10, 'calc': 14, 'time': 8}
got = {k: [] for k in need}
for _ in range(200):
    for it in G.make_eval(g):
        k = it['kind']
        if len(got[k]) >= need[k]:
            continue
        a = it['expect_call']['arguments']
        if k == 'lookup' and a['ref'] in refs: continue
        if k == 'search' and set(a['query'].split()) & words: continue
        if k == 'calc' and a['expression'] in exprs: continue
        if any(a == x['expect_call']['arguments'] for x in got[k]) and k != 'time': continue
        got[k].append(it)
    if all(len(got[k]) >= need[k] for k in need):
        break
items = []
for k in ('lookup', 'search', 'calc', 'time'):
    items += got[k]
for i, it in enumerate(items):
    it['id'] = i
with open(os.path.join(OUT, 'eval2.jsonl'), 'w', encoding='utf-8') as f:
    for it in items:
        f.write(json.dumps(it, ensure_ascii=False) + '\n')
print({k: len(v) for k, v in got.items()}, 'training refs', len(refs), 'words', len(words), 'exprs', len(exprs))
