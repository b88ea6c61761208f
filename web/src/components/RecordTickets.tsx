import { Anchor, Group, Paper, Stack, Text, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { api, unwrap } from "../api/client";
import { formatDateTime } from "../format";
import { StatusBadge } from "../pages/tickets/sla";
import { Empty, QueryState } from "./States";

/** A contact's or a company's tickets (the API's `contact_id` / `company_id` filters, its first page of 10),
 * each a link to the ticket with its status. */
export function RecordTickets({ object, id }: { object: "contacts" | "companies"; id: string }) {
  const filter = object === "contacts" ? { contact_id: id } : { company_id: id };
  const tickets = useQuery({
    queryKey: ["tickets", object, id],
    queryFn: () => unwrap(api.GET("/v1/tickets", { params: { query: { ...filter, limit: 10 } } })),
  });
  const items = tickets.data?.items ?? [];
  return (
    <Paper withBorder p="sm" component="section" aria-labelledby={`tickets-of-${id}`}>
      <Stack gap="xs">
        <Title order={2} size="h4" id={`tickets-of-${id}`}>
          Tickets
        </Title>
        <QueryState query={tickets} what="tickets" />
        {tickets.isSuccess && items.length === 0 && <Empty>No tickets.</Empty>}
        {items.length > 0 && (
          <Stack gap={4} component="ul" className="plain-list" aria-label="Tickets">
            {items.map((ticket) => (
              <Group component="li" key={ticket.id} justify="space-between" wrap="nowrap" gap="xs">
                <Anchor component={Link} to={`/tickets/${ticket.id}`} size="sm" truncate>
                  {ticket.subject || "(no subject)"}
                </Anchor>
                <Group gap={6} wrap="nowrap">
                  <Text size="xs" c="dimmed" visibleFrom="sm">
                    {formatDateTime(ticket.created_at)}
                  </Text>
                  <StatusBadge status={ticket.status} />
                </Group>
              </Group>
            ))}
          </Stack>
        )}
        {tickets.data?.next_cursor && (
          <Text size="xs" c="dimmed">
            The first {items.length} are shown.
          </Text>
        )}
      </Stack>
    </Paper>
  );
}
