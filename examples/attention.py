"""Attention scores, bqd,bkd->bqk: a tiny torch attention head, its einsum captured and drawn.

Attention asks, for every token, how well its query matches every token's key. Each score is
a dot product over d: multiply a query and a key element by element and add up. The einsum
says it in one line; einviz.capture() records that line while the model runs, operands
included, so the figure shows the very numbers the model used. Needs torch.

    python examples/attention.py             # figures in examples/out/attention/
    python examples/attention.py --out DIR
"""

from __future__ import annotations

import math
import sys

from _common import output_folder, save

import einviz

out = output_folder(__file__, __doc__)

try:
    import torch
except ImportError:
    print("attention.py needs torch, which is not installed: skipped (pip install torch).")
    sys.exit(0)


class AttentionHead(torch.nn.Module):
    """One attention head, only as far as the attention weights."""

    def __init__(self, d_model: int, d_head: int) -> None:
        super().__init__()
        self.query = torch.nn.Linear(d_model, d_head, bias=False)
        self.key = torch.nn.Linear(d_model, d_head, bias=False)
        self.d_head = d_head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k = self.query(x), self.key(x)
        scores = torch.einsum("bqd,bkd->bqk", q, k) / math.sqrt(self.d_head)
        return scores.softmax(dim=-1)


torch.manual_seed(0)
head = AttentionHead(d_model=4, d_head=2)
tokens = torch.randn(1, 3, 4)  # one sentence (b) of three tokens, four features each

with einviz.capture() as calls:
    weights = head(tokens)

print("Attention scores: torch.einsum('bqd,bkd->bqk', q, k) / sqrt(d)")
print("q and k index the tokens (queries and keys) and stay; d is shared and dropped, so each")
print("score is one query dotted with one key. softmax then turns each row into weights.")
print()
print(f"captured {len(calls)} einsum call(s) while the head ran:")
for line in calls.summary_lines():
    print(line)
print()
call = calls[0]
Q, K = call.operands  # NumPy copies of the tensors, taken just before the call
print(f"  {call.function}({call.subscripts!r}) on {call.describe()}")
print("  each row of the weights adds up to 1:", weights[0].sum(dim=-1).round(decimals=4).tolist())
print()

save(einviz.animate(call.subscripts, Q, K, names=["Q", "K"]), out, "attention")
calls.report(out / "report.html", title="einviz: a tiny attention head")
print(f"  wrote {out / 'report.html'}")
