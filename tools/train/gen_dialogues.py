#!/usr/bin/python3
"""Deterministic generator of the training data of the default model.

Writes, under tools/train/out/ (not in git; rerun to regenerate):
  dialogues.train.jsonl  {"messages": [...], "text": render(messages, TOOLS)} per line
  kjv.train.txt          the KJV without the held-out chapters
  kjv.heldout.txt        the held-out chapters (perplexity slice, never trained on)
  eval.jsonl             50 held-out questions (references, words and numbers that
                         no training dialogue uses), each with what a right answer needs

Every tool result is real: verse text from the KJV (kjv.py), the calculator of
calc.py, and a clock that is random but fixed per dialogue (seeded).

Usage: /usr/bin/python3 tools/train/gen_dialogues.py [--n 12000] [--seed 1234]
"""

import argparse
import datetime
import json
import os
import random
import sys
import re

import calc
import chatfmt
import kjv

SYSTEMS = [
    chatfmt.DEFAULT_SYSTEM,
    "You are a helpful assistant.",
    "You are a helpful assistant with tools for the King James Bible, arithmetic and the clock.",
    "You are a concise assistant. Use a tool when it helps.",
    "You are a friendly assistant running on a local device.",
    "Answer briefly and accurately.",
]

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]

# ---------------------------------------------------------------- phrasings

LOOKUP_Q = [
    "What does {r} say?", "Can you look up {r} for me?", "Please show me {r}.", "Read me {r}.",
    "I'd like to read {r}.", "What is the text of {r}?", "Quote {r}, please.", "lookup {r}",
    "{r}?", "What's written in {r}?", "Give me the verse {r}.", "Show {r}",
    "What does the King James Bible say in {r}?", "How does {r} read in the KJV?",
    "Could you find {r}?", "I need the words of {r}.", "Please look up {r}",
    "what does {r} say", "Tell me {r}.", "Can I see {r}?", "Fetch {r} for me please.",
    "What is {r} about? Show me the verse.", "Look up {r}.", "Recite {r}.",
]
LOOKUP_A = [
    '{ref} says: "{text}"', 'Here is {ref}: "{text}"', '{ref} (KJV): "{text}"',
    'In the King James Version, {ref} reads: "{text}"', '{ref} reads: "{text}"',
    'This is {ref}: "{text}"',
]
LOOKUP_ERR_A = [
    "I could not find {r}. {why}", "There is no verse {r} in the King James Bible. {why}",
    "Sorry, {r} does not exist. {why}",
]

SEARCH_Q = [
    "Find verses about {q}.", "Which verses mention {q}?", "Search the Bible for \"{q}\".",
    "Where does the Bible talk about {q}?", "Is there a verse with the words {q}?",
    "search verses {q}", "Find a verse containing \"{q}\".", "Look for {q} in the KJV.",
    "Which verse says something about {q}?", "Can you search for {q} in the Bible?",
    "Show me verses with {q}.", "How many verses mention {q}?", "Find {q} in the scriptures.",
]
SEARCH_A = [
    'I found {count} {verses} containing "{q}". The first is {ref}: "{text}"',
    '{count} {verses} match "{q}". For example, {ref}: "{text}"',
    'There {are} {count} {verses} with "{q}". {ref} says: "{text}"',
]
SEARCH_NONE_A = [
    'No verse in the King James Bible contains "{q}".',
    'I searched for "{q}" but found no verses.',
]

TIME_Q = [
    ("What time is it?", "time"), ("What's the time?", "time"), ("Tell me the current time.", "time"),
    ("Do you know what time it is now?", "time"), ("what time is it", "time"),
    ("Can you check the clock?", "time"), ("Time please.", "time"), ("How late is it?", "time"),
    ("What is today's date?", "date"), ("What's the date today?", "date"), ("What date is it?", "date"),
    ("Which day is it today?", "day"), ("What day of the week is it?", "day"),
    ("Is it the weekend yet? What day is it?", "day"), ("What is the date and time?", "both"),
    ("Give me the current date and time.", "both"), ("what's today", "date"),
]
TIME_A = {
    "time": ["It is {time}.", "The time is {time}.", "It's {time} right now.", "Right now it is {time}."],
    "date": ["Today is {weekday}, {day} {month} {year}.", "It is {weekday}, {day} {month} {year}.",
             "The date is {date}, a {weekday}."],
    "day": ["Today is {weekday}.", "It is {weekday} ({date}).", "It's {weekday}, {day} {month}."],
    "both": ["It is {time} on {weekday}, {day} {month} {year}.", "It's {weekday} {date}, {time}."],
}

