"""Emotion words in text: label lists (``labels``), mentions in prose (``find``), and label extractors
(``extractors``: rule-based or LLM).

A low layer (docs/architecture.md): the clue engine reads the transcript with it, the omni engine reads its
own answer with it, and the evaluation reads other models' free-text answers with it.

Models answer in prose ("...his expressions suggest anger rather than fear; overall he feels frustrated"),
while the EW metric scores label lists. ``find_emotion_mentions`` is the reusable core: it finds vocabulary
words and multi-word phrases in text and marks each mention as negated ("not angry", "no sign of fear",
"rather than happy") or hedged ("may be", "seems", "possibly"), with a salience weight that favours
conclusion sentences and the final summary. ``RuleExtractor`` turns mentions into a ranked label list;
``LLMExtractor`` asks a language model (the benchmark's approach) through an injected ``generate`` callable.
"""

from omni_emotion.mentions.extractors import (
    AUTHORS_EXTRACTION_PROMPT,
    LabelExtractor,
    LLMExtractor,
    RuleExtractor,
    WordGroups,
    extraction_prompt,
    parse_reply,
    project_vocabulary,
)
from omni_emotion.mentions.find import (
    Mention,
    MentionConfig,
    Vocabulary,
    find_emotion_mentions,
)
from omni_emotion.mentions.labels import (
    parse_labels,
    split_list_string,
)

__all__ = [
    "AUTHORS_EXTRACTION_PROMPT",
    "LLMExtractor",
    "LabelExtractor",
    "Mention",
    "MentionConfig",
    "RuleExtractor",
    "Vocabulary",
    "WordGroups",
    "extraction_prompt",
    "find_emotion_mentions",
    "parse_labels",
    "parse_reply",
    "project_vocabulary",
    "split_list_string",
]
