"""The calculator tool: a small safe arithmetic evaluator (no eval()).

Grammar (recursive descent, usual precedence, left-associative except ^):
  expr   := term (('+' | '-') term)*
  term   := unary (('*' | '/' | '%') unary)*
  unary  := ('-' | '+') unary | power
  power  := atom ('^' unary)?           ('**' is accepted as '^')
  atom   := number | '(' expr ')'
Numbers are decimal (digits, optional fraction). 'x' and the multiplication sign
are accepted for '*'. Results are Python floats/ints; huge exponents are refused.
"""

import math
import re

_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d*)?|\.\d+)|(\*\*|[-+*/%^()x\u00d7\u00f7]))")


class CalcError(ValueError):
    pass


def _tokens(s):
    pos, out = 0, []
    s = s.rstrip()
    while pos < len(s):
        m = _TOKEN.match(s, pos)
        if not m:
            raise CalcError("unexpected character at %d" % pos)
        pos = m.end()
        if m.group(1) is not None:
            txt = m.group(1)
            out.append(("num", float(txt) if "." in txt else int(txt)))
        else:
            op = {"**": "^", "x": "*", "\u00d7": "*", "\u00f7": "/"}.get(m.group(2), m.group(2))
            out.append(("op", op))
    return out


class _Parser:
    def __init__(self, toks):
        self.t = toks
        self.i = 0
        self.depth = 0

    def peek(self):
        return self.t[self.i][1] if self.i < len(self.t) and self.t[self.i][0] == "op" else None

    def expr(self):
        v = self.term()
        while self.peek() in ("+", "-"):
            op = self.t[self.i][1]
            self.i += 1
            r = self.term()
            v = v + r if op == "+" else v - r
        return v

    def term(self):
        v = self.unary()
        while self.peek() in ("*", "/", "%"):
            op = self.t[self.i][1]
            self.i += 1
            r = self.unary()
            if op == "*":
                v = v * r
            elif r == 0:
                raise CalcError("division by zero")
            elif op == "/":
                v = v / r
            else:
                v = v % r
        return v

    def unary(self):
        self.depth += 1
        if self.depth > 200:
            raise CalcError("expression too deeply nested")
        try:
            if self.peek() in ("-", "+"):
                op = self.t[self.i][1]
                self.i += 1
                v = self.unary()
                return -v if op == "-" else v
            return self.power()
        finally:
            self.depth -= 1

    def power(self):
        v = self.atom()
        if self.peek() == "^":
            self.i += 1
            e = self.unary()
            if abs(e) > 64 or (abs(v) > 1e6 and abs(e) > 4):
                raise CalcError("exponent too large")
            if v == 0 and e < 0:
                raise CalcError("division by zero")
            v = v ** e
            if isinstance(v, complex):
                raise CalcError("complex result")
        return v

    def atom(self):
        if self.i >= len(self.t):
            raise CalcError("unexpected end of expression")
        kind, val = self.t[self.i]
        if kind == "num":
            self.i += 1
            return val
        if val == "(":
            self.i += 1
            self.depth += 1
            if self.depth > 200:
                raise CalcError("expression too deeply nested")
            v = self.expr()
            self.depth -= 1
            if self.peek() != ")":
                raise CalcError("missing )")
            self.i += 1
            return v
        raise CalcError("unexpected %r" % val)


def evaluate(expression):
    """Returns the value (int or float) or raises CalcError."""
    if not isinstance(expression, str) or not expression.strip():
        raise CalcError("empty expression")
    if len(expression) > 200:
        raise CalcError("expression too long")
    p = _Parser(_tokens(expression))
    v = p.expr()
    if p.i != len(p.t):
        raise CalcError("unexpected %r" % (p.t[p.i][1],))
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        raise CalcError("result is not finite")
    return v


def fmt(v):
    """How results are written: integers plainly, other values with up to 4 decimals."""
    if isinstance(v, int) or (isinstance(v, float) and v.is_integer() and abs(v) < 1e15):
        return str(int(v))
    s = "%.4f" % v
    s = s.rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def tool(expression):
    """The calculator tool: result object for the `tool` message."""
    try:
        v = evaluate(expression)
    except CalcError as e:
        return {"error": str(e)}
    f = fmt(v)
    return {"result": float(f) if "." in f else int(f)}


if __name__ == "__main__":
    for e in ["1 + 2 * 3", "(45 + 12) / 3", "2 ^ 10", "10 / 4", "7 % 3", "-3 - -4", "1/0",
              "2 ** 3 ** 2", "1 +", "abc", "3 x 4", "100 * 15 / 100", "0.1 + 0.2"]:
        print(repr(e), tool(e))
