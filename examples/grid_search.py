"""Tune both steps of the pipeline at once with GridSearchCV.

``make_glove_pipeline`` returns a plain scikit-learn ``Pipeline``, so
``GridSearchCV`` can search the vectorizer's parameters (here ``max_len``) and
the classifier's (here ``filters``) together. The classifier declares itself a
classifier, so the folds are stratified. The example searches on a subsample of
the 20 Newsgroups bydate train split, prints a table of every candidate, and
scores the best one on the test split.

    python examples/grid_search.py --archive ../shared/data/20news-bydate.tar.gz

Without ``--archive`` scikit-learn downloads the corpus. ``--n-jobs 2`` runs
folds in parallel in separate processes (joblib's ``loky``), each with its own
TensorFlow; set ``TF_NUM_INTRAOP_THREADS`` so that processes times threads
matches the cores (see the "Scaling out" page of the documentation).
"""

import argparse

import numpy as np
from sklearn.model_selection import GridSearchCV

from skglove import make_glove_pipeline
from skglove.datasets import load_20newsgroups

STEP_NAMES = {"glovesequencevectorizer": "vectorizer", "glovecnnclassifier": "clf"}


def results_table(cv_results: dict) -> str:
    """One line per candidate, best first: rank, score, fit time, parameters."""
    rows = [f"{'rank':>4}  {'CV accuracy':>15}  {'fit s':>6}  parameters"]
    for i in np.argsort(cv_results["rank_test_score"], kind="stable"):
        params = ", ".join(
            f"{STEP_NAMES.get(step, step)}.{name}={value}"
            for key, value in cv_results["params"][i].items()
            for step, _, name in [key.partition("__")]
        )
        rows.append(
            f"{cv_results['rank_test_score'][i]:>4}  "
            f"{cv_results['mean_test_score'][i]:>7.3f} ± "
            f"{cv_results['std_test_score'][i]:.3f}  "
            f"{cv_results['mean_fit_time'][i]:>6.1f}  {params}"
        )
    return "\n".join(rows)


def main(argv=None) -> GridSearchCV:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--archive", help="local 20news-bydate.tar.gz or its folder")
    parser.add_argument("--glove", default="glove.6B.50d", help="GloVe name or path")
    parser.add_argument("--max-train", type=int, default=2000, help="0 for all")
    parser.add_argument("--max-len", type=int, nargs="+", default=[300, 1000])
    parser.add_argument("--filters", type=int, nargs="+", default=[32, 128])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--cv", type=int, default=3)
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--random-state", type=int, default=0)
    args = parser.parse_args(argv)

    train = load_20newsgroups("train", archive=args.archive)
    test = load_20newsgroups("test", archive=args.archive)
    n_train = args.max_train or None
    X_train, y_train = train.data[:n_train], train.target[:n_train]
    print(f"searching on {len(X_train)} train posts, {args.cv}-fold CV")

    pipe = make_glove_pipeline(
        glove=args.glove, epochs=args.epochs, random_state=args.random_state
    )
    grid = {
        "glovesequencevectorizer__max_len": args.max_len,
        "glovecnnclassifier__filters": args.filters,
    }
    search = GridSearchCV(pipe, grid, cv=args.cv, n_jobs=args.n_jobs)
    search.fit(X_train, y_train)
    print(results_table(search.cv_results_))
    test_accuracy = search.score(test.data, test.target)
    print(f"best parameters: {search.best_params_}")
    print(f"test accuracy of the refitted best pipeline: {test_accuracy:.3f}")
    return search


if __name__ == "__main__":
    main()
