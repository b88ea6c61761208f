// Money, dates and numbers in the user's own locale (the browser's), never a fixed one.

export function formatMoney(amount: string | number | null | undefined, currency: string | null | undefined) {
  if (amount === null || amount === undefined || amount === "") return "—";
  const value = Number(amount);
  if (!currency) return new Intl.NumberFormat().format(value);
  return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(value);
}

export function formatDateTime(iso: string | null | undefined) {
  if (!iso) return "—";
  return new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso));
}

export function formatDate(iso: string | null | undefined) {
  if (!iso) return "—";
  return new Intl.DateTimeFormat(undefined, { dateStyle: "medium" }).format(new Date(iso));
}

export function formatNumber(value: number) {
  return new Intl.NumberFormat().format(value);
}

/** A file's size in the units a person reads (bytes, KB, MB, GB: powers of 1,024). */
export function formatBytes(bytes: number | null | undefined) {
  if (bytes === null || bytes === undefined) return "—";
  const units = ["bytes", "KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${new Intl.NumberFormat(undefined, { maximumFractionDigits: unit === 0 ? 0 : 1 }).format(value)} ${units[unit]}`;
}

/** A contact's name as lists and pages show it; an erased one (a tombstone, decision 0016) has none left. */
export function personName(record: {
  first_name?: string | null;
  last_name?: string | null;
  email?: string | null;
  erased_at?: string | null;
}) {
  if (record.erased_at) return "(erased)";
  const name = [record.first_name, record.last_name].filter(Boolean).join(" ");
  return name || record.email || "(no name)";
}
