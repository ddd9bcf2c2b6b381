"""agentinfer: a thin ctypes binding to libagentinfer (no compiled extension).

    import agentinfer as ai
    m = ai.Model("model.gguf")
    ids = m.tokenize("Hello")
    s = ai.Session(m, temperature=0, max_tokens=32)
    for piece in s.stream("Once upon a time"):
        print(piece, end="", flush=True)
    e = ai.Embedder(ai.Model("embedder.gguf"))
    v = e.embed("a sentence")
    prompt = m.chat_render([{"role": "user", "content": "hi"}], tools=[...])
    calls = ai.parse_tool_calls(text, "hermes", tools=[...])

Every failing call raises AgentInferError carrying the library's status code
and message.  Options are given as keyword arguments named as the library
names them (n_ctx, temperature, seed, ...: ai_opt_from_name), typed by their
number range (1xx int, 2xx float, 3xx str).

The shared library is looked up, in order: the path in the environment
variable AGENTINFER_LIB; libagentinfer.so.0 / libagentinfer.so next to this
file; the build/ folder of a source checkout this file sits in; the system
(ctypes.util.find_library, then the plain SONAME).  Its major version must be
the one this module was written for.
"""

import ctypes as C
import ctypes.util
import json
import os

__all__ = ["AgentInferError", "Model", "Session", "Embedder", "parse_tool_calls",
           "render_template", "version", "system_info", "library_path"]

# The header this module was written against (include/agentinfer.h).
HEADER_MAJOR, HEADER_MINOR = 0, 1

OK, DONE = 0, 1
E_RANGE = -5
STATUS_NAMES = {0: "AI_OK", 1: "AI_DONE", -1: "AI_E_INVAL", -2: "AI_E_NOMEM", -3: "AI_E_IO",
                -4: "AI_E_FORMAT", -5: "AI_E_RANGE", -6: "AI_E_UNKNOWN_OPT",
                -7: "AI_E_CANCELLED", -8: "AI_E_UNSUPPORTED", -9: "AI_E_CONTEXT_FULL",
                -10: "AI_E_MISMATCH", -11: "AI_E_NOT_FOUND", -12: "AI_E_INTERNAL"}

TOKENIZE_ADD_SPECIAL, TOKENIZE_PARSE_SPECIAL, DETOKENIZE_RENDER_SPECIAL = 1, 2, 4
CHAT_ADD_GENERATION_PROMPT, CHAT_PARSE_ARGUMENTS = 1, 2


class AgentInferError(Exception):
    """A library call failed: .status is the ai_status code, .name its
    enum name, str() the library's message."""

    def __init__(self, status, message=""):
        self.status = status
        self.name = STATUS_NAMES.get(status, "status %d" % status)
        text = message or _status_string(status)
        super().__init__("%s: %s" % (self.name, text))
        self.message = text


# ---- finding and declaring the library ------------------------------------

def _candidates():
    env = os.environ.get("AGENTINFER_LIB")
    if env:
        yield env
        return  # an explicit choice is never second-guessed
    here = os.path.dirname(os.path.abspath(__file__))
    for name in ("libagentinfer.so.0", "libagentinfer.so", "libagentinfer.dylib"):
        yield os.path.join(here, name)
    root = os.path.dirname(os.path.dirname(here))  # examples/python -> checkout
    yield os.path.join(root, "build", "libagentinfer.so.0")
    found = ctypes.util.find_library("agentinfer")
    if found:
        yield found
    yield "libagentinfer.so.0"


def _load():
    errors = []
    for path in _candidates():
        if os.sep in path and not os.path.exists(path):
            errors.append("%s: not found" % path)
            continue
        try:
            return C.CDLL(path), path
        except OSError as e:
            errors.append(str(e))
    raise OSError("libagentinfer not found (set AGENTINFER_LIB): " + "; ".join(errors))


_lib, library_path = _load()

