"""Batch files: JSONL and CSV, every line validated with the rules of `generate` before anything is sent."""

from __future__ import annotations

from pathlib import Path

import pytest

from seedream._batch import estimate_credits, read_batch


def _problems(path: Path) -> list[tuple[int, str, str]]:
    return [(p.line, p.field, p.rule) for p in read_batch(path).problems]


def test_jsonl_lines_carry_generate_parameters_and_blank_and_comment_lines_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "b.jsonl"
    path.write_text(
        '# prompts for the launch\n{"prompt": "a fox", "n": 2, "size": "16:9", "quality": "2K"}\n\n'
        '{"prompt": "an owl", "output_format": "png", "web_search": true}\n'
    )
    batch = read_batch(path)
    assert batch.problems == []
    assert [(line.line_no, line.prompt, line.images) for line in batch.lines] == [(2, "a fox", 2), (4, "an owl", 1)]
    assert batch.lines[1].params == {"output_format": "png", "web_search": True}
    assert estimate_credits(batch.lines, 2.2) == pytest.approx(3 * 2.2 + 0.04)


def test_bad_jsonl_lines_are_reported_with_line_number_field_and_rule(tmp_path: Path) -> None:
    path = tmp_path / "b.jsonl"
    path.write_text(
        '{"prompt": "ok"}\n'
        "{not json\n"
        '["a list"]\n'
        '{"n": 2}\n'
        '{"prompt": "x", "colour": "red"}\n'
        '{"prompt": "x", "n": 16}\n'
        '{"prompt": "x", "size": "100x100"}\n'
        '{"prompt": "x", "image_urls": "https://a.example/1.png"}\n'
    )
    problems = _problems(path)
    assert [(line, field) for line, field, _ in problems] == [
        (2, "(line)"),
        (3, "(line)"),
        (4, "prompt"),
        (5, "colour"),
        (6, "n"),
        (7, "size"),
        (8, "image_urls"),
    ]
    rules = dict(((line, field), rule) for line, field, rule in problems)
    assert "JSON object" in rules[2, "(line)"]
    assert "required" in rules[4, "prompt"]
    assert "not a generation parameter" in rules[5, "colour"]
    assert "15" in rules[6, "n"]
    assert [line.line_no for line in read_batch(path).lines] == [1]


def test_csv_needs_a_prompt_column_and_converts_cells(tmp_path: Path) -> None:
    path = tmp_path / "b.csv"
    path.write_text(
        'prompt,n,web_search,image_urls\n"a fox, at dawn",2,yes,https://a.example/1.png https://a.example/2.png\n'
        "an owl,,,\n\nbad n,two,,\nbad flag,1,maybe,\n"
    )
    batch = read_batch(path)
    assert [(line.line_no, line.prompt) for line in batch.lines] == [(2, "a fox, at dawn"), (3, "an owl")]
    assert batch.lines[0].params == {
        "n": 2,
        "web_search": True,
        "image_urls": ["https://a.example/1.png", "https://a.example/2.png"],
    }
    assert batch.lines[1].params == {}
    assert [(p.line, p.field) for p in batch.problems] == [(5, "n"), (6, "web_search")]
    missing = tmp_path / "c.csv"
    missing.write_text("text,n\na fox,1\n")
    assert _problems(missing) == [(1, "prompt", "a CSV batch needs a prompt column")]


def test_identical_lines_get_distinct_keys_and_keys_do_not_depend_on_position(tmp_path: Path) -> None:
    one = tmp_path / "one.jsonl"
    one.write_text('{"prompt": "a"}\n{"prompt": "b"}\n{"prompt": "a"}\n')
    two = tmp_path / "two.jsonl"
    two.write_text('{"prompt": "new"}\n{"prompt": "b"}\n{"prompt": "a"}\n{"prompt": "a"}\n')
    keys_one = {line.prompt + str(line.line_no): line.key for line in read_batch(one).lines}
    keys_two = [line.key for line in read_batch(two).lines]
    assert len(set(keys_one.values())) == 3
    assert set(keys_one.values()) <= set(keys_two)
