import { Anchor, Badge, Button, Group, Paper, SegmentedControl, Stack, Text, Title } from "@mantine/core";
import { useInfiniteQuery } from "@tanstack/react-query";
import { Link, useLocation, useNavigate } from "react-router";
import { api, unwrap } from "../api/client";
import { Empty, QueryState } from "../components/States";
import { formatDateTime, personName } from "../format";

type DuplicateObject = "contacts" | "companies";

const REASONS: Record<string, string> = { same_name: "Same name", same_phone: "Same phone" };

interface Pair {
  ids: string[];
  reason: string;
  found_at: string;
  records: { id: string; label: string; detail: string }[];
}

async function pairs(object: DuplicateObject, cursor: string | undefined) {
  const query = { params: { query: { cursor, limit: 25 } } };
  if (object === "contacts") {
    const page = await unwrap(api.GET("/v1/contacts/duplicates", query));
    return {
      next_cursor: page.next_cursor,
      items: page.items.map((pair): Pair => ({
        ...pair,
        records: pair.contacts.map((c) => ({ id: c.id, label: personName(c), detail: c.email ?? c.phone ?? "" })),
      })),
    };
  }
  const page = await unwrap(api.GET("/v1/companies/duplicates", query));
  return {
    next_cursor: page.next_cursor,
    items: page.items.map((pair): Pair => ({
      ...pair,
      records: pair.companies.map((c) => ({ id: c.id, label: c.name ?? "(no name)", detail: c.domain ?? "" })),
    })),
  };
}

/** Pairs of records that look like the same person or company, each with a way to merge them. */
export default function Duplicates() {
  const location = useLocation();
  const navigate = useNavigate();
  const object: DuplicateObject = location.pathname.startsWith("/companies") ? "companies" : "contacts";
  const noun = object === "contacts" ? "contact" : "company";
  const duplicates = useInfiniteQuery({
    queryKey: ["duplicates", object],
    queryFn: ({ pageParam }) => pairs(object, pageParam),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page) => page.next_cursor ?? undefined,
  });
  const rows = duplicates.data?.pages.flatMap((page) => page.items) ?? [];

  return (
    <Stack>
      <Anchor component={Link} to={`/${object}`} size="sm">
        ← {object === "contacts" ? "Contacts" : "Companies"}
      </Anchor>
      <Group justify="space-between">
        <Title order={1}>Duplicates</Title>
        <SegmentedControl
          aria-label="Records"
          value={object}
          onChange={(value) => navigate(`/${value}/duplicates`)}
          data={[
            { value: "contacts", label: "Contacts" },
            { value: "companies", label: "Companies" },
          ]}
        />
      </Group>
      <Text c="dimmed">
        {object === "contacts" ? "Contacts" : "Companies"} that look like the same {noun}. Compare a pair to choose
        what the {noun} you keep holds, then merge them.
      </Text>
      <QueryState query={duplicates} what="duplicates" />
      {duplicates.isSuccess && rows.length === 0 && <Empty>No likely duplicates: nothing to merge.</Empty>}
      {rows.map((pair) => (
        <Paper key={pair.ids.join("-")} withBorder p="sm" component="article" aria-label={pair.records.map((r) => r.label).join(" and ")} data-testid="duplicate-pair">
          <Group justify="space-between" align="flex-start">
            <Stack gap={4} miw={0}>
              <Group gap="xs">
                <Badge variant="light">{REASONS[pair.reason] ?? pair.reason}</Badge>
                <Text size="xs" c="dimmed">
                  found {formatDateTime(pair.found_at)}
                </Text>
              </Group>
              {pair.records.map((record) => (
                <Text key={record.id} size="sm">
                  <Anchor component={Link} to={`/${object}/${record.id}`}>
                    {record.label}
                  </Anchor>
                  {record.detail && ` · ${record.detail}`}
                </Text>
              ))}
            </Stack>
            <Button component={Link} to={`/${object}/merge?a=${pair.ids[0]}&b=${pair.ids[1]}`} size="xs">
              Compare and merge
              <span className="visually-hidden"> {pair.records.map((r) => r.label).join(" and ")}</span>
            </Button>
          </Group>
        </Paper>
      ))}
      {duplicates.hasNextPage && (
        <Group>
          <Button variant="default" onClick={() => duplicates.fetchNextPage()} loading={duplicates.isFetchingNextPage}>
            Load more
          </Button>
        </Group>
      )}
    </Stack>
  );
}
