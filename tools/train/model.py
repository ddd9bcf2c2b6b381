"""A llama-architecture decoder in PyTorch, laid out exactly as GGUF arch `llama` expects.

Per block (pre-norm):  h = x + Wo · attn(RoPE(Wq·n), RoPE(Wk·n), Wv·n),  n = RMSNorm(x)·attn_norm
                       y = h + Wdown · (silu(Wgate·m) * (Wup·m)),          m = RMSNorm(h)·ffn_norm
Output: logits = Wout · (RMSNorm(y)·output_norm); Wout is the token embedding (tied), so
the GGUF has no output.weight and readers fall back to token_embd.weight.

Shapes (torch, row-major [out, in]; GGUF dims are the reverse, [in, out], same bytes):
  token_embd  [n_vocab, n_embd]           attn_q   [n_head*hd, n_embd]
  attn_k/v    [n_head_kv*hd, n_embd]      attn_output [n_embd, n_head*hd]
  ffn_gate/up [n_ff, n_embd]              ffn_down [n_embd, n_ff]
  norms       [n_embd]

RMSNorm: x / sqrt(mean(x^2) + eps) * w, eps = cfg.norm_eps (stored in the GGUF as
llama.attention.layer_norm_rms_epsilon).

RoPE, "normal" convention (what llama.cpp uses for arch llama, rope type 0): within
each head of size hd, the ADJACENT pairs (x[2i], x[2i+1]), i = 0 .. hd/2-1, are
rotated by the angle pos * theta_i with theta_i = base^(-2i/hd):
  x'[2i]   = x[2i] cos - x[2i+1] sin
  x'[2i+1] = x[2i] sin + x[2i+1] cos
(Hugging Face's Llama code rotates the halves (x[i], x[i+hd/2]) instead, which is
why converters permute Wq/Wk rows; we train directly in the GGUF convention, so the
weights are written as they are.) base = cfg.rope_base (llama.rope.freq_base),
rope.dimension_count = hd.

Grouped-query attention: query head h uses key/value head h // (n_head / n_head_kv).
"""

import math
from dataclasses import dataclass, asdict

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class Config:
    n_vocab: int = 4096
    n_embd: int = 256
    n_layer: int = 5
    n_head: int = 4
    n_head_kv: int = 2
    n_ff: int = 640
    n_ctx: int = 512
    norm_eps: float = 1e-5
    rope_base: float = 10000.0

    @property
    def head_dim(self):
        return self.n_embd // self.n_head

    def to_dict(self):
        return asdict(self)


