"""What every ops command shares: who runs it (--operator, for the operations log) and how
it prints its summary table."""

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
    widths = [max(len(cell) for cell in column) for column in zip(*lines, strict=True)]
    for line in lines:
        write(
            "  ".join(
                cell.ljust(width) if i < text_columns else cell.rjust(width)
                for i, (cell, width) in enumerate(zip(line, widths, strict=True))
            )
        )
