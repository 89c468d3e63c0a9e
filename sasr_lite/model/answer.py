"""Section 3.6: shortcut, fusion, question gating, then the answer: a classifier over a closed set
of answers (MUSIC-AVQA) or a score for each of a question's candidates (AVQA-Yang)."""

from __future__ import annotations

import torch
from torch import nn

from sasr_lite.data.vocab import PAD_INDEX
from sasr_lite.model.shapes import check_shape

# the logit of a missing (null) candidate: far below any real one, yet finite in bf16, so a
# non-finite check still means a broken model
MISSING_CHOICE_LOGIT = -1e4


class AnswerHead(nn.Module):
    """f_av = FC(tanh([f_A^ta + mean_t f_a^g; f_V^ta + mean_t f_v^sa])); logits = FC(tanh(f_av * q)).

    Dropout (not in the equations) regularises the gated feature before the classifier.
    """

    def __init__(self, d_model: int, num_answers: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.fusion = nn.Linear(2 * d_model, d_model)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(d_model, num_answers)

    def gated(
        self, f_a_ta: torch.Tensor, f_a_g: torch.Tensor, f_v_ta: torch.Tensor, f_v_sa: torch.Tensor, q: torch.Tensor
    ) -> torch.Tensor:
        """f_a_ta [B, D], f_a_g [B, T, D], f_v_ta [B, D], f_v_sa [B, T, D], q [B, D] -> tanh(f_av * q) [B, D]."""
        D = self.fusion.out_features
        sizes: dict[str, int] = {}
        check_shape("f_a_ta", f_a_ta, ("B", D), sizes)
        check_shape("f_a_g", f_a_g, ("B", "T", D), sizes)
        check_shape("f_v_ta", f_v_ta, ("B", D), sizes)
        check_shape("f_v_sa", f_v_sa, ("B", "T", D), sizes)
        check_shape("q", q, ("B", D), sizes)
        # (3.6) shortcut: each temporal summary plus its plain time average, modality by modality
        audio = f_a_ta + f_a_g.mean(dim=1)
        visual = f_v_ta + f_v_sa.mean(dim=1)
        # (3.6) f_av = FC(tanh([audio; visual]))
        f_av = self.fusion(torch.tanh(torch.cat([audio, visual], dim=-1)))  # [B, D]
        # (3.6) the question gates the fused feature
        return torch.tanh(f_av * q)

    def forward(
        self, f_a_ta: torch.Tensor, f_a_g: torch.Tensor, f_v_ta: torch.Tensor, f_v_sa: torch.Tensor, q: torch.Tensor
    ) -> torch.Tensor:
        """f_a_ta [B, D], f_a_g [B, T, D], f_v_ta [B, D], f_v_sa [B, T, D], q [B, D] -> logits [B, A]."""
        # (3.6) logits = FC(tanh(f_av * q))
        return self.classifier(self.dropout(self.gated(f_a_ta, f_a_g, f_v_ta, f_v_sa, q)))


class MultipleChoiceHead(AnswerHead):
    """Multiple choice (AVQA-Yang): the same fused, question-gated feature h = tanh(f_av * q), then
    one score per candidate, logit_k = FC(h) . tanh(c_k), where c_k is candidate k read by the
    network's own question encoder (same embedding and LSTM as the question: a candidate is a
    short phrase in the question's words). Cross-entropy over the K logits trains it; a missing
    candidate gets MISSING_CHOICE_LOGIT. The paper does not describe its multiple-choice head;
    this is the kit's: it adds one D x D layer and keeps every other block as it is.
    """

    def __init__(self, d_model: int, dropout: float = 0.0) -> None:
        super().__init__(d_model, d_model, dropout)  # the classifier becomes FC: D -> D

    def forward(
        self, f_a_ta: torch.Tensor, f_a_g: torch.Tensor, f_v_ta: torch.Tensor, f_v_sa: torch.Tensor, q: torch.Tensor,
        candidates: torch.Tensor, present: torch.Tensor,
    ) -> torch.Tensor:
        """f_a_ta [B, D], f_a_g [B, T, D], f_v_ta [B, D], f_v_sa [B, T, D], q [B, D], candidates
        [B, K, D] (encoded), present [B, K] bool -> logits [B, K]."""
        h = self.classifier(self.dropout(self.gated(f_a_ta, f_a_g, f_v_ta, f_v_sa, q)))  # [B, D]
        return candidate_logits(h, candidates, present)


def candidate_logits(h: torch.Tensor, candidates: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
    """h [B, D], candidates [B, K, D], present [B, K] bool -> logit_k = h . tanh(c_k) [B, K]
    (MISSING_CHOICE_LOGIT where a candidate is missing)."""
    check_shape("candidates", candidates, (h.shape[0], "K", h.shape[1]), {})
    logits = torch.einsum("bd,bkd->bk", h, torch.tanh(candidates))
    return logits.masked_fill(~present, MISSING_CHOICE_LOGIT)


def encode_candidates(question_encoder: nn.Module, choices: torch.Tensor, choice_len: torch.Tensor | None = None
                      ) -> tuple[torch.Tensor, torch.Tensor]:
    """choices [B, K, L_c] word indices (choice_len [B, K] on the host, or None) -> (candidates
    [B, K, D] read by ``question_encoder``, present [B, K] bool: a null candidate is all <pad>)."""
    check_shape("choices", choices, ("B", "K", "L_c"), {})
    B, K, L = choices.shape
    flat_len = None if choice_len is None else torch.as_tensor(choice_len).reshape(B * K)
    candidates = question_encoder(choices.reshape(B * K, L), flat_len).view(B, K, -1)
    return candidates, (choices != PAD_INDEX).any(dim=-1)


def build_answer_head(config, dropout: float) -> AnswerHead:
    """The head ``config.answer_head`` names, at ``config.d_model`` (num_answers for "closed")."""
    if config.answer_head == "multiple_choice":
        return MultipleChoiceHead(config.d_model, dropout)
    return AnswerHead(config.d_model, config.num_answers, dropout)


def answer_logits(head: AnswerHead, question_encoder: nn.Module, f_a_ta, f_a_g, f_v_ta, f_v_sa, q,
                  choices: torch.Tensor | None = None, choice_len: torch.Tensor | None = None) -> torch.Tensor:
    """Both networks' last step: logits [B, A] of a closed head, or [B, K] of a multiple-choice head
    whose candidates choices [B, K, L_c] (word indices; choice_len [B, K] on the host, or None)
    are read by ``question_encoder``. Giving candidates to the wrong head is an error."""
    if not isinstance(head, MultipleChoiceHead):
        if choices is not None:
            raise ValueError("choices were given, but this model has a closed answer head "
                             "(answer_head='closed'); build it with answer_head='multiple_choice'")
        return head(f_a_ta, f_a_g, f_v_ta, f_v_sa, q)
    if choices is None:
        raise ValueError("this model answers multiple choice (answer_head='multiple_choice'): "
                         "pass choices [B, K, L_c], the candidates' word indices")
    check_shape("choices", choices, (q.shape[0], "K", "L_c"), {})
    return head(f_a_ta, f_a_g, f_v_ta, f_v_sa, q, *encode_candidates(question_encoder, choices, choice_len))