_vp, _cp, _sz = C.c_void_p, C.c_char_p, C.c_size_t
_i32, _u32, _i64 = C.c_int32, C.c_uint32, C.c_int64
_st = C.c_int  # ai_status is an int-sized enum
PIECE_FN = C.CFUNCTYPE(C.c_int, C.POINTER(C.c_char), C.c_size_t, C.c_void_p)

_SIGS = {
    "ai_version_string": (_cp, []),
    "ai_version_number": (_i32, []),
    "ai_status_string": (_cp, [C.c_int]),
    "ai_free": (None, [_vp]),
    "ai_opts_new": (_st, [C.POINTER(_vp)]),
    "ai_opts_free": (None, [_vp]),
    "ai_opts_set_int": (_st, [_vp, C.c_int, _i64]),
    "ai_opts_set_double": (_st, [_vp, C.c_int, C.c_double]),
    "ai_opts_set_str": (_st, [_vp, C.c_int, _cp]),
    "ai_opt_from_name": (_st, [_cp, C.POINTER(C.c_int)]),
    "ai_model_load": (_st, [_cp, _vp, C.POINTER(_vp), C.c_char_p, _sz]),
    "ai_model_free": (None, [_vp]),
    "ai_model_meta_str": (_st, [_vp, _cp, _vp, _sz, C.POINTER(_sz)]),
    "ai_tokenize": (_st, [_vp, _cp, _sz, _u32, C.POINTER(_i32), _sz, C.POINTER(_sz)]),
    "ai_detokenize": (_st, [_vp, C.POINTER(_i32), _sz, _u32, _vp, _sz, C.POINTER(_sz)]),
    "ai_token_to_piece": (_st, [_vp, _i32, _u32, _vp, _sz, C.POINTER(_sz)]),
    "ai_vocab_size": (_sz, [_vp]),
    "ai_vocab_special": (_st, [_vp, _i32, C.POINTER(_i32)]),
    "ai_session_new": (_st, [_vp, _vp, C.POINTER(_vp), C.c_char_p, _sz]),
    "ai_session_free": (None, [_vp]),
    "ai_session_errmsg": (_cp, [_vp]),
    "ai_session_n_ctx": (_i32, [_vp]),
    "ai_session_n_past": (_i32, [_vp]),
    "ai_session_n_vocab": (_i32, [_vp]),
    "ai_session_n_reused": (_i32, [_vp]),
    "ai_session_eval": (_st, [_vp, C.POINTER(_i32), _sz, _i32]),
    "ai_session_prompt": (_st, [_vp, C.POINTER(_i32), _sz, _i32]),
    "ai_session_logits": (_st, [_vp, _i32, C.POINTER(C.c_float), _sz, C.POINTER(_sz)]),
    "ai_session_rewind": (_st, [_vp, _i32]),
    "ai_session_set_sampling": (_st, [_vp, _vp]),
    "ai_session_next_token": (_st, [_vp, C.POINTER(_i32)]),
    "ai_session_add_stop": (_st, [_vp, _cp, _sz]),
    "ai_session_step": (_st, [_vp, _vp, _sz, C.POINTER(_sz)]),
    "ai_session_generate": (_st, [_vp, PIECE_FN, _vp]),
    "ai_model_embedding_dim": (_i32, [_vp]),
    "ai_embedder_new": (_st, [_vp, _vp, C.POINTER(_vp), C.c_char_p, _sz]),
    "ai_embedder_free": (None, [_vp]),
    "ai_embedder_errmsg": (_cp, [_vp]),
    "ai_embed": (_st, [_vp, _cp, _sz, C.POINTER(C.c_float), _sz, C.POINTER(_sz), _vp, _vp]),
    "ai_embed_batch": (_st, [_vp, C.POINTER(_cp), C.POINTER(_sz), _sz, C.POINTER(C.c_float), _sz,
                             C.POINTER(_sz), _vp, _vp]),
    "ai_chat_render": (_st, [_vp, _cp, _cp, _vp, _u32, _vp, _sz, C.POINTER(_sz), C.c_char_p, _sz]),
    "ai_chat_render_template": (_st, [_cp, _cp, _cp, _cp, _cp, _vp, _u32, _vp, _sz, C.POINTER(_sz),
                                      C.c_char_p, _sz]),
    "ai_toolcall_format_from_name": (_st, [_cp, C.POINTER(_i32)]),
    "ai_toolcall_format_name": (_cp, [_i32]),
    "ai_toolcall_format_detect": (_st, [_cp, _sz, C.POINTER(_i32)]),
    "ai_model_toolcall_format": (_st, [_vp, C.POINTER(_i32)]),
    "ai_toolcalls_parse": (_st, [_i32, _cp, _sz, _cp, _vp, _sz, C.POINTER(_sz)]),
    "ai_system_info": (_st, [_vp, _sz, C.POINTER(_sz)]),
}
for _name, (_res, _args) in _SIGS.items():
    _f = getattr(_lib, _name)
    _f.restype, _f.argtypes = _res, _args

