import { Alert, Anchor, Button, Group, Paper, Stack, Text, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type ReactNode } from "react";
import { Link, useLocation, useNavigate } from "react-router";
import { ApiError, api, ifMatch, unwrap, type Schemas } from "../api/client";
import { LoadError, Loading } from "../components/States";
import { useOwnerName } from "../components/owners";
import { formatDateTime, formatNumber, personName } from "../format";

type MergeObject = "contacts" | "companies";
type Side = "a" | "b";
type Values = Record<string, unknown>;

interface MergeRecord extends Values {
  id: string;
  version: number;
  created_at: string;
  tags?: string[] | null;
  company?: { name?: string | null } | null;
}

interface Field {
  name: string;
  label: string;
  /** Unique in the tenant (a contact's email, a company's domain): the merge keeps the survivor's. */
  unique?: boolean;
}

const FIELDS: Record<MergeObject, Field[]> = {
  contacts: [
    { name: "first_name", label: "First name" },
    { name: "last_name", label: "Last name" },
    { name: "email", label: "Email", unique: true },
    { name: "phone", label: "Phone" },
    { name: "title", label: "Job title" },
    { name: "lifecycle_stage", label: "Lifecycle stage" },
    { name: "company_id", label: "Company" },
    { name: "owner_id", label: "Owner" },
    { name: "source", label: "Source" },
  ],
  companies: [
    { name: "name", label: "Name" },
    { name: "domain", label: "Domain", unique: true },
    { name: "industry", label: "Industry" },
    { name: "employees", label: "Employees" },
    { name: "owner_id", label: "Owner" },
  ],
};

const other = (side: Side): Side => (side === "a" ? "b" : "a");
const present = (value: unknown) => value !== null && value !== undefined && value !== "";

function read(object: MergeObject, id: string): Promise<MergeRecord> {
  const path = { record_id: id };
  return object === "contacts"
    ? unwrap(api.GET("/v1/contacts/{record_id}", { params: { path, query: { expand: "company" } } }))
    : unwrap(api.GET("/v1/companies/{record_id}", { params: { path } }));
}

function change(object: MergeObject, record: MergeRecord, body: Values) {
  const request = { params: { path: { record_id: record.id } }, headers: ifMatch(record.version) };
  return object === "contacts"
    ? unwrap(api.PATCH("/v1/contacts/{record_id}", { ...request, body: body as Schemas["ContactUpdate"] }))
    : unwrap(api.PATCH("/v1/companies/{record_id}", { ...request, body: body as Schemas["CompanyUpdate"] }));
}

function merge(object: MergeObject, survivorId: string, duplicateId: string) {
  const request = { params: { path: { record_id: survivorId } }, body: { duplicate_id: duplicateId } };
  return object === "contacts"
    ? unwrap(api.POST("/v1/contacts/{record_id}/merge", request))
    : unwrap(api.POST("/v1/companies/{record_id}/merge", request));
}

/** Raised when a record changed since the page showed it: nothing is merged, the page shows it anew. */
class Stale extends Error {}

/** Two records side by side: the user picks the one to keep and, field by field, the value it keeps; the
 * merge then folds the other into it. The merge endpoint keeps the survivor's values (and takes the other's
 * where it has none), so values chosen from the other are first written to the survivor, at the version
 * shown (If-Match): a record changed meanwhile stops everything, and the page reloads both with the
 * user's choices kept. */
