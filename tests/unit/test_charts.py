"""The report's SVG charts: images with a name, numbers on them, colours that stand out on white."""

import xml.etree.ElementTree as ET

from shared import charts

SVG = "{http://www.w3.org/2000/svg}"


def luminance(colour: str) -> float:
    def channel(hex_pair: str) -> float:
        c = int(hex_pair, 16) / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(colour[i : i + 2]) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_every_series_colour_keeps_three_to_one_against_white():
    for colour in charts.PALETTE:
        assert (1.05) / (luminance(colour) + 0.05) >= 3, colour  # WCAG 1.4.11


def test_a_stacked_chart_is_a_named_image_with_each_total_written():
    series = [charts.Series("電話", [3, 0, 5]), charts.Series("<script>", [1, 0, 2])]
    svg = charts.column_chart("c1", "月別の申請者数", ["4月", "5月", "6月"], series, "人")
    root = ET.fromstring(svg)  # well-formed, the label escaped
    assert root.get("role") == "img" and root.get("aria-labelledby") == "c1-title"
    assert root.find(f"{SVG}title").text == "月別の申請者数"
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert {"4", "7"} <= set(texts) and "<script>" in texts  # totals 4 and 7; 0 for May too
    assert texts.count("0") >= 2  # the axis's zero and May's total
    heights = [float(r.get("height")) for r in root.iter(f"{SVG}rect") if r.get("class") == "bar"]
    assert len(heights) == 4 and heights[0] / heights[1] == 3  # no bar for a zero; April's 3 over 1


def test_a_progress_chart_writes_value_target_and_percentage():
    svg = charts.progress_chart("c2", "地区別", [("姫城", 52, 260), ("山田", 0, None)], "人")
    texts = [t.text for t in ET.fromstring(svg).iter(f"{SVG}text")]
    assert "52人 / 260人（20%）" in texts and "0人" in texts
