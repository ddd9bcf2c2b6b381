#!/usr/bin/python3
"""Exports a checkpoint of model.py plus the SentencePiece tokenizer as a GGUF v3 file.

  /usr/bin/python3 tools/train/export_gguf.py --ckpt tools/train/out/ckpt.pt \
      --type f16 --out models/default.gguf

Our own writer (no gguf package). GGUF v3 layout, all little-endian:
  "GGUF" u32 version=3  u64 n_tensors  u64 n_kv
  n_kv times:      string key, u32 value_type, value
  n_tensors times: string name, u32 n_dims, u64 dims[n_dims] (dims[0] = innermost, i.e. the
                   number of columns of a row-major torch tensor), u32 ggml_type, u64 offset
  zero padding to `general.alignment` (32), then the tensor data; every offset is relative
  to the start of the data section and a multiple of 32.
  string = u64 byte length + UTF-8 bytes (no terminator); array = u32 elem_type, u64 count, elems.

A torch weight W of shape [out, in] (y = W x) is written row-major as it is, with GGUF
dims [in, out]. Matrices are stored in the requested type (f32 or f16); 1-D norm weights
always in f32, as llama.cpp does. The output matrix is tied to token_embd, so there is
no output.weight.
"""

import argparse
import os
import struct
import sys

import numpy as np
import sentencepiece as spm
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import chatfmt  # noqa: E402
import model as M  # noqa: E402

# GGUF metadata value types
T_UINT8, T_INT8, T_UINT16, T_INT16, T_UINT32, T_INT32, T_FLOAT32, T_BOOL, T_STRING, T_ARRAY, \
    T_UINT64, T_INT64, T_FLOAT64 = range(13)
# ggml tensor types
GGML_F32, GGML_F16 = 0, 1
GGML_Q8_0 = 8  # read only: read_gguf() of a file written by `agentinfer quantize`
ALIGN = 32

# tokenizer.ggml.token_type values
TOK_NORMAL, TOK_UNKNOWN, TOK_CONTROL, TOK_USER_DEFINED, TOK_UNUSED, TOK_BYTE = 1, 2, 3, 4, 5, 6


