import { useEffect, useState } from "react";

/** Rows picked by their checkboxes for a bulk action: only rows loaded now count (a row gone from the list
 * is no longer selected), and a new filter (``resetKey``) starts a new selection. */
export function useSelection<Row extends { id: string }>(rows: Row[], resetKey: string) {
  const [ids, setIds] = useState<ReadonlySet<string>>(new Set());
  useEffect(() => setIds(new Set()), [resetKey]);
  const selected = rows.filter((row) => ids.has(row.id));
  const all = rows.length > 0 && selected.length === rows.length;

  function toggle(id: string, on: boolean) {
    setIds((current) => {
      const next = new Set(current);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });
  }

  return {
    selected,
    count: selected.length,
    /** After an action: what stays selected (the rows it failed on, to try again). */
    keepOnly: (keep: string[]) => setIds(new Set(keep)),
    box: (id: string, label: string) => (
      <input
        type="checkbox"
        className="select-box"
        aria-label={label}
        checked={ids.has(id)}
        onChange={(event) => toggle(id, event.currentTarget.checked)}
      />
    ),
    allBox: (label: string) => (
      <input
        type="checkbox"
        className="select-box"
        aria-label={label}
        checked={all}
        ref={(box) => {
          if (box) box.indeterminate = selected.length > 0 && !all;
        }}
        onChange={(event) => setIds(event.currentTarget.checked ? new Set(rows.map((row) => row.id)) : new Set())}
      />
    ),
  };
}
