"""KJV text access for the training tools: load, parse references, look up, search.

The text comes from Debian's bible-kjv package. Its data file (/usr/lib/bible.data)
is compressed in the package's own format, so we ask the `bible` program for the
whole book range once, with an effectively infinite line width so that every verse
is one line, and cache the parsed result as a TSV file under tools/train/out/.

Public pieces used by the other scripts:
  BOOKS                  canonical book names in canonical order (66)
  load()                 list of Verse(book, chapter, verse, text) in canonical order
  parse_ref(s)           "John 3:16" / "jn 3 16" / "1 Cor 13:4" -> (book, ch, v) or None
  Kjv(verses)            index with .lookup(ref) and .search(query) (the real tool bodies)
  heldout_chapter(b, c)  True for the chapters kept out of training (perplexity slice)
"""

import collections
import json
import os
import re
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "out")
CACHE = os.path.join(OUT, "kjv.tsv")

BOOKS = [
    "Genesis", "Exodus", "Leviticus", "Numbers", "Deuteronomy", "Joshua", "Judges",
    "Ruth", "1 Samuel", "2 Samuel", "1 Kings", "2 Kings", "1 Chronicles",
    "2 Chronicles", "Ezra", "Nehemiah", "Esther", "Job", "Psalms", "Proverbs",
    "Ecclesiastes", "Song of Solomon", "Isaiah", "Jeremiah", "Lamentations",
    "Ezekiel", "Daniel", "Hosea", "Joel", "Amos", "Obadiah", "Jonah", "Micah",
    "Nahum", "Habakkuk", "Zephaniah", "Haggai", "Zechariah", "Malachi", "Matthew",
    "Mark", "Luke", "John", "Acts", "Romans", "1 Corinthians", "2 Corinthians",
    "Galatians", "Ephesians", "Philippians", "Colossians", "1 Thessalonians",
    "2 Thessalonians", "1 Timothy", "2 Timothy", "Titus", "Philemon", "Hebrews",
    "James", "1 Peter", "2 Peter", "1 John", "2 John", "3 John", "Jude", "Revelation",
]

# Common short forms people type. Lower-case keys; the canonical name also matches.
ABBREV = {
    "gen": "Genesis", "ge": "Genesis", "exod": "Exodus", "ex": "Exodus", "lev": "Leviticus",
    "num": "Numbers", "deut": "Deuteronomy", "dt": "Deuteronomy", "josh": "Joshua",
    "judg": "Judges", "1 sam": "1 Samuel", "2 sam": "2 Samuel", "1 kgs": "1 Kings",
    "2 kgs": "2 Kings", "1 chron": "1 Chronicles", "2 chron": "2 Chronicles",
    "neh": "Nehemiah", "esth": "Esther", "ps": "Psalms", "psa": "Psalms", "psalm": "Psalms",
    "prov": "Proverbs", "eccl": "Ecclesiastes", "eccles": "Ecclesiastes",
    "song": "Song of Solomon", "song of songs": "Song of Solomon", "isa": "Isaiah",
    "jer": "Jeremiah", "lam": "Lamentations", "ezek": "Ezekiel", "dan": "Daniel",
    "hos": "Hosea", "obad": "Obadiah", "mic": "Micah", "nah": "Nahum", "hab": "Habakkuk",
    "zeph": "Zephaniah", "hag": "Haggai", "zech": "Zechariah", "mal": "Malachi",
    "matt": "Matthew", "mt": "Matthew", "mk": "Mark", "lk": "Luke", "jn": "John",
    "rom": "Romans", "1 cor": "1 Corinthians", "2 cor": "2 Corinthians", "gal": "Galatians",
    "eph": "Ephesians", "phil": "Philippians", "col": "Colossians",
    "1 thess": "1 Thessalonians", "2 thess": "2 Thessalonians", "1 tim": "1 Timothy",
    "2 tim": "2 Timothy", "philem": "Philemon", "heb": "Hebrews", "jas": "James",
    "1 pet": "1 Peter", "2 pet": "2 Peter", "1 jn": "1 John", "2 jn": "2 John",
    "3 jn": "3 John", "rev": "Revelation", "revelations": "Revelation",
}

Verse = collections.namedtuple("Verse", "book chapter verse text")


def _dump_with_bible_program():
    """Runs `bible` over Genesis 1:1 - Revelation 22:21, one verse per line."""
    out = subprocess.run(["bible", "-l100000", "Gen1:1-Rev22:21"], check=True,
                         capture_output=True, text=True).stdout
    verses = []
    book, chapter = None, None
    head = re.compile(r"^(\S.*?) (\d+)$")
    line_re = re.compile(r"^\s+(\d+) (.*)$")
    for line in out.splitlines():
        if not line.strip():
            continue
        m = line_re.match(line)
        if m:
            verses.append(Verse(book, chapter, int(m.group(1)), m.group(2).strip()))
            continue
        m = head.match(line)
        if not m or m.group(1) not in BOOKS:
            raise ValueError("unexpected line from bible: %r" % line[:80])
        book, chapter = m.group(1), int(m.group(2))
    if len(verses) != 31102:
        raise ValueError("expected 31102 verses, got %d" % len(verses))
    return verses


