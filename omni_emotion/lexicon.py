"""The project's own emotion vocabulary: words, their family, valence, arousal and common word forms.

Written for omni-emotion from widely taught psychology facts: the basic-emotion families (Ekman's six plus
contempt), the valence/arousal circumplex (Russell), and everyday English word forms. Valence runs from -1
(very unpleasant) to +1 (very pleasant); arousal from 0 (sleepy, still) to 1 (highly activated). The numbers
are coarse placements on that circumplex, good for ranking and for combining evidence, not norms from a
rating study. Nuanced states (nervous, embarrassed, relieved, sarcastic, helpless, grateful, ...) belong to
the family whose core feeling they share.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "FAMILIES",
    "LEXICON",
    "EmotionWord",
    "Family",
    "family_words",
    "lookup",
    "normalize",
]


@dataclass(frozen=True)
class Family:
    """One emotion family: its key, a readable name and a display colour (hex RGB) for the UI."""

    name: str
    display: str
    colour: str


@dataclass(frozen=True)
class EmotionWord:
    """One emotion word. ``forms`` are other spellings or parts of speech that mean the same state."""

    word: str
    family: str
    valence: float  # -1 .. 1
    arousal: float  # 0 .. 1
    forms: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"unknown family {self.family!r} for {self.word!r}; allowed: {sorted(FAMILIES)}")
        if not -1.0 <= self.valence <= 1.0:
            raise ValueError(f"valence of {self.word!r} must be in [-1, 1], got {self.valence}")
        if not 0.0 <= self.arousal <= 1.0:
            raise ValueError(f"arousal of {self.word!r} must be in [0, 1], got {self.arousal}")


FAMILIES: dict[str, Family] = {
    "joy": Family("joy", "joy", "#f2b705"),
    "sadness": Family("sadness", "sadness", "#3b6fb6"),
    "anger": Family("anger", "anger", "#d7263d"),
    "fear": Family("fear", "fear", "#7b4fa0"),
    "surprise": Family("surprise", "surprise", "#f08a24"),
    "disgust": Family("disgust", "disgust", "#4c9a2a"),
    "contempt": Family("contempt", "contempt", "#8c6a4f"),
    "neutral": Family("neutral", "neutral / calm", "#8e9aa6"),
}


def _w(word: str, family: str, valence: float, arousal: float, forms: str = "") -> EmotionWord:
    return EmotionWord(word, family, valence, arousal, tuple(forms.split(",")) if forms else ())


# fmt: off
LEXICON: tuple[EmotionWord, ...] = (
    # --- joy: pleasant states, from quiet contentment to high excitement
    _w("happy", "joy", 0.8, 0.55, "happiness,happily,happier,happiest"),
    _w("joyful", "joy", 0.9, 0.65, "joy,joyfully,joyous,joyously,joyfulness"),
    _w("cheerful", "joy", 0.75, 0.55, "cheery,cheerfully,cheerfulness"),
    _w("delighted", "joy", 0.85, 0.65, "delight,delightful,delightedly"),
    _w("glad", "joy", 0.65, 0.45, "gladly,gladness"),
    _w("pleased", "joy", 0.6, 0.4, "pleasure,pleasing"),
    _w("content", "joy", 0.55, 0.2, "contented,contentment"),
    _w("satisfied", "joy", 0.55, 0.3, "satisfaction,satisfying"),
    _w("excited", "joy", 0.7, 0.9, "excitement,exciting,excitedly"),
    _w("enthusiastic", "joy", 0.75, 0.8, "enthusiasm,enthusiastically"),
    _w("elated", "joy", 0.9, 0.85, "elation"),
    _w("ecstatic", "joy", 0.95, 0.95, "ecstasy"),
    _w("euphoric", "joy", 0.9, 0.9, "euphoria"),
    _w("thrilled", "joy", 0.85, 0.9, "thrill,thrilling"),
    _w("amused", "joy", 0.7, 0.6, "amusement,amusing,amusedly"),
    _w("playful", "joy", 0.65, 0.65, "playfully,playfulness"),
    _w("proud", "joy", 0.7, 0.6, "pride,proudly"),
    _w("grateful", "joy", 0.75, 0.4, "gratitude,gratefully,gratefulness"),
    _w("thankful", "joy", 0.7, 0.35, "thankfulness,thankfully"),
    _w("relieved", "joy", 0.6, 0.25, "relief"),
    _w("hopeful", "joy", 0.6, 0.45, "hope,hopefully,hopefulness"),
    _w("optimistic", "joy", 0.6, 0.5, "optimism,optimistically"),
    _w("loving", "joy", 0.85, 0.5, "love,lovingly"),
    _w("affectionate", "joy", 0.75, 0.4, "affection,affectionately"),
    _w("tender", "joy", 0.6, 0.25, "tenderness,tenderly"),
    _w("confident", "joy", 0.6, 0.55, "confidence,confidently"),
    _w("triumphant", "joy", 0.85, 0.85, "triumph,triumphantly"),
    _w("blissful", "joy", 0.9, 0.4, "bliss,blissfully"),
    _w("gleeful", "joy", 0.8, 0.75, "glee,gleefully"),
    _w("eager", "joy", 0.55, 0.75, "eagerness,eagerly"),
    _w("inspired", "joy", 0.7, 0.65, "inspiration"),
    _w("admiring", "joy", 0.6, 0.45, "admiration,admire"),
    _w("interested", "joy", 0.4, 0.5, ""),
    _w("curious", "joy", 0.35, 0.55, "curiosity,curiously"),
    _w("moved", "joy", 0.45, 0.45, "touched"),
    _w("friendly", "joy", 0.6, 0.4, "friendliness"),
    _w("pleasant", "joy", 0.55, 0.3, "pleasantly"),
    _w("carefree", "joy", 0.65, 0.35, ""),
    _w("lighthearted", "joy", 0.65, 0.45, "light-hearted"),
    _w("energetic", "joy", 0.5, 0.85, "energy"),
    _w("lively", "joy", 0.6, 0.75, "liveliness"),
    _w("expectant", "joy", 0.35, 0.6, "expectation,anticipation,anticipating"),
    _w("teasing", "joy", 0.45, 0.6, "tease"),
    # --- sadness: unpleasant, mostly low-arousal loss, failure and helplessness
    _w("sad", "sadness", -0.75, 0.3, "sadness,sadly,sadder,saddest,saddened"),
    _w("unhappy", "sadness", -0.65, 0.35, "unhappiness,unhappily"),
    _w("sorrowful", "sadness", -0.8, 0.3, "sorrow,sorrowfully"),
    _w("grieving", "sadness", -0.9, 0.4, "grief,grieve,grieved,grief-stricken"),
    _w("heartbroken", "sadness", -0.9, 0.45, "heartbreak,brokenhearted,broken-hearted"),
    _w("depressed", "sadness", -0.85, 0.15, "depression"),
    _w("dejected", "sadness", -0.7, 0.15, "dejection,dejectedly"),
    _w("downcast", "sadness", -0.6, 0.2, ""),
    _w("gloomy", "sadness", -0.6, 0.2, "gloom"),
    _w("melancholy", "sadness", -0.55, 0.2, "melancholic"),
    _w("miserable", "sadness", -0.85, 0.35, "misery,miserably"),
    _w("despairing", "sadness", -0.9, 0.4, "despair"),
    _w("hopeless", "sadness", -0.85, 0.2, "hopelessness,hopelessly"),
    _w("helpless", "sadness", -0.7, 0.4, "helplessness,helplessly"),
    _w("powerless", "sadness", -0.65, 0.3, "powerlessness"),
    _w("lonely", "sadness", -0.7, 0.25, "loneliness,lonesome"),
    _w("disappointed", "sadness", -0.6, 0.35, "disappointment,disappointing"),
    _w("regretful", "sadness", -0.6, 0.35, "regret,regretfully,regretting"),
    _w("remorseful", "sadness", -0.65, 0.35, "remorse"),
    _w("guilty", "sadness", -0.65, 0.45, "guilt"),
    _w("ashamed", "sadness", -0.7, 0.45, "shame,shameful"),
    _w("hurt", "sadness", -0.7, 0.45, "hurting,wounded"),
    _w("tearful", "sadness", -0.7, 0.45, "tears,teary,crying,weeping,sobbing"),
    _w("weary", "sadness", -0.4, 0.1, "weariness,wearily"),
    _w("tired", "sadness", -0.3, 0.1, "tiredness,fatigued,fatigue,exhausted,exhaustion"),
    _w("discouraged", "sadness", -0.55, 0.25, "discouragement"),
    _w("despondent", "sadness", -0.8, 0.15, "despondency"),
    _w("mournful", "sadness", -0.8, 0.25, "mourning,mourn"),
    _w("nostalgic", "sadness", -0.05, 0.3, "nostalgia"),
    _w("wistful", "sadness", -0.2, 0.25, "wistfully"),
    _w("resigned", "sadness", -0.4, 0.15, "resignation"),
    _w("sorry", "sadness", -0.45, 0.3, ""),
    _w("upset", "sadness", -0.65, 0.6, ""),
    _w("rejected", "sadness", -0.7, 0.4, "rejection"),
    _w("neglected", "sadness", -0.6, 0.3, "neglect"),
    _w("forlorn", "sadness", -0.7, 0.2, ""),
    _w("aggrieved", "sadness", -0.6, 0.55, "wronged"),
    _w("sympathetic", "sadness", 0.1, 0.35, "sympathy,compassionate,compassion"),
    _w("pained", "sadness", -0.7, 0.5, "pain,painful,anguish,anguished"),
    _w("distraught", "sadness", -0.85, 0.7, ""),
    _w("heavy-hearted", "sadness", -0.6, 0.2, "heavyhearted"),
    _w("empty", "sadness", -0.55, 0.1, "emptiness"),
    # --- anger: unpleasant, high-arousal reactions to obstacles, unfairness and offence
    _w("angry", "anger", -0.7, 0.8, "anger,angrily,angered,angrier"),
    _w("furious", "anger", -0.85, 0.95, "fury,furiously"),
    _w("enraged", "anger", -0.9, 0.95, "rage,raging"),
    _w("irritated", "anger", -0.5, 0.6, "irritation,irritable,irritating"),
    _w("annoyed", "anger", -0.5, 0.6, "annoyance,annoying"),
    _w("frustrated", "anger", -0.6, 0.7, "frustration,frustrating"),
    _w("resentful", "anger", -0.65, 0.55, "resentment,resent"),
    _w("indignant", "anger", -0.6, 0.7, "indignation"),
    _w("hostile", "anger", -0.75, 0.75, "hostility"),
    _w("bitter", "anger", -0.6, 0.45, "bitterness,bitterly"),
    _w("exasperated", "anger", -0.6, 0.7, "exasperation"),
    _w("outraged", "anger", -0.85, 0.9, "outrage"),
    _w("irate", "anger", -0.8, 0.85, ""),
    _w("grumpy", "anger", -0.4, 0.45, "grumpiness,grouchy"),
    _w("agitated", "anger", -0.5, 0.8, "agitation"),
    _w("impatient", "anger", -0.4, 0.65, "impatience,impatiently"),
    _w("dissatisfied", "anger", -0.5, 0.5, "dissatisfaction"),
    _w("displeased", "anger", -0.5, 0.45, "displeasure"),
    _w("provoked", "anger", -0.6, 0.75, "provocation"),
    _w("vengeful", "anger", -0.75, 0.75, "revenge,vengeance"),
    _w("jealous", "anger", -0.6, 0.65, "jealousy"),
    _w("envious", "anger", -0.5, 0.5, "envy"),
    _w("defensive", "anger", -0.35, 0.6, "defensiveness"),
    _w("aggressive", "anger", -0.6, 0.85, "aggression,aggressively"),
    _w("livid", "anger", -0.85, 0.9, ""),
    _w("fed up", "anger", -0.55, 0.5, "fed-up"),
    _w("mad", "anger", -0.7, 0.8, ""),
    _w("sullen", "anger", -0.45, 0.3, "sulky,sulking"),
    _w("offended", "anger", -0.6, 0.6, "offence,offense"),
    _w("accusatory", "anger", -0.55, 0.65, "accusing"),
    _w("complaining", "anger", -0.45, 0.55, "complaint,complain"),
    _w("stern", "anger", -0.3, 0.5, "sternly"),
    # --- fear: unpleasant anticipation of threat, from worry to terror, plus social unease
    _w("afraid", "fear", -0.7, 0.75, "fear,fearful,fearfully"),
    _w("scared", "fear", -0.7, 0.8, "scare"),
    _w("frightened", "fear", -0.75, 0.8, "fright,frightening"),
    _w("terrified", "fear", -0.9, 0.95, "terror,terrifying"),
    _w("anxious", "fear", -0.6, 0.7, "anxiety,anxiously"),
    _w("nervous", "fear", -0.5, 0.7, "nervousness,nervously,nerves"),
    _w("worried", "fear", -0.55, 0.6, "worry,worrying,worries"),
    _w("uneasy", "fear", -0.45, 0.55, "unease,uneasiness"),
    _w("tense", "fear", -0.45, 0.7, "tension,tensed"),
    _w("panicked", "fear", -0.85, 0.95, "panic,panicky,panicking"),
    _w("alarmed", "fear", -0.6, 0.85, "alarm"),
    _w("apprehensive", "fear", -0.45, 0.6, "apprehension"),
    _w("insecure", "fear", -0.5, 0.5, "insecurity"),
    _w("timid", "fear", -0.3, 0.35, "timidity"),
    _w("shy", "fear", -0.2, 0.4, "shyness,shyly"),
    _w("embarrassed", "fear", -0.45, 0.6, "embarrassment,embarrassing"),
    _w("awkward", "fear", -0.35, 0.5, "awkwardness,awkwardly"),
    _w("self-conscious", "fear", -0.35, 0.5, "self conscious"),
    _w("hesitant", "fear", -0.25, 0.45, "hesitation,hesitate,hesitating"),
    _w("cautious", "fear", -0.15, 0.45, "caution,cautiously,wary,wariness"),
    _w("doubtful", "fear", -0.3, 0.4, "doubt,doubting"),
    _w("suspicious", "fear", -0.4, 0.55, "suspicion,suspiciously"),
    _w("overwhelmed", "fear", -0.55, 0.75, ""),
    _w("stressed", "fear", -0.6, 0.75, "stress,stressful"),
    _w("desperate", "fear", -0.8, 0.8, "desperation"),
    _w("horrified", "fear", -0.85, 0.9, "horror"),
    _w("dread", "fear", -0.75, 0.65, "dreading,dreadful"),
    _w("threatened", "fear", -0.65, 0.7, ""),
    _w("vulnerable", "fear", -0.45, 0.45, "vulnerability"),
    _w("concerned", "fear", -0.4, 0.5, "concern"),
    _w("troubled", "fear", -0.55, 0.5, ""),
    _w("distressed", "fear", -0.75, 0.75, "distress"),
    _w("restless", "fear", -0.35, 0.7, "restlessness"),
    _w("uncomfortable", "fear", -0.4, 0.5, "discomfort"),
    _w("guarded", "fear", -0.2, 0.45, ""),
    # --- surprise: reactions to the unexpected and to not understanding
    _w("surprised", "surprise", 0.1, 0.8, "surprise,surprising,surprisingly"),
    _w("astonished", "surprise", 0.15, 0.85, "astonishment"),
    _w("amazed", "surprise", 0.45, 0.8, "amazement,amazing"),
    _w("astounded", "surprise", 0.1, 0.85, ""),
    _w("shocked", "surprise", -0.4, 0.9, "shock,shocking"),
    _w("startled", "surprise", -0.15, 0.9, "startle"),
    _w("stunned", "surprise", -0.1, 0.8, ""),
    _w("confused", "surprise", -0.3, 0.5, "confusion,confusing"),
    _w("bewildered", "surprise", -0.3, 0.6, "bewilderment"),
    _w("puzzled", "surprise", -0.15, 0.5, "puzzlement"),
    _w("perplexed", "surprise", -0.2, 0.5, ""),
    _w("incredulous", "surprise", -0.1, 0.65, "disbelief,disbelieving"),
    _w("awestruck", "surprise", 0.5, 0.75, "awe,awed"),
    _w("dumbfounded", "surprise", -0.1, 0.7, ""),
    _w("speechless", "surprise", 0.0, 0.6, ""),
    _w("baffled", "surprise", -0.2, 0.55, ""),
    _w("uncertain", "surprise", -0.2, 0.4, "uncertainty,unsure"),
    _w("questioning", "surprise", -0.05, 0.45, "inquisitive"),
    # --- disgust: rejection of something offensive, physically or morally
    _w("disgusted", "disgust", -0.75, 0.6, "disgust,disgusting"),
    _w("revolted", "disgust", -0.8, 0.65, "revulsion,revolting"),
    _w("repulsed", "disgust", -0.8, 0.6, "repulsion,repulsive"),
    _w("nauseated", "disgust", -0.7, 0.5, "nausea,nauseous"),
    _w("appalled", "disgust", -0.75, 0.7, "appalling"),
    _w("loathing", "disgust", -0.85, 0.6, "loathe,loathsome"),
    _w("averse", "disgust", -0.45, 0.4, "aversion"),
    _w("repelled", "disgust", -0.65, 0.55, ""),
    _w("sickened", "disgust", -0.75, 0.55, ""),
    _w("disapproving", "disgust", -0.5, 0.45, "disapproval,disapprove"),
    _w("distaste", "disgust", -0.45, 0.4, "distasteful"),
    _w("grossed out", "disgust", -0.6, 0.55, "gross"),
    _w("hateful", "disgust", -0.85, 0.7, "hate,hatred"),
    # --- contempt: looking down on someone; mockery and irony
    _w("contemptuous", "contempt", -0.55, 0.45, "contempt"),
    _w("disdainful", "contempt", -0.55, 0.4, "disdain"),
    _w("scornful", "contempt", -0.6, 0.5, "scorn"),
    _w("sneering", "contempt", -0.55, 0.5, "sneer"),
    _w("mocking", "contempt", -0.4, 0.6, "mockery"),
    _w("sarcastic", "contempt", -0.35, 0.55, "sarcasm,sarcastically"),
    _w("sardonic", "contempt", -0.35, 0.45, ""),
    _w("condescending", "contempt", -0.45, 0.4, "condescension"),
    _w("arrogant", "contempt", -0.35, 0.5, "arrogance"),
    _w("smug", "contempt", -0.1, 0.4, "smugness,smugly"),
    _w("dismissive", "contempt", -0.4, 0.35, "dismissal"),
    _w("derisive", "contempt", -0.55, 0.55, "derision"),
    _w("cynical", "contempt", -0.4, 0.35, "cynicism"),
    _w("skeptical", "contempt", -0.25, 0.4, "skepticism,sceptical,scepticism"),
    _w("critical", "contempt", -0.35, 0.5, "criticism,criticize,criticise"),
    _w("judgmental", "contempt", -0.4, 0.45, "judgemental"),
    _w("ironic", "contempt", -0.15, 0.45, "irony,ironically"),
    _w("haughty", "contempt", -0.4, 0.45, ""),
    _w("patronizing", "contempt", -0.45, 0.4, "patronising"),
    _w("unimpressed", "contempt", -0.3, 0.25, ""),
    _w("forced smile", "contempt", -0.3, 0.4, "fake smile,forced smiling"),
    # --- neutral / calm: little feeling, or quiet, composed states
    _w("neutral", "neutral", 0.0, 0.3, "neutrality"),
    _w("calm", "neutral", 0.3, 0.1, "calmly,calmness"),
    _w("relaxed", "neutral", 0.45, 0.1, "relaxation,relaxing"),
    _w("peaceful", "neutral", 0.5, 0.1, "peace,peacefully"),
    _w("serene", "neutral", 0.5, 0.1, "serenity"),
    _w("composed", "neutral", 0.2, 0.2, "composure"),
    _w("indifferent", "neutral", -0.1, 0.15, "indifference"),
    _w("bored", "neutral", -0.3, 0.1, "boredom,boring"),
    _w("detached", "neutral", -0.1, 0.15, "detachment"),
    _w("thoughtful", "neutral", 0.1, 0.3, ""),
    _w("pensive", "neutral", -0.05, 0.25, ""),
    _w("contemplative", "neutral", 0.1, 0.2, "contemplation"),
    _w("reserved", "neutral", 0.0, 0.25, ""),
    _w("serious", "neutral", -0.05, 0.4, "seriousness"),
    _w("focused", "neutral", 0.15, 0.45, "concentrated,concentration"),
    _w("attentive", "neutral", 0.15, 0.45, ""),
    _w("tranquil", "neutral", 0.45, 0.05, "tranquility,tranquillity"),
    _w("at ease", "neutral", 0.4, 0.15, ""),
    _w("steady", "neutral", 0.15, 0.25, "steadiness"),
    _w("unemotional", "neutral", 0.0, 0.15, "emotionless,expressionless"),
    _w("apathetic", "neutral", -0.2, 0.05, "apathy"),
    _w("sleepy", "neutral", 0.0, 0.05, "drowsy"),
    _w("patient", "neutral", 0.25, 0.2, "patience,patiently"),
    _w("matter-of-fact", "neutral", 0.0, 0.3, "matter of fact"),
    _w("restrained", "neutral", 0.0, 0.3, "restraint"),
    _w("earnest", "neutral", 0.15, 0.45, "earnestly,earnestness"),
    _w("determined", "neutral", 0.3, 0.65, "determination"),
)
# fmt: on

_SPACE = re.compile(r"[\s_]+")


def normalize(text: str) -> str:
    """Lower-case, trim and collapse whitespace/underscores, the key form used by ``lookup``."""
    return _SPACE.sub(" ", text.strip().lower())


def _build_index(words: tuple[EmotionWord, ...]) -> dict[str, EmotionWord]:
    index: dict[str, EmotionWord] = {}
    for entry in words:
        for key in (entry.word, *entry.forms):
            key = normalize(key)
            if key in index and index[key] is not entry:
                raise ValueError(f"{key!r} is listed for both {index[key].word!r} and {entry.word!r}")
            index[key] = entry
    return index


_INDEX = _build_index(LEXICON)


def lookup(word_or_form: str) -> EmotionWord | None:
    """The lexicon entry for a word or any of its forms (case- and spacing-insensitive), or None."""
    return _INDEX.get(normalize(word_or_form))


def family_words(family: str) -> tuple[EmotionWord, ...]:
    """All entries of one family, in lexicon order."""
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; allowed: {sorted(FAMILIES)}")
    return tuple(entry for entry in LEXICON if entry.family == family)