_ver = _lib.ai_version_number()
if _ver // 1000000 != HEADER_MAJOR or (_ver // 1000) % 1000 < HEADER_MINOR:
    raise ImportError("%s is version %s; this module needs %d.%d or a later %d.x"
                      % (library_path, _lib.ai_version_string().decode(), HEADER_MAJOR,
                         HEADER_MINOR, HEADER_MAJOR))


def _status_string(status):
    return _lib.ai_status_string(status).decode("utf-8", "replace")


def _b(s):
    return s.encode("utf-8") if isinstance(s, str) else s


def _check(status, message=""):
    if status < 0:
        raise AgentInferError(status, message)
    return status


def _errbuf():
    return C.create_string_buffer(512)


def _msg(buf):
    return buf.value.decode("utf-8", "replace")


def _text_call(fn, *args):
    """Calls fn(*args, buf, cap, &needed) with the (buf, cap, needed)
    protocol; returns the bytes without the NUL."""
    need = _sz(0)
    cap = 256
    while True:
        buf = C.create_string_buffer(cap)
        st = fn(*args, buf, cap, C.byref(need))
        if st == E_RANGE and need.value > cap:
            cap = need.value
            continue
        _check(st)
        return buf.raw[:max(need.value, 1) - 1]


class _Opts:
    """An ai_opts bag built from keyword arguments; freed on exit."""

    def __init__(self, kw):
        self.ptr = _vp()
        _check(_lib.ai_opts_new(C.byref(self.ptr)))
        try:
            for name, value in kw.items():
                if value is None:
                    continue
                key = C.c_int()
                if _lib.ai_opt_from_name(_b(name), C.byref(key)) != OK:
                    raise AgentInferError(-6, "unknown option %r" % name)
                k = key.value
                if 100 <= k < 200:
                    st = _lib.ai_opts_set_int(self.ptr, k, int(value))
                elif 200 <= k < 300:
                    st = _lib.ai_opts_set_double(self.ptr, k, float(value))
                else:
                    st = _lib.ai_opts_set_str(self.ptr, k, _b(value))
                _check(st, "option %s = %r" % (name, value))
        except BaseException:
            self.close()
            raise

    def close(self):
        if self.ptr:
            _lib.ai_opts_free(self.ptr)
            self.ptr = _vp()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def version():
    """The library's version string ("0.1.0")."""
    return _lib.ai_version_string().decode()


def system_info():
    """One line on the compute kernels in use."""
    return _text_call(_lib.ai_system_info).decode("utf-8", "replace")


def _format_id(fmt):
    if isinstance(fmt, int):
        return fmt
    out = _i32()
    _check(_lib.ai_toolcall_format_from_name(_b(fmt), C.byref(out)),
           "unknown tool-call format %r" % fmt)
    return out.value


def _json_or_none(v):
    if v is None:
        return None
    return _b(v if isinstance(v, (str, bytes)) else json.dumps(v, ensure_ascii=False))


