"""How :class:`GloveCNNClassifier` fills scikeras' hooks: it builds, trains
and runs the Keras network from id sequences."""

import time
from collections import defaultdict
from contextlib import nullcontext

import numpy as np
from scikeras._utils import route_params
from scikeras.utils import metric_name
from sklearn.exceptions import NotFittedError

from ._lexical import (
    has_lexical_labels,
    lexical_features,
    lexical_frozen,
    solve_lexical,
)
from ._mix import fitted_mix
from ._models import OUTPUT, PADDING_INVARIANT, build_network
from ._params import check_keras_args, network_arguments, resolved_loss
from ._tf_threads import match_dask_worker
from ._training import (
    Seeds,
    build_training_state,
    check_converged,
    copied_optimizer,
    fit_callbacks,
    fit_data,
    fitted_thresholds,
    hold_out,
    log_fit,
    own_weights,
    predict,
    seed_source,
    trained_heads,
)
from ._validation import check_ids, check_sequence_length, check_targets


class KerasHooks:
    """scikeras' ``_initialize``, ``_validate_data``, ``_keras_build_fn``,
    ``_fit_keras_model`` and ``_predict_raw``, a mixin of
    :class:`~skglove.GloveCNNClassifier`."""

    def _train(self, fit, X, y, *, continuing, sample_weight, **kwargs) -> None:
        match_dask_worker()
        start = time.perf_counter()
        weights = own_weights(sample_weight, y, self.class_weight)
        before = self._fitted_values()
        try:
            fit(X, y, sample_weight=weights, **kwargs)
        except BaseException:
            network = before.get("model_")
            if network is None or vars(self).get("model_") is not network:
                self._forget_fit()  # half a new network is no model
            elif not continuing:  # refused before it built one
                self._set_fitted_values(before)
            raise
        # n_classes_, not classes_: a warm start leaves classes_ None until
        # fit puts it back.
        log_fit(
            time.perf_counter() - start,
            architecture=self.architecture,
            n_sequences=self.X_shape_[0],
            n_ids=self.n_features_in_,
            n_classes=self.n_classes_,
            history=self.history_,
        )

    def _initialize(self, X, y=None):
        if not hasattr(self, "_vectors"):  # scikeras' initialize(), outside fit
            with self._glove_resolved():
                return self._initialize(X, y)
        # As scikeras', but the seeds come from random_state explicitly:
        # scikeras' _random_state would reseed the process-global generators.
        self._seeds = seed_source(self.random_state)
        # A new network's fit uses the seeds it is built with; a fit that
        # goes on training it draws new ones (_fit_keras_model).
        self._new_network_seeds = Seeds.draw(self._seeds)
        self._random_state = None
        X, y = self._validate_data(X, y, reset=True)
        self.target_encoder_ = self.target_encoder.fit(y)
        vars(self).update(self.target_encoder_.get_metadata())
        self.feature_encoder_ = self.feature_encoder.fit(X)
        self.model_ = self._build_keras_model()
        self._initialize_callbacks()
        return X, y

    def _validate_data(self, X=None, y=None, reset=False, y_numeric=False):
        # As scikeras', but X stays IdSequences, not a padded array.
        name = type(self).__name__
        if X is not None:
            X = check_ids(X, name)
            if not reset:
                check_sequence_length(X, getattr(self, "n_features_in_", None), name)
        if y is not None:
            y = check_targets(y, X)
        _, y = super()._validate_data(None, y, reset=reset, y_numeric=y_numeric)
        if X is not None and reset:
            self.X_dtype_, self.X_shape_ = X.dtype, X.shape
            self.n_features_in_ = X.shape[1]
        return X, y

    def _keras_build_fn(self, meta, compile_kwargs):
        if meta["n_classes_"] < 2:
            raise ValueError(
                f"y holds a single class ({meta['classes_'].tolist()[0]!r}); a "
                "classifier needs more than one class"
            )
        model = build_network(
            self.architecture,
            meta["n_features_in_"],
            meta["n_classes_"],
            multilabel=self._multilabel,
            seed=self._new_network_seeds.network,
            **network_arguments(
                self.get_params(),
                self.feature_encoder_,
                self._vectors,
            ),
        )
        optimizer = compile_kwargs["optimizer"]
        if optimizer is self.optimizer:  # the user's instance
            optimizer = copied_optimizer(optimizer)
        if self.learning_rate is not None:
            optimizer.learning_rate = self.learning_rate
        model.compile(
            optimizer=optimizer,
            loss=resolved_loss(compile_kwargs["loss"], self._multilabel),
            metrics=self._metrics(compile_kwargs),
        )
        return model

    def _metrics(self, compile_kwargs):
        if self.metrics is not None:
            return compile_kwargs["metrics"]
        # "accuracy" lets Keras pick the sparse or the one-hot kind by the
        # loss; for sigmoid outputs it would pick the one-hot kind.
        return ["binary_accuracy" if self._multilabel else "accuracy"]

    def _fit_keras_model(
        self, X, y, sample_weight, warm_start, epochs, initial_epoch, **kwargs
    ):
        # scikeras' own version drops every callback but the user's, and
        # reseeds the process-global generators; this one gives Keras both.
        self._check_embedding_width()
        if self.learning_rate is not None:
            # A network trained on (warm start, partial_fit) keeps its
            # optimizer: set_params(learning_rate=...) must still reach it.
            self.model_.optimizer.learning_rate = self.learning_rate
        fit_args = route_params(
            self.get_params(), destination="fit", pass_filter=self._fit_kwargs
        )
        fit_args = {k: v for k, v in fit_args.items() if not k.startswith("callbacks")}
        extra_callbacks = kwargs.pop("callbacks", None) or []
        fit_args.update(kwargs)
        fit_args.update(epochs=initial_epoch + epochs, initial_epoch=initial_epoch)
        # fit solves a multi-label lexical channel, and trains the network
        # beside it; partial_fit trains both.
        solve = vars(self).pop("_solve_lexical", False)
        solve = solve and has_lexical_labels(self.model_)
        callbacks, decay = fit_callbacks(
            _history_key,
            [*self._fit_callbacks, *extra_callbacks],
            schedule=self.learning_rate_schedule,
            epochs=epochs,
            initial_epoch=initial_epoch,
            early_stopping=self.early_stopping,
            patience=self.patience,
            monitor=self._monitored_loss(solve),
        )
        seeds = vars(self).pop("_new_network_seeds", None) or Seeds.draw(self._seeds)
        rows, valid_rows = hold_out(
            y, self.validation_split, seeds.split, multilabel=self._multilabel
        )
        model = trained_heads(self.model_, self._metrics(self._get_compile_kwargs()))
        fit_args.update(
            fit_data(
                X,
                y,
                sample_weight,
                rows,
                valid_rows,
                batch_size=self.batch_size,
                n_outputs=len(model.outputs),
                by_length=self.architecture in PADDING_INVARIANT,
                shuffle=self.shuffle,
                seed=seeds.shuffle,
            )
        )
        # The datasets batch, weigh and shuffle; Keras must not do it again.
        for key in ("batch_size", "sample_weight", "validation_split", "shuffle"):
            fit_args.pop(key, None)
        # Each fitted value is set when the network takes it in: a fit that
        # raises on the way leaves values that describe the network it left.
        self.lexical_C_ = None  # unless solved, the channel trains with the rest
        if solve:
            lexical = (self.model_, lexical_features(self.model_, X), y, sample_weight)
            self.lexical_C_ = solve_lexical(*lexical, rows, valid_rows, seeds.split)
        try:
            with lexical_frozen(self.model_, model) if solve else nullcontext():
                build_training_state(model, fit_args["x"])
                history = model.fit(callbacks=callbacks, shuffle=False, **fit_args)
        finally:
            if decay is not None:  # Keras skips on_train_end when fit raises
                decay.restore()
        if not warm_start or not hasattr(self, "history_") or initial_epoch == 0:
            self.history_ = defaultdict(list)
        for key, values in history.history.items():
            self.history_[key] += values
        try:
            check_converged(self.model_, history.history, self.learning_rate)
        except ValueError:
            # A network of NaN weights is no fitted model: predict must say
            # so, and the next fit or partial_fit must build a new one.
            del self.model_
            raise
        if len(model.outputs) > 1:
            self.mix_ = fitted_mix(
                self.model_,
                X,
                y,
                sample_weight,
                valid_rows,
                self.n_classes_,
                **self._predict_args(),
            )
        else:
            self.mix_ = None
        if self._multilabel:
            self.threshold_ = fitted_thresholds(
                self.model_,
                X,
                y,
                valid_rows,
                self.threshold,
                vars(self).pop("_labels_present"),
                vars(self).get("threshold_") if warm_start and initial_epoch else None,
                **self._predict_args(),
            )
        else:
            self.threshold_ = None
        if solve and valid_rows is not None:
            # As GridSearchCV's refit: C, the mix and the thresholds are
            # chosen on held-out scores, then the channel learns from all.
            every_row = np.arange(len(y))
            solve_lexical(*lexical, every_row, None, seeds.split, C=self.lexical_C_)

    def _monitored_loss(self, lexical_solved: bool) -> str:
        """The validation loss that early stopping watches: the channels'
        summed losses, which is the GloVe channel's own (and a constant) when
        the lexical channel was solved and is frozen. Trained with adam, a
        multi-label lexical channel's one-vs-rest scores start to overfit
        rare labels within a few epochs, long before the output they feed
        stops improving: then the combined output's loss is watched."""
        if self._multilabel and self.lexical and not lexical_solved:
            return "val_combined_loss"
        return "val_loss"

    def _predict_args(self, **predict_args) -> dict:
        """Keyword arguments of :func:`skglove._training.predict`."""
        return {
            "by_length": self.architecture in PADDING_INVARIANT,
            "batch_size": self.batch_size,
            "verbose": self.verbose,
            **predict_args,
        }

    def _predict_raw(self, X, **kwargs):
        match_dask_worker()
        if not self.initialized_:
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet; call "
                "'fit' before 'predict'"
            )
        check_keras_args(kwargs, "predict", "predict() argument ")
        self._check_id_source(X)
        X, _ = self._validate_data(X=X)
        predict_args = route_params(
            self.get_params(),
            destination="predict",
            pass_filter=self._predict_kwargs,
            strict=True,
        )
        predict_args = {
            k: v for k, v in predict_args.items() if not k.startswith("callbacks")
        }
        predict_args["callbacks"] = [
            *self._predict_callbacks,
            *kwargs.pop("callbacks", []),
        ]
        predict_args.update(kwargs)
        return predict(
            self.model_,
            self.feature_encoder_.transform(X),
            **self._predict_args(**predict_args),
        )


def _history_key(key: str) -> str:
    """scikeras' name for a Keras history key; the combined output's metrics
    go by their plain names (``accuracy``), its monitored loss by
    ``combined_loss``."""
    prefix = "val_" if key.startswith("val_") else ""
    name = key[len(prefix) :]
    if name.startswith(f"{OUTPUT}_"):
        name = name[len(OUTPUT) + 1 :]
        name = "combined_loss" if name == "loss" else name
    if name != "loss" and not name.endswith("_loss"):
        try:
            name = metric_name(name)
        except ValueError:  # a custom metric
            pass
    return prefix + name