export default function Merge() {
  const location = useLocation();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const ownerName = useOwnerName();
  const object: MergeObject = location.pathname.startsWith("/companies") ? "companies" : "contacts";
  const noun = object === "contacts" ? "contact" : "company";
  const params = new URLSearchParams(location.search);
  const ids: Record<Side, string> = { a: params.get("a") ?? "", b: params.get("b") ?? "" };
  const [keep, setKeep] = useState<Side>("a");
  const [chosen, setChosen] = useState<Record<string, Side>>({});
  const [stale, setStale] = useState(false);
  const a = useQuery({ queryKey: ["merge", object, ids.a], queryFn: () => read(object, ids.a), enabled: Boolean(ids.a) });
  const b = useQuery({ queryKey: ["merge", object, ids.b], queryFn: () => read(object, ids.b), enabled: Boolean(ids.b) });

  const run = useMutation({
    mutationFn: async () => {
      const records = { a: a.data!, b: b.data! };
      const survivor = records[keep];
      const duplicate = records[other(keep)];
      // The merge itself takes no version: the duplicate is checked by reading it, the survivor by its
      // If-Match write (or a read, when nothing is to be written to it).
      const duplicateNow = await read(object, duplicate.id);
      if (duplicateNow.version !== duplicate.version) throw new Stale();
      const taken = Object.fromEntries(
        FIELDS[object]
          .filter((field) => !field.unique && (chosen[field.name] ?? keep) !== keep)
          .filter((field) => present(duplicate[field.name]) && duplicate[field.name] !== survivor[field.name])
          .map((field) => [field.name, duplicate[field.name]]),
      );
      if (Object.keys(taken).length > 0) {
        try {
          await change(object, survivor, taken);
        } catch (error) {
          if (error instanceof ApiError && error.status === 412) throw new Stale();
          throw error;
        }
      } else if ((await read(object, survivor.id)).version !== survivor.version) {
        throw new Stale();
      }
      return merge(object, survivor.id, duplicate.id);
    },
    onSuccess: async (merged) => {
      await queryClient.invalidateQueries({ queryKey: [object] });
      await queryClient.invalidateQueries({ queryKey: ["duplicates"] });
      queryClient.removeQueries({ queryKey: ["merge", object] });
      navigate(`/${object}/${merged.id}`, { state: { merged: true } });
    },
    onError: async (error) => {
      if (error instanceof Stale) {
        setStale(true);
        await Promise.all([a.refetch(), b.refetch()]);
      }
    },
  });

  if (!ids.a || !ids.b) {
    return <Alert color="red" role="alert">Open a pair from the duplicates list to merge it.</Alert>;
  }
  if (a.isPending || b.isPending) return <Loading what={`${noun}s`} />;
  if (a.isError) return <LoadError what={noun} error={a.error} retry={() => a.refetch()} />;
  if (b.isError) return <LoadError what={noun} error={b.error} retry={() => b.refetch()} />;
  const records: Record<Side, MergeRecord> = { a: a.data, b: b.data };
  const name = (record: MergeRecord) =>
    object === "contacts" ? personName(record as Schemas["Contact"]) : String(record.name ?? "(no name)");

  function shown(field: Field, record: MergeRecord): ReactNode {
    const value = record[field.name];
    if (!present(value)) return "—";
    if (field.name === "owner_id") return ownerName(String(value));
    if (field.name === "company_id") return record.company?.name ?? "another company";
    if (typeof value === "number") return formatNumber(value);
    return String(value);
  }

  const survivorSide = keep;
  const tags = [...new Set([...(records[keep].tags ?? []), ...(records[other(keep)].tags ?? [])])];
  const problem = run.error && !(run.error instanceof Stale) ? run.error : null;

  return (
    <Stack>
      <Anchor component={Link} to={`/${object}/duplicates`} size="sm">
        ← Duplicates
      </Anchor>
      <Title order={1}>
        Merge {name(records.a)} and {name(records.b)}
      </Title>
      <Text c="dimmed">
        The {noun} you keep takes the values you choose; the other is archived and what refers to it (activities,
        deals{object === "companies" ? ", contacts" : ""}) moves to the one you keep. Tags of both are kept.
      </Text>
      {stale && (
        <Alert color="orange" role="alert" title="Changed since you opened this page" withCloseButton closeButtonLabel="Dismiss" onClose={() => setStale(false)}>
          One of the two {noun}s was changed by someone else, so nothing was merged. Both are shown as they are now,
          with your choices; check them and merge again.
        </Alert>
      )}
      {problem && (
        <Alert color="red" role="alert" title="Not merged">
          {problem.message}
          {problem instanceof ApiError && problem.problem.merged_into && (
            <>
              {" "}
              <Anchor component={Link} to={`/${object}/${problem.problem.merged_into}`}>
                Open the {noun} it was merged into
              </Anchor>
            </>
          )}
        </Alert>
      )}
      <Paper withBorder p="sm" component="form" aria-label="Merge choices" onSubmit={(event) => {
        event.preventDefault();
        setStale(false);
        run.mutate();
      }}>
        <table className="data-table merge-table">
          <caption className="visually-hidden">Each field of the two {noun}s; choose the value to keep</caption>
          <thead>
            <tr>
              <th scope="col">Field</th>
              {(["a", "b"] as const).map((side) => (
                <th scope="col" key={side}>
                  <label className="merge-choice">
                    <input
                      type="radio"
                      name="keep"
                      // Two records often share a name: the label tells them apart by their age.
                      aria-label={`Keep ${name(records[side])} (created ${formatDateTime(records[side].created_at)})`}
                      checked={keep === side}
                      onChange={() => setKeep(side)}
                    />
                    Keep {name(records[side])}
                  </label>
                  <Text size="xs" c="dimmed" fw={400}>
                    created {formatDateTime(records[side].created_at)}
                  </Text>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {FIELDS[object].map((field) => {
              const values = { a: records.a[field.name], b: records.b[field.name] };
              const differ = present(values.a) && present(values.b) && values.a !== values.b;
              // Where one record has no value the merge takes the other's: nothing to choose.
              const winner: Side = field.unique || !differ ? (present(values[keep]) ? keep : other(keep)) : (chosen[field.name] ?? keep);
              return (
                <tr key={field.name}>
                  <th scope="row">{field.label}</th>
                  {(["a", "b"] as const).map((side) => (
                    <td key={side} data-kept={winner === side && present(values[side]) ? "true" : undefined}>
                      {differ && !field.unique ? (
                        <label className="merge-choice">
                          <input
                            type="radio"
                            name={`field-${field.name}`}
                            aria-label={`${field.label}: ${shown(field, records[side])}`}
                            checked={winner === side}
                            onChange={() => setChosen((current) => ({ ...current, [field.name]: side }))}
                          />
                          {shown(field, records[side])}
                        </label>
                      ) : (
                        shown(field, records[side])
                      )}
                      {field.unique && differ && side === survivorSide && (
                        <Text size="xs" c="dimmed">
                          kept (the other’s still finds this {noun})
                        </Text>
                      )}
                    </td>
                  ))}
                </tr>
              );
            })}
            <tr>
              <th scope="row">Tags</th>
              <td colSpan={2}>{tags.length ? tags.join(", ") : "—"} (both kept)</td>
            </tr>
          </tbody>
        </table>
        <Group mt="md">
          <Button type="submit" loading={run.isPending}>
            Merge into {name(records[keep])}
          </Button>
          <Button component={Link} to={`/${object}/duplicates`} variant="default">
            Cancel
          </Button>
        </Group>
      </Paper>
    </Stack>
  );
}
