import { Anchor, Button, Group, Loader, NativeSelect, Stack, Switch, Text, Title } from "@mantine/core";
import { keepPreviousData, useInfiniteQuery } from "@tanstack/react-query";
import { Suspense, lazy, useState } from "react";
import { Link, useNavigate } from "react-router";
import { api, unwrap } from "../api/client";
import { DebouncedFilter, useUrlFilters } from "../components/ListFilters";
import { useOwnerName, useUsers } from "../components/owners";
import { Empty, QueryState } from "../components/States";
import { useMe } from "../Shell";
import { BreachedBadge, CATEGORIES, DueTime, PRIORITIES, STATUSES, StatusBadge, nextDue } from "./tickets/sla";

// The form loads when "New ticket" is pressed: the queue is what the page opens to.
const TicketForm = lazy(() => import("./tickets/TicketForm"));

const FILTERS = ["q", "status", "priority", "category", "assignee", "breached"] as const;

type Status = (typeof STATUSES)[number];
type Priority = (typeof PRIORITIES)[number];
type Category = (typeof CATEGORIES)[number];

const choices = (any: string, values: readonly string[]) => [{ value: "", label: any }, ...values.map((value) => ({ value, label: value }))];

/** The ticket queue: breached and soonest due first (the API's `sort=due_at`), filtered by the URL. */
export default function Tickets() {
  const navigate = useNavigate();
  const filters = useUrlFilters(FILTERS);
  const { q, status, priority, category, assignee, breached } = filters.values;
  const [creating, setCreating] = useState(false);
  const ownerName = useOwnerName();
  const users = useUsers();
  const me = useMe();
  const tickets = useInfiniteQuery({
    queryKey: ["tickets", filters.values],
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/v1/tickets", {
          params: {
            query: {
              q: q || undefined,
              status: (status || undefined) as Status | undefined,
              priority: (priority || undefined) as Priority | undefined,
              category: (category || undefined) as Category | undefined,
              assignee_id: assignee || undefined,
              breached: breached === "true" ? true : undefined,
              // The queue's order. A search by subject, or the breached ones (read from their own index
              // entries), come in the API's own order: it refuses a sort with them (422).
              sort: q || breached === "true" ? undefined : "due_at",
              cursor: pageParam,
              limit: 25,
              expand: "contact",
            },
          },
        }),
      ),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page) => page.next_cursor ?? undefined,
    placeholderData: keepPreviousData,
  });
  const rows = tickets.data?.pages.flatMap((page) => page.items) ?? [];
  const others = (users.data?.items ?? []).filter((user) => user.id !== me.data?.user.id);

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={1}>Tickets</Title>
        <Group gap="xs">
          <Button component={Link} to="/tickets/articles" variant="default">
            Knowledge base
          </Button>
          {!creating && <Button onClick={() => setCreating(true)}>New ticket</Button>}
        </Group>
      </Group>
      {creating && (
        <Suspense fallback={<Loader role="status" aria-label="Loading the form" />}>
          <TicketForm onCancel={() => setCreating(false)} onSaved={(saved) => navigate(`/tickets/${saved.id}`)} />
        </Suspense>
      )}
      <Group align="flex-end" gap="sm" role="search" aria-label="Filter tickets">
        <DebouncedFilter label="Search" description="The subject's start" type="search" value={q} onChange={(value) => filters.set("q", value)} maw={260} />
        <NativeSelect label="Status" value={status} onChange={(event) => filters.set("status", event.currentTarget.value)} data={choices("Any status", STATUSES)} />
        <NativeSelect label="Priority" value={priority} onChange={(event) => filters.set("priority", event.currentTarget.value)} data={choices("Any priority", PRIORITIES)} />
        <NativeSelect label="Category" value={category} onChange={(event) => filters.set("category", event.currentTarget.value)} data={choices("Any category", CATEGORIES)} />
        <NativeSelect
          label="Assignee"
          value={assignee}
          onChange={(event) => filters.set("assignee", event.currentTarget.value)}
          data={[
            { value: "", label: "Anyone" },
            { value: "me", label: "My tickets" },
            ...others.map((user) => ({ value: user.id, label: user.name ?? user.email ?? user.id })),
            ...(assignee && assignee !== "me" && !others.some((user) => user.id === assignee) ? [{ value: assignee, label: "Another user" }] : []),
          ]}
        />
        <Switch
          label="Breached only"
          checked={breached === "true"}
          onChange={(event) => filters.set("breached", event.currentTarget.checked ? "true" : "")}
          mb={8}
        />
        {filters.active && (
          <Button variant="subtle" onClick={filters.clear}>
            Clear filters
          </Button>
        )}
      </Group>
      <QueryState query={tickets} what="tickets" />
      {tickets.isSuccess && rows.length === 0 && (
        <Empty>{filters.active ? "No ticket matches these filters." : "No tickets yet: create the first one."}</Empty>
      )}
      {rows.length > 0 && (
        <div className="table-box">
          <table className="data-table" aria-label="Tickets" aria-busy={tickets.isFetching}>
            <thead>
              <tr>
                <th>Subject</th>
                <th>Status</th>
                <th className="from-sm">Priority</th>
                <th>Due</th>
                <th className="from-md">Contact</th>
                <th className="from-md">Category</th>
                <th className="from-sm">Assignee</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((ticket) => {
                const due = nextDue(ticket);
                return (
                  <tr key={ticket.id} data-testid="ticket-row">
                    <td>
                      <Anchor component={Link} to={`/tickets/${ticket.id}`}>
                        {ticket.subject || "(no subject)"}
                      </Anchor>
                    </td>
                    <td>
                      <StatusBadge status={ticket.status} />
                    </td>
                    <td className="from-sm">{ticket.priority ?? "normal"}</td>
                    <td>
                      <Group gap={6} wrap="nowrap">
                        {due ? <DueTime at={due.at} which={due.which} /> : "—"}
                        {ticket.sla_breached && <BreachedBadge />}
                      </Group>
                    </td>
                    <td className="from-md">{contactName(ticket.contact)}</td>
                    <td className="from-md">{ticket.category ?? "—"}</td>
                    <td className="from-sm">{ownerName(ticket.assignee_id)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {tickets.hasNextPage && (
        <Group>
          <Button variant="default" onClick={() => tickets.fetchNextPage()} loading={tickets.isFetchingNextPage}>
            Load more
          </Button>
        </Group>
      )}
      {tickets.isSuccess && rows.length > 0 && !tickets.hasNextPage && (
        <Text size="sm" c="dimmed">
          {rows.length === 1 ? "1 ticket" : `${rows.length} tickets`}
        </Text>
      )}
    </Stack>
  );
}

function contactName(contact: unknown): string {
  if (!contact || typeof contact !== "object") return "—";
  const { first_name, last_name, email } = contact as { first_name?: string | null; last_name?: string | null; email?: string | null };
  return [first_name, last_name].filter(Boolean).join(" ") || email || "—";
}