class RMSNorm(nn.Module):
    def __init__(self, n, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(n))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_tables(cfg, n_pos, device=None):
    """cos/sin tables [n_pos, hd/2] for theta_i = base^(-2i/hd)."""
    hd = cfg.head_dim
    i = torch.arange(0, hd // 2, dtype=torch.float64)
    theta = cfg.rope_base ** (-2.0 * i / hd)
    ang = torch.arange(n_pos, dtype=torch.float64)[:, None] * theta[None, :]
    return torch.cos(ang).float().to(device), torch.sin(ang).float().to(device)


def apply_rope(x, cos, sin):
    """x [B, H, T, hd]; cos/sin [T, hd/2]. Rotates adjacent pairs (2i, 2i+1)."""
    x0 = x[..., 0::2]
    x1 = x[..., 1::2]
    r0 = x0 * cos - x1 * sin
    r1 = x0 * sin + x1 * cos
    return torch.stack((r0, r1), dim=-1).flatten(-2)


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        hd = cfg.head_dim
        self.attn_norm = RMSNorm(cfg.n_embd, cfg.norm_eps)
        self.attn_q = nn.Linear(cfg.n_embd, cfg.n_head * hd, bias=False)
        self.attn_k = nn.Linear(cfg.n_embd, cfg.n_head_kv * hd, bias=False)
        self.attn_v = nn.Linear(cfg.n_embd, cfg.n_head_kv * hd, bias=False)
        self.attn_output = nn.Linear(cfg.n_head * hd, cfg.n_embd, bias=False)
        self.ffn_norm = RMSNorm(cfg.n_embd, cfg.norm_eps)
        self.ffn_gate = nn.Linear(cfg.n_embd, cfg.n_ff, bias=False)
        self.ffn_up = nn.Linear(cfg.n_embd, cfg.n_ff, bias=False)
        self.ffn_down = nn.Linear(cfg.n_ff, cfg.n_embd, bias=False)

    _masks = {}

    @classmethod
    def mask(cls, T, S, t0, device):
        """Additive causal mask [T, S]: query i (absolute position t0+i) sees keys 0..t0+i."""
        key = (T, S, t0, str(device))
        m = cls._masks.get(key)
        if m is None:
            keep = torch.ones(T, S, dtype=torch.bool, device=device).tril(diagonal=t0)
            m = torch.zeros(T, S, device=device).masked_fill(~keep, float("-inf"))
            if len(cls._masks) > 64:
                cls._masks.clear()
            cls._masks[key] = m
        return m

    def forward(self, x, cos, sin, cache=None):
        """x [B, T, E]. cache: None, or a dict with "k"/"v" [B, Hkv, T0, hd] (extended in place)."""
        cfg = self.cfg
        B, T, _ = x.shape
        hd = cfg.head_dim
        n = self.attn_norm(x)
        q = self.attn_q(n).view(B, T, cfg.n_head, hd).transpose(1, 2)
        k = self.attn_k(n).view(B, T, cfg.n_head_kv, hd).transpose(1, 2)
        v = self.attn_v(n).view(B, T, cfg.n_head_kv, hd).transpose(1, 2)
        q = apply_rope(q, cos, sin)
        k = apply_rope(k, cos, sin)
        t0 = 0
        if cache is not None:
            if "k" in cache:
                t0 = cache["k"].shape[2]
                k = torch.cat((cache["k"], k), dim=2)
                v = torch.cat((cache["v"], v), dim=2)
            cache["k"], cache["v"] = k, v
        # GQA without copying k/v: view the query heads as [B, Hkv, rep*T, hd] (the rep query
        # heads that share one kv head, stacked along time), so one matmul per kv head does them all.
        rep = cfg.n_head // cfg.n_head_kv
        S = k.shape[2]
        qg = q.reshape(B, cfg.n_head_kv, rep * T, hd)
        att = torch.matmul(qg, k.transpose(-2, -1)).view(B, cfg.n_head_kv, rep, T, S)
        att = att * (1.0 / math.sqrt(hd)) + self.mask(T, S, t0, x.device)
        att = F.softmax(att, dim=-1).view(B, cfg.n_head_kv, rep * T, S)
        o = torch.matmul(att, v).view(B, cfg.n_head, T, hd)
        o = o.transpose(1, 2).reshape(B, T, cfg.n_head * hd)
        h = x + self.attn_output(o)
        m = self.ffn_norm(h)
        return h + self.ffn_down(F.silu(self.ffn_gate(m)) * self.ffn_up(m))


class Llama(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.token_embd = nn.Embedding(cfg.n_vocab, cfg.n_embd)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.output_norm = RMSNorm(cfg.n_embd, cfg.norm_eps)
        cos, sin = rope_tables(cfg, cfg.n_ctx)
        self.register_buffer("rope_cos", cos, persistent=False)
        self.register_buffer("rope_sin", sin, persistent=False)
        self.apply(self._init)
        # Scaled init of the residual projections (GPT-2 style) for stable early training.
        for b in self.blocks:
            nn.init.normal_(b.attn_output.weight, std=0.02 / math.sqrt(2 * cfg.n_layer))
            nn.init.normal_(b.ffn_down.weight, std=0.02 / math.sqrt(2 * cfg.n_layer))

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)

    def forward(self, tokens, caches=None):
        """tokens [B, T] -> logits [B, T, V]. caches: list of per-layer dicts for decoding."""
        t0 = 0
        if caches is not None and "k" in caches[0]:
            t0 = caches[0]["k"].shape[2]
        T = tokens.shape[1]
        if t0 + T > self.rope_cos.shape[0]:
            cos, sin = rope_tables(self.cfg, t0 + T, tokens.device)
        else:
            cos, sin = self.rope_cos, self.rope_sin
        cos, sin = cos[t0:t0 + T], sin[t0:t0 + T]
        x = self.token_embd(tokens)
        for i, b in enumerate(self.blocks):
            x = b(x, cos, sin, None if caches is None else caches[i])
        x = self.output_norm(x)
        return F.linear(x, self.token_embd.weight)

    def gguf_tensors(self):
        """(name, torch tensor) in GGUF naming, in the order llama.cpp's converter writes them."""
        out = [("token_embd.weight", self.token_embd.weight)]
        for i, b in enumerate(self.blocks):
            p = "blk.%d." % i
            out += [(p + "attn_norm.weight", b.attn_norm.weight),
                    (p + "attn_q.weight", b.attn_q.weight),
                    (p + "attn_k.weight", b.attn_k.weight),
                    (p + "attn_v.weight", b.attn_v.weight),
                    (p + "attn_output.weight", b.attn_output.weight),
                    (p + "ffn_norm.weight", b.ffn_norm.weight),
                    (p + "ffn_gate.weight", b.ffn_gate.weight),
                    (p + "ffn_up.weight", b.ffn_up.weight),
                    (p + "ffn_down.weight", b.ffn_down.weight)]
        out.append(("output_norm.weight", self.output_norm.weight))
        return out


def load_checkpoint(path):
    ck = torch.load(path, map_location="cpu")
    cfg = Config(**ck["config"])
    m = Llama(cfg)
    m.load_state_dict(ck["model"])
    m.eval()
    return m, ck


def n_params(m):
    return sum(p.numel() for p in m.parameters())
