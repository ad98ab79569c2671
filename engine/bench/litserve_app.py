"""The LitServe peer for the HTTP comparison: same model, same request contract, same batch
settings as ``engine.serving.http``. Run: ``python -m engine.bench.litserve_app --port 8001``."""

from __future__ import annotations

import argparse
import sys

import litserve as ls

from engine.serving.http import decode_document, output_document
from engine.serving.workloads import WorkloadSpec, bert_base, reference_mlp


class ReferenceAPI(ls.LitAPI):
    """Module level (not nested): LitServe spawns its worker and pickles the API object."""

    def __init__(self, spec: WorkloadSpec, threads: int, **kwargs):
        super().__init__(**kwargs)
        self.workload = spec
        self.threads = threads

    def setup(self, device):
        from engine.serving.runner import Runner

        self.runner = Runner(
            self.workload, device="cuda" if "cuda" in str(device) else "cpu", threads=self.threads,
            max_batch_size=self.max_batch_size,
        )
        self.runner.warmup((1, min(8, self.max_batch_size), self.max_batch_size))
        import gc

        gc.collect()
        gc.freeze()  # as our front does after start-up: the comparison stays like for like

    def decode_request(self, request):  # LitServe passes the parsed JSON body
        return decode_document(request, self.workload)

    def batch(self, inputs):
        return list(inputs)

    def predict(self, x):
        return self.runner.run(x)

    def unbatch(self, output):
        return list(output)

    def encode_response(self, output):
        return output_document(output)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m engine.bench.litserve_app")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8001)
    p.add_argument("--workload", default="reference-mlp", choices=("reference-mlp", "bert-base"))
    p.add_argument("--dtype", default="fp32")
    p.add_argument("--threads", type=int)
    p.add_argument("--max-batch-size", type=int, default=64)
    p.add_argument("--max-queue-delay-ms", type=float, default=1.0)
    args = p.parse_args(argv)

    from engine.serving.threads import pin_threads

    threads = pin_threads(args.threads)  # the env is inherited by LitServe's worker process
    spec = reference_mlp(args.dtype) if args.workload == "reference-mlp" else bert_base(args.dtype)
    api = ReferenceAPI(
        spec, threads, max_batch_size=args.max_batch_size,
        batch_timeout=args.max_queue_delay_ms / 1000.0,
    )
    server = ls.LitServer(api, accelerator="auto", devices=1, workers_per_device=1, timeout=60)
    server.run(host=args.host, port=args.port, num_api_servers=1, generate_client_file=False,
               log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
