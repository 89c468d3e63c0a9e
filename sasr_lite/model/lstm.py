"""A one-layer LSTM's final state over packed sequences, with the weight gradients taken in one
product over all steps (section 3.1's question encoder).

`torch.nn.LSTM` on the CPU multiplies out the weight gradients step by step in its backward: at
the paper's sizes (4D x D = 2048 x 512 weights, L = 14 steps, B = 16) that is 14 products that
each write a 4 MB gradient. Here the input projection runs as one product for all steps outside
the recurrence (its backward then gives W_ih's gradient in one product too), and the recurrence's
hand-written backward keeps every step's gate gradients and multiplies them with the previous
hidden states once. The parameters are the `nn.LSTM`'s own, so state dicts do not change.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.rnn import pack_padded_sequence


class LSTMRecurrence(torch.autograd.Function):
    """h_t, c_t from the input gates of packed sequences and W_hh; returns the final (h, c).

    gates_x [N, 4H] are W_ih x_t + b_ih + b_hh for the N = sum(lengths) packed rows (step t's
    rows are the first ``batch_sizes[t]`` sequences, longest first); the state starts at zero.
    """

    @staticmethod
    def forward(ctx, gates_x: torch.Tensor, weight_hh: torch.Tensor, batch_sizes: list[int]):
        """gates_x [N, 4H], weight_hh [4H, H] -> h_n [B, H], c_n [B, H] (B = batch_sizes[0])."""
        # the state stays in the weights' precision: autocast's bf16 would round it every step
        with torch.autocast(gates_x.device.type, enabled=False):
            N, H = gates_x.shape[0], weight_hh.shape[1]
            B = batch_sizes[0]
            h, c = gates_x.new_zeros(B, H), gates_x.new_zeros(B, H)
            # what the backward needs, one row per packed row
            acts = torch.empty_like(gates_x)  # sigmoid(i), sigmoid(f), tanh(g), sigmoid(o)
            h_prev, c_prev, tanh_c = (gates_x.new_empty(N, H) for _ in range(3))
            start = 0
            for n in batch_sizes:
                rows = slice(start, start + n)
                h_prev[rows], c_prev[rows] = h[:n], c[:n]
                # (3.1) [i; f; g; o] = W_ih x_t + b + W_hh h_{t-1}
                gates = torch.addmm(gates_x[rows], h[:n], weight_hh.t())
                act = acts[rows]
                torch.sigmoid(gates, out=act)  # the g columns are overwritten by their tanh next
                torch.tanh(gates[:, 2 * H : 3 * H], out=act[:, 2 * H : 3 * H])
                i, f, g, o = act.chunk(4, dim=1)
                # (3.1) c_t = f * c_{t-1} + i * g;  h_t = o * tanh(c_t)
                c_new = torch.addcmul(f * c[:n], i, g)
                torch.tanh(c_new, out=tanh_c[rows])
                c[:n] = c_new
                h[:n] = o * tanh_c[rows]
                start += n
            # sequences that ended earlier keep their last h, c in rows >= n
            ctx.save_for_backward(weight_hh, acts, h_prev, c_prev, tanh_c)
            ctx.batch_sizes = batch_sizes
            return h, c

    @staticmethod
    def backward(ctx, grad_h: torch.Tensor, grad_c: torch.Tensor):
        """grad h_n, c_n [B, H] -> grad gates_x [N, 4H], grad weight_hh [4H, H]."""
        # as in the forward, also when the backward runs inside an autocast block
        with torch.autocast(grad_h.device.type, enabled=False):
            weight_hh, acts, h_prev, c_prev, tanh_c = ctx.saved_tensors
            batch_sizes = ctx.batch_sizes
            # a sequence's gradient enters at its last step: rows >= n are not overwritten before it
            # (autograd passes zeros for an output that took no part in the loss)
            dh, dc = grad_h.clone(), grad_c.clone()
            d_gates = torch.empty_like(acts)
            end = acts.shape[0]
            for step in range(len(batch_sizes) - 1, -1, -1):
                n = batch_sizes[step]
                rows = slice(end - n, end)
                i, f, g, o = acts[rows].chunk(4, dim=1)
                tc = tanh_c[rows]
                d_i, d_f, d_g, d_o = d_gates[rows].chunk(4, dim=1)
                dh_t = dh[:n]
                # dc_t = dc_{t+1} f_{t+1} + dh_t o (1 - tanh^2 c_t)
                dc_t = torch.addcmul(dc[:n], dh_t * o, 1 - tc * tc)
                # through the activations: sigmoid' = s (1 - s), tanh' = 1 - t^2
                torch.mul(dc_t * g, i * (1 - i), out=d_i)
                torch.mul(dc_t * c_prev[rows], f * (1 - f), out=d_f)
                torch.mul(dc_t * i, 1 - g * g, out=d_g)
                torch.mul(dh_t * tc, o * (1 - o), out=d_o)
                dc[:n] = dc_t * f
                if step:  # the zero initial state needs no gradient
                    dh[:n] = d_gates[rows] @ weight_hh
                end -= n
            # dW_hh = sum_t d_gates_t^T h_{t-1}: one product over all packed rows. The transpose is
            # written out first: MKL multiplies the transposed view 1.4x slower here (N = 124 rows,
            # 2048 x 512 weights); the bits were the same on every shape tried
            grad_weight = d_gates.t().contiguous() @ h_prev if ctx.needs_input_grad[1] else None
            return d_gates, grad_weight, None


def lstm_final_state(lstm: nn.LSTM, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The state of one-layer, unidirectional ``lstm`` after each sequence's last step.

    x [B, L, E] (batch first), lengths [B] on the host -> h_n [B, H], c_n [B, H]; equals
    ``lstm(pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False))[1]``.
    """
    if lstm.num_layers != 1 or lstm.bidirectional or not lstm.batch_first or lstm.proj_size or not lstm.bias:
        raise ValueError("lstm_final_state needs a one-layer, unidirectional, batch-first LSTM with biases")
    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    # (3.1) W_ih x_t + b_ih + b_hh for every step at once
    gates_x = F.linear(packed.data, lstm.weight_ih_l0, lstm.bias_ih_l0 + lstm.bias_hh_l0)  # [N, 4H]
    # the recurrence runs in the weights' dtype (under autocast gates_x comes in bf16)
    h, c = LSTMRecurrence.apply(gates_x.to(lstm.weight_hh_l0.dtype), lstm.weight_hh_l0, packed.batch_sizes.tolist())
    # back from longest-first to the batch's order
    order = packed.unsorted_indices
    return h.index_select(0, order), c.index_select(0, order)
