import { Badge } from "@mantine/core";

type Status = "pending" | "active" | "failing";

/** What each status of an event target means to the admin reading it (the API's own description). */
export const STATUS_MEANINGS: Record<Status, string> = {
  pending: "Routing is being set up (usually seconds); events committed once it is active will reach it.",
  active: "Every event committed since it became active reaches it.",
  failing: "Deliveries are being given up; it is active again after the next one succeeds.",
};

// Shade 9 (gray 7) outlines: their text meets WCAG AA contrast on white, as the light variants' did not.
const COLORS: Record<Status, string> = { pending: "gray.7", active: "teal.9", failing: "red.9" };

export function StatusBadge({ status }: { status: Status | undefined }) {
  const shown = status ?? "pending";
  return (
    <Badge variant="outline" color={COLORS[shown]} title={STATUS_MEANINGS[shown]}>
      {shown}
    </Badge>
  );
}
