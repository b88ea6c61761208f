import { Alert, Anchor, Button, Group, Text, Title } from "@mantine/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type ReactNode } from "react";
import { Link } from "react-router";
import { ApiError, api, ifMatch, noContent, unwrap } from "../api/client";

export type ArchivableObject = "contacts" | "companies" | "deals" | "tickets";

const NOUN: Record<ArchivableObject, string> = { contacts: "contact", companies: "company", deals: "deal", tickets: "ticket" };
const LIST: Record<ArchivableObject, string> = { contacts: "Contacts", companies: "Companies", deals: "Deals", tickets: "Tickets" };

type ArchivableRecord = { id: string; version: number; archived: boolean; merged_into?: string | null };

/** The top of a record's page: the way back to its list, its name, Edit (when the page edits in place and
 * is not editing) and Archive/Restore, and what an archived or merged record is. */
export function RecordHeader({
  object,
  title,
  record,
  editing = false,
  onEdit,
  mergedTail = ".",
}: {
  object: ArchivableObject;
  title: ReactNode;
  record: ArchivableRecord;
  editing?: boolean;
  onEdit?: () => void;
  // What follows "This contact was merged into another contact" (a contact's page says what moved).
  mergedTail?: ReactNode;
}) {
  const noun = NOUN[object];
  return (
    <>
      <Anchor component={Link} to={`/${object}`} size="sm">
        ← {LIST[object]}
      </Anchor>
      <Group justify="space-between">
        <Title order={1}>{title}</Title>
        {!editing && (
          <Group gap="xs">
            {onEdit && !record.archived && <Button onClick={onEdit}>Edit</Button>}
            <ArchiveRestore object={object} record={record} />
          </Group>
        )}
      </Group>
      {record.archived && (
        <Alert color="orange" role="status" data-testid="archived">
          {record.merged_into ? (
            <>
              This {noun} was merged into{" "}
              <Anchor component={Link} to={`/${object}/${record.merged_into}`}>
                another {noun}
              </Anchor>
              {mergedTail}
            </>
          ) : (
            `This ${noun} is archived.`
          )}
        </Alert>
      )}
    </>
  );
}

/** The query key a record's page reads it under (with archived ones, so that it stays shown once archived). */
export function recordKey(object: ArchivableObject, id: string) {
  return [NOUN[object], id] as const;
}

function archive(object: ArchivableObject, id: string, version: number) {
  const options = { params: { path: { record_id: id } }, headers: ifMatch(version) };
  if (object === "contacts") return noContent(api.DELETE("/v1/contacts/{record_id}", options));
  if (object === "companies") return noContent(api.DELETE("/v1/companies/{record_id}", options));
  if (object === "tickets") return noContent(api.DELETE("/v1/tickets/{record_id}", options));
  return noContent(api.DELETE("/v1/deals/{record_id}", options));
}

function restore(object: ArchivableObject, id: string) {
  const options = { params: { path: { record_id: id } } };
  if (object === "contacts") return unwrap(api.POST("/v1/contacts/{record_id}/restore", options));
  if (object === "companies") return unwrap(api.POST("/v1/companies/{record_id}/restore", options));
  if (object === "tickets") return unwrap(api.POST("/v1/tickets/{record_id}/restore", options));
  return unwrap(api.POST("/v1/deals/{record_id}/restore", options));
}

/** Archive (after a confirmation, at the version the page shows: If-Match) or restore the record a page
 * shows; the page then reads it again, archived or not. */
export function ArchiveRestore({
  object,
  record,
}: {
  object: ArchivableObject;
  record: ArchivableRecord;
}) {
  const queryClient = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const noun = NOUN[object];
  const reread = async () => {
    setConfirming(false);
    await queryClient.invalidateQueries({ queryKey: recordKey(object, record.id) });
    // Lists skip archived records: theirs change too, as does the record's timeline.
    await queryClient.invalidateQueries({ queryKey: [object === "deals" ? "board" : object] });
    await queryClient.invalidateQueries({ queryKey: ["timeline", object, record.id] });
  };
  const archiving = useMutation({ mutationFn: () => archive(object, record.id, record.version), onSettled: reread });
  const restoring = useMutation({ mutationFn: () => restore(object, record.id), onSettled: reread });
  const failed = archiving.error ?? restoring.error;

  // One merged away lives on in the survivor: restoring it would make two again.
  if (record.merged_into) return null;
  return (
    <>
      {record.archived ? (
        <Button variant="default" onClick={() => restoring.mutate()} loading={restoring.isPending}>
          Restore
        </Button>
      ) : confirming ? (
        <Group gap="xs" role="group" aria-label={`Archive this ${noun}?`}>
          <Text size="sm">Archive this {noun}? It can be restored for 30 days.</Text>
          <Button color="red" onClick={() => archiving.mutate()} loading={archiving.isPending}>
            Yes, archive
          </Button>
          <Button variant="default" onClick={() => setConfirming(false)}>
            Keep it
          </Button>
        </Group>
      ) : (
        <Button variant="default" color="red" onClick={() => setConfirming(true)}>
          Archive
        </Button>
      )}
      {failed && (
        <Alert color="red" role="alert" title={failed instanceof ApiError && failed.status === 412 ? "Changed by someone else" : "Not done"}>
          {failed instanceof ApiError && failed.status === 412
            ? `This ${noun} changed since the page loaded, so it was not archived. The page shows it as it is now.`
            : failed.message}
        </Alert>
      )}
    </>
  );
}
