"""`train_step`: the step notebook 08 shows is one Adam step on the weighted sum of the four losses."""

from __future__ import annotations

import copy

import torch

from sasr_lite.config import SaSRConfig
from sasr_lite.data.dataset import BatchLoader
from sasr_lite.data.loading import sized_for
from sasr_lite.losses import sasr_losses
from sasr_lite.model import build_model
from sasr_lite.step import forward_losses, train_step
from sasr_lite.train import build_optimizer


def _setup(tiny, seed=0):
    torch.manual_seed(seed)
    config = sized_for(SaSRConfig.tiny(), tiny)
    model = build_model(config)
    batch = next(iter(BatchLoader(tiny.dataset("train"), 8, shuffle=True, seed=seed)))
    return config, model, batch


def test_train_step_is_one_adam_step_on_the_weighted_loss(tiny):
    config, model, batch = _setup(tiny)
    by_hand, initial = copy.deepcopy(model), copy.deepcopy(model)
    optimizer = build_optimizer(model, 1e-3)
    manual_optimizer = torch.optim.Adam(by_hand.parameters(), lr=1e-3)

    torch.manual_seed(1)  # dropout draws the same masks in both
    _, losses = train_step(model, batch, optimizer, config)

    torch.manual_seed(1)
    by_hand.train()
    output = by_hand(batch["audio"], batch["visual"], batch["visual_maps"], batch["question"], batch["visual_maps_neg"],
                     batch["video_of"], batch["visual_neg"], batch["question_len"])
    parts = sasr_losses(output, batch["answer"], batch["sources"], config)
    total = (parts["avqa"] + config.lambda_source * parts["source"] + config.lambda_reg * parts["reg"]
             + config.lambda_match * parts["match"])
    manual_optimizer.zero_grad()
    total.backward()
    manual_optimizer.step()

    torch.testing.assert_close(losses["total"], total.detach(), rtol=1e-6, atol=1e-6)
    for (name, a), b in zip(model.named_parameters(), by_hand.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6, msg=name)
    assert any(not torch.equal(a, b) for a, b in zip(model.parameters(), initial.parameters())), "nothing moved"


def test_forward_losses_without_negatives_leaves_parameters_and_gradients_alone(tiny):
    config, model, batch = _setup(tiny)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    output, losses = forward_losses(model.eval(), batch, config, negatives=False)
    assert output.answer_logits.shape == (len(batch["answer"]), config.num_answers)
    assert set(losses) >= {"avqa", "source", "reg", "match", "total"}
    assert all(p.grad is None for p in model.parameters())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_model_inputs_are_the_forward_arguments_a_batch_supplies(tiny):
    from sasr_lite.data.batch import model_inputs

    _, model, batch = _setup(tiny)
    kept = {"visual_map_norms", "visual_map_norms_neg"} & set(batch)  # on the CPU in float32 (tests/test_map_norms.py)
    assert set(model_inputs(batch)) == {"audio", "visual", "visual_maps", "question", "video_of",
                                        "question_len"} | (kept - {"visual_map_norms_neg"})
    assert set(model_inputs(batch, negatives=True)) - set(model_inputs(batch)) == {"visual_maps_neg", "visual_neg"} | (
        kept - {"visual_map_norms"})
    torch.manual_seed(0)
    by_keywords = model.eval()(**model_inputs(batch)).answer_logits
    positional = model(batch["audio"], batch["visual"], batch["visual_maps"], batch["question"], None,
                       batch["video_of"], None, batch["question_len"]).answer_logits
    torch.testing.assert_close(by_keywords, positional, rtol=0, atol=0)
