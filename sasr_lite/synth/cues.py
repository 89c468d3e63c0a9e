"""The cues of the synthetic benchmark: named knobs for what a pooled or time-averaged vector gives away.

Without attention SaSR-Net sees the spatial mean of the maps (no SA: w_t,p = 1/P, so
f_v,t^attn = (1/P) sum_p X_t,p, the pooled vector) and the mean over segments (no TA:
a_t = 1/T). A block is needed only for the questions those means cannot answer; a cue that
lets the mean answer them makes the block redundant by construction. Each knob below switches
one such cue; `Cues()` (all defaults) is the benchmark as it always was, bit for bit
(preset "classic"), and `LESSON_CUES` switches the pooled shortcuts off (preset "lesson").
`sasr_lite.diagnose` measures, per question type, how much a probe on the means alone answers
with and without each cue.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields


@dataclass(frozen=True)
class Cues:
    """What the synthetic features and scenes give away to pooled and time-averaged vectors."""

    position_in_pooled: bool = True
    """Where an instrument stands survives spatial pooling.

    On: every column multiplies the channels by a fixed gain g_col (features.py), so a cell holds
    V_c * g_col: class and column bound in one product, and the pooled vector
    (1/P) sum_p X_t,p = const + sum_i |box_i| (V_ci - B) * g_col_i / P still says which class
    stands where. The Location types are then answerable without SA: SA is redundant.
    Off: the column adds a class-independent code k_col >= 0 instead, X_t,p = content_p + k_col. The codes of
    all P cells pool to the same constant in every video, and the pooled vector holds the classes
    without their places; only a weighted sum that prefers one instrument's cells,
    f_v,t^attn = sum_p w_t,p X_t,p with w from the audio (3.4), carries k_col of that
    instrument: SA is necessary for "where is the loudest", "is the first on the left", ...
    """

    playing_in_pooled: bool = True
    """A playing instrument looks different (brighter, with a motion pattern).

    On: its cells become PLAY_GAIN V + motion while it plays, so the pooled map already says
    which class plays in each segment; the audio-visual match that audio-guided SA (3.4) makes is
    then given away by vision alone (redundant for the sounding-instrument questions).
    Off: playing and idle instruments look the same; who plays is in the audio only, and binding
    a sound to one of the visible instruments needs the audio-guided weights over the cells
    (SA) and the source-aware tokens (SLT/SaSR) that match timbres to looks.
    """

    silent_visible: bool = True
    """Some visible instruments never play (12% of them).

    On: what is seen differs from what is heard, so "how many instruments are sounding" and "is
    the <Object> playing throughout" need the audio-visual match per source (SaSR's tokens read
    each modality's segments and L_source ties them to classes). Off: every visible instrument
    plays at some point, and the pooled visual classes alone answer the sounding counts.
    """

    offscreen: bool = True
    """Some videos have an instrument that is heard but not seen (35% of them).

    On: "is this sound from the instrument in the video" needs the heard classes compared with
    the seen ones (source tokens per modality: SLT and SaSR, 3.2-3.3). Off: the answer is always
    "yes", and that template teaches nothing about the audio-visual match.
    """

    order_in_time_average: bool = False
    """Who comes in first can be read from how long each instrument plays.

    Off (as always): an instrument that opens the piece usually hands over and leaves, so the
    first to come in is not the one heard longest, and the time average (1/T) sum_t a_t does not
    give the order of entries: the Temporal types need question-guided TA (3.5).
    On: every instrument plays from its entry to the end, so the earlier an entry the larger its
    share of the time average: TA is redundant for "which comes in first/second/...".
    """

    several_at_once: bool = True
    """Several instruments may sound in the same segment.

    On (as always): in most segments two or more sources play, so the audio a_t is a mix, and the
    audio-guided weights w_t,p of SA (3.4) spread over every sounding instrument's cells:
    f_v,t^attn holds the mean of their places, and "where is the first/loudest" has no single
    place to read. Off: the sources take turns (in each block one of those that would play is
    heard), so a_t is one instrument's sound, w_t can peak on that instrument's cells, and
    f_v,t^attn carries its place (with ``position_in_pooled`` off, only SA can read it). TA (3.5)
    then picks the segment a question is about ("first", "last"), so the place of the first or
    last sounding instrument needs both SA and TA.
    """

    time_in_features: bool = False
    """When in the piece a segment lies can be read from its features.

    Off (as always): nothing in a segment's audio or maps says when it happens. SaSR-Net has no
    positional encoding: projecting, SLT (3.2), SaSR (3.3) and SA (3.4) treat each segment alike
    and TA's f^ta = sum_t w_t F_t (3.5) is a weighted sum, so reordering the T segments reorders
    every per-segment feature and changes no answer. "First", "second", "before" and "after" are
    then unreadable by any block, and the Temporal types stay near their answer prior with or
    without TA.
    On: the audio and every map cell carry a slow drift, a code that moves from one fixed pattern
    to another over the piece (as a room's light and sound change during a recording), so a
    segment's content says roughly when it is. Question-guided TA can then weight the early or
    late segments a question asks about; the time average (1/T) sum_t mixes them, so TA is needed
    for the Temporal types.
    """

    def to_dict(self) -> dict[str, bool]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "Cues":
        """Cues from a dict (synth.json's "cues"); ValueError naming unknown or non-bool knobs."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        bad = sorted(k for k, v in values.items() if k in known and not isinstance(v, bool))
        if unknown or bad:
            raise ValueError(f"cues: unknown knobs {unknown} or non-boolean values for {bad}; knobs are {sorted(known)}")
        return cls(**values)

    def replace(self, **changes: bool) -> "Cues":
        """These cues with ``changes`` (checked like `from_dict`)."""
        return Cues.from_dict(self.to_dict() | changes)


CLASSIC_CUES = Cues()
# the pooled shortcuts off and time readable from content: SA is needed for location, TA for
# temporal order (diagnosis in notebook 10). several_at_once stays on: with it off, notebook 10's
# experiments (3 seeds each) showed neither the SA drop on location nor the TA drop on temporal
# questions either (no SA -0.7 [-2.7, +1.3], no TA +0.6 [-1.1, +2.2] points)
LESSON_CUES = Cues(position_in_pooled=False, playing_in_pooled=False, time_in_features=True)
CUE_PRESETS: dict[str, Cues] = {"classic": CLASSIC_CUES, "lesson": LESSON_CUES}
KNOBS: tuple[str, ...] = tuple(f.name for f in fields(Cues))


def resolve_cues(cues: Cues | str | dict) -> Cues:
    """A `Cues`, a preset name ("classic", "lesson") or a dict of knobs -> `Cues`."""
    if isinstance(cues, Cues):
        return cues
    if isinstance(cues, str):
        if cues not in CUE_PRESETS:
            raise ValueError(f"unknown cue preset {cues!r}; presets are {sorted(CUE_PRESETS)}")
        return CUE_PRESETS[cues]
    if isinstance(cues, dict):
        return Cues.from_dict(cues)
    raise ValueError(f"cues must be a Cues, a preset name or a dict of knobs, got {type(cues).__name__}")
