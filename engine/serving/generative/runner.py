"""The generative runner: the Llama-layout decoder and paged attention (the torch part).

``DecoderModel`` is a decoder-only transformer in the Llama layout: RMSNorm before attention and
MLP, rotary positions (the rotate-half form), grouped-query attention with ``kv_heads`` K/V
heads, a SwiGLU MLP, an untied ``lm_head``, no biases. Its parameter names are Hugging Face's
``LlamaForCausalLM`` names without the ``model.`` prefix, and RMSNorm and the rotary tables are
computed in fp32 as HF computes them, so the same weights give the same tokens there
(``tests/engine/test_generative_hf.py``). Weights are seeded random; nothing is downloaded.

Two ways to run it:

- ``forward_paged``: a step's tokens of many sequences, flattened; new K/V are written into a
  paged pool ``[layers, 2, num_blocks, block_size, kv_heads, head_dim]`` at their slots
  (``block_table[pos // block_size] * block_size + pos % block_size``), and each chunk attends
  over its context gathered through its block table (``index_select`` of whole blocks into a
  dense, padded K/V, then ``scaled_dot_product_attention`` with a causal mask over each chunk's
  positions). Plain PyTorch, so it runs on CPU and CUDA alike. Single-token (decode) chunks
  and longer (prefill) chunks are padded in separate groups, so one long prefill does not pad
  every decode to its length.
- ``forward_dense``: a ``[batch, n]`` block of tokens over a dense per-row cache
  (``DenseKVCache``), for the static-batching baseline and a bare decode loop.

``GenerativeRunner`` owns a model and a pool and executes a scheduler's ``StepPlan`` with
greedy sampling.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Mapping
from itertools import chain

import torch
import torch.nn.functional as F
from torch import nn

from engine.serving.generative.config import DecoderShape
from engine.serving.generative.scheduler import ScheduledChunk, StepPlan
from engine.serving.runner import resolve_device

# fp64 is for correctness checks.
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16, "fp64": torch.float64}


def _long_tensor(values: Iterable[int], device) -> torch.Tensor:
    """A 1-D int64 tensor from Python ints (through ``array``: several times faster than
    ``torch.tensor`` on a list, which matters once per step for every sequence)."""
    buf = array("q", values)
    if not buf:
        return torch.empty(0, dtype=torch.long, device=device)
    return torch.frombuffer(buf, dtype=torch.long).to(device)


def _torch_dtype(dtype: str) -> torch.dtype:
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {tuple(DTYPES)}, not {dtype!r}")
    return DTYPES[dtype]


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dtype = x.dtype
        x = x.to(torch.float32)
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * x.to(dtype)


class _Attention(nn.Module):
    def __init__(self, s: DecoderShape):
        super().__init__()
        self.q_proj = nn.Linear(s.d_model, s.heads * s.head_dim, bias=False)
        self.k_proj = nn.Linear(s.d_model, s.kv_heads * s.head_dim, bias=False)
        self.v_proj = nn.Linear(s.d_model, s.kv_heads * s.head_dim, bias=False)
        self.o_proj = nn.Linear(s.heads * s.head_dim, s.d_model, bias=False)


class _MLP(nn.Module):
    def __init__(self, s: DecoderShape):
        super().__init__()
        self.gate_proj = nn.Linear(s.d_model, s.ffn_dim, bias=False)
        self.up_proj = nn.Linear(s.d_model, s.ffn_dim, bias=False)
        self.down_proj = nn.Linear(s.ffn_dim, s.d_model, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class _Layer(nn.Module):
    def __init__(self, s: DecoderShape):
        super().__init__()
        self.input_layernorm = RMSNorm(s.d_model, s.rms_eps)
        self.self_attn = _Attention(s)
        self.post_attention_layernorm = RMSNorm(s.d_model, s.rms_eps)
        self.mlp = _MLP(s)


def _rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    rotated = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
    return x * cos + rotated * sin


# attend(layer index, q [..., heads, head_dim], k, v [..., kv_heads, head_dim]) -> [..., heads * head_dim]
Attend = Callable[[int, torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


class DecoderModel(nn.Module):
    """The Llama-layout decoder; ``seed`` fixes the weights (normal, std ``init_std``; norms 1)."""

    def __init__(self, shape: DecoderShape, *, seed: int = 0, init_std: float = 0.02):
        super().__init__()
        self.shape = shape
        rng = torch.random.get_rng_state()
        torch.manual_seed(seed)
        try:
            self.embed_tokens = nn.Embedding(shape.vocab_size, shape.d_model)
            self.layers = nn.ModuleList(_Layer(shape) for _ in range(shape.layers))
            self.norm = RMSNorm(shape.d_model, shape.rms_eps)
            self.lm_head = nn.Linear(shape.d_model, shape.vocab_size, bias=False)
            for name, p in self.named_parameters():
                if not name.endswith("norm.weight"):
                    nn.init.normal_(p, std=init_std)
        finally:
            torch.random.set_rng_state(rng)
        hd = shape.head_dim
        # Not a buffer: .to(dtype) would cast it, and HF keeps the rotary tables in fp32.
        self._inv_freq = {
            "cpu": 1.0 / (shape.rope_theta ** (torch.arange(0, hd, 2, dtype=torch.float) / hd))
        }
        self.eval()

    def rotary(self, positions: torch.Tensor, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
        """cos, sin ``[*positions.shape, 1, head_dim]`` (broadcast over heads), from fp32."""
        key = str(positions.device)
        inv_freq = self._inv_freq.get(key)
        if inv_freq is None:
            inv_freq = self._inv_freq[key] = self._inv_freq["cpu"].to(positions.device)
        freqs = positions[..., None].float() * inv_freq
        emb = torch.cat((freqs, freqs), dim=-1)[..., None, :]
        return emb.cos().to(dtype), emb.sin().to(dtype)

    def _forward(self, token_ids: torch.Tensor, positions: torch.Tensor, attend: Attend) -> torch.Tensor:
        s = self.shape
        x = self.embed_tokens(token_ids)
        cos, sin = self.rotary(positions, x.dtype)
        lead = token_ids.shape
        for i, layer in enumerate(self.layers):
            a = layer.self_attn
            h = layer.input_layernorm(x)
            q = _rotate(a.q_proj(h).view(*lead, s.heads, s.head_dim), cos, sin)
            k = _rotate(a.k_proj(h).view(*lead, s.kv_heads, s.head_dim), cos, sin)
            v = a.v_proj(h).view(*lead, s.kv_heads, s.head_dim)
            x = x + a.o_proj(attend(i, q, k, v))
            x = x + layer.mlp(layer.post_attention_layernorm(x))
        return self.norm(x)

    def forward_paged(
        self,
        token_ids: torch.Tensor,
        positions: torch.Tensor,
        kv_pool: torch.Tensor,
        slot_mapping: torch.Tensor,
        groups: list[PagedGroup],
    ) -> torch.Tensor:
        """Hidden states ``[T, d_model]`` of a flat step of ``T`` tokens (see the module)."""
        s = self.shape
        total = token_ids.shape[0]

        def attend(i: int, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
            kv_pool[i, 0].view(-1, s.kv_heads, s.head_dim).index_copy_(0, slot_mapping, k)
            kv_pool[i, 1].view(-1, s.kv_heads, s.head_dim).index_copy_(0, slot_mapping, v)
            if groups[0].in_step_order:
                return groups[0].attend(q, kv_pool[i])
            out = q.new_empty(total, s.heads * s.head_dim)
            for g in groups:
                out[g.query_out] = g.attend(q, kv_pool[i])
            return out

        return self._forward(token_ids, positions, attend)

    def forward_dense(
        self,
        token_ids: torch.Tensor,
        positions: torch.Tensor,
        cache: DenseKVCache,
        key_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Hidden states ``[B, n, d_model]`` of tokens ``[B, n]`` written at cache positions
        ``cache.length .. cache.length + n - 1`` (then ``cache.length`` advances by ``n``).
        ``positions``: rotary positions ``[B, n]``; ``key_mask``: ``[B, >= length + n]`` bool,
        False for cache slots no query may see (left padding), None for none."""
        b, n = token_ids.shape
        start, end = cache.length, cache.length + n
        if end > cache.max_len:
            raise ValueError("the dense cache is full")
        allowed = None
        if key_mask is not None or (n > 1 and start > 0):
            query_pos = torch.arange(start, end, device=token_ids.device)
            key_pos = torch.arange(end, device=token_ids.device)
            allowed = (key_pos[None, :] <= query_pos[:, None])[None, None]  # [1, 1, n, end]
            if key_mask is not None:
                # A padding query sees itself, so no softmax row is empty (an empty row is
                # NaN, and NaN K/V in a masked slot would still poison 0 x NaN).
                own = (key_pos[None, :] == query_pos[:, None])[None, None]
                allowed = allowed & (key_mask[:, None, None, :end] | own)

        def attend(i: int, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
            cache.k[i, :, :, start:end] = k.transpose(1, 2)
            cache.v[i, :, :, start:end] = v.transpose(1, 2)
            out = F.scaled_dot_product_attention(
                q.transpose(1, 2), cache.k[i, :, :, :end], cache.v[i, :, :, :end],
                attn_mask=allowed, is_causal=allowed is None and n > 1, enable_gqa=True,
            )
            return out.transpose(1, 2).reshape(b, n, -1)

        hidden = self._forward(token_ids, positions, attend)
        cache.length = end
        return hidden


class DenseKVCache:
    """Per-row K/V ``[layers, batch, kv_heads, max_len, head_dim]`` filled from position 0
    (the layout attention reads without a copy)."""

    def __init__(self, shape: DecoderShape, batch_size: int, max_len: int, *, device, dtype: torch.dtype):
        size = (shape.layers, batch_size, shape.kv_heads, max_len, shape.head_dim)
        self.k = torch.zeros(size, device=device, dtype=dtype)
        self.v = torch.zeros(size, device=device, dtype=dtype)
        self.max_len = max_len
        self.length = 0


class PagedGroup:
    """Chunks padded together for one attention call: queries ``[B, n_max]`` gathered from the
    step's flat tokens, K/V ``[B, blocks_max * block_size]`` gathered through block tables."""

    def __init__(
        self, chunks: list[tuple[int, ScheduledChunk, tuple[int, ...]]], block_size: int, step_tokens: int, device
    ):
        # chunks: (offset of the chunk's first token in the flat step, chunk, block table)
        offsets, starts, counts, tables = [], [], [], []
        for offset, c, _ in chunks:
            offsets.append(offset)
            starts.append(c.start_pos)
            counts.append(c.num_tokens)
        n_max = max(counts)
        used = [-(-(start + n) // block_size) for start, n in zip(starts, counts)]
        blocks_max = max(used)
        for (_, _, table), nb in zip(chunks, used):
            tables.append(table[:nb] + (table[0],) * (blocks_max - nb))
        self.batch = len(chunks)
        self.n_max = n_max
        # The whole step, one token per chunk, in step order (a decode-only step): queries and
        # outputs are views of the step's flat tensors, no gather or scatter.
        self.in_step_order = n_max == 1 and len(chunks) == step_tokens and offsets == list(range(len(chunks)))
        j = torch.arange(n_max)
        offsets_t = _long_tensor(offsets, "cpu")[:, None]
        starts_t = _long_tensor(starts, "cpu")[:, None]
        valid = j[None, :] < _long_tensor(counts, "cpu")[:, None]
        self.valid = valid.to(device)
        self.query_index = torch.where(valid, offsets_t + j, offsets_t).to(device)
        self.query_out = self.query_index[self.valid]
        self.block_index = _long_tensor(chain.from_iterable(tables), device)
        # A padded query sees key 0 only (no empty softmax row); its output is dropped.
        pos = torch.where(valid, starts_t + j, 0)
        key_pos = torch.arange(blocks_max * block_size)
        self.mask = (key_pos[None, None, :] <= pos[:, :, None])[:, None].to(device)  # [B, 1, n_max, L]

    def attend(self, q_flat: torch.Tensor, kv_blocks: torch.Tensor) -> torch.Tensor:
        """Outputs ``[valid queries, heads * head_dim]`` in ``query_out`` order; ``kv_blocks``:
        one layer's pool ``[2, num_blocks, block_size, kv_heads, head_dim]``."""
        b = self.batch
        if self.in_step_order:
            q = q_flat.view(b, 1, *q_flat.shape[1:]).transpose(1, 2)
        else:
            q = q_flat[self.query_index].transpose(1, 2)  # [B, heads, n_max, head_dim]
        kv_heads, head_dim = kv_blocks.shape[-2:]
        # K and V of every block in one gather: [2, B, blocks_max * block_size, kv_heads, head_dim].
        kv = kv_blocks.index_select(1, self.block_index).view(2, b, -1, kv_heads, head_dim)
        out = F.scaled_dot_product_attention(
            q, kv[0].transpose(1, 2), kv[1].transpose(1, 2), attn_mask=self.mask, enable_gqa=True
        )
        out = out.transpose(1, 2).reshape(b, self.n_max, -1)
        return out.view(b, -1) if self.in_step_order else out[self.valid]


def kv_blocks_for_budget(shape: DecoderShape, *, memory_budget_bytes: int, block_size: int, dtype: str) -> int:
    """How many KV blocks of ``block_size`` tokens fit ``memory_budget_bytes``."""
    if not isinstance(memory_budget_bytes, int) or memory_budget_bytes < 0:
        raise ValueError("memory_budget_bytes must be an integer >= 0")
    if not isinstance(block_size, int) or block_size < 1:
        raise ValueError("block_size must be an integer >= 1")
    per_block = block_size * shape.kv_bytes_per_token(_torch_dtype(dtype).itemsize)
    return memory_budget_bytes // per_block


class GenerativeRunner:
    """A ``DecoderModel`` and its paged KV pool; ``execute(plan)`` runs one scheduler step.

    The pool has ``num_blocks`` blocks; None sizes it from memory: ``kv_memory_bytes`` if
    given, else on CUDA the free memory after the weights are loaded x
    ``gpu_memory_utilisation`` (the rest is left for activations and the attention gathers).
    On CPU, without a CUDA device to measure, ``num_blocks`` or ``kv_memory_bytes`` is needed.
    """

    def __init__(
        self,
        shape: DecoderShape,
        *,
        num_blocks: int | None,
        block_size: int,
        device: str = "auto",
        dtype: str = "fp32",
        seed: int = 0,
        kv_memory_bytes: int | None = None,
        gpu_memory_utilisation: float = 0.9,
        init_std: float = 0.02,
    ):
        if not isinstance(block_size, int) or block_size < 1:
            raise ValueError("block_size must be an integer >= 1")
        if not 0.0 < gpu_memory_utilisation <= 1.0:
            raise ValueError("gpu_memory_utilisation must be in (0, 1]")
        self.shape = shape
        self.block_size = block_size
        self.dtype = dtype
        self.torch_dtype = _torch_dtype(dtype)
        self.device = resolve_device(device)
        self.model = DecoderModel(shape, seed=seed, init_std=init_std).to(
            device=self.device, dtype=self.torch_dtype
        )
        if num_blocks is None:
            if kv_memory_bytes is None:
                if self.device.type != "cuda":
                    raise ValueError("give num_blocks or kv_memory_bytes (no CUDA memory to size from)")
                free_bytes, _ = torch.cuda.mem_get_info(self.device)
                kv_memory_bytes = int(free_bytes * gpu_memory_utilisation)
            num_blocks = kv_blocks_for_budget(
                shape, memory_budget_bytes=kv_memory_bytes, block_size=block_size, dtype=dtype
            )
        if not isinstance(num_blocks, int) or num_blocks < 1:
            raise ValueError("the KV pool must hold at least one block")
        self.num_blocks = num_blocks
        self.kv_pool = torch.zeros(
            (shape.layers, 2, num_blocks, block_size, shape.kv_heads, shape.head_dim),
            device=self.device, dtype=self.torch_dtype,
        )

    @property
    def kv_pool_bytes(self) -> int:
        return self.kv_pool.numel() * self.kv_pool.element_size()

    def synchronize(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    @torch.inference_mode()
    def execute(self, plan: StepPlan) -> dict:
        """Run the plan's chunks in one forward pass; the greedy next token of each chunk
        that emits one, by request id."""
        if plan.block_size != self.block_size:
            raise ValueError("the plan's block size is not the pool's")
        bs = self.block_size
        token_ids: list[int] = []
        positions: list[int] = []
        slots: list[int] = []
        decode, prefill, last = [], [], []
        for c in plan.chunks:
            table = plan.block_tables[c.seq.request_id]
            offset = len(token_ids)
            token_ids += c.token_ids
            span = range(c.start_pos, c.start_pos + c.num_tokens)
            positions += span
            slots += [table[p // bs] * bs + p % bs for p in span]
            (decode if c.num_tokens == 1 else prefill).append((offset, c, table))
            if c.emits_token:
                last.append((c.seq.request_id, offset + c.num_tokens - 1))
        dev = self.device
        groups = [PagedGroup(g, bs, len(token_ids), dev) for g in (decode, prefill) if g]
        hidden = self.model.forward_paged(
            _long_tensor(token_ids, dev), _long_tensor(positions, dev), self.kv_pool,
            _long_tensor(slots, dev), groups,
        )
        if not last:
            return {}
        rows = _long_tensor([i for _, i in last], dev)
        next_tokens = self.model.lm_head(hidden[rows]).argmax(dim=-1).tolist()
        return {rid: tok for (rid, _), tok in zip(last, next_tokens)}


def hf_state_dict(model: DecoderModel) -> Mapping[str, torch.Tensor]:
    """The weights under ``transformers.LlamaForCausalLM``'s names."""
    return {
        (k if k.startswith("lm_head.") else f"model.{k}"): v
        for k, v in model.state_dict().items()
    }