def parse_tool_calls(text, format="hermes", tools=None):
    """Parses model output into {"content", "tool_calls": [{"name",
    "arguments", "id"?}], "error", ...} (a dict).  format: a name
    ("hermes", "llama3_json", ...) or a format number; tools: the OpenAI tools
    list (or its JSON) used to check names and type XML values."""
    data = _b(text)
    fid = _format_id(format)
    out = _text_call(lambda buf, cap, need: _lib.ai_toolcalls_parse(
        fid, data, len(data), _json_or_none(tools), buf, cap, need))
    return json.loads(out.decode("utf-8"))


def detect_tool_call_format(template):
    """The tool-call format name for a chat template's text (the generic
    JSON fallback when no rule matches)."""
    data = _b(template)
    out = _i32()
    st = _lib.ai_toolcall_format_detect(data, len(data), C.byref(out))
    if st not in (OK, -11):
        _check(st)
    return _lib.ai_toolcall_format_name(out.value).decode()


def _render(fn_args_prefix, fn, messages, tools, add_generation_prompt, parse_arguments, kw):
    flags = (CHAT_ADD_GENERATION_PROMPT if add_generation_prompt else 0) | \
            (CHAT_PARSE_ARGUMENTS if parse_arguments else 0)
    msgs = _json_or_none(messages)
    with _Opts(kw) as o:
        need = _sz(0)
        err = _errbuf()
        cap = 4096
        while True:
            buf = C.create_string_buffer(cap)
            st = fn(*fn_args_prefix, msgs, _json_or_none(tools), o.ptr, flags, buf, cap,
                    C.byref(need), err, len(err))
            if st == E_RANGE and need.value > cap:
                cap = need.value
                continue
            _check(st, _msg(err))
            return buf.raw[:need.value - 1].decode("utf-8")


def render_template(template, messages, tools=None, bos_token="", eos_token="",
                    add_generation_prompt=True, parse_arguments=False, **options):
    """Renders messages (a list of dicts, or JSON) with a Jinja chat template
    given as text.  options: chat_time (Unix seconds), chat_vars (dict)."""
    if isinstance(options.get("chat_vars"), dict):
        options["chat_vars"] = json.dumps(options["chat_vars"])
    return _render((_b(template), _b(bos_token), _b(eos_token)), _lib.ai_chat_render_template,
                   messages, tools, add_generation_prompt, parse_arguments, options)


class _Handle:
    """An owned library handle in self._ptr.  close() frees it once with the
    library function named by _FREE (then it reads as closed); the object is
    a context manager and is freed when collected.  _check() turns a negative
    status into AgentInferError with the handle's own message (_ERRMSG)."""

    _FREE = _ERRMSG = None

    def close(self):
        if getattr(self, "_ptr", None):
            getattr(_lib, self._FREE)(self._ptr)
            self._ptr = _vp()

    __del__ = close

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _check(self, st):
        if st < 0:
            msg = getattr(_lib, self._ERRMSG)(self._ptr) or b""
            raise AgentInferError(st, msg.decode("utf-8", "replace"))
        return st


