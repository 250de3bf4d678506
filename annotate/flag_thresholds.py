"""The knobs of the bias and quality flags: defaults, and a project's overrides merged over them.

Kept apart from annotate.bias so that the Project model can validate its overrides without
importing the statistics.
"""
from django.core.exceptions import ValidationError

DEFAULT_FLAG_THRESHOLDS = {
    # False-discovery rate for tests adjusted across annotators (Benjamini-Hochberg); flagging a
    # person is costly, so the default is strict.
    "alpha": 0.01,
    # Fewer usable judgements than this and an annotator is not judged by a statistic.
    "min_judgements": 20,
    # Share of first-shown picks that must differ from chance by at least this much.
    "position_min_effect": 0.15,
    # "Longer response wins" share that must differ from the other annotators' by at least this much.
    "length_min_effect": 0.25,
    # Faster than this is skimming at best (about 600 words a minute).
    "reading_chars_per_second": 50.0,
    # Coefficient of variation of seconds spent below which timing looks machine-made.
    "uniform_timing_max_cv": 0.1,
    # Share of judgements with the same pattern (e.g. always "A") at or above which it is straight-lining.
    "straight_lining_share": 0.95,
    # Agreement with the others' majority must beat chance by this much (and significantly).
    "random_min_margin": 0.1,
    "gold_min_count": 10,
    "gold_min_accuracy": 0.7,
    # Drift compares the first and the last of this many equal slices of an annotator's judgements.
    "drift_windows": 3,
    "drift_min_drop": 0.2,
}

_PROBABILITIES = {"alpha", "position_min_effect", "length_min_effect", "straight_lining_share",
                  "random_min_margin", "gold_min_accuracy", "drift_min_drop"}
_COUNTS = {"min_judgements", "gold_min_count", "drift_windows"}


def flag_threshold_errors(overrides) -> list[str]:
    """Every problem with a project's overrides, as sentences; empty when they are usable."""
    if not isinstance(overrides, dict):
        return ["Flag thresholds must be a JSON object such as {\"alpha\": 0.05}."]
    errors = []
    for key, value in overrides.items():
        if key not in DEFAULT_FLAG_THRESHOLDS:
            errors.append(f"{key!r} is not a flag threshold; known ones: {', '.join(sorted(DEFAULT_FLAG_THRESHOLDS))}.")
        elif isinstance(value, bool) or not isinstance(value, int | float):
            errors.append(f"{key} must be a number, not {value!r}.")
        elif key in _PROBABILITIES and not 0 < value < 1:
            errors.append(f"{key} must lie between 0 and 1 (exclusive), not {value}.")
        elif key in _COUNTS and (value != int(value) or value < 2):
            errors.append(f"{key} must be a whole number of at least 2, not {value}.")
        elif value <= 0:
            errors.append(f"{key} must be positive, not {value}.")
    return errors


def validate_flag_thresholds(overrides) -> None:
    errors = flag_threshold_errors(overrides)
    if errors:
        raise ValidationError(errors)


def merged_flag_thresholds(overrides=None) -> dict:
    """The defaults with `overrides` on top; raises ValidationError on unusable overrides."""
    validate_flag_thresholds(overrides or {})
    return {**DEFAULT_FLAG_THRESHOLDS, **(overrides or {})}
