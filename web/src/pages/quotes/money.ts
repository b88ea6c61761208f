// A quote's amounts are decimal strings computed by the server (exact, rounded to the currency's minor unit):
// shown as they are, never through a float.

export function exactMoney(amount: string | null | undefined, currency: string | null | undefined): string {
  if (amount === null || amount === undefined || amount === "") return "—";
  return currency ? `${amount} ${currency}` : amount;
}

export const QUOTE_STATUSES = ["draft", "sent", "accepted", "declined", "expired"] as const;

export const STATUS_COLORS: Record<string, string> = {
  draft: "gray.7",
  sent: "blue.9",
  accepted: "teal.9",
  declined: "red.9",
  expired: "orange.9",
};

/** The query key of one quote (its page, the builder's saves). */
export function quoteKey(id: string) {
  return ["quote", id] as const;
}
