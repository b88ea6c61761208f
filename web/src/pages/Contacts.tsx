import { Anchor, Button, Group, Stack, Text, TextInput, Title } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { keepPreviousData, useInfiniteQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate } from "react-router";
import { api, unwrap } from "../api/client";
import { ContactForm } from "../components/ContactForm";
import { Empty, QueryState } from "../components/States";
import { useOwnerName } from "../components/owners";
import { formatDateTime, personName } from "../format";

export default function Contacts() {
  const navigate = useNavigate();
  const [search, setSearch] = useState("");
  const [q] = useDebouncedValue(search.trim(), 250);
  const [creating, setCreating] = useState(false);
  const ownerName = useOwnerName();
  const contacts = useInfiniteQuery({
    queryKey: ["contacts", { q }],
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/v1/contacts", {
          params: { query: { q: q || undefined, cursor: pageParam, limit: 25, expand: "company" } },
        }),
      ),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page) => page.next_cursor ?? undefined,
    placeholderData: keepPreviousData,
  });
  const rows = contacts.data?.pages.flatMap((page) => page.items) ?? [];

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={1}>Contacts</Title>
        {!creating && <Button onClick={() => setCreating(true)}>New contact</Button>}
      </Group>
      {creating && (
        <ContactForm onCancel={() => setCreating(false)} onSaved={(saved) => navigate(`/contacts/${saved.id}`)} />
      )}
      <TextInput
        label="Search"
        description="Name, email, phone or company: the list narrows as you type."
        type="search"
        value={search}
        onChange={(event) => setSearch(event.currentTarget.value)}
        maw={420}
      />
      <QueryState query={contacts} what="contacts" />
      {contacts.isSuccess && rows.length === 0 && (
        <Empty>{q ? `No contact matches “${q}”.` : "No contacts yet: create the first one."}</Empty>
      )}
      {rows.length > 0 && (
        <table className="data-table" aria-label="Contacts" aria-busy={contacts.isFetching}>
          <thead>
            <tr>
              <th>Name</th>
              <th>Email</th>
              <th className="from-sm">Company</th>
              <th className="from-md">Owner</th>
              <th className="from-sm">Lifecycle</th>
              <th className="from-md">Updated</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((contact) => (
              <tr key={contact.id}>
                <td>
                  <Anchor component={Link} to={`/contacts/${contact.id}`}>
                    {personName(contact)}
                  </Anchor>
                </td>
                <td>{contact.email ?? "—"}</td>
                <td className="from-sm">{contact.company?.name ?? "—"}</td>
                <td className="from-md">{ownerName(contact.owner_id)}</td>
                <td className="from-sm">{contact.lifecycle_stage ?? "—"}</td>
                <td className="from-md">{formatDateTime(contact.updated_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {contacts.hasNextPage && (
        <Group>
          <Button variant="default" onClick={() => contacts.fetchNextPage()} loading={contacts.isFetchingNextPage}>
            Load more
          </Button>
        </Group>
      )}
      {contacts.isSuccess && rows.length > 0 && !contacts.hasNextPage && (
        <Text size="sm" c="dimmed">
          {rows.length === 1 ? "1 contact" : `${rows.length} contacts`}
        </Text>
      )}
    </Stack>
  );
}
