"""Jinja filters that print the numbers of data/lumi.yaml the way the pages show them (`20 GB`, `100 000`)."""

UNITS = ("GB", "TB", "PB")


def size_gb(gigabytes):
    """A size in (decimal) gigabytes in the largest unit that keeps it whole: 500 -> `500 GB`, 50000 -> `50 TB`."""
    value, unit = int(gigabytes), UNITS[0]
    for bigger in UNITS[1:]:
        if value % 1000:
            break
        value, unit = value // 1000, bigger
    return f"{grouped(value)} {unit}"


def grouped(number):
    """An integer with its digits in groups of three, as the pages print counts: 2000000 -> `2 000 000`."""
    return f"{int(number):,}".replace(",", " ")


FILTERS = {"size_gb": size_gb, "grouped": grouped}