class Model(_Handle):
    """A loaded GGUF model (read-only; may be shared across threads)."""

    _FREE = "ai_model_free"

    def __init__(self, path, **options):
        self._ptr = _vp()
        err = _errbuf()
        with _Opts(options) as o:
            st = _lib.ai_model_load(_b(os.fspath(path)), o.ptr, C.byref(self._ptr), err, len(err))
        _check(st, _msg(err))

    def _p(self):
        if not self._ptr:
            raise AgentInferError(-1, "the model is closed")
        return self._ptr

    def meta(self, key):
        """A metadata value as text (arrays as JSON)."""
        p = self._p()
        return _text_call(lambda b, c, n: _lib.ai_model_meta_str(p, _b(key), b, c, n)) \
            .decode("utf-8", "replace")

    @property
    def architecture(self):
        return self.meta("general.architecture")

    @property
    def vocab_size(self):
        return _lib.ai_vocab_size(self._p())

    @property
    def embedding_dim(self):
        return _lib.ai_model_embedding_dim(self._p())

    def tokenize(self, text, add_special=True, parse_special=False):
        """Token ids (list of int) of text."""
        data = _b(text)
        flags = (TOKENIZE_ADD_SPECIAL if add_special else 0) | \
                (TOKENIZE_PARSE_SPECIAL if parse_special else 0)
        cap = 3 * len(data) + 3
        out = (_i32 * cap)()
        n = _sz(0)
        _check(_lib.ai_tokenize(self._p(), data, len(data), flags, out, cap, C.byref(n)))
        return list(out[:n.value])

    def detokenize_bytes(self, tokens, render_special=False):
        arr = (_i32 * len(tokens))(*tokens)
        fl = DETOKENIZE_RENDER_SPECIAL if render_special else 0
        p = self._p()
        return _text_call(lambda b, c, n: _lib.ai_detokenize(p, arr, len(tokens), fl, b, c, n))

    def detokenize(self, tokens, render_special=False):
        """The text of a token sequence (invalid UTF-8 shown as U+FFFD)."""
        return self.detokenize_bytes(tokens, render_special).decode("utf-8", "replace")

    def token_to_piece(self, token, render_special=False):
        """The bytes one token stands for."""
        fl = DETOKENIZE_RENDER_SPECIAL if render_special else 0
        p = self._p()
        return _text_call(lambda b, c, n: _lib.ai_token_to_piece(p, token, fl, b, c, n))

    def chat_render(self, messages, tools=None, add_generation_prompt=True,
                    parse_arguments=True, **options):
        """Renders messages with the model's chat template (or template=TEXT)."""
        if "template" in options:
            options["chat_template"] = options.pop("template")
        if isinstance(options.get("chat_vars"), dict):
            options["chat_vars"] = json.dumps(options["chat_vars"])
        return _render((self._p(),), _lib.ai_chat_render, messages, tools,
                       add_generation_prompt, parse_arguments, options)

    def tool_call_format(self):
        """The tool-call format name of the model's template ("hermes", ...);
        generic_json when it has no template or none is recognised."""
        out = _i32()
        st = _lib.ai_model_toolcall_format(self._p(), C.byref(out))
        if st not in (OK, -11):
            _check(st)
        return _lib.ai_toolcall_format_name(out.value).decode()


