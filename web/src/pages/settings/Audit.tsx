import { Anchor, Button, Group, NativeSelect, SimpleGrid, Stack, Text, TextInput, Title } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { keepPreviousData, useInfiniteQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import { api, unwrap, type Schemas } from "../../api/client";
import { Empty, QueryState } from "../../components/States";
import { formatDateTime } from "../../format";
import { TableBox, endOfLocalDay, startOfLocalDay, useUserName, useUsers, userLabel } from "./shared";

type AuditEvent = Schemas["AuditEvent"];
const RECORD_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const ACTION = /^[a-z_]{1,40}\.[a-z_]{1,40}$/;
const RECORD_PAGES: Record<string, string> = { contact: "/contacts", company: "/companies", event_target: "/settings/event-targets" };

function shownValue(value: unknown): string {
  if (value === null || value === undefined || value === "") return "—";
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}

function Changes({ event }: { event: AuditEvent }) {
  const entries = Object.entries(event.changes);
  if (entries.length === 0) return <>—</>;
  return (
    <ul className="plain-list">
      {entries.map(([field, change]) => (
        <li key={field}>
          <strong>{field}</strong>
          {change.hidden
            ? " (secret: changed, never shown)"
            : change.personal
              ? " (personal: values not kept)"
              : `: ${shownValue(change.before)} → ${shownValue(change.after)}`}
        </li>
      ))}
    </ul>
  );
}

/** Who changed what and when, newest first, with the filters the API offers. */
export default function Audit() {
  const users = useUsers();
  const userName = useUserName();
  const [actorId, setActorId] = useState("");
  const [typed, setTyped] = useState({ object_id: "", action: "" });
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const [debounced] = useDebouncedValue(typed, 300);
  const objectId = debounced.object_id.trim().toUpperCase();
  const action = debounced.action.trim().toLowerCase();
  const objectIdError = objectId && !RECORD_ID.test(objectId) ? "A record id has 26 letters and digits." : undefined;
  const actionError = action && !ACTION.test(action) ? "An action reads like contact.updated." : undefined;
  const filters = {
    actor_id: actorId || undefined,
    object_id: objectId && !objectIdError ? objectId : undefined,
    action: action && !actionError ? action : undefined,
    from: from ? startOfLocalDay(from) : undefined,
    to: to ? endOfLocalDay(to) : undefined,
  };
  const events = useInfiniteQuery({
    queryKey: ["audit-events", filters],
    queryFn: ({ pageParam }) =>
      unwrap(api.GET("/v1/audit-events", { params: { query: { limit: 50, cursor: pageParam, ...filters } } })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page) => page.next_cursor ?? undefined,
    placeholderData: keepPreviousData,
  });
  const rows = events.data?.pages.flatMap((page) => page.items) ?? [];
  const filtered = Object.values(filters).some(Boolean);

  const actor = (event: AuditEvent) =>
    event.actor.type === "user" ? userName(event.actor.id) : `The CRM (${event.actor.id})`;

  return (
    <Stack component="section" aria-labelledby="audit-title">
      <Title order={2} id="audit-title">
        Audit log
      </Title>
      <Text size="sm" c="dimmed">
        Every write of the tenant&apos;s records and settings. A personal field is named, its values not kept.
      </Text>
      <SimpleGrid cols={{ base: 1, xs: 2, md: 5 }} role="group" aria-label="Filters">
        <NativeSelect
          label="Who"
          value={actorId}
          onChange={(event) => setActorId(event.currentTarget.value)}
          data={[{ value: "", label: "Anyone" }, ...(users.data?.items.map((user) => ({ value: user.id, label: userLabel(user) })) ?? [])]}
        />
        <TextInput
          label="Action"
          placeholder="contact.updated"
          value={typed.action}
          onChange={(event) => setTyped({ ...typed, action: event.currentTarget.value })}
          error={actionError}
        />
        <TextInput
          label="Record id"
          value={typed.object_id}
          onChange={(event) => setTyped({ ...typed, object_id: event.currentTarget.value })}
          error={objectIdError}
        />
        <TextInput label="From" type="date" value={from} onChange={(event) => setFrom(event.currentTarget.value)} />
        <TextInput label="To" type="date" value={to} onChange={(event) => setTo(event.currentTarget.value)} />
      </SimpleGrid>
      <QueryState query={events} what="audit log" />
      {events.isSuccess && rows.length === 0 && (
        <Empty>{filtered ? "No write matches these filters." : "No writes recorded yet."}</Empty>
      )}
      {rows.length > 0 && (
        <TableBox>
          <table className="data-table" aria-label="Audit events" aria-busy={events.isFetching}>
            <thead>
              <tr>
                <th>When</th>
                <th>Who</th>
                <th>What</th>
                <th className="from-sm">Changes</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((event) => {
                const page = RECORD_PAGES[event.object.type];
                return (
                  <tr key={event.id}>
                    <td>{formatDateTime(event.occurred_at)}</td>
                    <td>
                      {actor(event)}
                      {event.actor.via && (
                        <Text size="xs" c="dimmed">
                          via {event.actor.via === "api_key" ? "API key" : "sign-in"}
                          {event.source_ip && ` from ${event.source_ip}`}
                        </Text>
                      )}
                    </td>
                    <td>
                      {event.action}
                      <Text size="xs" c="dimmed">
                        {page ? (
                          <Anchor component={Link} to={`${page}/${event.object.id}`} size="xs">
                            {event.object.type} {event.object.id}
                          </Anchor>
                        ) : (
                          `${event.object.type} ${event.object.id}`
                        )}
                      </Text>
                    </td>
                    <td className="from-sm">
                      <Changes event={event} />
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </TableBox>
      )}
      {events.hasNextPage && (
        <Group>
          <Button variant="default" onClick={() => events.fetchNextPage()} loading={events.isFetchingNextPage}>
            Load more
          </Button>
        </Group>
      )}
    </Stack>
  );
}
