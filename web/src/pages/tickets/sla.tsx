import { Badge, Text, Tooltip } from "@mantine/core";
import type { Schemas } from "../../api/client";
import { formatDateTime } from "../../format";

type Ticket = Schemas["Ticket"];

export const STATUSES = ["new", "open", "pending", "resolved", "closed"] as const;
export const PRIORITIES = ["low", "normal", "high", "urgent"] as const;
export const CATEGORIES = ["question", "complaint", "incident", "request"] as const;
export const CHANNELS = ["email", "phone", "web", "chat", "partner"] as const;

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["day", 86_400_000],
  ["hour", 3_600_000],
  ["minute", 60_000],
];

/** A time relative to now in the user's locale ("in 3 hours", "2 days ago"). */
export function formatRelative(iso: string, now = Date.now()): string {
  const diff = new Date(iso).getTime() - now;
  const format = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
  for (const [unit, ms] of UNITS) {
    if (Math.abs(diff) >= ms || unit === "minute") return format.format(Math.round(diff / ms), unit);
  }
  return format.format(0, "minute");
}

/** The next due time still to meet: the first response's until it is given, then the resolution's; none
 * once resolved or closed. */
export function nextDue(ticket: Ticket): { which: "first response" | "resolution"; at: string; breached: boolean } | null {
  const sla = ticket.sla;
  if (!sla || ticket.status === "resolved" || ticket.status === "closed") return null;
  if (!ticket.first_responded_at && sla.first_response_due_at) {
    return { which: "first response", at: sla.first_response_due_at, breached: Boolean(sla.first_response_breached) };
  }
  if (sla.resolution_due_at) {
    return { which: "resolution", at: sla.resolution_due_at, breached: Boolean(sla.resolution_breached) };
  }
  return null;
}

/** A due time as a person reads it: relative, the exact local time on hover and to screen readers. */
export function DueTime({ at, which }: { at: string; which?: string }) {
  const exact = formatDateTime(at);
  return (
    <Tooltip label={exact}>
      <Text component="span" size="sm">
        <time dateTime={at} aria-label={`${which ? `${which} due ` : ""}${formatRelative(at)}, ${exact}`}>
          {formatRelative(at)}
        </time>
      </Text>
    </Tooltip>
  );
}

export function BreachedBadge() {
  return (
    <Badge color="red.9" variant="filled" size="sm">
      Breached
    </Badge>
  );
}

export function StatusBadge({ status }: { status: string | null | undefined }) {
  const color = status === "new" ? "blue.9" : status === "open" ? "teal.9" : status === "pending" ? "orange.9" : "gray.7";
  return (
    <Badge color={color} variant="outline" size="sm">
      {status ?? "new"}
    </Badge>
  );
}
