"""The attention probe of notebook 11: ask a trained model one question and look at every map.

- `Probe(model, data, split)`: `ask(video_id, question)` runs one (video, question) pair through
  the model and returns a `ProbeResult` (answer distribution, spatial and temporal attention,
  token presence), plus the synthetic ground truth (sounding cells, asked-about segments,
  rendered frames) when the data is the synthetic benchmark.
- `ProbePanel(probe)`: an ipywidgets panel (video, question, typed question, segment) whose
  figure is redrawn by the widgets' callbacks; ``panel.widget`` is what a notebook displays.
  The callbacks are plain methods, so a test can drive them from Python without a front end.

A typed question goes through the same tokenisation as the annotations (split on spaces, drop
the question mark, pad to 14); words the train split never used map to ``<unk>``.
"""

from __future__ import annotations

import io

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
from matplotlib.figure import Figure

from sasr_lite.data.annotations import QARecord, question_tokens
from sasr_lite.data.taxonomy import INSTRUMENTS

TOP_ANSWERS = 8  # answers shown in the distribution panel


@dataclass
class ProbeResult:
    """One question through the model; arrays are float numpy on the CPU."""

    video_id: str
    question: str  # as asked (filled, without the question mark)
    tokens: list[str]
    unknown_words: list[str]  # words outside the question vocabulary (encoded as <unk>)
    truth: str | None  # the annotated answer (None for a typed question)
    answers: list[str]  # answer vocabulary, in logit order
    probs: np.ndarray  # [A] softmax of the answer logits
    spatial: np.ndarray  # [T, P] audio-guided weights over the map (the same for every question)
    temporal_a: np.ndarray  # [T] question-guided weights over the audio segments
    temporal_v: np.ndarray  # [T] ... over the visual segments
    presence_a: np.ndarray  # [C] sigmoid of the audio tokens' presence logits
    presence_v: np.ndarray  # [C] ... of the visual tokens
    sources: np.ndarray  # [C] the video's weak source labels (multi-hot)
    sounding: np.ndarray | None = None  # [T, P] bool ground truth (synthetic benchmark)
    asked: np.ndarray | None = None  # [T] bool segments the question is about (synthetic, annotated)

    @property
    def prediction(self) -> str:
        return self.answers[int(self.probs.argmax())]

    def top(self, k: int = TOP_ANSWERS) -> list[tuple[str, float]]:
        order = np.argsort(-self.probs, kind="stable")[:k]
        return [(self.answers[i], float(self.probs[i])) for i in order]


