"""The runner: the only torch import in ``engine.serving``.

It builds a reference model from a ``WorkloadSpec``, stacks request inputs into a batch, runs it
under ``torch.inference_mode`` in the dtype asked for, on CUDA when present (a pinned host
staging buffer per thread, non-blocking copies, optional CUDA graphs for fixed batch sizes,
padded up to the next captured size) and on CPU otherwise (fp32, bf16, fp16, or int8 dynamic
quantization). Batch sizes that a larger size runs faster than can be run padded to it
(``set_padding``).

Thread counts: torch's CPU pools are per OS thread, so ``torch.set_num_threads`` in the main
thread does not reach a worker thread. Entry points that can (``python -m engine.bench``,
``benchmarks/serving.py``) set ``OMP_NUM_THREADS``/``MKL_NUM_THREADS`` before torch is imported
(``engine.serving.threads.pin_threads``) and the serving core calls ``Runner.init_thread`` in each
worker thread as well.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import torch
from torch import nn

from engine.serving.workloads import WorkloadSpec

TORCH_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def resolve_device(device: str = "auto") -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device not in ("cpu", "cuda") and not device.startswith("cuda:"):
        raise ValueError("device must be 'auto', 'cpu' or 'cuda[:N]'")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError("CUDA was asked for but is not available")
    return torch.device(device)


class _Encoder(nn.Module):
    def __init__(self, spec: WorkloadSpec):
        super().__init__()
        self.embed = nn.Embedding(spec.vocab_size, spec.d_model)
        self.position = nn.Parameter(torch.randn(spec.seq_len, spec.d_model) * 0.02)
        layer = nn.TransformerEncoderLayer(
            spec.d_model, spec.heads, spec.ffn_dim, dropout=0.0, activation="gelu",
            batch_first=True, norm_first=True,
        )
        self.encoder = nn.TransformerEncoder(layer, spec.layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(spec.d_model)

    def forward(self, token_ids: torch.Tensor) -> torch.Tensor:
        x = self.embed(token_ids) + self.position[: token_ids.shape[1]]
        return self.norm(self.encoder(x)).mean(dim=1)


def build_model(spec: WorkloadSpec) -> nn.Module:
    """A freshly initialised model for the spec (seeded, fp32, CPU, eval mode)."""
    gen_state = torch.random.get_rng_state()
    torch.manual_seed(spec.seed)
    try:
        if spec.family == "mlp":
            dims = (spec.input_dim, *spec.hidden_dims, spec.output_dim)
            layers: list[nn.Module] = []
            for i, (a, b) in enumerate(zip(dims, dims[1:])):
                layers.append(nn.Linear(a, b))
                if i < len(dims) - 2:
                    layers.append(nn.ReLU())
            model = nn.Sequential(*layers)
        elif spec.family == "transformer":
            model = _Encoder(spec)
        else:
            raise ValueError(f"family {spec.family!r} has no model")
    finally:
        torch.random.set_rng_state(gen_state)
    return model.eval()


def make_inputs(spec: WorkloadSpec, count: int, seed: int = 0) -> list[torch.Tensor]:
    """``count`` distinct per-request inputs (CPU tensors), seeded."""
    gen = torch.Generator().manual_seed(seed)
    if spec.family == "transformer":
        batch = torch.randint(0, spec.vocab_size, (count, spec.seq_len), generator=gen)
    else:
        batch = torch.randn(count, spec.input_dim, generator=gen)
    return list(batch.unbind(0))


class Runner:
    """Executes batches of one workload. ``run(list of per-request tensors) -> list``."""

    def __init__(
        self,
        spec: WorkloadSpec,
        *,
        device: str = "auto",
        threads: int | None = None,
        max_batch_size: int = 256,
        cuda_graph_batch_sizes: Sequence[int] = (),
    ):
        self.spec = spec
        self.device = resolve_device(device)
        self.threads = threads
        self.max_batch_size = max_batch_size
        if threads is not None:
            if threads < 1:
                raise ValueError("threads must be >= 1")
            torch.set_num_threads(threads)
        on_cuda = self.device.type == "cuda"
        if spec.dtype == "int8" and on_cuda:
            raise ValueError("int8 dynamic quantization runs on CPU only")
        if spec.dtype == "fp16" and spec.family == "transformer" and not on_cuda:
            # CPU fp16 attention kernels are missing or very slow in many builds.
            warnings.warn("fp16 transformer on CPU is slow; bf16 is the CPU half type", stacklevel=2)

        model = build_model(spec)
        if spec.dtype == "int8":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                from torch.ao.quantization import quantize_dynamic

                model = quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8)
            self.compute_dtype = torch.float32
        else:
            self.compute_dtype = TORCH_DTYPES[spec.dtype]
            model = model.to(dtype=self.compute_dtype)
        self.model = model.to(self.device)
        self.input_dtype = torch.long if spec.family == "transformer" else self.compute_dtype
        self._on_cuda = on_cuda
        self._local = threading.local()  # the thread's pinned staging buffer (CUDA)
        # Batch sizes run padded to a faster size (``engine.serving.batch_time.padding_plan``,
        # from the offline s(b)); empty: every batch runs as it is.
        self.pad_to: dict[int, int] = {}
        # Warmed up in each worker thread by ``init_thread``.
        self.thread_warmup_sizes = tuple(sorted({min(b, max_batch_size) for b in (1, 8, 32)}))
        self._graphs: dict[int, tuple[torch.cuda.CUDAGraph, torch.Tensor, torch.Tensor]] = {}
        if cuda_graph_batch_sizes:
            if not on_cuda:
                raise ValueError("CUDA graphs need a CUDA device")
            self._capture_graphs(sorted(set(cuda_graph_batch_sizes)))

    # -- execution ---------------------------------------------------------------------------
    def init_thread(self) -> None:
        """Called in each worker thread before its first batch: torch pools are per thread, and
        a fresh thread's first batches run up to twice as slow (measured on the reference MLP
        on CPU: 1.5-2x for the first five batches of a new serving core), so the model is
        warmed up here, in the thread that will run it."""
        if self.threads is not None:
            torch.set_num_threads(self.threads)
        self.warmup(self.thread_warmup_sizes, repeats=1)

    def run(self, inputs: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        """Stack, execute, return one CPU output row per input (views of the batch output).
        A batch size in ``pad_to`` runs padded with copies of its first input."""
        n = len(inputs)
        padded = self.pad_to.get(n)
        if padded is not None:
            inputs = [*inputs, *([inputs[0]] * (padded - n))]
            return list(self.run_stacked(self.collate(inputs)).unbind(0))[:n]
        return list(self.run_stacked(self.collate(inputs)).unbind(0))

    def collate(self, inputs: Sequence[torch.Tensor] | Sequence[np.ndarray]) -> torch.Tensor:
        n = len(inputs)
        if n and isinstance(inputs[0], np.ndarray):  # decoded from the wire (HTTP front)
            return torch.from_numpy(np.stack(inputs))
        if self._on_cuda and n <= self.max_batch_size:
            # One pinned staging buffer per thread: two execution slots share the runner.
            staging = getattr(self._local, "staging", None)
            if staging is None:
                staging = self._local.staging = torch.empty(
                    (self.max_batch_size, *self.spec.input_shape),
                    dtype=torch.long if self.spec.family == "transformer" else torch.float32,
                    pin_memory=True,
                )
            return torch.stack(list(inputs), out=staging[:n])
        return torch.stack(list(inputs))

    @torch.inference_mode()
    def run_stacked(self, batch: torch.Tensor) -> torch.Tensor:
        if self.device.type == "cuda":
            x = batch.to(self.device, non_blocking=True)
            if x.dtype != self.input_dtype:
                x = x.to(self.input_dtype)
            n = x.shape[0]
            graph_size = self._graph_size_for(n)
            if graph_size is not None:
                graph, static_in, static_out = self._graphs[graph_size]
                static_in[:n].copy_(x)
                graph.replay()
                out = static_out[:n]
            else:
                out = self.model(x)
            return out.float().to("cpu")  # synchronises with the stream
        x = batch if batch.dtype == self.input_dtype else batch.to(self.input_dtype)
        out = self.model(x)
        return out if out.dtype == torch.float32 else out.float()

    def set_padding(self, plan: Mapping[int, int]) -> None:
        """Run each batch size ``b`` in ``plan`` as a batch of ``plan[b]`` (> b, <= the maximum);
        an empty plan turns padding off."""
        for b, m in plan.items():
            if not (isinstance(b, int) and isinstance(m, int) and 1 <= b < m <= self.max_batch_size):
                raise ValueError(f"padding {b} -> {m}: sizes must be 1 <= b < m <= max_batch_size")
        self.pad_to = dict(plan)

    def warmup(self, batch_sizes: Sequence[int] = (1, 8), repeats: int = 3) -> None:
        inputs = make_inputs(self.spec, max(batch_sizes), seed=12345)
        for b in batch_sizes:
            for _ in range(repeats):
                self.run(inputs[:b])
        self.synchronize()

    def synchronize(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    # -- CUDA graphs ---------------------------------------------------------------------------
    def _graph_size_for(self, n: int) -> int | None:
        for size in self._graphs:  # ascending
            if size >= n:
                return size
        return None

    @torch.inference_mode()
    def _capture_graphs(self, sizes: list[int]) -> None:
        side = torch.cuda.Stream(self.device)
        side.wait_stream(torch.cuda.current_stream(self.device))
        for size in sizes:
            if size > self.max_batch_size:
                raise ValueError("CUDA graph batch size exceeds max_batch_size")
            static_in = torch.zeros(
                (size, *self.spec.input_shape), dtype=self.input_dtype, device=self.device
            )
            with torch.cuda.stream(side):
                for _ in range(3):  # warm up kernels and allocator before capture
                    self.model(static_in)
            torch.cuda.current_stream(self.device).wait_stream(side)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                static_out = self.model(static_in)
            self._graphs[size] = (graph, static_in, static_out)
        torch.cuda.synchronize(self.device)


def provenance(device: torch.device) -> dict:
    """Hardware and software facts for a result's provenance."""
    info = {
        "torch_version": torch.__version__,
        "cuda_version": torch.version.cuda,
        "device_type": device.type,
        "torch_threads": torch.get_num_threads(),
    }
    if device.type == "cuda":
        info["device_name"] = torch.cuda.get_device_name(device)
        info["cudnn_version"] = torch.backends.cudnn.version()
    else:
        import platform

        info["device_name"] = platform.processor() or platform.machine()
        try:
            with open("/proc/cpuinfo") as f:
                for line in f:
                    if line.startswith("model name"):
                        info["device_name"] = line.split(":", 1)[1].strip()
                        break
        except OSError:
            pass
    return info

