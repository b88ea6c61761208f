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

export function personName(record: { first_name?: string | null; last_name?: string | null; email?: string | null }) {
  const name = [record.first_name, record.last_name].filter(Boolean).join(" ");
  return name || record.email || "(no name)";
}
