import { Alert, Anchor, Badge, Button, Grid, Group, NativeSelect, Paper, SegmentedControl, SimpleGrid, Stack, Text, Textarea, Title } from "@mantine/core";
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useParams } from "react-router";
import { ApiError, api, ifMatch, unwrap, type Schemas } from "../api/client";
import { RecordHeader } from "../components/ArchiveRestore";
import { Fields } from "../components/Fields";
import { Empty, LoadError, Loading, QueryState } from "../components/States";
import { RecordTimeline } from "../components/Timeline";
import { useOwnerName, useUsers } from "../components/owners";
import { ProblemAlert } from "../forms/parts";
import { formatDateTime, personName } from "../format";
import { LinkedArticles } from "./tickets/LinkedArticles";
import { BreachedBadge, DueTime, PRIORITIES, STATUSES, StatusBadge } from "./tickets/sla";

type Ticket = Schemas["Ticket"];
type Update = Schemas["TicketUpdate"];

export default function TicketDetail() {
  const { id = "" } = useParams();
  const ticket = useQuery({
    queryKey: ["ticket", id],
    queryFn: () => unwrap(api.GET("/v1/tickets/{record_id}", { params: { path: { record_id: id }, query: { archived: true } } })),
  });
  if (ticket.isPending) return <Loading what="ticket" />;
  if (ticket.isError) return <LoadError what="ticket" error={ticket.error} retry={() => ticket.refetch()} />;
  const record = ticket.data;
  return (
    <Stack>
      <RecordHeader
        object="tickets"
        title={
          <>
            {record.subject || "(no subject)"} <StatusBadge status={record.status} />
          </>
        }
        record={record}
      />
      <TicketFields ticket={record} />
      <Grid>
        <Grid.Col span={{ base: 12, md: 7 }}>
          <Stack>
            <Replies ticket={record} />
          </Stack>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 5 }}>
          <Stack>
            <SlaPanel ticket={record} />
            <Linked ticket={record} />
            <LinkedArticles ticket={record} />
            <RecordTimeline object="tickets" id={record.id} />
          </Stack>
        </Grid.Col>
      </Grid>
    </Stack>
  );
}

/** Status, priority and assignee, each saved as it is chosen, at the version the page shows (If-Match). */
function TicketFields({ ticket }: { ticket: Ticket }) {
  const queryClient = useQueryClient();
  const users = useUsers();
  const [failed, setFailed] = useState<ApiError | null>(null);
  const save = useMutation({
    mutationFn: (body: Update) =>
      unwrap(api.PATCH("/v1/tickets/{record_id}", { params: { path: { record_id: ticket.id } }, headers: ifMatch(ticket.version), body })),
    onMutate: () => setFailed(null),
    onSuccess: async (saved) => {
      queryClient.setQueryData(["ticket", saved.id], saved);
      await queryClient.invalidateQueries({ queryKey: ["tickets"] });
      await queryClient.invalidateQueries({ queryKey: ["timeline", "tickets", saved.id] });
    },
    onError: async (error) => {
      setFailed(error instanceof ApiError ? error : new ApiError(0, { detail: "The CRM could not be reached. Try again." }));
      // A stale version: the page shows the ticket as it is now, to choose again.
      if (error instanceof ApiError && error.status === 412) await queryClient.invalidateQueries({ queryKey: ["ticket", ticket.id] });
    },
  });
  const fieldError = (name: string) => failed?.fieldErrors()[name];
  const readOnly = ticket.archived || save.isPending;
  return (
    <Stack gap="xs">
      <SimpleGrid cols={{ base: 1, xs: 3 }} maw={720}>
        <NativeSelect
          label="Status"
          value={ticket.status ?? "new"}
          data={[...STATUSES]}
          disabled={readOnly || ticket.status === "closed"}
          error={fieldError("status")}
          onChange={(event) => save.mutate({ status: event.currentTarget.value as Update["status"] })}
        />
        <NativeSelect
          label="Priority"
          value={ticket.priority ?? "normal"}
          data={[...PRIORITIES]}
          disabled={readOnly}
          error={fieldError("priority")}
          onChange={(event) => save.mutate({ priority: event.currentTarget.value as Update["priority"] })}
        />
        <NativeSelect
          label="Assignee"
          value={ticket.assignee_id ?? ""}
          disabled={readOnly}
          error={fieldError("assignee_id")}
          data={[
            { value: "", label: "Unassigned" },
            ...(users.data?.items ?? []).map((user) => ({ value: user.id, label: user.name ?? user.email ?? user.id })),
            ...(ticket.assignee_id && !users.data?.items.some((user) => user.id === ticket.assignee_id)
              ? [{ value: ticket.assignee_id, label: "Another user" }]
              : []),
          ]}
          onChange={(event) => save.mutate({ assignee_id: event.currentTarget.value || null })}
        />
      </SimpleGrid>
      {failed && !Object.keys(failed.fieldErrors()).length && (
        <ProblemAlert error={failed} stale="This ticket changed since the page loaded, so nothing was saved. It shows as it is now: choose again." />
      )}
      {save.isSuccess && (
        <Text size="sm" role="status" c="dimmed">
          Saved.
        </Text>
      )}
      <Fields
        fields={[
          ["Category", ticket.category],
          ["Channel", ticket.channel],
          ["First response", formatDateTime(ticket.first_responded_at)],
          ["Resolved", formatDateTime(ticket.resolved_at)],
          ["Satisfaction", ticket.satisfaction?.score ? `${ticket.satisfaction.score} / 5${ticket.satisfaction.comment ? `: ${ticket.satisfaction.comment}` : ""}` : null],
          ["Updated", formatDateTime(ticket.updated_at)],
        ]}
      />
      {ticket.description && (
        <Paper withBorder p="sm">
          <Text size="sm" style={{ whiteSpace: "pre-wrap" }}>
            {ticket.description}
          </Text>
        </Paper>
      )}
    </Stack>
  );
}

