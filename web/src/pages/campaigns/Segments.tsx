import { Badge, Button, Group, NativeSelect, Paper, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { Link } from "react-router";
import { ApiError, api, ifMatch, noContent, unwrap, type Schemas } from "../../api/client";
import { Empty, QueryState } from "../../components/States";
import { FormButtons, ProblemAlert } from "../../forms/parts";
import { formatDateTime } from "../../format";
import { useMe } from "../../Shell";

type Segment = Schemas["Segment"];
type Condition = Schemas["SegmentCondition"];
type Filter = Schemas["SegmentFilter"];
type Property = Schemas["SegmentProperty"];
type Operator = Condition["operator"];

const MAX_GROUPS = 5;
const MAX_CONDITIONS = 10;
const OPERATOR_WORDS: Record<Operator, string> = {
  eq: "is",
  neq: "is not",
  contains: "contains",
  in: "is one of",
  gt: "is more than",
  lt: "is less than",
  exists: "is set",
  before: "is before",
  after: "is after",
};

/** A condition as the builder edits it: the value as typed (a list for "in" comma-separated). */
interface Row {
  property: string;
  operator: Operator;
  text: string;
}

function useProperties() {
  return useQuery({
    queryKey: ["segments", "properties"],
    queryFn: () => unwrap(api.GET("/v1/segments/properties")),
    staleTime: 60_000,
  });
}

function typed(property: Property | undefined, text: string): string | number | boolean {
  const kind = property?.type;
  if (kind === "number" && text.trim() !== "" && !Number.isNaN(Number(text))) return Number(text);
  if (kind === "boolean") return text === "true";
  return text.trim();
}

/** The rows as the API takes them: each value of the property's type ("in": a list). */
function toFilter(groups: Row[][], properties: Property[]): Filter {
  const byName = new Map(properties.map((p) => [p.property, p]));
  return {
    any: groups.map((rows) => ({
      all: rows.map((row): Condition => {
        const property = byName.get(row.property);
        let value: Condition["value"];
        if (row.operator === "exists") value = row.text !== "false";
        else if (row.operator === "in")
          value = row.text
            .split(",")
            .map((one) => one.trim())
            .filter(Boolean)
            .map((one) => typed(property, one) as string | number);
        else value = typed(property, row.text);
        return { property: row.property, operator: row.operator, value };
      }),
    })),
  };
}

function toRows(filter: Filter | null | undefined): Row[][] {
  return (filter?.any ?? []).map((group) =>
    group.all.map((one) => ({
      property: one.property,
      operator: one.operator,
      text: Array.isArray(one.value) ? one.value.join(", ") : one.value === null || one.value === undefined ? "true" : String(one.value),
    })),
  );
}

function newRow(properties: Property[]): Row {
  const first = properties.find((p) => p.property === "lifecycle_stage") ?? properties[0];
  return { property: first?.property ?? "email", operator: (first?.operators[0] ?? "eq") as Operator, text: first?.options?.[0] ?? "" };
}

/** The value input a condition's property type and operator call for. */
function ValueInput({ row, property, label, error, onChange }: { row: Row; property?: Property; label: string; error?: string; onChange: (text: string) => void }) {
  if (row.operator === "exists") {
    return (
      <NativeSelect
        label={label}
        data={[
          { value: "true", label: "yes" },
          { value: "false", label: "no" },
        ]}
        value={row.text === "false" ? "false" : "true"}
        onChange={(event) => onChange(event.currentTarget.value)}
        error={error}
      />
    );
  }
  if (property?.type === "boolean") {
    return <NativeSelect label={label} data={["true", "false"]} value={row.text || "true"} onChange={(event) => onChange(event.currentTarget.value)} error={error} />;
  }
  if (property?.options && row.operator !== "in") {
    return <NativeSelect label={label} data={property.options} value={row.text} onChange={(event) => onChange(event.currentTarget.value)} error={error} />;
  }
  const hints: Record<string, string> = { date: "YYYY-MM-DD", datetime: "YYYY-MM-DD", birthday: "--MM-DD", number: "a number", id: "an id" };
  const placeholder = row.operator === "in" ? `values separated by commas${property?.options ? `: ${property.options.join(", ")}` : ""}` : (hints[property?.type ?? ""] ?? "");
  return <TextInput label={label} placeholder={placeholder} value={row.text} onChange={(event) => onChange(event.currentTarget.value)} error={error} />;
}

/** Creates a segment, or changes one at the version read: groups of conditions, with a live member count. */
function SegmentBuilder({ segment, onDone }: { segment?: Segment; onDone: () => void }) {
  const queryClient = useQueryClient();
  const properties = useProperties();
  const list = properties.data?.items ?? [];
  const [name, setName] = useState(segment?.name ?? "");
  const [groups, setGroups] = useState<Row[][]>(() => (segment ? toRows(segment.filter) : []));
  // A new segment starts with one condition, once the properties it may name are known.
  useEffect(() => {
    if (!segment && list.length > 0) setGroups((current) => (current.length > 0 ? current : [[newRow(list)]]));
  }, [segment, list]);
  const filter = toFilter(groups, list);
  const [settled] = useDebouncedValue(JSON.stringify(filter), 400);
  const preview = useQuery({
    queryKey: ["segments", "preview", settled],
    queryFn: () => unwrap(api.POST("/v1/segments/preview", { body: { filter: JSON.parse(settled) as Filter, limit: 5 } })),
    enabled: list.length > 0 && groups.length > 0,
    retry: false,
  });
  const save = useMutation({
    mutationFn: () => {
      if (segment) {
        return unwrap(
          api.PATCH("/v1/segments/{record_id}", {
            params: { path: { record_id: segment.id } },
            headers: ifMatch(segment.version),
            body: { name: name.trim(), filter },
          }),
        );
      }
      return unwrap(api.POST("/v1/segments", { body: { name: name.trim(), filter } }));
    },
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ["segments"] });
      onDone();
    },
  });
  const problem = save.error instanceof ApiError ? save.error : null;
  const fieldErrors = {
    ...(preview.error instanceof ApiError ? preview.error.fieldErrors() : {}),
    ...(problem ? problem.fieldErrors() : {}),
  };
  const update = (g: number, c: number, change: Partial<Row>) =>
    setGroups(groups.map((rows, i) => (i !== g ? rows : rows.map((row, j) => (j === c ? { ...row, ...change } : row)))));

  const title = segment ? `Edit ${segment.name}` : "New segment";
  return (
    <Paper withBorder p="md" component="form" aria-labelledby="segment-builder-title" onSubmit={(event) => { event.preventDefault(); save.mutate(); }}>
      <Stack gap="sm">
        <Title order={3} id="segment-builder-title">
          {title}
        </Title>
        <TextInput label="Segment name" required value={name} onChange={(event) => setName(event.currentTarget.value)} error={fieldErrors.name} />
        <QueryState query={properties} what="properties" />
        {groups.map((rows, g) => (
          <Paper key={g} withBorder p="sm" role="group" aria-label={`Group ${g + 1}`}>
            <Stack gap="xs">
              <Text fw={600}>{g === 0 ? "Contacts that meet all of these" : "Or contacts that meet all of these"}</Text>
              {rows.map((row, c) => {
                const at = `filter.any[${g}].all[${c}]`;
                const property = list.find((p) => p.property === row.property);
                const where = `group ${g + 1}, condition ${c + 1}`;
                return (
                  <Group key={c} align="flex-end" gap="xs" wrap="wrap">
                    <NativeSelect
                      label={`Property (${where})`}
                      data={list.map((p) => ({ value: p.property, label: p.label === p.property ? p.property : `${p.label} (${p.property})` }))}
                      value={row.property}
                      error={fieldErrors[`${at}.property`]}
                      onChange={(event) => {
                        const next = list.find((p) => p.property === event.currentTarget.value);
                        const operator = (next?.operators.includes(row.operator) ? row.operator : next?.operators[0]) as Operator;
                        update(g, c, { property: event.currentTarget.value, operator, text: next?.options?.[0] ?? "" });
                      }}
                    />
                    <NativeSelect
                      label={`Operator (${where})`}
                      data={(property?.operators ?? ["eq"]).map((op) => ({ value: op, label: OPERATOR_WORDS[op as Operator] ?? op }))}
                      value={row.operator}
                      error={fieldErrors[`${at}.operator`]}
                      onChange={(event) => update(g, c, { operator: event.currentTarget.value as Operator })}
                    />
                    <ValueInput
                      row={row}
                      property={property}
                      label={`Value (${where})`}
                      error={fieldErrors[`${at}.value`] ?? fieldErrors[`${at}.value[0]`]}
                      onChange={(text) => update(g, c, { text })}
                    />
                    <Button
                      variant="subtle"
                      color="red"
                      aria-label={`Remove ${where}`}
                      onClick={() => setGroups(groups.map((one, i) => (i === g ? one.filter((_, j) => j !== c) : one)).filter((one) => one.length > 0))}
                    >
                      Remove
                    </Button>
                  </Group>
                );
              })}
              <Group>
                <Button size="xs" variant="default" disabled={rows.length >= MAX_CONDITIONS} onClick={() => setGroups(groups.map((one, i) => (i === g ? [...one, newRow(list)] : one)))}>
                  Add condition to group {g + 1}
                </Button>
              </Group>
            </Stack>
          </Paper>
        ))}
        <Group>
          <Button variant="default" disabled={groups.length >= MAX_GROUPS || list.length === 0} onClick={() => setGroups([...groups, [newRow(list)]])}>
            Add an "or" group
          </Button>
        </Group>
        <Paper withBorder p="sm" aria-live="polite" aria-label="Members now">
          {preview.data ? (
            <Stack gap={4}>
              <Text fw={600} data-testid="segment-count">
                {preview.data.count} {preview.data.count === 1 ? "contact matches" : "contacts match"} now
              </Text>
              {preview.data.items.map((contact) => (
                <Text key={contact.id} size="sm">
                  <Link to={`/contacts/${contact.id}`}>{[contact.first_name, contact.last_name].filter(Boolean).join(" ") || contact.email || contact.id}</Link>
                </Text>
              ))}
            </Stack>
          ) : preview.error ? (
            <Text c="red">The filter is not complete: {preview.error.message}</Text>
          ) : (
            <Text c="dimmed">Counting…</Text>
          )}
        </Paper>
        <ProblemAlert error={problem} />
        <FormButtons submit={segment ? "Save segment" : "Create segment"} pending={save.isPending} onCancel={onDone} />
      </Stack>
    </Paper>
  );
}

