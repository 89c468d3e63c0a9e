"""Records + feature store -> tensors: a per-item `AVQADataset` and the fast `BatchLoader`.

Negatives (for L_match): for each video, the maps of one *different* video of the store, all T
segments of it (as AVST pairs a clip with another clip). Taking each segment from a different
video instead would let the model spot a negative by its jumps in time rather than by its
audio-visual mismatch. The choice is a hash of (seed, epoch, video), so it is the same whether
an item is read alone or in a batch, in any order, and `set_epoch(e)` draws new ones
reproducibly. The draw is `v + 1 + h % (N - 1)` modulo N: uniform over the other N - 1 videos
and never the video itself.

Batches are per question, but the video path of SaSR-Net never sees the question, so a batch
carries each of its videos once (``video_of`` maps questions to them) and `BatchLoader` can keep
several questions of a video in one batch (``group``): the video path then runs once for them.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from collections.abc import Iterator, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from sasr_lite.data.annotations import QARecord
from sasr_lite.data.datasets import benchmark_of
from sasr_lite.data.map_norms import MapNorms
from sasr_lite.data.store import MODALITIES, FeatureStore
from sasr_lite.data.vocab import UNKNOWN_INDEX, Vocabulary, question_lengths
from sasr_lite.device import pick_device

# keys of an item (one question)
ITEM_KEYS = (
    "audio", "visual", "visual_maps", "visual_maps_neg", "visual_neg", "question", "answer", "sources",
    "subtype", "template", "question_id", "video_index",
)
# keys of a BatchLoader batch: one row per video, then one row per question
VIDEO_KEYS = ("audio", "visual", "visual_maps", "visual_maps_neg", "visual_neg", "sources", "video_index")
MAP_NORM_KEYS = ("visual_map_norms", "visual_map_norms_neg")  # added where the loader keeps them (CPU, float32)
QUESTION_KEYS = ("question", "answer", "subtype", "template", "question_id", "video_of", "question_len")
CHOICE_KEYS = ("choices", "choice_len")  # added for multiple-choice benchmarks (AVQA-Yang)


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """A well-mixed 64-bit hash of each element (SplitMix64's finaliser); wraps on purpose."""
    with np.errstate(over="ignore"):
        z = x.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def _hash(*keys: np.ndarray | int) -> np.ndarray:
    """Hash of a tuple of non-negative integer arrays (broadcast together)."""
    h = np.zeros((), dtype=np.uint64)
    for key in keys:
        h = _splitmix64(h ^ np.asarray(key, dtype=np.uint64))
    return h


class AVQADataset(Dataset):
    """One item per question: features of its video, negatives, encoded question and answer.

    An item (`ITEM_KEYS`): ``audio`` [T,128], ``visual`` [T,512], ``visual_maps`` [T,P,512],
    ``visual_maps_neg`` [T,P,512] and ``visual_neg`` [T,512] (the negative video's maps and pooled
    vectors; all float32); ``question`` [L] (14 on MUSIC-AVQA), ``answer`` (-1 if unknown),
    ``sources`` [C] float (C = 22), ``subtype`` (index in the benchmark's question types),
    ``template`` (index in taxonomy.TEMPLATES; -1 on AVQA-Yang), ``question_id``, ``video_index``
    (row in ``store``); on a multiple-choice benchmark also ``choices`` [K, L_c] (the candidates'
    word indices) and ``choice_len`` [K], with ``answer`` the right candidate's position.

    ``source_labels``: {video_id: float [C]} (e.g. `weak_source_labels(train_records)` or
    `load_source_labels(file)`); None derives weak labels from ``records`` themselves (by their
    benchmark's rule, `Benchmark.weak_source_labels`), which is
    the paper's rule for the train split (for val/test they are only a loss target, never an
    input). A record whose video is not in ``store`` raises ValueError listing the first ids,
    or with ``skip_missing=True`` is dropped with a warning giving the count. Answers outside
    ``answer_vocab`` encode to -1 (`num_unknown_answers`; evaluation counts them as wrong).
    """

    def __init__(
        self,
        records: Sequence[QARecord],
        store: FeatureStore,
        question_vocab: Vocabulary,
        answer_vocab: Vocabulary,
        source_labels: dict[str, np.ndarray] | None = None,
        seed: int = 0,
        skip_missing: bool = False,
    ):
        records = list(records)
        absent = list(dict.fromkeys(r.video_id for r in records if r.video_id not in store))
        if absent:
            if not skip_missing:
                raise ValueError(
                    f"{len(absent)} videos referenced by the annotations are not in the feature store "
                    f"{store.path} (first ids: {absent[:5]}); build the store from the annotation files it "
                    "is used with (sasr-lite build-store FEATURES OUT --annotations FILE ...), or, in Python, "
                    "give AVQADataset skip_missing=True to drop their questions"
                )
            kept = [r for r in records if r.video_id in store]
            warnings.warn(
                f"skipping {len(records) - len(kept)} questions about {len(absent)} videos missing "
                f"from the feature store {store.path}"
            )
            records = kept
        if not records:
            raise ValueError(f"no questions to serve: the record list is empty (store {store.path})")
        if len(store) < 2:
            raise ValueError(f"negatives need at least 2 videos in the feature store {store.path}, it has {len(store)}")

        self.records = records
        self.store = store
        self.question_vocab = question_vocab
        self.answer_vocab = answer_vocab
        self.seed = seed
        self.epoch = 0
        # per-record arrays, so that a batch is a handful of fancy-index reads
        self.video_index = np.array([store.index_of(r.video_id) for r in records], dtype=np.int64)
        self.questions = np.array([question_vocab.encode(r.tokens) for r in records], dtype=np.int64)
        self.question_len = question_lengths(torch.from_numpy(self.questions)).numpy()  # [N] words before <pad>
        self.answers = np.array(answer_vocab.encode(r.answer for r in records), dtype=np.int64)
        self.subtypes = np.array([r.subtype_index for r in records], dtype=np.int64)
        self.templates = np.array([r.template_index for r in records], dtype=np.int64)  # -1: no templates
        self.question_ids = np.array([r.question_id for r in records], dtype=np.int64)
        self.benchmark = benchmark_of(records)
        # multiple choice: each question's candidates, read by the question encoder
        self.choices = self.choice_len = None
        if self.benchmark.answer_format == "multiple_choice":
            self.choices = np.array([[question_vocab.encode(c) for c in r.choice_tokens] for r in records],
                                    dtype=np.int64)  # [N, K, L_c]
            self.choice_len = question_lengths(torch.from_numpy(self.choices)).numpy()  # [N, K]

        unknown = Counter(r.answer for r, a in zip(records, self.answers) if a == UNKNOWN_INDEX)
        self.num_unknown_answers = sum(unknown.values())
        if unknown:
            warnings.warn(
                f"{self.num_unknown_answers} of {len(records)} answers are not in the answer vocabulary "
                f"(e.g. {sorted(unknown)[:5]}); they encode to -1 and count as wrong"
            )

        labels = self.benchmark.weak_source_labels(records) if source_labels is None else source_labels
        num_classes = len(self.benchmark.source_classes)
        self.sources = np.zeros((len(store), num_classes), dtype=np.float32)  # [N, C] by store row
        unlabelled = 0
        for video_id in dict.fromkeys(r.video_id for r in records):
            if video_id in labels:
                self.sources[store.index_of(video_id)] = labels[video_id]
            else:
                unlabelled += 1
        if unlabelled:
            warnings.warn(f"{unlabelled} videos have no source label; their source targets are all zero")

    def set_epoch(self, epoch: int) -> None:
        """Draw this epoch's negatives (deterministic in (seed, epoch))."""
        self.epoch = int(epoch)

    def negative_videos(self, videos: np.ndarray) -> np.ndarray:
        """Store rows of the negatives of the store rows ``videos`` [V]: int64 [V], never the video itself."""
        videos = np.asarray(videos, dtype=np.int64)
        N = len(self.store)
        h = _hash(self.seed % 2**64, self.epoch % 2**64, videos)  # [V]
        return (videos + 1 + (h % np.uint64(N - 1)).astype(np.int64)) % N

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        """Float32 features of one question (the per-item path; `BatchLoader` is the fast one)."""
        if not -len(self) <= i < len(self):
            raise IndexError(f"item {i} out of range for {len(self)} questions")
        i = int(i) % len(self)
        v = self.video_index[i]
        neg = self.negative_videos(np.array([v]))[0]
        store = self.store

        def f32(a: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(np.asarray(a, dtype=np.float32))

        return {
            "audio": f32(store.audio[v]),  # [T, 128]
            "visual": f32(store.visual[v]),  # [T, 512]
            "visual_maps": f32(store.maps[v]),  # [T, P, 512]
            "visual_maps_neg": f32(store.maps[neg]),  # [T, P, 512]
            "visual_neg": f32(store.visual[neg]),  # [T, 512] pooled as "visual" is
            "question": torch.from_numpy(self.questions[i].copy()),  # [14]
            "answer": torch.tensor(self.answers[i]),
            "sources": torch.from_numpy(self.sources[v].copy()),  # [22]
            "subtype": torch.tensor(self.subtypes[i]),
            "template": torch.tensor(self.templates[i]),
            "question_id": torch.tensor(self.question_ids[i]),
            "video_index": torch.tensor(v),
            **({} if self.choices is None else {
                "choices": torch.from_numpy(self.choices[i].copy()),  # [K, L_c]
                "choice_len": torch.from_numpy(self.choice_len[i].copy()),  # [K]
            }),
        }


class BatchLoader:
    """Batches (`sasr_lite.data.batch.Batch`) of `AVQADataset` questions, each gathered with a few
    reads of the store's arrays.

    A batch holds its B questions (``question``, ``answer``, ``subtype``, ``template``,
    ``question_id``, ``video_of`` and ``question_len`` [B]) and, once each, the V videos they are
    about (``audio``, ``visual``, ``visual_maps``, ``visual_maps_neg``, ``visual_neg``, ``sources`` and
    ``video_index`` [V], in store order so every read is one sorted numpy fancy index of the
    memmap). ``video_of[b]`` is question b's video row: pass it to `SaSRNet` and the video path
    runs once per video. For a GPU the batch stays float16 until it is on ``device`` (half the bytes
    to move), which converts it to float32 (the maps to ``maps_dtype``); on the CPU each row is read
    straight into that type (the maps in bf16 when a CPU trains in bf16).

    ``group``: when shuffling, keep up to ``group`` questions of a video next to each other, so a
    batch of B questions needs about B / group videos (the video path, not the question, is
    where the time goes). 1 is a plain shuffle of the questions.

    ``resident=True`` copies the whole store to ``device`` once (float16; MUSIC-AVQA is about
    19 GB, which fits one large GPU) and gathers there, so on CUDA data costs almost nothing.
    On CPU it loads the store into RAM, which only suits small stores.

    On the CPU in float32 a batch also carries ``visual_map_norms`` and ``visual_map_norms_neg``
    [V, T, P]: the norms |X_t,p| that the cosine rule of spatial attention divides by, computed
    the first time a video is read and then kept (`MapNorms`), so a step does not re-read the maps
    for them.

    Call `set_epoch(e)` at the start of each epoch: it reshuffles and redraws negatives.
    """

    def __init__(
        self,
        dataset: AVQADataset,
        batch_size: int,
        shuffle: bool = True,
        seed: int = 0,
        device: torch.device | str | None = None,
        drop_last: bool = False,
        resident: bool = False,
        group: int = 1,
        maps_dtype: torch.dtype = torch.float32,
    ):
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if group < 1:
            raise ValueError(f"group must be >= 1, got {group}")
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.group = group
        self.maps_dtype = maps_dtype
        self.device = pick_device() if device is None else torch.device(device)
        self.drop_last = drop_last
        self.epoch = 0
        store = dataset.store
        self._resident = None
        if resident and self.device.type == "cuda":
            need = sum(getattr(store, name).nbytes for name in MODALITIES)
            free, _ = torch.cuda.mem_get_info(self.device)
            if need > free:
                raise MemoryError(f"a resident store needs {need / 1e9:.1f} GB but {self.device} has "
                                  f"{free / 1e9:.1f} GB free; use resident=False (read from the memmap)")
        if resident:
            self._resident = {name: _copy_to_device(getattr(store, name), self.device) for name in MODALITIES}
        # only where measured (memory-mapped store, CPU, float32): the GPU and resident paths stay as
        # they were (kept norms not timed there), and bf16 maps are normed in the model
        keep_norms = self._resident is None and self.device.type == "cpu" and maps_dtype == torch.float32
        self._map_norms = MapNorms(len(store), store.T, store.P) if keep_norms else None

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)
        self.dataset.set_epoch(epoch)

    def __len__(self) -> int:
        n, b = len(self.dataset), self.batch_size
        return n // b if self.drop_last else math.ceil(n / b)

    def order(self) -> np.ndarray:
        """This epoch's order of the questions (a seeded shuffle, or file order)."""
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        rng = np.random.default_rng([self.seed, self.epoch])
        order = rng.permutation(n)
        if self.group == 1:
            return order
        # each video's questions (already in random order) cut into chunks of `group`; the
        # chunks are shuffled as units
        by_video = order[np.argsort(self.dataset.video_index[order], kind="stable")]
        video = self.dataset.video_index[by_video]
        run_start = np.flatnonzero(np.r_[True, video[1:] != video[:-1]])
        rank = np.arange(n) - np.repeat(run_start, np.diff(np.r_[run_start, n]))  # position within its video
        chunk = np.cumsum(np.r_[True, (video[1:] != video[:-1]) | (rank[1:] % self.group == 0)]) - 1
        chunk_order = rng.permutation(chunk[-1] + 1)
        return by_video[np.argsort(chunk_order[chunk], kind="stable")]

    def batch_indices(self) -> list[np.ndarray]:
        """This epoch's question indices, one array per batch."""
        order = self.order()
        return [order[s : s + self.batch_size] for s in range(0, len(self) * self.batch_size, self.batch_size)]

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        for items in self.batch_indices():
            yield self.gather(items)

    def gather(self, items: np.ndarray) -> dict[str, torch.Tensor]:
        """The batch of questions ``items`` on the device (keys: VIDEO_KEYS, QUESTION_KEYS and, where
        kept, MAP_NORM_KEYS)."""
        ds, device = self.dataset, self.device
        items = np.asarray(items, dtype=np.int64)
        videos, video_of = np.unique(ds.video_index[items], return_inverse=True)  # [V] ascending, [B]
        neg = ds.negative_videos(videos)  # [V]
        if self._resident is not None:
            feats = self._gather_resident(videos, neg)
        else:
            feats = self._gather_memmap(videos, neg)
        if self._map_norms is not None:
            feats["visual_map_norms"] = self._map_norms.of(videos, feats["visual_maps"])  # [V, T, P]
            feats["visual_map_norms_neg"] = self._map_norms.of(neg, feats["visual_maps_neg"])  # [V, T, P]

        def long(a: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(np.ascontiguousarray(a, dtype=np.int64)).to(device)

        return {
            # float16 -> float32 (the maps: maps_dtype) on the device (a no-op for what the CPU path
            # already read in that type)
            **{k: t.to(device).to(self._dtype(k)) for k, t in feats.items()},
            "sources": torch.from_numpy(ds.sources[videos]).to(device),  # [V, 22]
            "video_index": long(videos),  # [V] store rows
            "question": long(ds.questions[items]),  # [B, 14]
            "answer": long(ds.answers[items]),  # [B]
            "subtype": long(ds.subtypes[items]),
            "template": long(ds.templates[items]),
            "question_id": long(ds.question_ids[items]),
            "video_of": long(video_of),  # [B] rows of the video tensors
            # [B] on the host, where the question LSTM's packing needs it (no copy back from a GPU)
            "question_len": torch.from_numpy(ds.question_len[items]),
            **({} if ds.choices is None else {
                "choices": long(ds.choices[items]),  # [B, K, L_c]
                "choice_len": torch.from_numpy(ds.choice_len[items]),  # [B, K] on the host, as question_len
            }),
        }

    def _dtype(self, key: str) -> torch.dtype:
        return self.maps_dtype if key.startswith("visual_maps") else torch.float32

    def _gather_memmap(self, videos: np.ndarray, neg: np.ndarray) -> dict[str, torch.Tensor]:
        """Video tensors on the CPU: float16 for a GPU (half the bytes to move), else already in
        their training type.

        ``videos`` is ascending, so the positives are read in file order. The negatives are read
        straight into their slots: sorting them would need one more reordering pass over the
        batch, which costs more than it saves when the store sits in the page cache (docs/design.md
        section 5.1 assumes it does).
        """
        store = self.dataset.store
        if self.device.type != "cpu":
            return {
                "audio": torch.from_numpy(store.audio[videos]),  # [V, T, 128]
                "visual": torch.from_numpy(store.visual[videos]),  # [V, T, 512]
                "visual_maps": torch.from_numpy(store.maps[videos]),  # [V, T, P, 512]
                "visual_maps_neg": torch.from_numpy(store.maps[neg]),  # [V, T, P, 512]
                "visual_neg": torch.from_numpy(store.visual[neg]),  # [V, T, 512]
            }
        return {
            "audio": _read_rows(store.audio, videos, self._dtype("audio")),
            "visual": _read_rows(store.visual, videos, self._dtype("visual")),
            "visual_maps": _read_rows(store.maps, videos, self._dtype("visual_maps")),
            "visual_maps_neg": _read_rows(store.maps, neg, self._dtype("visual_maps_neg")),
            "visual_neg": _read_rows(store.visual, neg, self._dtype("visual_neg")),
        }

    def _gather_resident(self, videos: np.ndarray, neg: np.ndarray) -> dict[str, torch.Tensor]:
        res, device = self._resident, self.device
        videos_t, neg_t = torch.from_numpy(videos).to(device), torch.from_numpy(neg).to(device)
        return {
            "audio": res["audio"][videos_t],
            "visual": res["visual"][videos_t],
            "visual_maps": res["maps"][videos_t],
            "visual_maps_neg": res["maps"][neg_t],
            "visual_neg": res["visual"][neg_t],
        }


def _read_rows(array: np.ndarray, rows: np.ndarray, dtype: torch.dtype) -> torch.Tensor:
    """``array[rows]`` as a CPU tensor of ``dtype``, each row read and converted in one pass.

    A numpy fancy index followed by a conversion passes over the batch twice and writes it once
    more: for the maps of a lesson batch that took 6-7 ms, against 2 ms here. Values are the same:
    float16 -> float32 is exact.
    """
    out = torch.empty((len(rows),) + array.shape[1:], dtype=dtype)
    with warnings.catch_warnings():  # the store is a read-only memmap, and it is only read here
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        source = torch.from_numpy(array)
    for slot, row in enumerate(rows.tolist()):
        out[slot].copy_(source[row])
    return out


def _copy_to_device(array: np.ndarray, device: torch.device, chunk: int = 64) -> torch.Tensor:
    """A float16 memmap as one tensor on ``device``, copied ``chunk`` videos at a time."""
    out = torch.empty(array.shape, dtype=torch.float16, device=device)
    for s in range(0, array.shape[0], chunk):
        out[s : s + chunk] = torch.from_numpy(np.array(array[s : s + chunk]))
    return out
