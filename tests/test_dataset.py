"""AVQADataset and BatchLoader: values, negatives, determinism, missing videos, the benchmark."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sasr_lite.data.loader_speed import benchmark_data_path, random_records, write_random_store
from sasr_lite.data.vocab import question_lengths
from sasr_lite.data.dataset import ITEM_KEYS, MAP_NORM_KEYS, QUESTION_KEYS, VIDEO_KEYS, AVQADataset, BatchLoader
from sasr_lite.data.sources import multi_hot, weak_source_labels
from sasr_lite.data.vocab import build_vocabularies

N, T, P = 6, 4, 3


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return write_random_store(tmp_path_factory.mktemp("data") / "store", N, num_segments=T, num_positions=P)


@pytest.fixture(scope="module")
def records(store):
    return random_records(store.ids, questions_per_video=3, seed=0)


def make_dataset(store, records, **kwargs):
    question_vocab, answer_vocab = build_vocabularies(records)
    return AVQADataset(records, store, question_vocab, answer_vocab, **kwargs)


def neg_video_of(item, store):
    """Which store video the negative maps were taken from, found by value (all T segments)."""
    matches = [v for v in range(len(store)) if np.array_equal(item["visual_maps_neg"].numpy(), store.maps[v])]
    assert len(matches) == 1
    return matches[0]


def test_item_holds_the_records_features_and_encodings(store, records):
    ds = make_dataset(store, records)
    assert len(ds) == len(records)
    for i in (0, 7, len(ds) - 1):
        item, record = ds[i], records[i]
        assert tuple(item) == ITEM_KEYS
        v = store.index_of(record.video_id)
        assert item["video_index"].item() == v
        np.testing.assert_array_equal(item["audio"].numpy(), store.audio[v].astype(np.float32))
        np.testing.assert_array_equal(item["visual"].numpy(), store.visual[v].astype(np.float32))
        np.testing.assert_array_equal(item["visual_maps"].numpy(), store.maps[v].astype(np.float32))
        assert item["visual_maps"].dtype == torch.float32 and item["visual_maps_neg"].shape == (T, P, 512)
        assert item["question"].tolist() == ds.question_vocab.encode(record.tokens) and item["question"].shape == (14,)
        assert item["answer"].item() == ds.answer_vocab.tokens.index(record.answer)
        assert item["subtype"].item() == record.subtype_index and item["template"].item() == record.template.index
        assert item["question_id"].item() == record.question_id
        np.testing.assert_array_equal(item["sources"].numpy(), weak_source_labels(records)[record.video_id])


def test_negatives_never_come_from_the_same_video(store, records):
    ds = make_dataset(store, records)
    videos = np.arange(N)
    drawn = set()
    for epoch in range(6):
        ds.set_epoch(epoch)
        negatives = ds.negative_videos(videos)  # [N]
        assert negatives.shape == (N,) and (negatives != videos).all()
        drawn.update(negatives.tolist())
        for i in (0, 5, 11):  # an item's negative is its video's: one other video, all T segments
            assert neg_video_of(ds[i], store) == negatives[ds.video_index[i]]
    assert drawn == set(range(N))  # every video is used as a negative of some other


def test_negatives_repeat_by_seed_and_change_by_epoch(store, records):
    a, b, c = (make_dataset(store, records, seed=s) for s in (0, 0, 1))
    videos = np.arange(N)
    np.testing.assert_array_equal(a.negative_videos(videos), b.negative_videos(videos))
    assert (a.negative_videos(videos) != c.negative_videos(videos)).any()
    first = a.negative_videos(videos)
    a.set_epoch(1)
    assert (a.negative_videos(videos) != first).any()
    a.set_epoch(0)
    np.testing.assert_array_equal(a.negative_videos(videos), first)
    # a video's negative does not depend on which other videos are asked with it
    np.testing.assert_array_equal(a.negative_videos(videos[[4, 2]]), first[[4, 2]])


def test_batches_equal_the_items_they_gather(store, records):
    ds = make_dataset(store, records)
    loader = BatchLoader(ds, batch_size=5, seed=3, device="cpu")
    loader.set_epoch(2)
    assert ds.epoch == 2 and len(loader) == 4  # 18 items -> 5, 5, 5, 3
    seen = []
    for batch in loader:
        assert set(batch) == set(VIDEO_KEYS + QUESTION_KEYS + MAP_NORM_KEYS)
        assert batch["visual_maps_neg"].dtype == torch.float32
        videos = batch["video_index"].numpy()
        assert (np.diff(videos) > 0).all()  # each video once, in store order
        assert len(batch["audio"]) == len(videos) and len(batch["question"]) == len(batch["video_of"])
        # the LSTM's lengths stay on the host; the negatives' pooled vectors are the store's rows
        assert batch["question_len"].device.type == "cpu"
        assert batch["question_len"].tolist() == question_lengths(batch["question"]).tolist()
        neg = ds.negative_videos(videos)
        np.testing.assert_array_equal(batch["visual_neg"].numpy(), store.visual[neg].astype(np.float32))
        for row, qid in enumerate(batch["question_id"].tolist()):
            item = ds[[r.question_id for r in records].index(qid)]
            v = batch["video_of"][row].item()
            for key in ITEM_KEYS:
                rows = batch[key][v] if key in VIDEO_KEYS else batch[key][row]
                torch.testing.assert_close(rows, item[key], rtol=0, atol=0)
        seen += batch["question_id"].tolist()
    assert sorted(seen) == sorted(r.question_id for r in records)


def test_loader_shuffle_is_seeded_per_epoch(store, records):
    ds = make_dataset(store, records)

    def order(seed, epoch, shuffle=True):
        loader = BatchLoader(ds, batch_size=4, seed=seed, shuffle=shuffle, device="cpu")
        loader.set_epoch(epoch)
        return [i for b in loader.batch_indices() for i in sorted(b.tolist())]

    assert order(0, 0) == order(0, 0)
    assert order(0, 0) != order(0, 1) and order(0, 0) != order(1, 0)
    assert sorted(order(0, 3)) == list(range(len(ds)))
    assert order(0, 0, shuffle=False) == list(range(len(ds)))
    dropped = BatchLoader(ds, batch_size=4, drop_last=True, device="cpu")
    assert len(dropped) == 4 and all(len(b) == 4 for b in dropped.batch_indices())


def test_group_keeps_questions_of_a_video_together(store, records):
    ds = make_dataset(store, records)  # 3 questions per video

    def videos_per_batch(group):
        loader = BatchLoader(ds, batch_size=6, seed=0, device="cpu", group=group)
        counts = []
        for epoch in range(5):
            loader.set_epoch(epoch)
            batches = loader.batch_indices()
            assert sorted(np.concatenate(batches).tolist()) == list(range(len(ds)))  # each question once
            counts += [len(np.unique(ds.video_index[b])) for b in batches]
        return np.mean(counts)

    # a group of 3 (all of a video's questions) makes each batch of 6 hold exactly 2 videos
    assert videos_per_batch(3) == 2
    assert videos_per_batch(1) > 3  # a plain shuffle scatters them
    loader = BatchLoader(ds, batch_size=6, seed=0, device="cpu", group=3)
    assert loader.order().tolist() != BatchLoader(ds, batch_size=6, seed=1, device="cpu", group=3).order().tolist()
    with pytest.raises(ValueError, match="group must be >= 1, got 0"):
        BatchLoader(ds, batch_size=6, group=0)


def test_resident_store_gives_the_same_batches(store, records):
    ds = make_dataset(store, records)
    mapped = BatchLoader(ds, batch_size=7, seed=1, device="cpu")
    resident = BatchLoader(ds, batch_size=7, seed=1, device="cpu", resident=True)
    for a, b in zip(mapped, resident):
        for key in VIDEO_KEYS + QUESTION_KEYS:
            torch.testing.assert_close(a[key], b[key], rtol=0, atol=0)


def test_missing_videos_list_ids_or_skip_with_warning(store, records):
    extra = random_records(["ghost1", "ghost2"], questions_per_video=2, seed=5)
    question_vocab, answer_vocab = build_vocabularies(records)
    with pytest.raises(ValueError, match=r"2 videos .* not in the feature store .*\['ghost1', 'ghost2'\]"):
        AVQADataset(records + extra, store, question_vocab, answer_vocab)
    with pytest.warns(UserWarning, match="skipping 4 questions about 2 videos missing"):
        ds = AVQADataset(records + extra, store, question_vocab, answer_vocab, skip_missing=True)
    assert len(ds) == len(records)


def test_unknown_answers_encode_to_minus_one_and_are_counted(store, records):
    question_vocab, answer_vocab = build_vocabularies(records[:4])
    unknown = sum(r.answer not in answer_vocab for r in records)
    assert unknown > 0
    with pytest.warns(UserWarning, match=f"{unknown} of {len(records)} answers are not in the answer vocabulary"):
        ds = AVQADataset(records, store, question_vocab, answer_vocab)
    assert ds.num_unknown_answers == unknown and (ds.answers == -1).sum() == unknown


def test_source_labels_given_or_missing(store, records):
    labels = {store.ids[0]: multi_hot(["cello"])}
    with pytest.warns(UserWarning, match=f"{N - 1} videos have no source label"):
        ds = make_dataset(store, records, source_labels=labels)
    np.testing.assert_array_equal(ds.sources[0], multi_hot(["cello"]))
    assert not ds.sources[1:].any()


def test_dataset_argument_errors(tmp_path, records):
    one = write_random_store(tmp_path / "one", 1, num_segments=T, num_positions=P)
    question_vocab, answer_vocab = build_vocabularies(records)
    with pytest.raises(ValueError, match="negatives need at least 2 videos"):
        AVQADataset([r for r in records if r.video_id == one.ids[0]], one, question_vocab, answer_vocab)
    with pytest.raises(ValueError, match="record list is empty"):
        AVQADataset([], one, question_vocab, answer_vocab)


def test_benchmark_reports_every_path(store):
    result = benchmark_data_path(store, batch_size=4, num_batches=2, device="cpu", resident=True)
    assert result["shapes"] == {"N": N, "T": T, "P": P, "B": 4}
    paths = {"naive", "dataset", "batch_loader", "batch_loader_resident"}
    assert set(result["samples_per_s"]) == paths
    for name in paths:
        assert result["samples_per_s"][name] == pytest.approx(4 * result["batches_per_s"][name])