NOTOOL = [
    (["Hello!", "Hi", "Hi there!", "Good morning.", "Hey", "hello", "Good evening!"],
     ["Hello! I can look up and search Bible verses, do arithmetic and tell the time. How can I help?",
      "Hi! How can I help you today?", "Hello! What would you like to do?"]),
    (["What can you do?", "What are your tools?", "How can you help me?", "help"],
     ["I can look up a King James Bible verse by reference, search verses by words, calculate "
      "arithmetic expressions and tell you the current date and time.",
      "I have four tools: lookup_verse, search_verses, calculator and current_time. Ask me for a "
      "verse, a search, a calculation or the time."]),
    (["Thank you!", "Thanks.", "thanks a lot", "Great, thank you.", "Perfect, thanks!"],
     ["You're welcome!", "Glad I could help.", "You are welcome. Anything else?"]),
    (["Who are you?", "What are you?", "Are you a person?"],
     ["I am a small assistant that runs locally. I can look up Bible verses, do arithmetic and "
      "tell the time.", "I am a small local language model with a few tools."]),
    (["Goodbye!", "Bye", "See you later."], ["Goodbye!", "Bye! Have a good day."]),
    (["What is the capital of France?", "Who won the football game yesterday?",
      "What is the weather like?", "Can you write me a poem?", "Translate hello into German.",
      "What is the meaning of life?", "Tell me a joke."],
     ["I'm sorry, I can't help with that. I can look up Bible verses, search them, calculate and "
      "tell the time.", "That is outside what I can do. I can help with Bible verses, arithmetic "
      "and the time."]),
]

OPS = {
    "+": ["plus", "+", "added to", "and"],
    "-": ["minus", "-", "take away", "less"],
    "*": ["times", "*", "multiplied by", "x"],
    "/": ["divided by", "/", "over"],
}
CALC_Q = [
    "What is {w}?", "Calculate {s}.", "How much is {w}?", "Compute {s}", "What's {w}?",
    "{s} = ?", "Please work out {w}.", "Can you calculate {w}?", "what is {s}",
    "Solve {s}.", "Quick question: {w}?", "I need {s} calculated.", "Evaluate {s}.",
]
CALC_A = ["{e} = {r}.", "The answer is {r}.", "That is {r}.", "{e} equals {r}.", "The result is {r}."]
CALC_ERR_A = ["I can't compute that: {err}.", "That does not work: {err}."]

WORD_PROBLEMS = [
    ("I have {a} boxes with {b} apples in each. How many apples do I have?", "{a} * {b}",
     "You have {r} apples."),
    ("A book costs {a} dollars. How much do {b} books cost?", "{a} * {b}", "{b} books cost {r} dollars."),
    ("If {a} people share {b} dollars equally, how much does each get?", "{b} / {a}",
     "Each person gets {r} dollars."),
    ("I walked {a} km yesterday and {b} km today. How far is that in total?", "{a} + {b}",
     "That is {r} km in total."),
    ("I had {b} coins and spent {a}. How many are left?", "{b} - {a}", "You have {r} coins left."),
    ("What is {a} percent of {b}?", "{a} / 100 * {b}", "{a} percent of {b} is {r}."),
    ("What is {a} squared?", "{a} ^ 2", "{a} squared is {r}."),
    ("A week has 7 days. How many days are in {a} weeks?", "{a} * 7", "{a} weeks have {r} days."),
    ("How many minutes are in {a} hours?", "{a} * 60", "{a} hours are {r} minutes."),
    ("What is the average of {a} and {b}?", "({a} + {b}) / 2", "The average is {r}."),
]


