"""The two-step pipeline with one ``glove`` setting."""

from sklearn.pipeline import Pipeline, make_pipeline

from ._vectorizer import GloveSequenceVectorizer
from .glove import DEFAULT_GLOVE

__all__ = ["BLOG_PARAMS", "make_glove_pipeline"]

#: The Keras blog post's vocabulary, network and training, as parameters of
#: :func:`make_glove_pipeline`, which reproduces the seed recipe with them.
BLOG_PARAMS = {
    "max_words": 20000,
    "unseen_glove_words": 0,
    "architecture": "blog",
    "lexical": False,
    "filters": 128,
    "kernel_size": 5,
    "pool_size": 5,
    "dense_units": 128,
    "dropout": 0.0,
    "mean_pooling": False,
    "train_missing": False,
    "trainable_dim": 0,
    "optimizer": "rmsprop",
    "learning_rate": None,
    "learning_rate_schedule": "constant",
    "epochs": 10,
    "batch_size": 128,
    "validation_split": 0.0,
    "early_stopping": False,
}


def make_glove_pipeline(glove=DEFAULT_GLOVE, **params) -> Pipeline:
    """Build the vectorizer + convnet pipeline with ``glove`` set on both steps.

    Parameters
    ----------
    glove : str, path-like, GloveVectors or None, default="glove.6B.50d"
        The GloVe source, given to both steps so their ids agree.
    **params
        Parameters of either step, by their plain names (``max_len``,
        ``epochs``, ...). Each goes to the step that has a parameter of that
        name; routed names (``optimizer__momentum``, ...) go to the
        classifier.

    Returns
    -------
    sklearn.pipeline.Pipeline
        A plain pipeline with the steps ``"glovesequencevectorizer"`` and
        ``"glovecnnclassifier"``.

    Raises
    ------
    TypeError
        If a keyword is a parameter of neither step.

    Examples
    --------
    >>> from skglove import make_glove_pipeline
    >>> pipe = make_glove_pipeline(max_len=500, epochs=5)
    >>> pipe.get_params()["glovecnnclassifier__epochs"]
    5
    """
    # Imported here: the classifier's module loads TensorFlow.
    from ._classifier import GloveCNNClassifier

    steps = (GloveSequenceVectorizer(glove=glove), GloveCNNClassifier(glove=glove))
    for name, value in params.items():
        owners = [step for step in steps if name in step.get_params(deep=False)]
        if not owners and "__" in name:
            try:  # a routed parameter; the classifier checks the route
                steps[1].set_params(**{name: value})
            except ValueError as exc:
                raise TypeError(f"make_glove_pipeline(): {exc}") from None
            continue
        if not owners:
            valid = sorted(
                {p for step in steps for p in step.get_params(deep=False)} - {"glove"}
            )
            raise TypeError(
                f"make_glove_pipeline() got an unexpected keyword argument "
                f"{name!r}; valid names are: {', '.join(valid)}"
            )
        for step in owners:
            step.set_params(**{name: value})
    return make_pipeline(*steps)
