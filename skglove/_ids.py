"""The id contract shared by the vectorizer, the classifier and the networks.

Id 0 is padding and id 1 an out-of-vocabulary word; the word on row ``r`` of
the GloVe source is id ``r + FIRST_WORD_ID``, and kept words that GloVe lacks
get the ids after the last GloVe row.
"""

PAD_ID = 0
OOV_ID = 1
#: The first id that stands for a word.
FIRST_WORD_ID = 2