def number(rng, big=False):
    r = rng.random()
    if r < 0.35:
        return rng.randint(2, 20)
    if r < 0.75 or not big:
        return rng.randint(10, 999)
    if r < 0.92:
        return rng.randint(1000, 99999)
    return round(rng.uniform(0.5, 100), rng.choice([1, 2]))


class Gen:
    def __init__(self, seed, index):
        self.rng = random.Random(seed)
        self.k = index
        self.verses = [v for v in index.verses if not kjv.heldout_chapter(v.book, v.chapter)]
        self.short = [v for v in self.verses if len(v.text) <= 240]
        self.banned_refs = set()
        self.banned_words = set()
        self.banned_exprs = set()
        # Search words: real words found in 2..400 verses (not too rare, not "the").
        counts = {}
        for v in self.verses:
            for w in set(re.findall(r"[a-z]+", v.text.lower())):
                counts[w] = counts.get(w, 0) + 1
        self.words = sorted(w for w, c in counts.items() if 2 <= c <= 400 and len(w) >= 4)

    # -- references in the many ways people write them
    def ref_phrase(self, v):
        rng = self.rng
        book = v.book
        r = rng.random()
        if r < 0.45:
            return "%s %d:%d" % (book, v.chapter, v.verse)
        if r < 0.55:
            return "%s %d:%d" % (book.lower(), v.chapter, v.verse)
        if r < 0.65:
            return "%s chapter %d verse %d" % (book, v.chapter, v.verse)
        if r < 0.73:
            return "%s %d, verse %d" % (book, v.chapter, v.verse)
        if r < 0.80:
            return "verse %d of %s %d" % (v.verse, book, v.chapter)
        if r < 0.90:
            abbrevs = [a for a, b in kjv.ABBREV.items() if b == book and len(a) <= len(book)]
            if abbrevs:
                a = rng.choice(abbrevs)
                return "%s %d:%d" % (a.title() if rng.random() < 0.7 else a, v.chapter, v.verse)
        return "%s %d:%d" % (book, v.chapter, v.verse)

    def clock(self):
        t0 = datetime.datetime(2024, 1, 1)
        t = t0 + datetime.timedelta(minutes=self.rng.randrange(4 * 365 * 24 * 60))
        return t

    # -- one exchange per tool; each returns the list of messages after the user turn
    def lookup(self, v=None, err=False):
        rng = self.rng
        if v is None:
            while True:
                v = rng.choice(self.short)
                if (v.book, v.chapter, v.verse) not in self.banned_refs:
                    break
        if err:
            # A verse number past the end of the chapter: the tool reports an error.
            v = kjv.Verse(v.book, v.chapter, v.verse + rng.randint(60, 140), "")
        phrase = self.ref_phrase(v)
        ref = kjv.ref_str(v.book, v.chapter, v.verse)
        user = rng.choice(LOOKUP_Q).format(r=phrase)
        res = self.k.lookup(ref)
        if "error" in res:
            ans = rng.choice(LOOKUP_ERR_A).format(r=ref, why=rng.choice([
                "%s %d has fewer verses." % (v.book, v.chapter), "Please check the reference."]))
        else:
            ans = rng.choice(LOOKUP_A).format(**res)
        return user, ("lookup_verse", {"ref": ref}), res, ans

    def search(self, words=None):
        rng = self.rng
        if words is None:
            while True:
                if rng.random() < 0.7:
                    words = [rng.choice(self.words)]
                else:
                    # Two words that occur together somewhere, so the search finds something.
                    v = rng.choice(self.verses)
                    ws = sorted(set(w for w in re.findall(r"[a-z]+", v.text.lower()) if len(w) >= 4))
                    if len(ws) < 2:
                        continue
                    words = rng.sample(ws, 2)
                if not any(w in self.banned_words for w in words):
                    break
        q = " ".join(words)
        hits = self.k.search_hits(q)
        if any(kjv.heldout_chapter(*self.k.verses[i][:2]) for i in hits[:2]):
            return None  # would put held-out text into training
        res = self.k.search(q)
        qphrase = q if len(words) == 1 else rng.choice([q, " and ".join(words)])
        user = rng.choice(SEARCH_Q).format(q=qphrase)
        if res["count"] == 0:
            ans = rng.choice(SEARCH_NONE_A).format(q=q)
        else:
            m = res["matches"][0]
            c = res["count"]
            ans = rng.choice(SEARCH_A).format(count=c, verses="verse" if c == 1 else "verses",
                                              are="is" if c == 1 else "are", q=q, **m)
        return user, ("search_verses", {"query": q}), res, ans

    def calculation(self):
        rng = self.rng
        for _ in range(100):
            r = rng.random()
            if r < 0.25:
                a, b = number(rng), number(rng)
                tpl = rng.choice(WORD_PROBLEMS)
                if "^ 2" in tpl[1]:
                    a = rng.randint(2, 120)
                if "percent" in tpl[0]:
                    a = rng.choice([5, 10, 15, 20, 25, 30, 40, 50, 75, rng.randint(1, 99)])
                e = tpl[1].format(a=a, b=b)
                res = calc.tool(e)
                if "error" in res or e in self.banned_exprs:
                    continue
                user = tpl[0].format(a=a, b=b)
                ans = tpl[2].format(a=a, b=b, r=json.dumps(res["result"]))
                return user, ("calculator", {"expression": e}), res, ans
            if r < 0.8:
                op = rng.choice("+-*/")
                a, b = number(rng, True), number(rng, True)
                if op == "/" and rng.random() < 0.6 and isinstance(a, int) and isinstance(b, int):
                    a = a * b  # mostly exact divisions
                e = "%s %s %s" % (a, op, b)
                w = "%s %s %s" % (a, rng.choice(OPS[op]), b)
            else:
                a, b, c = number(rng), number(rng), number(rng)
                o1, o2 = rng.choice("+-*"), rng.choice("+-*/")
                if rng.random() < 0.5:
                    e = "(%s %s %s) %s %s" % (a, o1, b, o2, c)
                else:
                    e = "%s %s %s %s %s" % (a, o1, b, o2, c)
                w = e
            if e in self.banned_exprs:
                continue
            res = calc.tool(e)
            user = rng.choice(CALC_Q).format(w=w, s=e)
            if "error" in res:
                ans = rng.choice(CALC_ERR_A).format(err=res["error"])
            else:
                ans = rng.choice(CALC_A).format(e=e, r=json.dumps(res["result"]))
            return user, ("calculator", {"expression": e}), res, ans
        raise RuntimeError("no calculation found")

    def time(self):
        rng = self.rng
        q, kind = rng.choice(TIME_Q)
        t = self.clock()
        res = {"date": t.strftime("%Y-%m-%d"), "weekday": WEEKDAYS[t.weekday()],
               "time": t.strftime("%H:%M")}
        ans = rng.choice(TIME_A[kind]).format(day=t.day, month=MONTHS[t.month - 1], year=t.year, **res)
        return q, ("current_time", {}), res, ans

    def notool(self):
        qs, ans = self.rng.choice(NOTOOL)
        return self.rng.choice(qs), None, None, self.rng.choice(ans)

    def exchange(self, search_bias=0.0):
        rng = self.rng
        if search_bias and rng.random() < search_bias:
            while True:
                x = self.search()
                if x:
                    return x
        r = rng.random()
        if r < 0.30:
            return self.lookup(err=rng.random() < 0.05)
        if r < 0.48:
            while True:
                x = self.search()
                if x:
                    return x
        if r < 0.78:
            return self.calculation()
        if r < 0.90:
            return self.time()
        return self.notool()

    def dialogue(self, search_bias=0.0):
        rng = self.rng
        msgs = [{"role": "system", "content": rng.choice(SYSTEMS)}]
        n = rng.choices([1, 2, 3, 4], [0.35, 0.3, 0.2, 0.15])[0]
        for _ in range(n):
            msgs += to_messages(*self.exchange(search_bias))
        return msgs