def _str(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def _value(vtype, v):
    if vtype == T_STRING:
        return _str(v)
    if vtype == T_BOOL:
        return struct.pack("<B", 1 if v else 0)
    fmt = {T_UINT8: "B", T_INT8: "b", T_UINT16: "H", T_INT16: "h", T_UINT32: "I", T_INT32: "i",
           T_FLOAT32: "f", T_UINT64: "Q", T_INT64: "q", T_FLOAT64: "d"}[vtype]
    return struct.pack("<" + fmt, v)


class GGUFWriter:
    def __init__(self):
        self.kv = []       # (key, bytes of type+value)
        self.tensors = []  # (name, np.ndarray already in its storage dtype, ggml type)

    def add(self, key, vtype, value):
        self.kv.append((key, struct.pack("<I", vtype) + _value(vtype, value)))

    def add_array(self, key, etype, values):
        body = struct.pack("<IQ", etype, len(values))
        if etype == T_FLOAT32:
            body += np.asarray(values, dtype="<f4").tobytes()
        elif etype == T_INT32:
            body += np.asarray(values, dtype="<i4").tobytes()
        else:
            body += b"".join(_value(etype, v) for v in values)
        self.kv.append((key, struct.pack("<I", T_ARRAY) + body))

    def add_tensor(self, name, arr, gtype):
        arr = np.ascontiguousarray(arr)
        want = {GGML_F32: np.dtype("<f4"), GGML_F16: np.dtype("<f2")}[gtype]
        if arr.dtype != want:
            raise ValueError("%s: dtype %s for ggml type %d" % (name, arr.dtype, gtype))
        self.tensors.append((name, arr, gtype))

    def write(self, path):
        keys = [k for k, _ in self.kv]
        if len(set(keys)) != len(keys):
            raise ValueError("duplicate metadata key")
        head = bytearray(b"GGUF")
        head += struct.pack("<IQQ", 3, len(self.tensors), len(self.kv))
        for k, v in self.kv:
            head += _str(k) + v
        offset = 0
        offsets = []
        for name, arr, gtype in self.tensors:
            dims = list(reversed(arr.shape))  # GGUF: innermost first
            head += _str(name) + struct.pack("<I", len(dims))
            head += b"".join(struct.pack("<Q", d) for d in dims)
            head += struct.pack("<IQ", gtype, offset)
            offsets.append(offset)
            offset += arr.nbytes
            offset += (-offset) % ALIGN
        head += b"\0" * ((-len(head)) % ALIGN)
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(head)
            pos = 0
            for (name, arr, gtype), off in zip(self.tensors, offsets):
                f.write(b"\0" * (off - pos))
                f.write(arr.tobytes())
                pos = off + arr.nbytes
            f.write(b"\0" * ((-pos) % ALIGN))
        os.replace(tmp, path)


def tokenizer_tables(sp):
    """tokens, scores, token types from the SentencePiece model (ids 0..n-1)."""
    tokens, scores, types = [], [], []
    specials_ctl = {"<|im_start|>", "<|im_end|>"}
    specials_user = {"<tool_call>", "</tool_call>"}
    for i in range(sp.get_piece_size()):
        p = sp.id_to_piece(i)
        tokens.append(p)
        scores.append(sp.get_score(i))
        if sp.is_unknown(i):
            t = TOK_UNKNOWN
        elif sp.is_control(i) or p in specials_ctl:
            t = TOK_CONTROL
        elif p in specials_user:
            t = TOK_USER_DEFINED
        elif sp.is_byte(i):
            t = TOK_BYTE
        elif sp.is_unused(i):
            t = TOK_UNUSED
        else:
            t = TOK_NORMAL
        types.append(t)
    return tokens, scores, types


def build(model, sp, gtype, name="agentinfer-default"):
    cfg = model.cfg
    w = GGUFWriter()
    w.add("general.architecture", T_STRING, "llama")
    w.add("general.name", T_STRING, name)
    w.add("general.file_type", T_UINT32, 1 if gtype == GGML_F16 else 0)
    w.add("general.alignment", T_UINT32, ALIGN)
    w.add("general.license", T_STRING, "public-domain training data (KJV + generated dialogues)")
    w.add("llama.context_length", T_UINT32, cfg.n_ctx)
    w.add("llama.embedding_length", T_UINT32, cfg.n_embd)
    w.add("llama.block_count", T_UINT32, cfg.n_layer)
    w.add("llama.feed_forward_length", T_UINT32, cfg.n_ff)
    w.add("llama.attention.head_count", T_UINT32, cfg.n_head)
    w.add("llama.attention.head_count_kv", T_UINT32, cfg.n_head_kv)
    w.add("llama.attention.layer_norm_rms_epsilon", T_FLOAT32, cfg.norm_eps)
    w.add("llama.rope.freq_base", T_FLOAT32, cfg.rope_base)
    w.add("llama.rope.dimension_count", T_UINT32, cfg.head_dim)
    w.add("llama.vocab_size", T_UINT32, cfg.n_vocab)

    tokens, scores, types = tokenizer_tables(sp)
    if len(tokens) != cfg.n_vocab:
        raise ValueError("tokenizer has %d pieces, model %d" % (len(tokens), cfg.n_vocab))
    w.add("tokenizer.ggml.model", T_STRING, "llama")
    w.add_array("tokenizer.ggml.tokens", T_STRING, tokens)
    w.add_array("tokenizer.ggml.scores", T_FLOAT32, scores)
    w.add_array("tokenizer.ggml.token_type", T_INT32, types)
    w.add("tokenizer.ggml.bos_token_id", T_UINT32, sp.bos_id())
    # Generation ends at <|im_end|>: that is the end of every assistant turn.
    w.add("tokenizer.ggml.eos_token_id", T_UINT32, sp.piece_to_id("<|im_end|>"))
    w.add("tokenizer.ggml.unknown_token_id", T_UINT32, sp.unk_id())
    w.add("tokenizer.ggml.padding_token_id", T_UINT32, sp.pad_id())
    w.add("tokenizer.ggml.add_bos_token", T_BOOL, False)
    w.add("tokenizer.ggml.add_eos_token", T_BOOL, False)
    # Trained with add_dummy_prefix = false: text is tokenised as written.
    w.add("tokenizer.ggml.add_space_prefix", T_BOOL, False)
    w.add("tokenizer.chat_template", T_STRING, chatfmt.CHAT_TEMPLATE)

    with torch.no_grad():
        for tname, t in model.gguf_tensors():
            a = t.detach().float().cpu().numpy().astype("<f4")
            if a.ndim >= 2 and gtype == GGML_F16:
                w.add_tensor(tname, a.astype("<f2"), GGML_F16)
            else:
                w.add_tensor(tname, a, GGML_F32)
    return w


def read_gguf(path):
    """Minimal reader of what GGUFWriter writes, used to verify an export byte by byte:
    returns (metadata dict, {name: np.ndarray in torch shape})."""
    data = open(path, "rb").read()
    pos = [0]

    def take(fmt):
        v = struct.unpack_from("<" + fmt, data, pos[0])
        pos[0] += struct.calcsize("<" + fmt)
        return v[0]

    def string():
        n = take("Q")
        s = data[pos[0]:pos[0] + n].decode("utf-8")
        pos[0] += n
        return s

    def value(t):
        if t == T_STRING:
            return string()
        if t == T_ARRAY:
            et, n = take("I"), take("Q")
            return [value(et) for _ in range(n)]
        if t == T_BOOL:
            return take("B") != 0
        return take({T_UINT8: "B", T_INT8: "b", T_UINT16: "H", T_INT16: "h", T_UINT32: "I",
                     T_INT32: "i", T_FLOAT32: "f", T_UINT64: "Q", T_INT64: "q",
                     T_FLOAT64: "d"}[t])

    if data[:4] != b"GGUF" or struct.unpack_from("<I", data, 4)[0] != 3:
        raise ValueError("not a GGUF v3 file")
    pos[0] = 8
    n_t, n_kv = take("Q"), take("Q")
    meta = {}
    for _ in range(n_kv):
        k = string()
        meta[k] = value(take("I"))
    infos = []
    for _ in range(n_t):
        name = string()
        dims = [take("Q") for _ in range(take("I"))]
        infos.append((name, dims, take("I"), take("Q")))
    align = meta.get("general.alignment", 32)
    base = pos[0] + (-pos[0]) % align
    tensors = {}
    for name, dims, gtype, off in infos:
        n = int(np.prod(dims))
        if gtype == GGML_Q8_0:
            # Blocks of 32 along each row: an f16 scale d, then 32 int8 q; x = d * q.
            blk = np.frombuffer(data, dtype=[("d", "<f2"), ("q", "i1", 32)], count=n // 32,
                                offset=base + off)
            a = (blk["d"].astype(np.float32)[:, None] * blk["q"].astype(np.float32)).reshape(-1)
        else:
            dt = {GGML_F32: "<f4", GGML_F16: "<f2"}[gtype]
            a = np.frombuffer(data, dtype=dt, count=n, offset=base + off)
        tensors[name] = a.reshape(list(reversed(dims)))
    return meta, tensors


def verify(path, model, sp, gtype):
    """Reads the file back and compares every tensor and the key metadata."""
    meta, tensors = read_gguf(path)
    cfg = model.cfg
    assert meta["general.architecture"] == "llama"
    assert meta["llama.block_count"] == cfg.n_layer
    assert meta["llama.attention.head_count_kv"] == cfg.n_head_kv
    assert meta["tokenizer.ggml.tokens"] == [sp.id_to_piece(i) for i in range(sp.get_piece_size())]
    assert meta["tokenizer.chat_template"] == chatfmt.CHAT_TEMPLATE
    names = [n for n, _ in model.gguf_tensors()]
    assert list(tensors) == names
    for n, t in model.gguf_tensors():
        want = t.detach().float().numpy()
        if want.ndim >= 2 and gtype == GGML_F16:
            want = want.astype("<f2")
        got = tensors[n]
        if got.shape != want.shape or not np.array_equal(got, want):
            raise AssertionError("tensor %s differs after read-back" % n)
    return meta


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default=os.path.join(HERE, "out", "ckpt.pt"))
    ap.add_argument("--tokenizer", default=os.path.join(HERE, "tokenizer.model"))
    ap.add_argument("--type", choices=["f32", "f16"], default="f16")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    model, ck = M.load_checkpoint(args.ckpt)
    sp = spm.SentencePieceProcessor(model_file=args.tokenizer)
    w = build(model, sp, GGML_F16 if args.type == "f16" else GGML_F32)
    w.write(args.out)
    verify(args.out, model, sp, GGML_F16 if args.type == "f16" else GGML_F32)
    print("wrote %s: %d tensors, %d keys, %d bytes (checkpoint step %d)"
          % (args.out, len(w.tensors), len(w.kv), os.path.getsize(args.out), ck.get("step", -1)))


if __name__ == "__main__":
    main()
