"""What every ops command shares: who runs it (--operator, for the operations log) and how
it prints its summary table."""

import unicodedata
from collections.abc import Sequence

from .actors import Actor
from .operations import operator


def add_operator_argument(parser) -> None:
    parser.add_argument(
        "--operator",
        metavar="NAME",
        help="Your name for the operations log (default: the OS user running the command).",
    )


def operator_of(options: dict) -> Actor:
    return operator(options.get("operator"))


def print_table(
    write, header: Sequence[str], rows: Sequence[Sequence[object]], *, text_columns: int = 1
) -> None:
    """Columns padded to their widest cell: the first `text_columns` left-aligned (names),
    the rest right-aligned (figures). `write` is the command's self.stdout.write."""
    lines = [[str(cell) for cell in row] for row in [header, *rows]]
    widths = [max(map(display_width, column)) for column in zip(*lines, strict=True)]
    for line in lines:
        write(
            "  ".join(
                pad(cell, width, right=i >= text_columns)
                for i, (cell, width) in enumerate(zip(line, widths, strict=True))
            )
        )


def display_width(text: str) -> int:
    """Columns a terminal gives `text`: Hangul and other wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: str, width: int, *, right: bool = False) -> str:
    """ljust/rjust by display width, so Korean headers line up with their columns."""
    fill = " " * max(0, width - display_width(text))
    return fill + text if right else text + fill