def load():
    if os.path.exists(CACHE):
        verses = []
        with open(CACHE, encoding="utf-8") as f:
            for line in f:
                b, c, v, t = line.rstrip("\n").split("\t")
                verses.append(Verse(b, int(c), int(v), t))
        return verses
    verses = _dump_with_bible_program()
    os.makedirs(OUT, exist_ok=True)
    with open(CACHE + ".tmp", "w", encoding="utf-8") as f:
        for v in verses:
            f.write("%s\t%d\t%d\t%s\n" % v)
    os.replace(CACHE + ".tmp", CACHE)
    return verses


def ref_str(book, chapter, verse):
    return "%s %d:%d" % (book, chapter, verse)


_NAMES = {b.lower(): b for b in BOOKS}
_NAMES.update(ABBREV)
_REF_RE = re.compile(r"^\s*((?:[123]\s*)?[A-Za-z][A-Za-z .]*?)\.?\s*(\d+)\s*(?::|\s+|\s*v(?:erse)?\s*)\s*(\d+)\s*$")


def parse_ref(s):
    """Parses a single-verse reference. Returns (book, chapter, verse) or None.

    Accepts "John 3:16", "john 3 16", "1 Cor 13:4", "1Cor 13:4", "Ps. 23:1".
    Whether the verse exists is checked by Kjv.lookup, not here."""
    if not isinstance(s, str):
        return None
    m = _REF_RE.match(s)
    if not m:
        return None
    name = re.sub(r"\s+", " ", m.group(1).strip().rstrip(".")).lower()
    name = re.sub(r"^([123])\s*", r"\1 ", name)
    book = _NAMES.get(name)
    if book is None:
        return None
    return book, int(m.group(2)), int(m.group(3))


_WORD = re.compile(r"[a-z]+")


class Kjv:
    def __init__(self, verses):
        self.verses = verses
        self.by_ref = {(v.book, v.chapter, v.verse): v for v in verses}
        self.words = [set(_WORD.findall(v.text.lower())) for v in verses]
        self.postings = collections.defaultdict(list)  # word -> verse indices, ascending
        for i, w in enumerate(self.words):
            for t in w:
                self.postings[t].append(i)

    def lookup(self, ref):
        """The lookup_verse tool: returns the result object (a dict)."""
        p = parse_ref(ref)
        if p is None:
            return {"error": "cannot parse reference: %s" % ref}
        v = self.by_ref.get(p)
        if v is None:
            return {"error": "no such verse: %s" % ref_str(*p)}
        return {"ref": ref_str(v.book, v.chapter, v.verse), "text": v.text}

    def search_hits(self, query):
        """Indices of the verses containing every word of the query, in canonical order."""
        q = _WORD.findall(query.lower()) if isinstance(query, str) else []
        if not q:
            return None
        rarest = min(q, key=lambda t: len(self.postings.get(t, ())))
        return [i for i in self.postings.get(rarest, ()) if all(t in self.words[i] for t in q)]

    def search(self, query, limit=2):
        """The search_verses tool: count of matching verses and the first `limit`."""
        hits = self.search_hits(query)
        if hits is None:
            return {"error": "empty query"}
        return {"count": len(hits),
                "matches": [{"ref": ref_str(*self.verses[i][:3]), "text": self.verses[i].text}
                            for i in hits[:limit]]}


def chapter_index(book, chapter):
    """0-based index of a chapter in canonical order (1189 chapters)."""
    return _CHAPTER_BASE[book] + chapter - 1


_CHAPTER_BASE = {}


def _init_chapter_base(verses):
    last = collections.OrderedDict()
    for v in verses:
        last[v.book] = max(last.get(v.book, 0), v.chapter)
    base = 0
    for b, n in last.items():
        _CHAPTER_BASE[b] = base
        base += n


def heldout_chapter(book, chapter):
    """About 1 chapter in 50 is held out of all training text (24 chapters)."""
    return chapter_index(book, chapter) % 50 == 17


def kjv_text(verses, which):
    """The KJV as plain text, one chapter per block: a "Book N" line, then "V text" lines.

    which: "train" (chapters not held out) or "heldout"."""
    if not _CHAPTER_BASE:
        _init_chapter_base(verses)
    parts = []
    cur = None
    for v in verses:
        if heldout_chapter(v.book, v.chapter) != (which == "heldout"):
            continue
        if (v.book, v.chapter) != cur:
            cur = (v.book, v.chapter)
            parts.append("\n%s %d\n" % cur)
        parts.append("%d %s\n" % (v.verse, v.text))
    return "".join(parts).lstrip("\n")


def load_index():
    verses = load()
    _init_chapter_base(verses)
    return Kjv(verses)


def tool_json(obj):
    """How tool results are serialised in dialogues (and by the demo): compact JSON
    with ", " and ": " separators, like json.dumps defaults."""
    return json.dumps(obj, ensure_ascii=False)


if __name__ == "__main__":
    k = load_index()
    print(len(k.verses), "verses")
    print(k.lookup("jn 3 16"))
    print(k.search("love neighbour"))
