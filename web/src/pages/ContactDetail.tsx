import { Alert, Anchor, Grid, Stack } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useLocation, useParams } from "react-router";
import { api, unwrap } from "../api/client";
import { RecordHeader } from "../components/ArchiveRestore";
import { ContactForm } from "../components/ContactForm";
import { customFields, useCustomProperties } from "../components/CustomFields";
import { Fields } from "../components/Fields";
import { MergeWith } from "../components/MergeWith";
import { QuickActivity } from "../components/QuickActivity";
import { LoadError, Loading } from "../components/States";
import { RecordTimeline } from "../components/Timeline";
import { useOwnerName } from "../components/owners";
import { formatDateTime, personName } from "../format";

export default function ContactDetail() {
  const { id = "" } = useParams();
  const [editing, setEditing] = useState(false);
  // Arrived from a merge: it says so once.
  const merged = Boolean((useLocation().state as { merged?: boolean } | null)?.merged);
  const ownerName = useOwnerName();
  const properties = useCustomProperties("contacts");
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

  return (
    <Stack>
      <RecordHeader
        object="contacts"
        title={personName(record)}
        record={record}
        editing={editing}
        onEdit={() => setEditing(true)}
        mergedTail=", which holds its activities and deals now."
      />
      {merged && (
        <Alert color="green" role="status" data-testid="merged">
          Merged: the other contact was folded into this one.
        </Alert>
      )}
      {editing ? (
        <ContactForm
          contact={record}
          onSaved={() => setEditing(false)}
          onCancel={() => setEditing(false)}
        />
      ) : (
        <Fields
          fields={[
            ["Email", record.email],
            ["Phone", record.phone],
            ["Job title", record.title],
            [
              "Company",
              record.company_id &&
                (company.data ? (
                  <Anchor component={Link} to={`/companies/${record.company_id}`}>
                    {company.data.name}
                  </Anchor>
                ) : (
                  "…"
                )),
            ],
            ["Owner", ownerName(record.owner_id)],
            ["Lifecycle stage", record.lifecycle_stage],
            ["Tags", record.tags?.join(", ")],
            ["Updated", formatDateTime(record.updated_at)],
            ...customFields(properties.data, record.custom),
          ]}
        />
      )}
      <Grid>
        <Grid.Col span={{ base: 12, md: 5 }}>
          <Stack>
            <QuickActivity object="contacts" id={record.id} />
            {!record.archived && <MergeWith object="contacts" id={record.id} />}
          </Stack>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 7 }}>
          <RecordTimeline object="contacts" id={record.id} />
        </Grid.Col>
      </Grid>
    </Stack>
  );
}
