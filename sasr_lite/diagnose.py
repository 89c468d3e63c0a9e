"""How much pooled vectors alone answer: a probe per question type, with and without each cue.

Without spatial attention SaSR-Net's visual path reads the spatial mean of the maps; without
temporal attention both paths read the mean over segments. A block can only matter for the
questions those means cannot answer. This module measures that directly, with no attention
anywhere: a small MLP (the *probe*) reads the question (its template and fillers, one-hot per
slot) and one *view* of the features, and is trained on the train split, scored on the test
split, per question type:

- ``question``: no features (what the question and the answer balance give away);
- ``segments``: the pooled visual vector and the audio of every kept segment (what the model
  has without SA, [T, 512 + 128] flattened);
- ``average``: both averaged over the segments too (what it has without SA and TA, [640]);
- ``set``: the segments read one by one by a small MLP phi, whose outputs are then averaged over
  the segments: (1/T) sum_t phi(x_t). This is what SaSR-Net keeps without TA: the answer head reads
  the time average of segment features that are *nonlinear* functions of each segment (FC-ReLU-FC,
  SLT, SaSR). A mean of nonlinear features keeps what a mean of raw ones loses whenever a segment's
  features say when it is: one unit ReLU(w . x_t - b) that fires only for "violin, early" survives
  the average (a Deep Sets encoder: Zaheer et al., 2017);
- ``attended``: the same phi, then weights over the segments chosen by the question,
  softmax_t(q . phi(x_t) / sqrt(H)): TA's question-guided sum (3.5) in place of the mean.

`cue_probe` runs the views on a benchmark drawn with given cues (features rendered in memory
from the same random streams as `synth.generate`, maps never stored); `cue_diagnosis` repeats it
with each knob flipped. A type the ``average`` probe answers far above the ``question`` probe
has a pooled shortcut: no attention block is needed for it. A type the ``set`` probe answers as
well as the ``attended`` one needs no TA either: the time average of nonlinear features holds it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from sasr_lite.data.taxonomy import PLACEHOLDER_VALUES, SUBTYPES, TEMPLATES
from sasr_lite.synth.cues import KNOBS, Cues, resolve_cues
from sasr_lite.synth.features import FeatureRenderer, one_thread
from sasr_lite.synth.generate import FEATURE_STREAM, make_questions, preset_cues
from sasr_lite.synth.presets import SPLITS
from sasr_lite.synth.scenes import kept_segments

VIEWS = ("question", "segments", "average", "set", "attended")
SEGMENT_VIEWS = ("set", "attended")  # read [T, 640] segment by segment (SegmentProbe)
SEGMENT_WIDTH = 640  # pooled visual (512) and audio (128) of one segment
TYPE_NAMES = tuple(f"{group}/{subtype}" for group, subtype in SUBTYPES)  # "Audio-Visual/Location", ...
FILLERS = tuple(sorted({w for words in PLACEHOLDER_VALUES.values() for w in words}))
MAX_SLOTS = 4  # the most placeholders a template has


@dataclass(frozen=True)
class ProbeConfig:
    """The probe: an MLP trained with Adam on the train split (full batches of ``batch_size``)."""

    hidden: int = 256
    epochs: int = 40
    batch_size: int = 256
    lr: float = 2e-3
    weight_decay: float = 1e-4
    seed: int = 0


class SegmentProbe(nn.Module):
    """The ``set`` and ``attended`` probes: phi reads each segment, the segments are pooled (a mean,
    or question-guided softmax weights as TA), and rho reads [question code; pooled]."""

    def __init__(self, width: int, question_dim: int, hidden: int, answers: int, attend: bool) -> None:
        super().__init__()
        self.phi = nn.Sequential(nn.Linear(width, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.query = nn.Linear(question_dim, hidden) if attend else None
        self.rho = nn.Sequential(nn.Linear(question_dim + hidden, hidden), nn.ReLU(), nn.Linear(hidden, answers))

    def forward(self, question: torch.Tensor, segments: torch.Tensor) -> torch.Tensor:
        """question [N, Q], segments [N, T, width] -> answer logits [N, answers]."""
        h = self.phi(segments)  # [N, T, H]
        if self.query is None:
            pooled = h.mean(dim=1)  # (1/T) sum_t phi(x_t): no TA
        else:  # softmax_t(q . phi(x_t) / sqrt(H)): TA's weights
            scores = torch.einsum("nth,nh->nt", h, self.query(question)) / h.shape[-1] ** 0.5
            pooled = torch.einsum("nt,nth->nh", torch.softmax(scores, dim=-1), h)
        return self.rho(torch.cat([question, pooled], dim=-1))


def question_code(template_index: int, fillers) -> np.ndarray:
    """float32 [33 + 4 * F]: the template one-hot, then each slot's filler one-hot (in order)."""
    code = np.zeros(len(TEMPLATES) + MAX_SLOTS * len(FILLERS), np.float32)
    code[template_index] = 1
    for slot, word in enumerate(fillers):
        code[len(TEMPLATES) + slot * len(FILLERS) + FILLERS.index(word)] = 1
    return code


