"""The project's own emotion vocabulary: 231 words in 8 families, with common word forms.

Written for omni-emotion from widely taught psychology facts: the basic-emotion families (Ekman's six plus
contempt) and everyday English word forms. Nuanced states (nervous, embarrassed, relieved, sarcastic, helpless,
grateful, ...) belong to the family whose core feeling they share.
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
    forms: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"unknown family {self.family!r} for {self.word!r}; allowed: {sorted(FAMILIES)}")


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


def _w(word: str, family: str, forms: str = "") -> EmotionWord:
    return EmotionWord(word, family, tuple(forms.split(",")) if forms else ())


# fmt: off
LEXICON: tuple[EmotionWord, ...] = (
    # --- joy: pleasant states, from quiet contentment to high excitement
    _w("happy", "joy", "happiness,happily,happier,happiest"),
    _w("joyful", "joy", "joy,joyfully,joyous,joyously,joyfulness"),
    _w("cheerful", "joy", "cheery,cheerfully,cheerfulness"),
    _w("delighted", "joy", "delight,delightful,delightedly"),
    _w("glad", "joy", "gladly,gladness"),
    _w("pleased", "joy", "pleasure,pleasing"),
    _w("content", "joy", "contented,contentment"),
    _w("satisfied", "joy", "satisfaction,satisfying"),
    _w("excited", "joy", "excitement,exciting,excitedly"),
    _w("enthusiastic", "joy", "enthusiasm,enthusiastically"),
    _w("elated", "joy", "elation"),
    _w("ecstatic", "joy", "ecstasy"),
    _w("euphoric", "joy", "euphoria"),
    _w("thrilled", "joy", "thrill,thrilling"),
    _w("amused", "joy", "amusement,amusing,amusedly"),
    _w("playful", "joy", "playfully,playfulness"),
    _w("proud", "joy", "pride,proudly"),
    _w("grateful", "joy", "gratitude,gratefully,gratefulness"),
    _w("thankful", "joy", "thankfulness,thankfully"),
    _w("relieved", "joy", "relief"),
    _w("hopeful", "joy", "hope,hopefully,hopefulness"),
    _w("optimistic", "joy", "optimism,optimistically"),
    _w("loving", "joy", "love,lovingly"),
    _w("affectionate", "joy", "affection,affectionately"),
    _w("tender", "joy", "tenderness,tenderly"),
    _w("confident", "joy", "confidence,confidently"),
    _w("triumphant", "joy", "triumph,triumphantly"),
    _w("blissful", "joy", "bliss,blissfully"),
    _w("gleeful", "joy", "glee,gleefully"),
    _w("eager", "joy", "eagerness,eagerly"),
    _w("inspired", "joy", "inspiration"),
    _w("admiring", "joy", "admiration,admire"),
    _w("interested", "joy", ""),
    _w("curious", "joy", "curiosity,curiously"),
    _w("moved", "joy", "touched"),
    _w("friendly", "joy", "friendliness"),
    _w("pleasant", "joy", "pleasantly"),
    _w("carefree", "joy", ""),
    _w("lighthearted", "joy", "light-hearted"),
    _w("energetic", "joy", "energy"),
    _w("lively", "joy", "liveliness"),
    _w("expectant", "joy", "expectation,anticipation,anticipating"),
    _w("teasing", "joy", "tease"),
    # --- sadness: unpleasant, mostly low-arousal loss, failure and helplessness
    _w("sad", "sadness", "sadness,sadly,sadder,saddest,saddened"),
    _w("unhappy", "sadness", "unhappiness,unhappily"),
    _w("sorrowful", "sadness", "sorrow,sorrowfully"),
    _w("grieving", "sadness", "grief,grieve,grieved,grief-stricken"),
    _w("heartbroken", "sadness", "heartbreak,brokenhearted,broken-hearted"),
    _w("depressed", "sadness", "depression"),
    _w("dejected", "sadness", "dejection,dejectedly"),
    _w("downcast", "sadness", ""),
    _w("gloomy", "sadness", "gloom"),
    _w("melancholy", "sadness", "melancholic"),
    _w("miserable", "sadness", "misery,miserably"),
    _w("despairing", "sadness", "despair"),
    _w("hopeless", "sadness", "hopelessness,hopelessly"),
    _w("helpless", "sadness", "helplessness,helplessly"),
    _w("powerless", "sadness", "powerlessness"),
    _w("lonely", "sadness", "loneliness,lonesome"),
    _w("disappointed", "sadness", "disappointment,disappointing"),
    _w("regretful", "sadness", "regret,regretfully,regretting"),
    _w("remorseful", "sadness", "remorse"),
    _w("guilty", "sadness", "guilt"),
    _w("ashamed", "sadness", "shame,shameful"),
    _w("hurt", "sadness", "hurting,wounded"),
    _w("tearful", "sadness", "tears,teary,crying,weeping,sobbing"),
    _w("weary", "sadness", "weariness,wearily"),
    _w("tired", "sadness", "tiredness,fatigued,fatigue,exhausted,exhaustion"),
    _w("discouraged", "sadness", "discouragement"),
    _w("despondent", "sadness", "despondency"),
    _w("mournful", "sadness", "mourning,mourn"),
    _w("nostalgic", "sadness", "nostalgia"),
    _w("wistful", "sadness", "wistfully"),
    _w("resigned", "sadness", "resignation"),
    _w("sorry", "sadness", ""),
    _w("upset", "sadness", ""),
    _w("rejected", "sadness", "rejection"),
    _w("neglected", "sadness", "neglect"),
    _w("forlorn", "sadness", ""),
    _w("aggrieved", "sadness", "wronged"),
    _w("sympathetic", "sadness", "sympathy,compassionate,compassion"),
    _w("pained", "sadness", "pain,painful,anguish,anguished"),
    _w("distraught", "sadness", ""),
    _w("heavy-hearted", "sadness", "heavyhearted"),
    _w("empty", "sadness", "emptiness"),
    # --- anger: unpleasant, high-arousal reactions to obstacles, unfairness and offence
    _w("angry", "anger", "anger,angrily,angered,angrier"),
    _w("furious", "anger", "fury,furiously"),
    _w("enraged", "anger", "rage,raging"),
    _w("irritated", "anger", "irritation,irritable,irritating"),
    _w("annoyed", "anger", "annoyance,annoying"),
    _w("frustrated", "anger", "frustration,frustrating"),
    _w("resentful", "anger", "resentment,resent"),
    _w("indignant", "anger", "indignation"),
    _w("hostile", "anger", "hostility"),
    _w("bitter", "anger", "bitterness,bitterly"),
    _w("exasperated", "anger", "exasperation"),
    _w("outraged", "anger", "outrage"),
    _w("irate", "anger", ""),
    _w("grumpy", "anger", "grumpiness,grouchy"),
    _w("agitated", "anger", "agitation"),
    _w("impatient", "anger", "impatience,impatiently"),
    _w("dissatisfied", "anger", "dissatisfaction"),
    _w("displeased", "anger", "displeasure"),
    _w("provoked", "anger", "provocation"),
    _w("vengeful", "anger", "revenge,vengeance"),
    _w("jealous", "anger", "jealousy"),
    _w("envious", "anger", "envy"),
    _w("defensive", "anger", "defensiveness"),
    _w("aggressive", "anger", "aggression,aggressively"),
    _w("livid", "anger", ""),
    _w("fed up", "anger", "fed-up"),
    _w("mad", "anger", ""),
    _w("sullen", "anger", "sulky,sulking"),
    _w("offended", "anger", "offence,offense"),
    _w("accusatory", "anger", "accusing"),
    _w("complaining", "anger", "complaint,complain"),
    _w("stern", "anger", "sternly"),
    # --- fear: unpleasant anticipation of threat, from worry to terror, plus social unease
    _w("afraid", "fear", "fear,fearful,fearfully"),
    _w("scared", "fear", "scare"),
    _w("frightened", "fear", "fright,frightening"),
    _w("terrified", "fear", "terror,terrifying"),
    _w("anxious", "fear", "anxiety,anxiously"),
    _w("nervous", "fear", "nervousness,nervously,nerves"),
    _w("worried", "fear", "worry,worrying,worries"),
    _w("uneasy", "fear", "unease,uneasiness"),
    _w("tense", "fear", "tension,tensed"),
    _w("panicked", "fear", "panic,panicky,panicking"),
    _w("alarmed", "fear", "alarm"),
    _w("apprehensive", "fear", "apprehension"),
    _w("insecure", "fear", "insecurity"),
    _w("timid", "fear", "timidity"),
    _w("shy", "fear", "shyness,shyly"),
    _w("embarrassed", "fear", "embarrassment,embarrassing"),
    _w("awkward", "fear", "awkwardness,awkwardly"),
    _w("self-conscious", "fear", "self conscious"),
    _w("hesitant", "fear", "hesitation,hesitate,hesitating"),
    _w("cautious", "fear", "caution,cautiously,wary,wariness"),
    _w("doubtful", "fear", "doubt,doubting"),
    _w("suspicious", "fear", "suspicion,suspiciously"),
    _w("overwhelmed", "fear", ""),
    _w("stressed", "fear", "stress,stressful"),
    _w("desperate", "fear", "desperation"),
    _w("horrified", "fear", "horror"),
    _w("dread", "fear", "dreading,dreadful"),
    _w("threatened", "fear", ""),
    _w("vulnerable", "fear", "vulnerability"),
    _w("concerned", "fear", "concern"),
    _w("troubled", "fear", ""),
    _w("distressed", "fear", "distress"),
    _w("restless", "fear", "restlessness"),
    _w("uncomfortable", "fear", "discomfort"),
    _w("guarded", "fear", ""),
    # --- surprise: reactions to the unexpected and to not understanding
    _w("surprised", "surprise", "surprise,surprising,surprisingly"),
    _w("astonished", "surprise", "astonishment"),
    _w("amazed", "surprise", "amazement,amazing"),
    _w("astounded", "surprise", ""),
    _w("shocked", "surprise", "shock,shocking"),
    _w("startled", "surprise", "startle"),
    _w("stunned", "surprise", ""),
    _w("confused", "surprise", "confusion,confusing"),
    _w("bewildered", "surprise", "bewilderment"),
    _w("puzzled", "surprise", "puzzlement"),
    _w("perplexed", "surprise", ""),
    _w("incredulous", "surprise", "disbelief,disbelieving"),
    _w("awestruck", "surprise", "awe,awed"),
    _w("dumbfounded", "surprise", ""),
    _w("speechless", "surprise", ""),
    _w("baffled", "surprise", ""),
    _w("uncertain", "surprise", "uncertainty,unsure"),
    _w("questioning", "surprise", "inquisitive"),
    # --- disgust: rejection of something offensive, physically or morally
    _w("disgusted", "disgust", "disgust,disgusting"),
    _w("revolted", "disgust", "revulsion,revolting"),
    _w("repulsed", "disgust", "repulsion,repulsive"),
    _w("nauseated", "disgust", "nausea,nauseous"),
    _w("appalled", "disgust", "appalling"),
    _w("loathing", "disgust", "loathe,loathsome"),
    _w("averse", "disgust", "aversion"),
    _w("repelled", "disgust", ""),
    _w("sickened", "disgust", ""),
    _w("disapproving", "disgust", "disapproval,disapprove"),
    _w("distaste", "disgust", "distasteful"),
    _w("grossed out", "disgust", "gross"),
    _w("hateful", "disgust", "hate,hatred"),
    # --- contempt: looking down on someone; mockery and irony
    _w("contemptuous", "contempt", "contempt"),
    _w("disdainful", "contempt", "disdain"),
    _w("scornful", "contempt", "scorn"),
    _w("sneering", "contempt", "sneer"),
    _w("mocking", "contempt", "mockery"),
    _w("sarcastic", "contempt", "sarcasm,sarcastically"),
    _w("sardonic", "contempt", ""),
    _w("condescending", "contempt", "condescension"),
    _w("arrogant", "contempt", "arrogance"),
    _w("smug", "contempt", "smugness,smugly"),
    _w("dismissive", "contempt", "dismissal"),
    _w("derisive", "contempt", "derision"),
    _w("cynical", "contempt", "cynicism"),
    _w("skeptical", "contempt", "skepticism,sceptical,scepticism"),
    _w("critical", "contempt", "criticism,criticize,criticise"),
    _w("judgmental", "contempt", "judgemental"),
    _w("ironic", "contempt", "irony,ironically"),
    _w("haughty", "contempt", ""),
    _w("patronizing", "contempt", "patronising"),
    _w("unimpressed", "contempt", ""),
    _w("forced smile", "contempt", "fake smile,forced smiling"),
    # --- neutral / calm: little feeling, or quiet, composed states
    _w("neutral", "neutral", "neutrality"),
    _w("calm", "neutral", "calmly,calmness"),
    _w("relaxed", "neutral", "relaxation,relaxing"),
    _w("peaceful", "neutral", "peace,peacefully"),
    _w("serene", "neutral", "serenity"),
    _w("composed", "neutral", "composure"),
    _w("indifferent", "neutral", "indifference"),
    _w("bored", "neutral", "boredom,boring"),
    _w("detached", "neutral", "detachment"),
    _w("thoughtful", "neutral", ""),
    _w("pensive", "neutral", ""),
    _w("contemplative", "neutral", "contemplation"),
    _w("reserved", "neutral", ""),
    _w("serious", "neutral", "seriousness"),
    _w("focused", "neutral", "concentrated,concentration"),
    _w("attentive", "neutral", ""),
    _w("tranquil", "neutral", "tranquility,tranquillity"),
    _w("at ease", "neutral", ""),
    _w("steady", "neutral", "steadiness"),
    _w("unemotional", "neutral", "emotionless,expressionless"),
    _w("apathetic", "neutral", "apathy"),
    _w("sleepy", "neutral", "drowsy"),
    _w("patient", "neutral", "patience,patiently"),
    _w("matter-of-fact", "neutral", "matter of fact"),
    _w("restrained", "neutral", "restraint"),
    _w("earnest", "neutral", "earnestly,earnestness"),
    _w("determined", "neutral", "determination"),
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
