import pytest

from annotate.exporting.options import ExportOptions, ExportOptionsError


def test_defaults_are_per_annotator_standard_pairs_in_every_file_format():
    options = ExportOptions()
    assert (options.kind, options.mode, options.ties, options.format) == ("pairs", "per_annotator", "drop", "standard")
    assert options.to_dict()["file_formats"] == ["hf", "jsonl", "parquet"]


def test_options_round_trip_through_json_data():
    options = ExportOptions(mode="consensus", project_ids=(3, 1), file_formats=("jsonl",), split_seed="s")
    assert ExportOptions.from_dict(options.to_dict()) == ExportOptions(
        mode="consensus", project_ids=(1, 3), file_formats=("jsonl",), split_seed="s"
    )


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "dpo"}, "kind"),
        ({"ties": "split"}, "ties"),
        ({"format": "chatml"}, "format"),
        ({"rating_gap": 0}, "rating_gap"),
        ({"rating_gap": "1"}, "rating_gap"),
        ({"min_agreement": 1.5}, "min_agreement"),
        ({"test_fraction": 1}, "test_fraction"),
        ({"deduplicate": "yes"}, "deduplicate"),
        ({"split_seed": 7}, "split_seed"),
        ({"project_ids": "3"}, "project_ids"),
        ({"project_ids": [True]}, "project_ids"),
        ({"file_formats": ["csv"]}, "file_formats"),
        ({"file_formats": []}, "file_formats"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_each_bad_option_is_named_with_a_reason(data, field):
    with pytest.raises(ExportOptionsError) as caught:
        ExportOptions.from_dict(data)
    assert list(caught.value.errors) == [field]
    assert field in str(caught.value)
