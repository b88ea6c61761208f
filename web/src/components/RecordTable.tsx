import { Button, Group } from "@mantine/core";
import { Suspense, lazy, useEffect, useState, type ReactNode } from "react";
import { Empty, QueryState } from "./States";
import { useSelection } from "./selection";

// Only once something is selected: the first page does without it.
const BulkActions = lazy(() => import("./BulkActions"));

/** A list page's records, read page by page: the bulk actions once some are selected, the query's loading
 * and error states, the empty text, the table with a selection column, and Load more while there are pages. */
export function RecordTable<Row extends { id: string }>({
  object,
  label,
  query,
  rows,
  filterKey,
  rowName,
  head,
  cells,
  empty,
  readingOn = false,
}: {
  object: "contacts" | "companies";
  /** The table's accessible name. */
  label: string;
  query: {
    isPending: boolean;
    isError: boolean;
    isSuccess: boolean;
    isFetching: boolean;
    error: Error | null;
    refetch: () => unknown;
    hasNextPage: boolean;
    isFetchingNextPage: boolean;
    fetchNextPage: () => unknown;
  };
  rows: Row[];
  /** The filters: a new one starts a new selection. */
  filterKey: string;
  /** A row's name, for its checkbox. */
  rowName: (row: Row) => string;
  /** The header cells after the selection column's. */
  head: ReactNode;
  /** A row's cells after its checkbox. */
  cells: (row: Row) => ReactNode;
  /** What an empty list says. */
  empty: ReactNode;
  /** The page reads on by itself (a sparse filter): neither "none" nor Load more yet. */
  readingOn?: boolean;
}) {
  const selection = useSelection(rows, filterKey);
  const [bulkOpen, setBulkOpen] = useState(false);
  useEffect(() => {
    if (selection.count > 0) setBulkOpen(true);
  }, [selection.count]);

  return (
    <>
      {bulkOpen && (
        <Suspense fallback={null}>
          <BulkActions
            object={object}
            selected={selection.selected}
            onDone={selection.keepOnly}
            onClose={() => {
              selection.keepOnly([]);
              setBulkOpen(false);
            }}
          />
        </Suspense>
      )}
      <QueryState query={query} what={object} />
      {query.isSuccess && rows.length === 0 && !readingOn && <Empty>{empty}</Empty>}
      {rows.length > 0 && (
        <table className="data-table" aria-label={label} aria-busy={query.isFetching}>
          <thead>
            <tr>
              <th className="select-cell">{selection.allBox(`Select all loaded ${object}`)}</th>
              {head}
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.id}>
                <td className="select-cell">{selection.box(row.id, `Select ${rowName(row)}`)}</td>
                {cells(row)}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {query.hasNextPage && !readingOn && (
        <Group>
          <Button variant="default" onClick={() => query.fetchNextPage()} loading={query.isFetchingNextPage}>
            Load more
          </Button>
        </Group>
      )}
    </>
  );
}
