"""A trips table written replication by replication, so no run holds every trip in memory."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

__all__ = ["TripFile"]

#: Decimals of the trips table's floats (0.1 m, 0.4 s), as ``routesim.io.write_table(decimals=4)``.
TRIP_DECIMALS = 4


class TripFile:
    """The trips of every replication in one file: CSV, or Parquet for a ``.parquet`` path.

    Each :meth:`write` appends one replication's trips with a leading
    ``replication`` column; the file is complete after :meth:`close` (or the
    end of a ``with`` block). The text written is that of
    :func:`routesim.io.write_table` on all replications stacked: the same
    rounding (:data:`TRIP_DECIMALS`), quoting and header. Categorical columns
    are written as text in CSV and as dictionary columns (one dictionary per
    replication's row group) in Parquet.

    Parameters
    ----------
    path
        The file to write (created or truncated at the first :meth:`write`).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.rows = 0
        self._writer: pacsv.CSVWriter | pq.ParquetWriter | None = None
        self._schema: pa.Schema | None = None

    def write(self, trips: pd.DataFrame, *, replication: int) -> None:
        """Append the trips of replication ``replication`` (1-based)."""
        frame = trips.assign(replication=replication)[["replication", *trips.columns]]
        floats = frame.select_dtypes(include="float").columns
        if len(floats):
            frame = frame.assign(**{c: frame[c].round(TRIP_DECIMALS) for c in floats})
        table = pa.Table.from_pandas(frame, preserve_index=False)
        parquet = self.path.suffix == ".parquet"
        # Each replication has its own categories (and so index widths): give every
        # batch one schema, text in CSV, 32-bit dictionaries in Parquet.
        fields = []
        for f in table.schema:
            if pa.types.is_dictionary(f.type):
                f = f.with_type(pa.dictionary(pa.int32(), pa.string()) if parquet else pa.string())
            fields.append(f)
        schema = pa.schema(fields, metadata=table.schema.metadata if parquet else None)
        table = table.cast(schema)
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._schema = schema
            self._writer = (pq.ParquetWriter(self.path, schema) if parquet else
                            pacsv.CSVWriter(self.path, schema,
                                            write_options=pacsv.WriteOptions(quoting_style="needed")))
        assert self._schema is not None
        self._writer.write_table(table.replace_schema_metadata(self._schema.metadata))
        self.rows += len(frame)

    def close(self) -> None:
        """Finish the file (idempotent)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def __enter__(self) -> TripFile:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
