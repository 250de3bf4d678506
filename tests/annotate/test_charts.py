from annotate.charts import line_chart, scale


def test_scale_maps_and_clamps():
    assert scale(0.5, 0.0, 1.0, 200) == 100.0
    assert scale(-3.0, -1.0, 1.0, 200) == 0.0
    assert scale(2.0, 0.0, 1.0, 200) == 200.0


def test_line_chart_breaks_at_missing_values_and_flips_y():
    chart = line_chart([1.0, 0.5, None, 0.0], width=300, height=100)
    assert chart["segments"] == ["0.0,0.0 100.0,50.0", "300.0,100.0"]
    assert [dot[2] for dot in chart["dots"]] == [1.0, 0.5, 0.0]
    assert chart["gridlines"] == [(100.0, "0"), (50.0, "0.5"), (0.0, "1")]
    assert line_chart([0.25], width=300, height=100)["segments"] == ["150.0,75.0"]
