import { Anchor, Button, Group, Loader, NativeSelect, Stack, Text, Title } from "@mantine/core";
import { keepPreviousData, useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { Suspense, lazy, useEffect, useState } from "react";
import { Link, useNavigate } from "react-router";
import { api, unwrap } from "../api/client";
import {
  DebouncedFilter,
  LIFECYCLE_STAGES,
  OwnerFilter,
  useUrlFilters,
  type LifecycleStage,
} from "../components/ListFilters";
import { RecordPicker } from "../components/RecordPicker";
import { RecordTable } from "../components/RecordTable";
import { useOwnerName } from "../components/owners";
import { formatDateTime, personName } from "../format";

// The form is loaded when "New contact" is pressed: the list, not the form, is what the page opens to (its
// first JavaScript has a budget).
const ContactForm = lazy(() => import("../components/ContactForm").then((module) => ({ default: module.ContactForm })));

// The custom-property filters (and the definitions they read) load after the list: not on its first JavaScript.
const CustomFilters = lazy(() => import("../components/CustomFilters").then((module) => ({ default: module.CustomFilters })));

const FILTERS = ["q", "stage", "owner", "tag", "company"] as const;
// A filter so sparse that pages come back empty is read on, a few pages, before the list says "none".
const EMPTY_PAGES_READ_ON = 4;

export default function Contacts() {
  const navigate = useNavigate();
  const filters = useUrlFilters(FILTERS);
  const { q, stage, owner, tag, company } = filters.values;
  const [creating, setCreating] = useState(false);
  const ownerName = useOwnerName();
  const contacts = useInfiniteQuery({
    queryKey: ["contacts", filters.values, filters.custom],
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/v1/contacts", {
          params: {
            query: {
              ...filters.custom,
              q: q || undefined,
              lifecycle_stage: (stage || undefined) as LifecycleStage | undefined,
              owner_id: owner || undefined,
              tag: tag || undefined,
              company_id: company || undefined,
              cursor: pageParam,
              limit: 25,
              expand: "company",
            },
          },
        }),
      ),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page) => page.next_cursor ?? undefined,
    placeholderData: keepPreviousData,
  });
  const rows = contacts.data?.pages.flatMap((page) => page.items) ?? [];
  const pagesRead = contacts.data?.pages.length ?? 0;
  const readOn = contacts.isSuccess && rows.length === 0 && contacts.hasNextPage && pagesRead < EMPTY_PAGES_READ_ON;
  useEffect(() => {
    if (readOn && !contacts.isFetchingNextPage) void contacts.fetchNextPage();
  }, [readOn, contacts]);
  // The company a link filters by, by name.
  const companyName = useQuery({
    queryKey: ["company", company],
    queryFn: () => unwrap(api.GET("/v1/companies/{record_id}", { params: { path: { record_id: company } } })),
    enabled: Boolean(company),
  });

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={1}>Contacts</Title>
        <Group gap="xs">
          <Button component={Link} to="/contacts/duplicates" variant="default">
            Duplicates
          </Button>
          {!creating && <Button onClick={() => setCreating(true)}>New contact</Button>}
        </Group>
      </Group>
      {creating && (
        <Suspense fallback={<Loader role="status" aria-label="Loading the form" />}>
          <ContactForm onCancel={() => setCreating(false)} onSaved={(saved) => navigate(`/contacts/${saved.id}`)} />
        </Suspense>
      )}
      <Group align="flex-end" gap="sm" role="search" aria-label="Filter contacts">
        <DebouncedFilter
          label="Search"
          description="Name, email, phone or company: the list narrows as you type."
          type="search"
          value={q}
          onChange={(value) => filters.set("q", value)}
          maw={420}
        />
        <NativeSelect
          label="Lifecycle stage"
          value={stage}
          onChange={(event) => filters.set("stage", event.currentTarget.value)}
          data={[{ value: "", label: "Any stage" }, ...LIFECYCLE_STAGES]}
        />
        <OwnerFilter value={owner} onChange={(value) => filters.set("owner", value)} />
        <DebouncedFilter label="Tag" value={tag} onChange={(value) => filters.set("tag", value)} maw={160} />
        <RecordPicker
          key={company || "none"}
          object="companies"
          label="Company"
          value={company ? { id: company, label: companyName.data?.name ?? "…" } : null}
          onChange={(picked) => filters.set("company", picked?.id ?? "")}
        />
        <Suspense fallback={null}>
          <CustomFilters object="contacts" values={filters.custom} set={filters.set} />
        </Suspense>
        {filters.active && (
          <Button variant="subtle" onClick={filters.clear}>
            Clear filters
          </Button>
        )}
      </Group>
      <RecordTable
        object="contacts"
        label="Contacts"
        query={contacts}
        rows={rows}
        filterKey={JSON.stringify([filters.values, filters.custom])}
        rowName={personName}
        readingOn={readOn}
        empty={filters.active ? "No contact matches these filters." : "No contacts yet: create the first one."}
        head={
          <>
            <th>Name</th>
            <th>Email</th>
            <th className="from-sm">Company</th>
            <th className="from-md">Owner</th>
            <th className="from-sm">Lifecycle</th>
            <th className="from-md">Tags</th>
            <th className="from-md">Updated</th>
          </>
        }
        cells={(contact) => (
          <>
            <td>
              <Anchor component={Link} to={`/contacts/${contact.id}`}>
                {personName(contact)}
              </Anchor>
            </td>
            <td>{contact.email ?? "—"}</td>
            <td className="from-sm">{contact.company?.name ?? "—"}</td>
            <td className="from-md">{ownerName(contact.owner_id)}</td>
            <td className="from-sm">{contact.lifecycle_stage ?? "—"}</td>
            <td className="from-md">{contact.tags?.join(", ") || "—"}</td>
            <td className="from-md">{formatDateTime(contact.updated_at)}</td>
          </>
        )}
      />
      {contacts.isSuccess && rows.length > 0 && !contacts.hasNextPage && (
        <Text size="sm" c="dimmed">
          {rows.length === 1 ? "1 contact" : `${rows.length} contacts`}
        </Text>
      )}
    </Stack>
  );
}
