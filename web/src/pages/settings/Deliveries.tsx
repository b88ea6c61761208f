import { Alert, Anchor, Badge, Button, Group, NativeSelect, Stack, Text, TextInput, Title } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { keepPreviousData, useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useParams } from "react-router";
import { api, unwrap, type Schemas } from "../../api/client";
import { Fields } from "../../components/Fields";
import { Empty, QueryState } from "../../components/States";
import { ProblemAlert } from "../../forms/parts";
import { formErrors } from "../../forms/useFormState";
import { formatDateTime, formatNumber } from "../../format";
import { EditEventTypes, targetWhere } from "./EventTargets";
import { TableBox, useIsAdmin } from "./shared";
import { STATUS_MEANINGS, StatusBadge } from "./targetStatus";

type Outcome = Schemas["DeliveryTry"]["outcome"];
const OUTCOME_COLORS: Record<Outcome, string> = { succeeded: "teal.9", retrying: "gray.7", gave_up: "red.9" };
const EVENT_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** One target's delivery log: every try of every delivery, newest first, with a redelivery per event. */
export default function Deliveries() {
  const { id = "" } = useParams();
  const admin = useIsAdmin();
  const queryClient = useQueryClient();
  const [outcome, setOutcome] = useState<Outcome | "">("");
  const [eventIdTyped, setEventIdTyped] = useState("");
  const [eventIdDebounced] = useDebouncedValue(eventIdTyped.trim().toUpperCase(), 300);
  const eventId = EVENT_ID.test(eventIdDebounced) ? eventIdDebounced : "";
  const [editing, setEditing] = useState(false);
  const [redelivered, setRedelivered] = useState<Schemas["Redelivery"] | null>(null);

  const target = useQuery({
    queryKey: ["event-target", id],
    queryFn: () => unwrap(api.GET("/v1/event-targets/{record_id}", { params: { path: { record_id: id } } })),
    refetchInterval: (query) => (query.state.data?.status === "pending" ? 2000 : false),
  });
  const tries = useInfiniteQuery({
    queryKey: ["deliveries", id, { outcome, eventId }],
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/v1/event-targets/{record_id}/deliveries", {
          params: {
            path: { record_id: id },
            query: { limit: 50, cursor: pageParam, outcome: outcome || undefined, event_id: eventId || undefined },
          },
        }),
      ),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page) => page.next_cursor ?? undefined,
    placeholderData: keepPreviousData,
    // Deliveries keep coming (and retries follow their back-off): the log stays current while it is open.
    refetchInterval: 5000,
  });
  const rows = tries.data?.pages.flatMap((page) => page.items) ?? [];
  // The newest try of each event carries its Redeliver button (the log lists every try, newest first).
  const firstTryOfEvent = new Set<string>();
  const seen = new Set<string>();
  for (const row of rows) {
    if (!seen.has(row.event_id)) {
      seen.add(row.event_id);
      firstTryOfEvent.add(`${row.delivery_id}:${row.attempt}`);
    }
  }

  const redeliver = useMutation({
    mutationFn: (eventToSend: string) =>
      unwrap(api.POST("/v1/event-targets/{record_id}/redeliver", { params: { path: { record_id: id } }, body: { event_id: eventToSend } })),
    onSuccess: (answer) => {
      setRedelivered(answer);
      // The new delivery's tries appear once the worker has sent it.
      setTimeout(() => void queryClient.invalidateQueries({ queryKey: ["deliveries", id] }), 1500);
    },
  });

  return (
    <Stack component="section" aria-labelledby="deliveries-title">
      <Anchor component={Link} to="/settings/event-targets" size="sm">
        ← Event targets
      </Anchor>
      <Title order={2} id="deliveries-title">
        Delivery log
      </Title>
      <QueryState query={target} what="event target" />
      {target.data && (
        <>
          <Fields
            fields={[
              ["Where", targetWhere(target.data)],
              ["Kind", target.data.type === "webhook" ? "Webhook" : "EventBridge bus"],
              [
                "Status",
                <span key="status">
                  <StatusBadge status={target.data.status} />{" "}
                  <Text span size="sm">
                    {STATUS_MEANINGS[target.data.status ?? "pending"]}
                  </Text>
                </span>,
              ],
              ["Event types", target.data.event_types?.join(", ")],
              ["Description", target.data.description],
              ["Created", formatDateTime(target.data.created_at)],
            ]}
          />
          {admin && (
            <Group>
              <Button size="xs" variant="default" onClick={() => setEditing(true)}>
                Change event types
              </Button>
            </Group>
          )}
          {editing && <EditEventTypes target={target.data} onClose={() => setEditing(false)} />}
        </>
      )}
      <Group align="flex-end">
        <NativeSelect
          label="Outcome"
          value={outcome}
          onChange={(event) => setOutcome(event.currentTarget.value as Outcome | "")}
          data={[
            { value: "", label: "Any" },
            { value: "succeeded", label: "Succeeded" },
            { value: "retrying", label: "Retrying" },
            { value: "gave_up", label: "Given up" },
          ]}
        />
        <TextInput
          label="Event id"
          value={eventIdTyped}
          onChange={(event) => setEventIdTyped(event.currentTarget.value)}
          error={eventIdDebounced && !eventId ? "An event id has 26 letters and digits." : undefined}
          maw={320}
        />
      </Group>
      {redelivered && (
        <Alert color="teal.9" variant="outline" title="Redelivery queued" withCloseButton closeButtonLabel="Dismiss" onClose={() => setRedelivered(null)}>
          Event {redelivered.event_id} is sent again as delivery {redelivered.delivery_id}; its tries appear below.
        </Alert>
      )}
      <ProblemAlert error={redeliver.isError ? formErrors(redeliver.error, []).problem : null} />
      <QueryState query={tries} what="delivery log" />
      {tries.isSuccess && rows.length === 0 && (
        <Empty>{outcome || eventId ? "No delivery matches these filters." : "Nothing delivered to this target yet."}</Empty>
      )}
      {rows.length > 0 && (
        <TableBox>
          <table className="data-table" aria-label="Deliveries" aria-busy={tries.isFetching}>
            <thead>
              <tr>
                <th>When</th>
                <th>Event</th>
                <th>Outcome</th>
                <th className="from-sm">Try</th>
                <th className="from-sm">Answer</th>
                <th className="from-md">Time</th>
                {admin && <th>Actions</th>}
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={`${row.delivery_id}:${row.attempt}`}>
                  <td>{formatDateTime(row.attempted_at)}</td>
                  <td>
                    {row.event_type}
                    <Text size="xs" c="dimmed">
                      {row.event_id}
                    </Text>
                  </td>
                  <td>
                    <Badge variant="outline" color={OUTCOME_COLORS[row.outcome]}>
                      {row.outcome.replace("_", " ")}
                    </Badge>
                  </td>
                  <td className="from-sm">{formatNumber(row.attempt)}</td>
                  <td className="from-sm">
                    {row.status_code ?? "no answer"}
                    {row.error && (
                      <Text size="xs" c="dimmed">
                        {row.error}
                      </Text>
                    )}
                  </td>
                  <td className="from-md">{formatNumber(row.duration_ms)} ms</td>
                  {admin && (
                    <td>
                      {firstTryOfEvent.has(`${row.delivery_id}:${row.attempt}`) && (
                        <Button
                          size="xs"
                          variant="default"
                          onClick={() => redeliver.mutate(row.event_id)}
                          loading={redeliver.isPending && redeliver.variables === row.event_id}
                          aria-label={`Redeliver ${row.event_type} ${row.event_id}`}
                        >
                          Redeliver
                        </Button>
                      )}
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </TableBox>
      )}
      {tries.hasNextPage && (
        <Group>
          <Button variant="default" onClick={() => tries.fetchNextPage()} loading={tries.isFetchingNextPage}>
            Load more
          </Button>
        </Group>
      )}
    </Stack>
  );
}