/** A saved segment's members, evaluated now, a page at a time, with their count. */
function Members({ segment }: { segment: Segment }) {
  const members = useInfiniteQuery({
    queryKey: ["segments", "members", segment.id],
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/v1/segments/{record_id}/members", {
          params: { path: { record_id: segment.id }, query: { limit: 25, cursor: pageParam ?? undefined, count: !pageParam } },
        }),
      ),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const rows = members.data?.pages.flatMap((page) => page.items) ?? [];
  const total = members.data?.pages[0]?.total;
  return (
    <Paper withBorder p="md" aria-labelledby="segment-members-title">
      <Title order={3} id="segment-members-title">
        Members of {segment.name}
        {total !== undefined && total !== null && <Badge ml="sm">{total}</Badge>}
      </Title>
      <QueryState query={members} what="members" />
      {members.data && rows.length === 0 && <Empty>No contact meets this segment's filter now.</Empty>}
      {rows.length > 0 && (
        <Table aria-label={`Members of ${segment.name}`}>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Name</Table.Th>
              <Table.Th>Email</Table.Th>
              <Table.Th>Stage</Table.Th>
              <Table.Th>Email consent</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((contact) => (
              <Table.Tr key={contact.id}>
                <Table.Td>
                  <Link to={`/contacts/${contact.id}`}>{[contact.first_name, contact.last_name].filter(Boolean).join(" ") || contact.id}</Link>
                </Table.Td>
                <Table.Td>{contact.email}</Table.Td>
                <Table.Td>{contact.lifecycle_stage}</Table.Td>
                <Table.Td>{contact.consent?.email}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      {members.hasNextPage && (
        <Button mt="sm" variant="default" loading={members.isFetchingNextPage} onClick={() => members.fetchNextPage()}>
          Show more members
        </Button>
      )}
    </Paper>
  );
}

function describe(filter: Filter | null | undefined): string {
  return (filter?.any ?? [])
    .map((group) => group.all.map((one) => `${one.property} ${OPERATOR_WORDS[one.operator]}${one.operator === "exists" ? (one.value === false ? " (no)" : "") : ` ${Array.isArray(one.value) ? one.value.join(", ") : String(one.value)}`}`).join(" and "))
    .join("; or ");
}

/** The Campaigns page's segments: the list, the builder and a segment's members. */
export default function Segments() {
  const me = useMe();
  const canBuild = me.data !== undefined && me.data.role !== "viewer";
  const queryClient = useQueryClient();
  const segments = useQuery({
    queryKey: ["segments", "list"],
    queryFn: () => unwrap(api.GET("/v1/segments", { params: { query: { limit: 100 } } })),
  });
  const [building, setBuilding] = useState<Segment | "new" | null>(null);
  const [showing, setShowing] = useState<Segment | null>(null);
  const archive = useMutation({
    mutationFn: (segment: Segment) =>
      noContent(api.DELETE("/v1/segments/{record_id}", { params: { path: { record_id: segment.id } }, headers: ifMatch(segment.version) })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["segments"] }),
  });
  // The builder edits the segment as it is now (read afresh), and saves over that version only.
  const edit = (segment: Segment) =>
    unwrap(api.GET("/v1/segments/{record_id}", { params: { path: { record_id: segment.id } } })).then(setBuilding, () => setBuilding(segment));
  const rows = segments.data?.items ?? [];
  return (
    <Stack gap="md" component="section" aria-labelledby="segments-title">
      <Group justify="space-between">
        <Title order={2} id="segments-title">
          Segments
        </Title>
        {canBuild && building === null && <Button onClick={() => setBuilding("new")}>New segment</Button>}
      </Group>
      <Text c="dimmed" size="sm">
        A segment is a saved filter over contacts (their fields, tags, stage, company and custom properties), evaluated whenever it is read.
      </Text>
      {building !== null && <SegmentBuilder key={building === "new" ? "new" : building.id} segment={building === "new" ? undefined : building} onDone={() => setBuilding(null)} />}
      <QueryState query={segments} what="segments" />
      <ProblemAlert error={archive.error instanceof ApiError ? archive.error : null} />
      {segments.data && rows.length === 0 && <Empty>No segments yet.</Empty>}
      {rows.length > 0 && (
        <Table aria-label="Segments" className="data-table">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Name</Table.Th>
              <Table.Th className="from-sm">Filter</Table.Th>
              <Table.Th className="from-sm">Changed</Table.Th>
              <Table.Th>Actions</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((segment) => (
              <Table.Tr key={segment.id}>
                <Table.Td>{segment.name}</Table.Td>
                <Table.Td className="from-sm">{describe(segment.filter)}</Table.Td>
                <Table.Td className="from-sm">{formatDateTime(segment.updated_at)}</Table.Td>
                <Table.Td>
                  <Group gap={6}>
                    <Button size="xs" variant="default" aria-label={`Members of ${segment.name}`} onClick={() => setShowing(segment)}>
                      Members
                    </Button>
                    {canBuild && (
                      <>
                        <Button size="xs" variant="default" aria-label={`Edit ${segment.name}`} onClick={() => edit(segment)}>
                          Edit
                        </Button>
                        <Button size="xs" variant="subtle" color="red" aria-label={`Delete ${segment.name}`} onClick={() => archive.mutate(segment)}>
                          Delete
                        </Button>
                      </>
                    )}
                  </Group>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      {showing && <Members key={showing.id} segment={showing} />}
    </Stack>
  );
}
