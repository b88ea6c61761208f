import { Alert, Grid, Stack } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { Suspense, lazy, useState } from "react";
import { useLocation, useParams } from "react-router";
import { api, unwrap } from "../api/client";
import { RecordHeader } from "../components/ArchiveRestore";
import { ContactForm } from "../components/ContactForm";
import { customFields, useCustomProperties } from "../components/CustomFields";
import { Fields, companyLink } from "../components/Fields";
import { MergeWith } from "../components/MergeWith";
import { QuickActivity } from "../components/QuickActivity";
import { RecordTickets } from "../components/RecordTickets";
import { LoadError, Loading } from "../components/States";
import { RecordTimeline } from "../components/Timeline";
import { useOwnerName } from "../components/owners";
import { formatDateTime, personName } from "../format";
import { useMe } from "../Shell";

// Admins only, and rarely: the privacy section (its dialog) is a chunk of its own, loaded when an admin opens a
// contact.
const Privacy = lazy(() => import("../components/Privacy"));

export default function ContactDetail() {
  const { id = "" } = useParams();
  const [editing, setEditing] = useState(false);
  // Arrived from a merge: it says so once.
  const merged = Boolean((useLocation().state as { merged?: boolean } | null)?.merged);
  const ownerName = useOwnerName();
  const properties = useCustomProperties("contacts");
  // The API lets admins alone export or erase a person; the section is not shown to anyone else.
  const admin = useMe().data?.role === "admin";
  const contact = useQuery({
    queryKey: ["contact", id],
    // Archived ones too: a link to a contact merged away leads on to the one it was merged into.
    queryFn: () =>
      unwrap(api.GET("/v1/contacts/{record_id}", { params: { path: { record_id: id }, query: { archived: true } } })),
  });
  const company = useQuery({
    queryKey: ["company", contact.data?.company_id],
    queryFn: () =>
      unwrap(api.GET("/v1/companies/{record_id}", { params: { path: { record_id: contact.data!.company_id! } } })),
    enabled: Boolean(contact.data?.company_id),
  });

  if (contact.isPending) return <Loading what="contact" />;
  if (contact.isError) return <LoadError what="contact" error={contact.error} retry={() => contact.refetch()} />;
  const record = contact.data;
  const erased = Boolean(record.erased_at);
  const companyField = companyLink(record.company_id, company.data);

  return (
    <Stack>
      <RecordHeader
        object="contacts"
        title={personName(record)}
        record={record}
        editing={editing}
        // A tombstone cannot be edited back (the API answers 409).
        onEdit={erased ? undefined : () => setEditing(true)}
        mergedTail=", which holds its activities and deals now."
      />
      {merged && (
        <Alert color="green" role="status" data-testid="merged">
          Merged: the other contact was folded into this one.
        </Alert>
      )}
      {erased && (
        <Alert color="gray" role="status" data-testid="erased">
          Erased on {formatDateTime(record.erased_at)}: this person's data was removed at their request. The record stays so
          that counts and reports stay true.
        </Alert>
      )}
      {editing && !erased ? (
        <ContactForm
          contact={record}
          onSaved={() => setEditing(false)}
          onCancel={() => setEditing(false)}
        />
      ) : erased ? (
        <Fields
          fields={[
            ["Company", companyField],
            ["Owner", ownerName(record.owner_id)],
            ["Lifecycle stage", record.lifecycle_stage],
            ["Erased", formatDateTime(record.erased_at)],
          ]}
        />
      ) : (
        <Fields
          fields={[
            ["Email", record.email],
            ["Phone", record.phone],
            ["Job title", record.title],
            ["Company", companyField],
            ["Owner", ownerName(record.owner_id)],
            ["Lifecycle stage", record.lifecycle_stage],
            ["Tags", record.tags?.join(", ")],
            ["Birthday", record.birthday],
            ["Email consent", record.consent?.email],
            ["Updated", formatDateTime(record.updated_at)],
            ...customFields(properties.data, record.custom),
          ]}
        />
      )}
      <Grid>
        <Grid.Col span={{ base: 12, md: 5 }}>
          <Stack>
            <QuickActivity object="contacts" id={record.id} />
            {/* A merge with a tombstone is refused (409): it would move a live person's data into it, or out. */}
            {!record.archived && !erased && <MergeWith object="contacts" id={record.id} />}
            {admin && (
              <Suspense fallback={null}>
                <Privacy contact={record} />
              </Suspense>
            )}
          </Stack>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 7 }}>
          <Stack>
            <RecordTickets object="contacts" id={record.id} />
            <RecordTimeline object="contacts" id={record.id} />
          </Stack>
        </Grid.Col>
      </Grid>
    </Stack>
  );
}
