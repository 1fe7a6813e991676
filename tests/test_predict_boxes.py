"""Person boxes given by the user: parsed from text and files, checked against the image
(clipped when partly outside, one-line errors otherwise)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from smplr.predict.boxes import box_for, check_box, parse_box, read_boxes


def _error(call, *args, match: str, **kwargs) -> str:
    with pytest.raises(ValueError, match=match) as info:
        call(*args, **kwargs)
    assert "\n" not in str(info.value)
    return str(info.value)


def test_parse_box() -> None:
    assert parse_box(" 10, 20.5,300,400 ").tolist() == [10, 20.5, 300, 400]
    assert parse_box("1e1,2,3e2,4e2").tolist() == [10, 2, 300, 400]
    for text in ("10,20,30", "a,b,c,d", "", "1,2,3,4,5", "1;2;3;4"):
        _error(parse_box, text, match=r"^--box: a box is 4 numbers x0,y0,x1,y1 \(pixels\), got")
    _error(parse_box, "nan,0,10,10", match="^--box: box nan,0,10,10 has a NaN or infinite")
    _error(parse_box, "0,0,inf,10", match="NaN or infinite coordinate")
    _error(parse_box, "50,0,10,10", match="box 50,0,10,10 is empty or inverted: need x0 < x1")
    _error(parse_box, "0,5,10,5", where="p.jpg", match="^p.jpg: box 0,5,10,5 is empty")


def test_check_box_clips_and_refuses() -> None:
    assert check_box([10, 20, 100, 200], 480, 640).tolist() == [10, 20, 100, 200]
    assert check_box(np.array([-5, -1, 700, 500]), 480, 640).tolist() == [0, 0, 640, 480]
    assert check_box((600, 400, 641.5, 480.5), 480, 640).tolist() == [600, 400, 640, 480]
    for box in ([640, 0, 700, 10], [0, 480, 10, 500], [-20, 0, 0, 10], [0, -9, 10, -1]):
        _error(check_box, box, 480, 640, match=r"lies outside the 640x480 image")
    message = _error(check_box, [700, 10, 800, 100], 480, 640, where="p.jpg", match="outside")
    assert message == "p.jpg: box 700,10,800,100 lies outside the 640x480 image"
    _error(check_box, [10, 10, 10, 20], 480, 640, match="empty or inverted")
    _error(check_box, [30, 10, 10, 20], 480, 640, match="empty or inverted")
    _error(check_box, [np.nan, 10, 10, 20], 480, 640, match="NaN or infinite")
    _error(check_box, [1, 2, 3], 480, 640, match="a box is 4 numbers")


@given(
    box=st.lists(st.floats(-1e4, 1e4, allow_nan=False), min_size=4, max_size=4),
    height=st.integers(32, 3000),
    width=st.integers(32, 3000),
)
def test_checked_boxes_lie_in_the_image(box, height: int, width: int) -> None:
    try:
        clipped = check_box(box, height, width)
    except ValueError as exc:
        assert "\n" not in str(exc)
        x0, y0, x1, y1 = box
        inside = x1 > 0 and y1 > 0 and x0 < width and y0 < height
        assert not (x0 < x1 and y0 < y1 and inside)
        return
    u0, v0, u1, v1 = clipped
    assert 0 <= u0 < u1 <= width and 0 <= v0 < v1 <= height
    assert u0 >= box[0] and v0 >= box[1] and u1 <= box[2] and v1 <= box[3]


def test_box_files(tmp_path) -> None:
    as_json = tmp_path / "boxes.json"
    as_json.write_text('{"a.jpg": [1, 2, 30, 40], "in/b.png": [0, 0, 50.5, 60]}')
    as_csv = tmp_path / "boxes.csv"
    as_csv.write_text('name,x0,y0,x1,y1\n# a comment\n\na.jpg, 1,2,30,40\n"in/b.png",0,0,50.5,60\n')
    for path in (as_json, as_csv):
        boxes = read_boxes(path)
        assert {k: v.tolist() for k, v in boxes.items()} == {
            "a.jpg": [1, 2, 30, 40],
            "in/b.png": [0, 0, 50.5, 60],
        }
        assert box_for(boxes, "photos/a.jpg").tolist() == [1, 2, 30, 40]  # by name
        assert box_for(boxes, "in/b.png") is not None and box_for(boxes, "b.png") is None
        assert box_for(boxes, "c.jpg") is None
    with_comma = tmp_path / "comma.txt"
    with_comma.write_text('"me, at the beach.jpg",1,2,3,4\n')
    assert list(read_boxes(with_comma)) == ["me, at the beach.jpg"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("b.json", "[1, 2, 3, 4]", r'b.json: expected a JSON object \{"photo.jpg"'),
        ("b.json", "{", r"b.json: not valid JSON \(Expecting property name"),
        ("b.json", '{"a.jpg": [1, 2, 3]}', r"b.json: 'a.jpg': a box is 4 numbers .* got '1,2,3'"),
        ("b.json", '{"a.jpg": [1, 2, NaN, 4]}', "'a.jpg': box 1,2,nan,4 has a NaN"),
        ("b.json", '{"a.jpg": "1,2,3,4"}', "'a.jpg': a box is 4 numbers"),
        ("b.json", '{"a.jpg": [0,0,5,5], "a.jpg": [1,1,5,5]}', "b.json: a second box for 'a.jpg'"),
        ("b.json", "{}", "b.json: no boxes in the file"),
        ("b.csv", "a.jpg,1,2,3\n", r"b.csv:1: expected name,x0,y0,x1,y1, got 'a.jpg,1,2,3'"),
        ("b.csv", "\n,1,2,3,4\n", r"b.csv:2: expected name,x0,y0,x1,y1"),
        ("b.csv", "a.jpg,1,2,x,4\n", r"b.csv:1: a box is 4 numbers .* got '1,2,x,4'"),
        ("b.csv", "a.jpg,9,2,3,4\n", "b.csv:1: box 9,2,3,4 is empty or inverted"),
        ("b.csv", "a.jpg,0,0,5,5\na.jpg,1,1,5,5\n", "b.csv:2: a second box for 'a.jpg'"),
        ("b.csv", "# nothing\n", "b.csv: no boxes in the file"),
    ],
)
def test_bad_box_files(tmp_path, name: str, content: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    _error(read_boxes, path, match=message)


def test_unreadable_box_files(tmp_path) -> None:
    _error(read_boxes, tmp_path / "none.csv", match=r"none.csv: cannot read the box file \(No such")
    binary = tmp_path / "b.csv"
    binary.write_bytes(b"\xff\xfe\x00")
    _error(read_boxes, binary, match=r"b.csv: cannot read the box file \(not UTF-8 text\)")
