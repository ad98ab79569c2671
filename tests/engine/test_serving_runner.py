"""The runner on CPU: shapes, dtypes, int8, the reference workloads and their sizing."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from engine.serving.runner import Runner, build_model, make_inputs, resolve_device
from engine.serving.workloads import WorkloadSpec, bert_base, from_description, reference_mlp

TINY_MLP = WorkloadSpec(family="mlp", input_dim=16, hidden_dims=(32, 32), output_dim=8)
TINY_ENCODER = WorkloadSpec(
    family="transformer", layers=2, d_model=32, heads=4, ffn_dim=64, seq_len=12, vocab_size=100
)


@pytest.mark.parametrize("dtype", ["fp32", "bf16", "fp16", "int8"])
def test_it_returns_one_float32_output_row_per_input_in_every_dtype(dtype):
    spec = WorkloadSpec(family="mlp", input_dim=16, hidden_dims=(32,), output_dim=8, dtype=dtype)
    runner = Runner(spec, device="cpu", threads=1)
    outputs = runner.run(make_inputs(spec, 5))
    assert len(outputs) == 5
    assert all(o.shape == (8,) and o.dtype == torch.float32 for o in outputs)
    assert all(torch.isfinite(o).all() for o in outputs)


def test_int8_uses_dynamic_quantization_and_stays_close_to_fp32():
    fp32 = Runner(TINY_MLP, device="cpu")
    int8 = Runner(replace(TINY_MLP, dtype="int8"), device="cpu")
    assert "DynamicQuantizedLinear" in repr(int8.model)
    x = make_inputs(TINY_MLP, 4)
    a = torch.stack(fp32.run(x))
    b = torch.stack(int8.run(x))
    assert torch.allclose(a, b, atol=0.1)


def test_batched_results_match_one_at_a_time():
    runner = Runner(TINY_MLP, device="cpu")
    x = make_inputs(TINY_MLP, 6)
    together = torch.stack(runner.run(x))
    alone = torch.stack([runner.run([xi])[0] for xi in x])
    assert torch.allclose(together, alone, atol=1e-5)


def test_the_transformer_encoder_takes_token_ids_and_returns_d_model_features():
    runner = Runner(TINY_ENCODER, device="cpu")
    x = make_inputs(TINY_ENCODER, 3)
    assert x[0].dtype == torch.long and x[0].shape == (12,)
    out = runner.run(x)
    assert len(out) == 3 and out[0].shape == (32,)


def test_bf16_transformer_runs_on_cpu():
    spec = replace(TINY_ENCODER, dtype="bf16")
    out = Runner(spec, device="cpu").run(make_inputs(spec, 2))
    assert out[0].dtype == torch.float32 and torch.isfinite(out[0]).all()


def test_numpy_inputs_from_the_wire_are_accepted():
    runner = Runner(TINY_MLP, device="cpu")
    arrays = [np.ones(16, dtype=np.float32), np.zeros(16, dtype=np.float32)]
    assert len(runner.run(arrays)) == 2


def test_models_are_seeded_and_inputs_are_reproducible():
    a = build_model(TINY_MLP)
    b = build_model(TINY_MLP)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert torch.equal(make_inputs(TINY_MLP, 2, seed=3)[1], make_inputs(TINY_MLP, 2, seed=3)[1])
    other = build_model(replace(TINY_MLP, seed=1))
    assert not torch.equal(next(a.parameters()), next(other.parameters()))


def test_param_count_matches_the_built_model():
    for spec in (TINY_MLP, TINY_ENCODER, reference_mlp()):
        model = build_model(spec)
        assert sum(p.numel() for p in model.parameters()) == spec.param_count


def test_reference_shapes():
    assert reference_mlp().param_count == 512 * 2048 + 2048 + 2 * (2048 * 2048 + 2048) + 2048 * 512 + 512
    assert 105e6 < bert_base().param_count < 115e6


def test_a_model_description_is_approximated_by_parameter_count():
    bert = from_description(params=110_000_000, family="transformer", seq_len=128)
    assert (bert.layers, bert.d_model, bert.heads, bert.ffn_dim) == (12, 768, 12, 3072)
    mlp = from_description(params=10_000_000, family="mlp", depth=3)
    assert abs(mlp.param_count - 10_000_000) / 10_000_000 < 0.01
    small = from_description(params=5_000_000, family="transformer", dtype="bf16", seq_len=64)
    assert small.dtype == "bf16" and small.seq_len == 64 and small.layers >= 1


@pytest.mark.parametrize(
    "kwargs",
    [{"family": "cnn"}, {"dtype": "fp8"}, {"input_dim": 0}, {"d_model": 30, "heads": 4}, {"hidden_dims": (0,)}],
)
def test_bad_workloads_raise_value_error(kwargs):
    with pytest.raises(ValueError):
        WorkloadSpec(**kwargs)


def test_int8_on_cuda_and_cuda_graphs_on_cpu_are_refused():
    with pytest.raises(ValueError):
        Runner(TINY_MLP, device="cpu", cuda_graph_batch_sizes=(4,))
    if not torch.cuda.is_available():
        with pytest.raises(ValueError):
            resolve_device("cuda")


def test_init_thread_warms_the_model_up_in_the_calling_thread_at_sizes_within_the_maximum():
    import threading

    runner = Runner(TINY_MLP, device="cpu", threads=1, max_batch_size=4)
    assert runner.thread_warmup_sizes == (1, 4)
    ran = []
    plain_run = runner.run
    runner.run = lambda inputs: ran.append((threading.current_thread().name, len(inputs))) or plain_run(inputs)
    worker = threading.Thread(target=runner.init_thread, name="slot")
    worker.start()
    worker.join(30)
    assert ran == [("slot", 1), ("slot", 4)]
    assert Runner(TINY_MLP, device="cpu").thread_warmup_sizes == (1, 8, 32)


def test_a_padded_batch_size_runs_as_the_larger_batch_and_returns_only_its_own_rows():
    runner = Runner(TINY_MLP, device="cpu", max_batch_size=8)
    x = make_inputs(TINY_MLP, 5)
    expected = runner.run(x)
    runner.set_padding({5: 8})
    shapes = []
    plain = runner.run_stacked
    runner.run_stacked = lambda batch: shapes.append(tuple(batch.shape)) or plain(batch)
    out = runner.run(x)
    assert shapes == [(8, 16)]
    assert len(out) == 5 and all(torch.allclose(a, b, atol=1e-6) for a, b in zip(out, expected))
    runner.run(x[:4])  # not in the plan: as it is
    assert shapes[-1] == (4, 16)
    runner.set_padding({})
    runner.run(x)
    assert shapes[-1] == (5, 16)


@pytest.mark.parametrize("plan", [{5: 5}, {5: 4}, {0: 2}, {5: 9}])
def test_a_padding_outside_one_to_the_maximum_batch_size_is_refused(plan):
    runner = Runner(TINY_MLP, device="cpu", max_batch_size=8)
    with pytest.raises(ValueError):
        runner.set_padding(plan)
    assert runner.pad_to == {}