def to_messages(user, call, result, answer):
    out = [{"role": "user", "content": user}]
    if call is not None:
        out.append({"role": "assistant", "content": "", "tool_calls": [
            {"type": "function", "function": {"name": call[0], "arguments": call[1]}}]})
        out.append({"role": "tool", "content": kjv.tool_json(result)})
    out.append({"role": "assistant", "content": answer})
    return out


def make_eval(g):
    """50 held-out questions. Their verses, words and expressions are then banned from training."""
    rng = g.rng
    items = []
    kinds = ["lookup"] * 18 + ["search"] * 10 + ["calc"] * 14 + ["time"] * 8
    for i, kind in enumerate(kinds):
        if kind == "lookup":
            v = rng.choice(g.short)
            g.banned_refs.add((v.book, v.chapter, v.verse))
            user, call, res, ans = g.lookup(v)
            expect = [res["text"]]
        elif kind == "search":
            while True:
                w = rng.choice(g.words)
                if w in g.banned_words:
                    continue
                x = g.search([w])
                if x and x[2]["count"] > 0:
                    break
            g.banned_words.add(w)
            user, call, res, ans = x
            expect = [res["matches"][0]["ref"]]
        elif kind == "calc":
            user, call, res, ans = g.calculation()
            g.banned_exprs.add(call[1]["expression"])
            expect = [json.dumps(res["result"])]
        else:
            user, call, res, ans = g.time()
            expect = None  # the clock differs per run; eval.py checks the asked field
        items.append({"id": i, "kind": kind, "system": chatfmt.DEFAULT_SYSTEM, "user": user,
                      "expect_call": {"name": call[0], "arguments": call[1]}, "expect": expect,
                      "reference_answer": ans})
    return items


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=12000, help="number of training dialogues")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--extra", type=int, default=0,
                    help="only write N more dialogues to out/dialogues.extra.jsonl (same held-out "
                         "bans as --seed's eval set, which must already be in out/eval.jsonl)")
    ap.add_argument("--extra-seed", type=int, default=99)
    ap.add_argument("--search-bias", type=float, default=0.5,
                    help="--extra: probability that an exchange is a search")
    args = ap.parse_args()
    index = kjv.load_index()
    g = Gen(args.seed, index)
    os.makedirs(kjv.OUT, exist_ok=True)
    ev = make_eval(g)
    if args.extra:
        with open(os.path.join(kjv.OUT, "eval.jsonl"), encoding="utf-8") as f:
            old = [json.loads(line) for line in f]
        if old != json.loads(json.dumps(ev, ensure_ascii=False)):
            sys.exit("out/eval.jsonl was not made with --seed %d: its bans would not hold" % args.seed)
        g.rng = random.Random(args.extra_seed)
        with open(os.path.join(kjv.OUT, "dialogues.extra.jsonl"), "w", encoding="utf-8") as f:
            for _ in range(args.extra):
                msgs = g.dialogue(args.search_bias)
                f.write(json.dumps({"messages": msgs, "text": chatfmt.render(msgs, chatfmt.TOOLS)},
                                   ensure_ascii=False) + "\n")
        print("wrote %d extra dialogues (search bias %.2f)" % (args.extra, args.search_bias))
        return
    with open(os.path.join(kjv.OUT, "eval.jsonl"), "w", encoding="utf-8") as f:
        for it in ev:
            f.write(json.dumps(it, ensure_ascii=False) + "\n")
    n_chars = 0
    with open(os.path.join(kjv.OUT, "dialogues.train.jsonl"), "w", encoding="utf-8") as f:
        for _ in range(args.n):
            msgs = g.dialogue()
            text = chatfmt.render(msgs, chatfmt.TOOLS)
            n_chars += len(text)
            f.write(json.dumps({"messages": msgs, "text": text}, ensure_ascii=False) + "\n")
    for which in ("train", "heldout"):
        with open(os.path.join(kjv.OUT, "kjv.%s.txt" % which), "w", encoding="utf-8") as f:
            f.write(kjv.kjv_text(index.verses, which))
    print("wrote %d dialogues (%.1f MB of text), %d eval questions to %s"
          % (args.n, n_chars / 1e6, len(ev), kjv.OUT))


if __name__ == "__main__":
    main()