def pooled_views(scene, renderer: FeatureRenderer, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The ``segments`` [T * 640] and ``average`` [640] views of one scene's rendered features."""
    f = renderer.render(scene, rng)
    both = np.concatenate([f.visual, f.audio], axis=1)  # [T, 640]
    return {"segments": both.ravel(), "average": both.mean(axis=0)}


def probe_data(size: str | int = "tiny", cues: Cues | str | dict | None = None, seed: int = 0,
               stride: int = 6, difficulty: float = 1.0) -> dict[str, dict[str, np.ndarray]]:
    """split -> arrays of its questions: "question" [N, Q] codes, "segments" / "average" views,
    "answer" [N] str, "type" [N] index into TYPE_NAMES, "template" [N] key, "video" [N] id. Features come from the same random
    streams as `synth.generate`, so they equal a generated store's (its pooled visual, its audio)."""
    knobs = preset_cues(size) if cues is None else resolve_cues(cues)
    splits = make_questions(size, seed, cues=knobs)
    renderer = FeatureRenderer(kept_segments(stride), difficulty=difficulty, seed=seed, cues=knobs)
    out = {}
    for split in SPLITS:
        rows = {"question": [], "segments": [], "average": [], "answer": [], "type": [], "template": [], "video": []}
        for scene, questions in splits[split]:
            if not questions:
                continue
            views = pooled_views(scene, renderer, np.random.default_rng([seed, FEATURE_STREAM, int(scene.video_id)]))
            for q in questions:
                rows["question"].append(question_code(q.template.index, q.templ_values))
                rows["segments"].append(views["segments"])
                rows["average"].append(views["average"])
                rows["answer"].append(q.answer)
                rows["type"].append(q.template.subtype_index)
                rows["template"].append(q.template.key)
                rows["video"].append(scene.video_id)
        out[split] = {k: np.asarray(v) for k, v in rows.items()}
    return out


def _standardize(train: np.ndarray, *others: np.ndarray) -> list[np.ndarray]:
    mean, std = train.mean(axis=0), train.std(axis=0) + 1e-6
    return [((x - mean) / std).astype(np.float32) for x in (train, *others)]


def probe_accuracy(data: dict[str, dict[str, np.ndarray]], view: str, config: ProbeConfig = ProbeConfig(),
                   split: str = "test", by_template: bool = False) -> pd.Series:
    """Test accuracy (%) per question type ("Group/Type"), with ``by_template`` also per template key,
    and "Overall" of a probe on ``view``.

    The ``question``, ``segments`` and ``average`` probes read [question code; standardized view]
    (``question``: the code alone) through Linear(hidden) + ReLU + Linear(hidden) + ReLU +
    Linear(answers); ``set`` and ``attended`` read the ``segments`` view as [T, 640] through
    `SegmentProbe` (channels standardized over the train split's segments). Answers unseen in train
    count wrong."""
    if view not in VIEWS:
        raise ValueError(f"unknown probe view {view!r}; views are {VIEWS}")
    train, test = data["train"], data[split]
    answers = sorted(set(train["answer"]))
    index = {a: k for k, a in enumerate(answers)}
    y_train = torch.tensor([index[a] for a in train["answer"]])
    y_test = np.array([index.get(a, -1) for a in test["answer"]])
    torch.manual_seed(config.seed)
    if view in SEGMENT_VIEWS:
        n_train, n_test = len(y_train), len(y_test)
        seg_train, seg_test = _standardize(train["segments"].reshape(-1, SEGMENT_WIDTH),
                                           test["segments"].reshape(-1, SEGMENT_WIDTH))
        x_train = (train["question"], seg_train.reshape(n_train, -1, SEGMENT_WIDTH))
        x_test = (test["question"], seg_test.reshape(n_test, -1, SEGMENT_WIDTH))
        model = SegmentProbe(SEGMENT_WIDTH, x_train[0].shape[1], config.hidden, len(answers), view == "attended")
    else:
        if view == "question":
            x_train, x_test = (train["question"],), (test["question"],)
        else:
            feats_train, feats_test = _standardize(train[view], test[view])
            x_train = (np.concatenate([train["question"], feats_train], axis=1),)
            x_test = (np.concatenate([test["question"], feats_test], axis=1),)
        model = nn.Sequential(nn.Linear(x_train[0].shape[1], config.hidden), nn.ReLU(),
                              nn.Linear(config.hidden, config.hidden), nn.ReLU(), nn.Linear(config.hidden, len(answers)))
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    x_train_t = [torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)) for x in x_train]
    x_test_t = [torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)) for x in x_test]
    order_rng = np.random.default_rng(config.seed)
    with one_thread():
        for _ in range(config.epochs):
            for batch in np.array_split(order_rng.permutation(len(y_train)), max(1, len(y_train) // config.batch_size)):
                loss = nn.functional.cross_entropy(model(*(x[batch] for x in x_train_t)), y_train[batch])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        with torch.no_grad():
            predicted = model(*x_test_t).argmax(-1).numpy()
    right = predicted == y_test
    accuracy = {name: 100.0 * right[test["type"] == k].mean() for k, name in enumerate(TYPE_NAMES)
                if (test["type"] == k).any()}
    if by_template:  # also each template, under its key
        accuracy |= {t.key: 100.0 * right[test["template"] == t.key].mean() for t in TEMPLATES
                     if (test["template"] == t.key).any()}
    accuracy["Overall"] = 100.0 * right.mean()
    return pd.Series(accuracy, name=view)


def select_types(data: dict[str, dict[str, np.ndarray]], types) -> dict[str, dict[str, np.ndarray]]:
    """``data`` (`probe_data`'s) with only the questions of ``types`` ("Group/Type" names) in every split."""
    unknown = sorted(set(types) - set(TYPE_NAMES))
    if unknown:
        raise ValueError(f"unknown question types {unknown}; types are {list(TYPE_NAMES)}")
    wanted = [TYPE_NAMES.index(t) for t in types]
    return {split: {k: v[np.isin(arrays["type"], wanted)] for k, v in arrays.items()} for split, arrays in data.items()}


def cue_probe(size: str | int, cues: Cues | str | dict, views=VIEWS, seed: int = 0,
              config: ProbeConfig = ProbeConfig(), by_template: bool = False) -> pd.DataFrame:
    """Rows: ``views``; columns: question types (and templates) and "Overall"; values: probe test accuracy (%)."""
    data = probe_data(size, cues, seed)
    return pd.DataFrame([probe_accuracy(data, view, config, by_template=by_template) for view in views])


def cue_diagnosis(size: str | int, base: Cues | str = "lesson", knobs=KNOBS, views=VIEWS, seed: int = 0,
                  config: ProbeConfig = ProbeConfig(), by_template: bool = False) -> pd.DataFrame:
    """The probe on ``base`` and on ``base`` with each of ``knobs`` flipped.

    Long table: one row per (setting, view) with columns setting ("base" or "<knob> on/off"),
    view and one column per question type (``by_template``: and per template) plus "Overall"."""
    base = resolve_cues(base)
    settings = {"base": base} | {f"{k} {'off' if getattr(base, k) else 'on'}": base.replace(**{k: not getattr(base, k)})
                                 for k in knobs}
    frames = []
    for name, cues in settings.items():
        table = cue_probe(size, cues, views, seed, config, by_template)
        table.insert(0, "view", table.index)
        table.insert(0, "setting", name)
        frames.append(table)
    return pd.concat(frames, ignore_index=True)


def segment_spread(model: nn.Module, audio: torch.Tensor) -> pd.Series:
    """How much the audio path of a paper-model SaSR-Net still tells its segments apart, stage by
    stage: the standard deviation over the T segments, averaged over videos and channels, of
    f_a^r (3.1), f_a^s (3.2) and f_a^g (3.3), for ``audio`` [V, T, 128].

    A stage whose spread is near 0 holds one vector for every segment: spatial attention then gets
    the same audio query at every t, and temporal attention has nothing to choose between."""
    with torch.no_grad():
        f_a_r = model.audio_proj(audio)
        f_a_s, tokens_a, _ = model._source_tokens(f_a_r)
        f_a_g, _, _ = model._semantics(model.sasr.audio, f_a_s, tokens_a)
    return pd.Series({name: float(f.std(dim=1).mean()) for name, f in
                      (("f_a_r", f_a_r), ("f_a_s", f_a_s), ("f_a_g", f_a_g))}, name="std over segments")
