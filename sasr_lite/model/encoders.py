"""Section 3.1: turn each modality into D-dimensional vectors (question, audio, pooled visual)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from sasr_lite.data.vocab import question_lengths
from sasr_lite.model.lstm import lstm_final_state
from sasr_lite.model.shapes import check_float, check_shape, reads_values


class QuestionEncoder(nn.Module):
    """Word embedding + LSTM -> one question vector ``q``.

    Laid out as the AVST / official encoder (tanh on the embeddings, the LSTM's final hidden and
    cell states concatenated, squashed and projected to D): at the official sizes (93 words,
    512-d embeddings, D = 512) it has exactly their 2,673,664 parameters.

    One difference: the LSTM stops at each question's last word. The official encoder reads on
    through the ``<pad>`` tokens (index 0) up to 14 steps, so the state it keeps has to carry the
    question across up to ten steps of padding; on the synthetic benchmark that made a small
    model fit its training questions far more slowly.
    """

    def __init__(self, vocab_size: int, word_dim: int, d_model: int) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, word_dim)
        self.lstm = nn.LSTM(word_dim, d_model, batch_first=True)
        self.fc = nn.Linear(2 * d_model, d_model)

    def forward(self, question: torch.Tensor, lengths: Sequence[int] | torch.Tensor | None = None) -> torch.Tensor:
        """question [B, L] word indices, lengths [B] words before the padding (None: counted here)
        -> q [B, D].

        The LSTM's packing needs the lengths on the host; `BatchLoader` gives them with each batch
        (``question_len``), so a GPU step need not wait to copy them back from the device.
        """
        self.check_words(question)
        # (3.1) word embeddings read by an LSTM; the question is its final state after the last
        # word that is not <pad> (packing skips the padding instead of reading it)
        words = torch.tanh(self.embedding(question))  # [B, L, word_dim]
        if lengths is None:
            lengths = question_lengths(question)
        lengths = torch.as_tensor(lengths, dtype=torch.int64).cpu()  # no copy when already on the host
        if len(lengths) != len(question):
            raise ValueError(f"lengths must give one length per question ({len(question)}), got {len(lengths)}")
        h_n, c_n = self.final_state(words, lengths)  # each [B, D]
        state = torch.cat([h_n, c_n], dim=-1)  # [B, 2D]
        return self.fc(torch.tanh(state))  # [B, D]

    def final_state(self, words: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """words [B, L, word_dim], lengths [B] on the host -> the LSTM's h, c [B, D] after each last word.

        On the CPU `lstm_final_state` (the same LSTM, its weight gradients in one product instead
        of one per step) trains faster. It reads the packing's step sizes as numbers, so it runs
        only where value reads cost no wait (`reads_values`); a GPU keeps cuDNN's fused LSTM.
        """
        if reads_values(words):
            return lstm_final_state(self.lstm, words, lengths)
        packed = pack_padded_sequence(words, lengths, batch_first=True, enforce_sorted=False)
        _, (h_n, c_n) = self.lstm(packed)  # each [1, B, D]
        return h_n[-1], c_n[-1]

    def check_words(self, question: torch.Tensor) -> None:
        """Refuse anything but [B, L] integer word indices inside the vocabulary."""
        check_shape("question", question, ("B", "L"), {})
        if question.is_floating_point() or question.is_complex():
            raise ValueError(f"question must hold integer word indices, got dtype {question.dtype}")
        vocab = self.embedding.num_embeddings
        if reads_values(question) and (question.min() < 0 or question.max() >= vocab):
            raise ValueError(
                f"question indices must lie in [0, {vocab}), got [{int(question.min())}, {int(question.max())}]"
            )


class AudioProjection(nn.Module):
    """VGGish embeddings (128-d) -> f_a^r = FC(ReLU(FC(A))) in D dimensions."""

    def __init__(self, audio_dim: int, d_model: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(audio_dim, d_model)
        self.fc2 = nn.Linear(d_model, d_model)

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        """audio [B, T, 128] -> f_a_r [B, T, D]."""
        check_shape("audio", audio, ("B", "T", self.fc1.in_features), {})
        check_float("audio", audio)
        # (3.1) f_a^r = FC(ReLU(FC(A)))
        return self.fc2(torch.relu(self.fc1(audio)))


class VisualProjection(nn.Module):
    """Pooled ResNet-18 vectors (512-d) -> f_v^r in D dimensions (one FC).

    The paper feeds the pooled vectors in directly; one FC lets D differ from 512 (tiny models)
    and gives vision a learnable input layer like audio's.
    """

    def __init__(self, visual_dim: int, d_model: int) -> None:
        super().__init__()
        self.fc = nn.Linear(visual_dim, d_model)

    def forward(self, visual: torch.Tensor) -> torch.Tensor:
        """visual [B, T, 512] -> f_v_r [B, T, D]."""
        check_shape("visual", visual, ("B", "T", self.fc.in_features), {})
        check_float("visual", visual)
        # (3.1) f_v^r = FC(pooled visual)
        return self.fc(visual)
