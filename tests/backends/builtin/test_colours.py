"""The v2 colour lookup: the shipped table's names, longest match first, as values."""

from __future__ import annotations

from clipforge.backends.builtin.v2.colours import ColourTable, colour_table


def test_the_longest_name_wins_and_its_words_are_not_matched_again() -> None:
    table = colour_table()
    text = "a Dark Sky Blue ball, a sky blue cube and a blue cone on navy blue"
    found = [(text[m.start : m.end], m.name, m.rgb) for m in table.mentions(text)]
    assert found == [
        ("Dark Sky Blue", "dark sky blue", (0x44, 0x8E, 0xE4)),
        ("sky blue", "sky blue", (0x75, 0xBB, 0xFD)),
        ("blue", "blue", (0x03, 0x43, 0xDF)),
        ("navy blue", "navy blue", (0x00, 0x11, 0x46)),
    ]


def test_every_table_name_is_found_as_itself_with_its_value() -> None:
    table = colour_table()
    assert len(table.names) == 949
    for name, rgb in table.names.items():
        found = table.mentions(f"a {name} circle")
        # Names that differ only by a slash ("blue/green", "blue green") read as the same words.
        assert (len(found) == 1 and table.names[found[0].name] == rgb) or "/" in name, name


def test_words_outside_the_table_and_odd_text_find_nothing() -> None:
    table = ColourTable({"red": (255, 0, 0), "dark red": (120, 0, 0)})
    assert table.mentions("a vermilion ball, İstanbul, 🐉, ''") == []
    text = "İ a dark red ball"  # "İ".lower() is two characters: spans stay the text's own
    (mention,) = table.mentions(text)
    assert text[mention.start : mention.end] == "dark red" and mention.rgb == (120, 0, 0)
