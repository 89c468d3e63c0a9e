"""The question encoder's LSTM path (sasr_lite/model/lstm.py) against nn.LSTM and the equations."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

import model_reference as ref
from model_reference import one_thread  # noqa: F401  (autouse fixture)
from sasr_lite.model import QuestionEncoder
from sasr_lite.model.lstm import LSTMRecurrence, lstm_final_state

LENGTHS = [3, 7, 1, 5, 7]  # unsorted, a tie at the longest, a one-word question


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def _packed_nn_lstm(lstm: nn.LSTM, x: torch.Tensor, lengths) -> tuple[torch.Tensor, torch.Tensor]:
    _, (h, c) = lstm(pack_padded_sequence(x, torch.tensor(lengths), batch_first=True, enforce_sorted=False))
    return h[0], c[0]


def _grads(h: torch.Tensor, c: torch.Tensor, inputs, w_h: torch.Tensor, w_c: torch.Tensor):
    return torch.autograd.grad((h * w_h).sum() + (c * w_c).sum(), inputs)


def test_final_state_equals_nn_lstm_on_packed_sequences_values_and_gradients():
    lstm = nn.LSTM(6, 5, batch_first=True).double()
    x = torch.randn(len(LENGTHS), 7, 6, dtype=torch.float64, requires_grad=True)
    h, c = lstm_final_state(lstm, x, torch.tensor(LENGTHS))
    h_ref, c_ref = _packed_nn_lstm(lstm, x, LENGTHS)
    torch.testing.assert_close(h, h_ref, atol=1e-12, rtol=0)
    torch.testing.assert_close(c, c_ref, atol=1e-12, rtol=0)
    inputs = [x, *lstm.parameters()]
    w_h, w_c = torch.randn_like(h), torch.randn_like(c)
    grads = _grads(h, c, inputs, w_h, w_c)
    for g, g_ref in zip(grads, _grads(h_ref, c_ref, inputs, w_h, w_c)):
        torch.testing.assert_close(g, g_ref, atol=1e-12, rtol=0)
    # the padding after a sequence's last step gets no gradient
    assert grads[0][2, 1:].abs().max() == 0 and grads[0][2, 0].abs().max() > 0


def test_final_state_equals_the_gate_by_gate_equations():
    lstm = nn.LSTM(6, 5, batch_first=True).double()
    x = torch.randn(len(LENGTHS), 7, 6, dtype=torch.float64)
    h, c = lstm_final_state(lstm, x, torch.tensor(LENGTHS))
    for b, n in enumerate(LENGTHS):
        h_b, c_b = ref.lstm_final_state(lstm, x[b : b + 1, :n])
        torch.testing.assert_close(h[b : b + 1], h_b, atol=1e-12, rtol=0)
        torch.testing.assert_close(c[b : b + 1], c_b, atol=1e-12, rtol=0)


def test_recurrence_backward_passes_gradcheck():
    batch_sizes = [4, 4, 3, 3, 2, 1]  # longest first, as packing gives them
    gates_x = torch.randn(sum(batch_sizes), 4 * 3, dtype=torch.float64, requires_grad=True)
    weight_hh = torch.randn(4 * 3, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda g, w: LSTMRecurrence.apply(g, w, batch_sizes), (gates_x, weight_hh))


def test_gradient_of_one_output_alone_matches_nn_lstm():
    lstm = nn.LSTM(6, 5, batch_first=True).double()
    x = torch.randn(len(LENGTHS), 7, 6, dtype=torch.float64)
    h, _ = lstm_final_state(lstm, x, torch.tensor(LENGTHS))
    h_ref, _ = _packed_nn_lstm(lstm, x, LENGTHS)
    grads = torch.autograd.grad(h.square().sum(), list(lstm.parameters()))
    grads_ref = torch.autograd.grad(h_ref.square().sum(), list(lstm.parameters()))
    for g, g_ref in zip(grads, grads_ref):
        torch.testing.assert_close(g, g_ref, atol=1e-12, rtol=0)


def test_question_encoder_matches_nn_lstm_in_float32_and_keeps_its_state_dict():
    enc = QuestionEncoder(vocab_size=30, word_dim=16, d_model=12)
    assert [k for k in enc.state_dict() if k.startswith("lstm.")] == [
        "lstm.weight_ih_l0", "lstm.weight_hh_l0", "lstm.bias_ih_l0", "lstm.bias_hh_l0"]
    question = torch.randint(1, 30, (len(LENGTHS), 7))
    words = torch.tanh(enc.embedding(question))
    h_ref, c_ref = _packed_nn_lstm(enc.lstm, words, LENGTHS)
    expected = enc.fc(torch.tanh(torch.cat([h_ref, c_ref], dim=-1)))
    q = enc(question, LENGTHS)
    torch.testing.assert_close(q, expected, atol=1e-6, rtol=0)
    params = list(enc.parameters())
    for g, g_ref in zip(torch.autograd.grad(q.sum(), params), torch.autograd.grad(expected.sum(), params)):
        torch.testing.assert_close(g, g_ref, atol=1e-5, rtol=1e-5)


def test_final_state_under_bf16_autocast_stays_close_to_float32():
    lstm = nn.LSTM(16, 8, batch_first=True)
    x = torch.randn(len(LENGTHS), 7, 16)
    h32, c32 = lstm_final_state(lstm, x, torch.tensor(LENGTHS))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        h, c = lstm_final_state(lstm, x, torch.tensor(LENGTHS))
    assert h.dtype == c.dtype == torch.float32  # the recurrence runs in the weights' precision
    torch.testing.assert_close(h, h32, atol=2e-2, rtol=0)
    torch.testing.assert_close(c, c32, atol=2e-2, rtol=0)
    grads = torch.autograd.grad(h.sum() + c.sum(), list(lstm.parameters()))
    assert all(g.isfinite().all() and g.abs().sum() > 0 for g in grads)


def test_recurrence_ignores_autocast_in_forward_and_backward():
    batch_sizes = [3, 2, 2, 1]
    gates_x = torch.randn(sum(batch_sizes), 4 * 8, requires_grad=True)
    weight_hh = torch.randn(4 * 8, 8, requires_grad=True)
    w_h, w_c = torch.randn(3, 8), torch.randn(3, 8)
    h, c = LSTMRecurrence.apply(gates_x, weight_hh, batch_sizes)
    expected = _grads(h, c, [gates_x, weight_hh], w_h, w_c)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        h_ac, c_ac = LSTMRecurrence.apply(gates_x, weight_hh, batch_sizes)
        grads = _grads(h_ac, c_ac, [gates_x, weight_hh], w_h, w_c)
    torch.testing.assert_close(h_ac, h, atol=0, rtol=0)
    torch.testing.assert_close(c_ac, c, atol=0, rtol=0)
    for g, g_ref in zip(grads, expected):
        torch.testing.assert_close(g, g_ref, atol=0, rtol=0)


def test_final_state_refuses_lstms_it_does_not_compute():
    x, lengths = torch.randn(2, 3, 4), torch.tensor([3, 2])
    for lstm in (nn.LSTM(4, 5, num_layers=2, batch_first=True), nn.LSTM(4, 5, bidirectional=True, batch_first=True),
                 nn.LSTM(4, 5), nn.LSTM(4, 5, bias=False, batch_first=True)):
        with pytest.raises(ValueError, match="one-layer, unidirectional, batch-first LSTM with biases"):
            lstm_final_state(lstm, x, lengths)
