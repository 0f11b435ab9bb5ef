"""Wire models as CSV: the API's `Accept: text/csv` answers and the console's downloads.

One rendering for both faces, so a figure downloaded from the console is byte for byte the
figure the API serves. A header line of the JSON's field names, then one line per item (a
figure that is one object is one line). Values are written as JSON writes them, with null
as an empty cell, so a spreadsheet and a chart read the same numbers; text that a
spreadsheet would run as a formula (an account id such as `=HYPERLINK(...)`) is quoted
with a leading `'`, as OWASP advises against CSV injection.
"""

import csv
import io
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

MEDIA_TYPE = "text/csv; charset=utf-8"

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet reads as the start of a formula. No number of a figure is negative,
so only text (an app's account id) can begin so."""


def cell(value: object) -> str:
    """A JSON value as a CSV cell: null empty, a would-be formula quoted, the rest as is."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return f"'{value}"
    return str(value)


def csv_text(rows: Sequence[dict[str, Any]], fields: Sequence[str]) -> str:
    """Rows of JSON values as CSV: a header of `fields`, then one line per row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(fields)
    writer.writerows([cell(row[name]) for name in fields] for row in rows)
    return out.getvalue()


def models_csv(out: type[BaseModel], found: Sequence[BaseModel] | BaseModel) -> str:
    """Wire models of one kind (or one model) as CSV, computed fields included."""
    items = [found] if isinstance(found, BaseModel) else list(found)
    fields = [*out.model_fields, *out.model_computed_fields]
    return csv_text([item.model_dump(mode="json") for item in items], fields)


def attachment(name: str) -> dict[str, str]:
    """The header that makes a browser save the answer as `name`.csv."""
    return {"Content-Disposition": f'attachment; filename="{name}.csv"'}
