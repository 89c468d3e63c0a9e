# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: -all
#     notebook_metadata_filter: -jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 10 · Ablations: the paper's Tables 2 and 3
#
# **Paper §4.3.** Two ablation tables on MUSIC-AVQA, accuracy in %:
#
# * **Table 2**, the source-aware half: without SLT and SaSR the model scores 70.31; adding SLT
#   alone gives +1.85, SaSR alone +1.47, both +3.90 (74.21, the full model).
# * **Table 3**, the attention half: without spatial (SA) and temporal (TA) attention 70.17; with
#   both +1.03.
#
# Each block has a switch in `SaSRConfig` (`use_slt`, `use_sasr`, `use_spatial`, `use_temporal`)
# that does what DESIGN.md §3 says: no SLT means $f^s = f^r$ and both modalities get the raw
# tokens; no SaSR means $f^g = f^s$ and the tokens are not updated; no SA means exactly uniform
# weights over the 196 map cells; no TA exactly uniform weights over the $T$ segments. With SLT
# and SaSR both off, the model is essentially AVST.
#
# A 1-4 point difference is small next to seed-to-seed variation, so each variant is trained
# with several seeds (three in full mode) and reported as mean ± std. In fast mode every variant
# trains for seconds with one seed: the table shows the machinery, not a result.

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from IPython.display import display

from sasr_lite.device import fast_mode, pick_device
from sasr_lite.evaluate import evaluate_split
from sasr_lite.model import SaSRNet
from sasr_lite.notebook_utils import load_or_train, sizes, synthetic_benchmark
from sasr_lite.train import load_data

FAST = fast_mode()  # `make test` sets SASR_LITE_FAST=1; set FAST = False for the real ablation
DEVICE = pick_device()
SIZES = sizes(FAST)
DATA = synthetic_benchmark(SIZES.synth_size)
RUNS = SIZES.runs / "ablations"
data = load_data(DATA, splits=("train", "val", "test"))

# %% [markdown]
# ## The switches do what they say
# One forward pass of each variant on the same random batch, checked against the definitions:

# %%
# NBVAL_CHECK_OUTPUT
torch.manual_seed(0)
B, T, P = 2, 10, 196
config = SIZES.model.replace(num_answers=5)
maps = torch.rand(B, T, P, 512)
inputs = (torch.rand(B, T, 128), maps.mean(2), maps, torch.randint(0, config.question_vocab_size, (B, 14)))

out = SaSRNet(config.replace(use_spatial=False, use_temporal=False)).eval()(*inputs)
print("no SA: spatial weights exactly 1/P:", bool((out.spatial_attn == 1 / P).all()))
print("no TA: temporal weights exactly 1/T:", bool((out.temporal_attn_a == 1 / T).all() and (out.temporal_attn_v == 1 / T).all()))

model = SaSRNet(config.replace(use_slt=False, use_sasr=False)).eval()
out = model(*inputs)
print("no SLT: no self-attention map:", out.slt_attn_a is None)
print("no SaSR: tokens unchanged:", torch.equal(out.tokens_a[0], model.slt.tokens))

# %% [markdown]
# ## Train every variant
# Each variant × seed is a separate run under `notebooks/runs/<mode>/ablations/`, reused when the
# notebook runs again. All use the same data, recipe and evaluation (test split, Table 1 overall
# and Audio-Visual averages).

# %%
VARIANTS = {
    "full model": {},
    "no SLT": dict(use_slt=False),
    "no SaSR": dict(use_sasr=False),
    "no SLT, no SaSR": dict(use_slt=False, use_sasr=False),
    "no SA, no TA": dict(use_spatial=False, use_temporal=False),
}
if not FAST:  # the paper's Table 3 rows with one block each
    VARIANTS |= {"no SA": dict(use_spatial=False), "no TA": dict(use_temporal=False)}

results = []
for name, switches in VARIANTS.items():
    for seed in SIZES.ablation_seeds:
        run = RUNS / name.replace(", ", "+").replace(" ", "_") / f"seed{seed}"
        model, _ = load_or_train(run, data, SIZES.model.replace(**switches),
                                 SIZES.ablation.replace(seed=seed, device=str(DEVICE)))
        table = evaluate_split(model, data, "test", name=name, grade=False).table.iloc[0]
        results.append(dict(variant=name, seed=seed, overall=table[("Overall", "Avg")],
                            audio_visual=table[("Audio-Visual", "Avg")]))
results = pd.DataFrame(results)

# %% [markdown]
# ## Beside the paper's deltas
# Deltas are measured from each table's baseline row, as in the paper: Table 2 from "no SLT, no
# SaSR", Table 3 from "no SA, no TA". The paper's column is its Table 2/3 difference in accuracy.

# %%
means = results.groupby("variant", sort=False)["overall"].mean()


def delta_table(rows: dict[str, str], baseline: str, paper: dict[str, float]) -> pd.DataFrame:
    """rows: paper's row label -> our variant; deltas from the baseline variant."""
    variants = list(rows.values())
    return pd.DataFrame({
        "overall (ours)": means[variants].round(2).to_numpy(),
        "delta (ours)": (means[variants] - means[baseline]).round(2).to_numpy(),
        "delta (paper)": [paper.get(label, np.nan) for label in rows],
    }, index=list(rows))


table2 = delta_table({"neither (AVST-like)": "no SLT, no SaSR", "SLT only": "no SaSR", "SaSR only": "no SLT",
                      "SLT + SaSR (full)": "full model"}, "no SLT, no SaSR",
                     {"neither (AVST-like)": 0.0, "SLT only": 1.85, "SaSR only": 1.47, "SLT + SaSR (full)": 3.90})
table3_rows = {"neither": "no SA, no TA"} | ({"SA only": "no TA", "TA only": "no SA"} if not FAST else {})
table3 = delta_table(table3_rows | {"SA + TA (full)": "full model"}, "no SA, no TA",
                     {"neither": 0.0, "SA + TA (full)": 1.03})
summary = results.groupby("variant", sort=False)[["overall", "audio_visual"]].agg(["mean", "std"]).round(2)
print(f"seeds per variant: {len(SIZES.ablation_seeds)}; test questions: {len(data.records['test'])}")
display(table2)
display(table3)
summary

# %%
fig, ax = plt.subplots(figsize=(8, 3))
order = list(VARIANTS)
for k, name in enumerate(order):
    values = results.loc[results["variant"] == name, "overall"]
    ax.scatter(np.full(len(values), k), values, color="tab:blue")
    ax.hlines(values.mean(), k - 0.25, k + 0.25, color="k")
ax.set_xticks(range(len(order)), order, rotation=20, fontsize=8)
ax.set(ylabel="test accuracy (%)", title="ablations: each dot a seed, bars the mean")
plt.tight_layout()
plt.show()

# %% [markdown]
# Reading it honestly: a delta smaller than the spread of the dots is not a result. The paper
# reports single numbers without seeds or spreads; a reproduction should report both.