class Session(_Handle):
    """A decoder session: KV cache, threads and sampler on a shared model.
    One thread at a time."""

    _FREE, _ERRMSG = "ai_session_free", "ai_session_errmsg"

    def __init__(self, model, **options):
        self.model = model  # keeps the model alive as long as the session
        self._ptr = _vp()
        err = _errbuf()
        with _Opts(options) as o:
            st = _lib.ai_session_new(model._p(), o.ptr, C.byref(self._ptr), err, len(err))
        _check(st, _msg(err))

    n_ctx = property(lambda self: _lib.ai_session_n_ctx(self._ptr))
    n_past = property(lambda self: _lib.ai_session_n_past(self._ptr))
    n_reused = property(lambda self: _lib.ai_session_n_reused(self._ptr))

    def _tokens(self, prompt, add_special=True):
        if isinstance(prompt, (str, bytes)):
            return self.model.tokenize(prompt, add_special=add_special)
        return list(prompt)

    def eval(self, tokens, logits_all=False):
        """Appends tokens (ids, or text to tokenize) to the context."""
        t = self._tokens(tokens)
        arr = (_i32 * len(t))(*t)
        self._check(_lib.ai_session_eval(self._ptr, arr, len(t), 1 if logits_all else 0))

    def prompt(self, tokens, parse_special=False):
        """Makes the context exactly these tokens, evaluating only what
        differs from the current context (see n_reused)."""
        if isinstance(tokens, (str, bytes)):
            tokens = self.model.tokenize(tokens, parse_special=parse_special)
        arr = (_i32 * len(tokens))(*tokens)
        self._check(_lib.ai_session_prompt(self._ptr, arr, len(tokens), 0))

    def logits(self, row=-1):
        """One row of logits of the last evaluation (list of float)."""
        n = _lib.ai_session_n_vocab(self._ptr)
        buf = (C.c_float * n)()
        need = _sz(0)
        self._check(_lib.ai_session_logits(self._ptr, row, buf, n, C.byref(need)))
        return list(buf)

    def set_sampling(self, **options):
        with _Opts(options) as o:
            self._check(_lib.ai_session_set_sampling(self._ptr, o.ptr))

    def add_stop(self, text):
        data = _b(text)
        self._check(_lib.ai_session_add_stop(self._ptr, data, len(data)))

    def next_token(self):
        """Samples and evaluates one token; None when the generation ended."""
        tok = _i32()
        st = self._check(_lib.ai_session_next_token(self._ptr, C.byref(tok)))
        return None if st == DONE else tok.value

    def stream(self, prompt=None):
        """Yields the generated text piece by piece (complete UTF-8
        characters), after evaluating prompt (text or ids) if given."""
        if prompt is not None:
            self.eval(prompt)
        cap = 256
        need = _sz(0)
        while True:
            buf = C.create_string_buffer(cap)
            st = _lib.ai_session_step(self._ptr, buf, cap, C.byref(need))
            if st == E_RANGE and need.value > cap:
                cap = need.value
                continue
            if self._check(st) == DONE:
                return
            yield buf.raw[:need.value - 1].decode("utf-8")

    def generate(self, prompt=None, on_piece=None):
        """The whole generated text.  on_piece(text) is called for every
        piece as it comes (through ai_session_generate's callback); it may
        return True to stop, which raises AgentInferError(AI_E_CANCELLED)."""
        if prompt is not None:
            self.eval(prompt)
        parts = []
        errors = []

        def cb(ptr, n, _user):
            try:
                piece = C.string_at(ptr, n).decode("utf-8")
                parts.append(piece)
                return 1 if (on_piece and on_piece(piece)) else 0
            except BaseException as e:  # never let an exception cross C
                errors.append(e)
                return 1

        fn = PIECE_FN(cb)
        st = _lib.ai_session_generate(self._ptr, fn, None)
        if errors:
            raise errors[0]
        self._check(st)
        return "".join(parts)


class Embedder(_Handle):
    """Turns texts into vectors (unit length by default) with an embedding
    model.  One thread at a time."""

    _FREE, _ERRMSG = "ai_embedder_free", "ai_embedder_errmsg"

    def __init__(self, model, **options):
        self.model = model
        self._ptr = _vp()
        err = _errbuf()
        with _Opts(options) as o:
            st = _lib.ai_embedder_new(model._p(), o.ptr, C.byref(self._ptr), err, len(err))
        _check(st, _msg(err))
        self.dim = model.embedding_dim

    def embed(self, text):
        """One vector (list of float) for text."""
        data = _b(text)
        need = _sz(0)
        st = _lib.ai_embed(self._ptr, data, len(data), None, 0, C.byref(need), None, None)
        if st != E_RANGE:
            self._check(st)
        buf = (C.c_float * need.value)()
        self._check(_lib.ai_embed(self._ptr, data, len(data), buf, need.value, C.byref(need), None, None))
        return list(buf)

    def embed_batch(self, texts):
        """One vector per text, computed in as few passes as possible."""
        data = [_b(t) for t in texts]
        n = len(data)
        arr = (_cp * n)(*data)
        lens = (_sz * n)(*[len(d) for d in data])
        cap = n * self.dim
        buf = (C.c_float * cap)()
        need = _sz(0)
        self._check(_lib.ai_embed_batch(self._ptr, arr, lens, n, buf, cap, C.byref(need), None, None))
        return [list(buf[i * self.dim:(i + 1) * self.dim]) for i in range(n)]