class Probe:
    """Runs single questions of one split of a `train.TrainData` through ``model``."""

    def __init__(self, model: torch.nn.Module, data, split: str = "test"):
        self.model = model.eval()
        self.device = next(model.parameters()).device
        self.data = data
        self.split = split
        self.dataset = data.dataset(split)
        self.store = data.stores[split]
        self.questions: dict[str, list[QARecord]] = {}
        for record in self.dataset.records:
            self.questions.setdefault(record.video_id, []).append(record)
        self.video_ids = list(self.questions)
        self._record_index = {r.question_id: i for i, r in enumerate(self.dataset.records)}
        self.scenes = {}
        if data.release == "synthetic":
            from sasr_lite.synth.scenes import load_scenes, scene_index

            self.scenes = scene_index(load_scenes(data.root / "scenes" / f"{split}.json"))

    @property
    def T(self) -> int:
        return self.store.T

    def encode(self, text: str) -> tuple[list[str], list[str], torch.Tensor]:
        """(tokens, unknown words, indices [1, 14]) of a typed or annotated question."""
        tokens = question_tokens(text, [])
        vocab = self.data.question_vocab
        unknown = [w for w in tokens if w not in vocab]
        ids = torch.tensor([vocab.encode(tokens)], dtype=torch.long, device=self.device)
        return tokens, unknown, ids

    @torch.no_grad()
    def ask(self, video_id: str, question: QARecord | str) -> ProbeResult:
        """One pair through the model: ``question`` is an annotated record of this video or free text."""
        if video_id not in self.questions:
            raise ValueError(f"video {video_id!r} is not in the {self.split} split")
        row = self.store.index_of(video_id)

        def feature(array: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(np.asarray(array[row], dtype=np.float32))[None].to(self.device)

        record = question if isinstance(question, QARecord) else None
        text = record.question if record is not None else str(question)
        tokens, unknown, ids = self.encode(text)
        out = self.model(feature(self.store.audio), feature(self.store.visual), feature(self.store.maps), ids)
        sources = self.dataset.sources[row]
        result = ProbeResult(
            video_id=video_id, question=" ".join(w for w in tokens if w != "<pad>"), tokens=tokens,
            unknown_words=unknown, truth=record.answer if record is not None else None,
            answers=list(self.data.answer_vocab.tokens),
            probs=torch.softmax(out.answer_logits[0].float(), -1).cpu().numpy(),
            spatial=out.spatial_attn[0].float().cpu().numpy(),
            temporal_a=out.temporal_attn_a[0].float().cpu().numpy(),
            temporal_v=out.temporal_attn_v[0].float().cpu().numpy(),
            presence_a=torch.sigmoid(out.presence_a[0].float()).cpu().numpy(),
            presence_v=torch.sigmoid(out.presence_v[0].float()).cpu().numpy(),
            sources=np.asarray(sources, dtype=np.float32),
        )
        scene = self.scenes.get(video_id)
        if scene is not None:
            from sasr_lite.synth.ground_truth import question_segments, sounding_box_mask

            result.sounding = sounding_box_mask(scene, self.segments)
            if record is not None:
                result.asked = question_segments(scene, record, self.segments)
        return result

    @property
    def segments(self) -> tuple[int, ...]:
        """The original one-second segments the store kept (0, 6, ..., 54 at stride 6)."""
        from sasr_lite.synth.scenes import kept_segments

        return tuple(self.store.manifest.get("metadata", {}).get("segments") or kept_segments(self.store.stride or 6))

    def frames(self, video_id: str) -> np.ndarray | None:
        """uint8 [T, H, W, 3] rendered frames at the kept segments (synthetic benchmark only)."""
        return _rendered_frames(self, video_id) if video_id in self.scenes else None


@lru_cache(maxsize=8)
def _rendered_frames(probe: Probe, video_id: str) -> np.ndarray:
    from sasr_lite.synth.media import render_frames

    wanted = set(probe.segments)
    seconds = max(wanted) + 1
    frames = [f for s, f in enumerate(render_frames(probe.scenes[video_id], seconds=seconds, fps=1)) if s in wanted]
    return np.stack(frames)


class ProbePanel:
    """Widgets + one matplotlib figure; every widget change recomputes or redraws through a method."""

    def __init__(self, probe: Probe, video_id: str | None = None):
        import ipywidgets as widgets

        self.probe = probe
        first = video_id or probe.video_ids[0]
        layout = widgets.Layout(width="48%")
        self.video = widgets.Dropdown(options=probe.video_ids, value=first, description="video", layout=layout)
        self.question = widgets.Dropdown(options=self._question_options(first), description="question",
                                         layout=widgets.Layout(width="96%"))
        self.typed = widgets.Text(value="", placeholder="or type a question and press Enter",
                                  description="typed", continuous_update=False, layout=layout)
        self.segment = widgets.IntSlider(value=0, min=0, max=probe.T - 1, description="segment", layout=layout)
        self.status = widgets.HTML()
        # the figure is not pyplot's: it reaches the page only as the PNG of an Image widget, which
        # works the same in JupyterLab and in a headless run (an Output widget re-displaying a
        # figure left nbclient waiting for the kernel after every redraw)
        self.image = widgets.Image(format="png")
        self.figure = Figure(figsize=(12, 6.4))
        self.result: ProbeResult | None = None
        self._build_axes()

        self.video.observe(self.on_video, names="value")
        self.question.observe(self.on_question, names="value")
        self.typed.observe(self.on_typed, names="value")
        self.segment.observe(self.on_segment, names="value")
        self.widget = widgets.VBox([
            widgets.HBox([self.video, self.segment]), self.question, self.typed, self.status, self.image,
        ])
        self.on_question()

    # --- callbacks --------------------------------------------------------------------------
    def on_video(self, change=None) -> None:
        """A new video: its questions replace the list (which fires on_question)."""
        options = self._question_options(self.video.value)
        self.typed.value = ""
        if self.question.options == tuple(options):
            self.on_question()
        else:
            self.question.options = options  # resets .value -> on_question

    def on_question(self, change=None) -> None:
        if self.question.value is None:
            return
        record = self.probe.dataset.records[self.probe._record_index[self.question.value]]
        self._show(self.probe.ask(self.video.value, record))

    def on_typed(self, change=None) -> None:
        text = self.typed.value.strip()
        if text:
            self._show(self.probe.ask(self.video.value, text))
        else:
            self.on_question()

    def on_segment(self, change=None) -> None:
        self._draw_spatial()
        self._draw_temporal()
        self._render()

    # --- drawing ----------------------------------------------------------------------------
    def _question_options(self, video_id: str) -> list[tuple[str, int]]:
        return [(f"{r.question}?  [{r.group} / {r.subtype}]", r.question_id) for r in self.probe.questions[video_id]]

    def _build_axes(self) -> None:
        grid = self.figure.add_gridspec(2, 3, height_ratios=[1.15, 1])
        self.ax_frame = self.figure.add_subplot(grid[0, 0])
        self.ax_map = self.figure.add_subplot(grid[0, 1])
        self.ax_time = self.figure.add_subplot(grid[0, 2])
        self.ax_tokens = self.figure.add_subplot(grid[1, :2])
        self.ax_answers = self.figure.add_subplot(grid[1, 2])

    def _show(self, result: ProbeResult) -> None:
        self.result = result
        truth = f" | truth: <b>{result.truth}</b>" if result.truth is not None else ""
        unknown = f" | not in the vocabulary: {', '.join(result.unknown_words)}" if result.unknown_words else ""
        self.status.value = f"<i>{result.question}?</i> → <b>{result.prediction}</b>{truth}{unknown}"
        self._draw_spatial()
        self._draw_temporal()
        self._draw_tokens()
        self._draw_answers()
        self._render()

    def _draw_spatial(self) -> None:
        r, t = self.result, self.segment.value
        side = int(round(r.spatial.shape[1] ** 0.5))
        attn = r.spatial[t].reshape(side, side)
        for ax in (self.ax_frame, self.ax_map):
            ax.clear()
            ax.set_xticks([])
            ax.set_yticks([])
        frames = self.probe.frames(r.video_id)
        if frames is not None:
            h, w = frames.shape[1:3]
            self.ax_frame.imshow(frames[t])
            self.ax_frame.imshow(attn, cmap="magma", alpha=0.55, extent=(0, w, h, 0), interpolation="bilinear")
            self.ax_frame.set_title(f"frame of segment {t} + attention", fontsize=9)
        else:
            self.ax_frame.text(0.5, 0.5, "no frames\n(real features)", ha="center", va="center")
        self.spatial_image = self.ax_map.imshow(attn, cmap="magma")
        if r.sounding is not None and r.sounding[t].any():
            self.ax_map.contour(r.sounding[t].reshape(side, side).astype(float), levels=[0.5], colors="white")
        peak = int(r.spatial[t].argmax())
        self.ax_map.plot(peak % side, peak // side, "c+", markersize=10, mew=2)
        self.ax_map.set_title(f"spatial attention, segment {t} (max {attn.max():.3f})", fontsize=9)

    def _draw_temporal(self) -> None:
        r, t, T = self.result, self.segment.value, len(self.result.temporal_a)
        ax = self.ax_time
        ax.clear()
        if r.asked is not None:
            for s in np.flatnonzero(r.asked):
                ax.axvspan(s - 0.5, s + 0.5, color="tab:green", alpha=0.15, lw=0)
        x = np.arange(T)
        self.temporal_bars = ax.bar(x - 0.2, r.temporal_a, 0.4, label="audio")
        ax.bar(x + 0.2, r.temporal_v, 0.4, label="visual")
        ax.axhline(1.0 / T, color="gray", ls="--", lw=1)
        ax.axvline(t, color="k", lw=0.8)
        ax.set_xticks(x)
        ax.set_title("temporal attention (green: asked about)", fontsize=9)
        ax.legend(fontsize=7)

    def _draw_tokens(self) -> None:
        r, ax = self.result, self.ax_tokens
        ax.clear()
        x = np.arange(len(INSTRUMENTS))
        ax.bar(x - 0.2, r.presence_a, 0.4, label="audio tokens")
        ax.bar(x + 0.2, r.presence_v, 0.4, label="visual tokens")
        ax.plot(x[r.sources > 0], np.full(int((r.sources > 0).sum()), 1.03), "kv", markersize=5, label="weak label")
        ax.set_xticks(x, INSTRUMENTS, rotation=60, ha="right", fontsize=7)
        # headroom above the weak-label markers (at 1.03) keeps the one-row legend clear of them
        ax.set_ylim(0, 1.3)
        ax.set_yticks([0, 0.5, 1])
        ax.set_title("token presence: sigmoid(FC(G')) per instrument", fontsize=9)
        ax.legend(fontsize=7, ncols=3, loc="upper right")

    def _draw_answers(self) -> None:
        r, ax = self.result, self.ax_answers
        ax.clear()
        top = r.top()
        words = [w for w, _ in top][::-1]
        colors = ["tab:green" if w == r.truth else "tab:gray" for w in words]
        self.answer_bars = ax.barh(words, [p for _, p in top][::-1], color=colors)
        ax.set_xlim(0, 1)
        ax.set_title("answer distribution (green: truth)", fontsize=9)
        ax.tick_params(axis="y", labelsize=8)

    def png(self) -> bytes:
        """The panel's figure as it is now, as PNG bytes (a static copy: a notebook opened without
        a live kernel, or untrusted, shows images but not widgets)."""
        self.figure.tight_layout()
        png = io.BytesIO()
        self.figure.savefig(png, format="png", dpi=80)
        return png.getvalue()

    def _render(self) -> None:
        self.image.value = self.png()