/** The ticket's due times: each relative and in the user's locale, met, due or breached. */
function SlaPanel({ ticket }: { ticket: Ticket }) {
  const sla = ticket.sla;
  const row = (label: string, due: string | null | undefined, done: string | null | undefined, breached: boolean | undefined) => (
    <Group justify="space-between" wrap="nowrap" gap="xs">
      <Text size="sm" fw={500}>
        {label}
      </Text>
      <Group gap={6} wrap="nowrap">
        {!due ? (
          <Text size="sm">—</Text>
        ) : done ? (
          <Text size="sm">met {formatDateTime(done)}</Text>
        ) : (
          <DueTime at={due} which={label.toLowerCase()} />
        )}
        {breached && <BreachedBadge />}
      </Group>
    </Group>
  );
  return (
    <Paper withBorder p="sm" component="section" aria-labelledby="sla-title">
      <Stack gap="xs">
        <Title order={2} size="h4" id="sla-title">
          SLA
        </Title>
        {!sla ? (
          <Text size="sm" c="dimmed">
            No SLA policy applies to this ticket.
          </Text>
        ) : (
          <>
            {row("First response", sla.first_response_due_at, ticket.first_responded_at, sla.first_response_breached)}
            {row("Resolution", sla.resolution_due_at, ticket.resolved_at, sla.resolution_breached)}
            {sla.paused_at && (
              <Text size="sm" c="dimmed" data-testid="sla-paused">
                Paused since {formatDateTime(sla.paused_at)}: the clock stops while the ticket waits on the customer, and
                the due times move by that time when it leaves pending.
              </Text>
            )}
          </>
        )}
      </Stack>
    </Paper>
  );
}

/** The contact, company and deal the ticket is about, as links. */
function Linked({ ticket }: { ticket: Ticket }) {
  const contact = useQuery({
    queryKey: ["contact", ticket.contact_id],
    queryFn: () => unwrap(api.GET("/v1/contacts/{record_id}", { params: { path: { record_id: ticket.contact_id! }, query: { archived: true } } })),
    enabled: Boolean(ticket.contact_id),
  });
  const company = useQuery({
    queryKey: ["company", ticket.company_id],
    queryFn: () => unwrap(api.GET("/v1/companies/{record_id}", { params: { path: { record_id: ticket.company_id! } } })),
    enabled: Boolean(ticket.company_id),
  });
  const deal = useQuery({
    queryKey: ["deal", ticket.deal_id],
    queryFn: () => unwrap(api.GET("/v1/deals/{record_id}", { params: { path: { record_id: ticket.deal_id! } } })),
    enabled: Boolean(ticket.deal_id),
  });
  const link = (to: string, name: string | undefined) => (
    <Anchor component={Link} to={to}>
      {name ?? "…"}
    </Anchor>
  );
  return (
    <Fields
      fields={[
        ["Contact", ticket.contact_id ? link(`/contacts/${ticket.contact_id}`, contact.data ? personName(contact.data) : undefined) : null],
        ["Company", ticket.company_id ? link(`/companies/${ticket.company_id}`, company.data ? company.data.name || "(no name)" : undefined) : null],
        ["Deal", ticket.deal_id ? link(`/deals/${ticket.deal_id}`, deal.data ? deal.data.name || "(no name)" : undefined) : null],
        ["Satisfaction", satisfaction(ticket)],
      ]}
    />
  );
}

