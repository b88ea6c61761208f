// A contract's money is decimal strings (at most 4 places, exact, decision 0030): the new contract form
// sums its plan rows in ten-thousandths as BigInt, never through a float, so that the difference it shows
// live is the one the API would refuse.

const SCALE = 4;
const DECIMAL = /^\s*(-)?(\d*)(?:\.(\d*))?\s*$/;

/** A decimal string in ten-thousandths; null for what is not a number of at most 4 places. */
export function toUnits(text: string): bigint | null {
  const match = DECIMAL.exec(text);
  if (!match || (!match[2] && !match[3]) || (match[3] ?? "").length > SCALE) return null;
  const units = BigInt(match[2] || "0") * 10n ** BigInt(SCALE) + BigInt((match[3] ?? "").padEnd(SCALE, "0") || "0");
  return match[1] ? -units : units;
}

/** Ten-thousandths as a decimal string with at least 2 places (as the API answers amounts). */
export function fromUnits(units: bigint): string {
  const sign = units < 0n ? "-" : "";
  const digits = (units < 0n ? -units : units).toString().padStart(SCALE + 1, "0");
  let fraction = digits.slice(-SCALE);
  while (fraction.length > 2 && fraction.endsWith("0")) fraction = fraction.slice(0, -1);
  return `${sign}${digits.slice(0, -SCALE)}.${fraction}`;
}

/** What the plan's rows leave to plan (value − their sum): null while the value or a row is not a number. */
export function planDifference(value: string, amounts: string[]): bigint | null {
  const total = toUnits(value);
  const rows = amounts.map(toUnits);
  if (total === null || rows.some((row) => row === null)) return null;
  return total - rows.reduce<bigint>((sum, row) => sum + (row ?? 0n), 0n);
}

export const CONTRACT_STATUSES = ["draft", "active", "expired", "terminated"] as const;
export type ContractStatus = (typeof CONTRACT_STATUSES)[number];

/** The moves the API allows from each status (decision 0030); `expired` is also set by the expiry timer. */
export const STATUS_MOVES: Record<ContractStatus, ContractStatus[]> = {
  draft: ["active", "terminated"],
  active: ["expired", "terminated"],
  expired: [],
  terminated: [],
};

export const CONTRACT_STATUS_COLORS: Record<string, string> = {
  draft: "gray.7",
  active: "teal.9",
  expired: "orange.9",
  terminated: "red.9",
};

export const INSTALLMENT_COLORS: Record<string, string> = { paid: "teal.9", open: "blue.9", overdue: "red.9" };

export const PAYMENT_METHODS = ["bank_transfer", "card", "cash", "check", "direct_debit", "other"] as const;

export function contractKey(id: string) {
  return ["contract", id] as const;
}

export function receivablesKey(companyId: string) {
  return ["receivables", companyId] as const;
}
