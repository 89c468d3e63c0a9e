"""AVQADataset and BatchLoader: values, negatives, determinism, missing videos, the benchmark."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sasr_lite.data.benchmark import benchmark_data_path, random_records, write_random_store
from sasr_lite.data.dataset import ITEM_KEYS, AVQADataset, BatchLoader
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


def neg_videos_of(item, store):
    """Which store video each negative segment was taken from, found by value."""
    found = []
    for t in range(T):
        matches = [v for v in range(len(store)) if np.array_equal(item["visual_maps_neg"][t].numpy(), store.maps[v, t])]
        assert len(matches) == 1
        found.append(matches[0])
    return found


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
    drawn = set()
    for epoch in range(4):
        ds.set_epoch(epoch)
        negatives = ds.negative_videos(np.arange(len(ds)))  # [R, T]
        assert (negatives != ds.video_index[:, None]).all()
        drawn.update(negatives.ravel().tolist())
        for i in (0, 5, 11):  # the maps served are those of the drawn video at the same t
            assert neg_videos_of(ds[i], store) == negatives[i].tolist()
    assert drawn == set(range(N))  # every video is used as a negative of some other


def test_negatives_repeat_by_seed_and_change_by_epoch(store, records):
    a, b, c = (make_dataset(store, records, seed=s) for s in (0, 0, 1))
    items = np.arange(len(a))
    np.testing.assert_array_equal(a.negative_videos(items), b.negative_videos(items))
    assert (a.negative_videos(items) != c.negative_videos(items)).any()
    first = a.negative_videos(items)
    a.set_epoch(1)
    assert (a.negative_videos(items) != first).any()
    a.set_epoch(0)
    np.testing.assert_array_equal(a.negative_videos(items), first)
    # an item's negatives do not depend on which other items are asked with it
    np.testing.assert_array_equal(a.negative_videos(items[[9, 2]]), first[[9, 2]])


def test_batches_equal_the_items_they_gather(store, records):
    ds = make_dataset(store, records)
    loader = BatchLoader(ds, batch_size=5, seed=3, device="cpu")
    loader.set_epoch(2)
    assert ds.epoch == 2 and len(loader) == 4  # 18 items -> 5, 5, 5, 3
    seen = []
    for batch in loader:
        assert tuple(batch) == ITEM_KEYS and batch["visual_maps_neg"].dtype == torch.float32
        assert (np.diff(batch["video_index"].numpy()) >= 0).all()  # ordered by video
        for row, qid in enumerate(batch["question_id"].tolist()):
            item = ds[[r.question_id for r in records].index(qid)]
            for key in ITEM_KEYS:
                torch.testing.assert_close(batch[key][row], item[key], rtol=0, atol=0)
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


def test_resident_store_gives_the_same_batches(store, records):
    ds = make_dataset(store, records)
    mapped = BatchLoader(ds, batch_size=7, seed=1, device="cpu")
    resident = BatchLoader(ds, batch_size=7, seed=1, device="cpu", resident=True)
    for a, b in zip(mapped, resident):
        for key in ITEM_KEYS:
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