/** The contact's answer to the satisfaction survey of the last resolution: "4 / 5 — comment". */
function satisfaction(ticket: Ticket): string | null {
  const answer = ticket.satisfaction;
  if (!answer || answer.score == null) return null;
  return `${answer.score} / 5${answer.comment ? ` — ${answer.comment}` : ""}`;
}

/** Replies and internal notes, oldest first, and the box that adds one. */
function Replies({ ticket }: { ticket: Ticket }) {
  const queryClient = useQueryClient();
  const ownerName = useOwnerName();
  const [body, setBody] = useState("");
  const [kind, setKind] = useState<"public" | "note">("public");
  const [failed, setFailed] = useState<ApiError | null>(null);
  const replies = useInfiniteQuery({
    queryKey: ["replies", ticket.id],
    queryFn: ({ pageParam }) =>
      unwrap(api.GET("/v1/tickets/{record_id}/replies", { params: { path: { record_id: ticket.id }, query: { cursor: pageParam, limit: 50 } } })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page) => page.next_cursor ?? undefined,
  });
  const items = replies.data?.pages.flatMap((page) => page.items) ?? [];
  const send = useMutation({
    mutationFn: () =>
      unwrap(api.POST("/v1/tickets/{record_id}/replies", { params: { path: { record_id: ticket.id } }, body: { body: body.trim(), public: kind === "public", author: "agent" } })),
    onMutate: () => setFailed(null),
    onSuccess: async () => {
      setBody("");
      await queryClient.invalidateQueries({ queryKey: ["replies", ticket.id] });
      await queryClient.invalidateQueries({ queryKey: ["ticket", ticket.id] });
      await queryClient.invalidateQueries({ queryKey: ["tickets"] });
      await queryClient.invalidateQueries({ queryKey: ["timeline", "tickets", ticket.id] });
    },
    onError: (error) => setFailed(error instanceof ApiError ? error : new ApiError(0, { detail: "The CRM could not be reached. Try again." })),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    send.mutate();
  };
  const closed = ticket.status === "closed";
  return (
    <Stack component="section" aria-labelledby="replies-title">
      <Title order={2} size="h3" id="replies-title">
        Replies and notes
      </Title>
      <QueryState query={replies} what="replies" />
      {replies.isSuccess && items.length === 0 && <Empty>No replies yet.</Empty>}
      {items.length > 0 && (
        <Stack gap="xs" component="ol" className="plain-list" aria-label="Replies and notes">
          {items.map((reply) => (
            <Paper
              component="li"
              key={reply.id}
              withBorder
              p="sm"
              bg={reply.public ? undefined : "gray.0"}
              data-testid={reply.public ? "public-reply" : "internal-note"}
            >
              <Group gap="xs" mb={4}>
                <Badge size="xs" variant="outline" color={reply.public ? "blue.9" : "gray.9"}>
                  {reply.public ? (reply.author === "customer" ? "Customer" : "Public reply") : "Internal note"}
                </Badge>
                <Text size="xs" c="dimmed">
                  {reply.author === "customer" ? "customer" : ownerName(reply.author_id)} · {formatDateTime(reply.created_at)}
                </Text>
              </Group>
              <Text size="sm" style={{ whiteSpace: "pre-wrap" }}>
                {reply.body}
              </Text>
            </Paper>
          ))}
        </Stack>
      )}
      {replies.hasNextPage && (
        <Group>
          <Button variant="default" size="xs" onClick={() => replies.fetchNextPage()} loading={replies.isFetchingNextPage}>
            Load more
          </Button>
        </Group>
      )}
      {!ticket.archived && (
        <Paper withBorder p="sm" component="form" onSubmit={submit} aria-label="Reply" noValidate>
          <Stack gap="xs">
            <SegmentedControl
              aria-label="Reply or note"
              value={kind}
              onChange={(value) => setKind(value as "public" | "note")}
              data={[
                { value: "public", label: "Public reply", disabled: closed },
                { value: "note", label: "Internal note" },
              ]}
            />
            {closed && kind === "public" && (
              <Alert color="gray" role="status">
                This ticket is closed: it takes internal notes only.
              </Alert>
            )}
            <Textarea
              label={kind === "public" ? "Reply to the customer" : "Internal note (only agents see it)"}
              autosize
              minRows={3}
              value={body}
              onChange={(event) => {
                setBody(event.currentTarget.value);
                setFailed(null);
              }}
              error={failed?.fieldErrors().body}
            />
            {failed && !failed.fieldErrors().body && <ProblemAlert error={failed} title="Not sent" />}
            <Group>
              <Button type="submit" loading={send.isPending} disabled={!body.trim() || (closed && kind === "public")}>
                {kind === "public" ? "Send reply" : "Add note"}
              </Button>
            </Group>
          </Stack>
        </Paper>
      )}
    </Stack>
  );
}

