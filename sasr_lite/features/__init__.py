"""Features from real media: the reference VGGish and ResNet-18 extractors of MUSIC-AVQA.

Modules: `media` (decode 1 fps frames and 16 kHz mono audio), `vggish` (log-mel front end,
VGG network, PCA post-processing), `resnet` (ResNet-18 with a stride-1 layer4: 512x14x14 maps),
`weights` (SHA-256-checked local checkpoints), `download` (network fetches with clear failures),
`extract` (the `sasr-lite extract` subcommand writing the official per-video layout).
"""
