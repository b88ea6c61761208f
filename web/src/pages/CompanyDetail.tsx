import { Anchor, Grid, List, Stack, Text, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { Link, useParams } from "react-router";
import { api, unwrap } from "../api/client";
import { RecordHeader, recordKey } from "../components/ArchiveRestore";
import { customFields, useCustomProperties } from "../components/CustomFields";
import { Fields } from "../components/Fields";
import { MergeWith } from "../components/MergeWith";
import { QuickActivity } from "../components/QuickActivity";
import { Empty, LoadError, Loading, QueryState } from "../components/States";
import { RecordTickets } from "../components/RecordTickets";
import { RecordTimeline } from "../components/Timeline";
import { useOwnerName } from "../components/owners";
import { formatDateTime, formatMoney, formatNumber, personName } from "../format";
import { CompanyReceivables } from "./contracts/CompanyReceivables";

export default function CompanyDetail() {
  const { id = "" } = useParams();
  const ownerName = useOwnerName();
  const properties = useCustomProperties("companies");
  const company = useQuery({
    queryKey: recordKey("companies", id),
    // Archived ones too: archiving leaves the page showing it, with its Restore button.
    queryFn: () =>
      unwrap(api.GET("/v1/companies/{record_id}", { params: { path: { record_id: id }, query: { archived: true } } })),
  });
  const contacts = useQuery({
    queryKey: ["company-contacts", id],
    queryFn: () => unwrap(api.GET("/v1/companies/{record_id}/contacts", { params: { path: { record_id: id } } })),
  });

  const deals = useQuery({
    queryKey: ["company-deals", id],
    queryFn: () =>
      unwrap(api.GET("/v1/companies/{record_id}/deals", { params: { path: { record_id: id }, query: { limit: 50 } } })),
  });

  if (company.isPending) return <Loading what="company" />;
  if (company.isError) return <LoadError what="company" error={company.error} retry={() => company.refetch()} />;
  const record = company.data;

  return (
    <Stack>
      <RecordHeader object="companies" title={record.name ?? "(no name)"} record={record} />
      <Fields
        fields={[
          ["Domain", record.domain],
          ["Industry", record.industry],
          ["Employees", record.employees != null ? formatNumber(record.employees) : null],
          ["Owner", ownerName(record.owner_id)],
          ["Tags", record.tags?.join(", ")],
          ["Updated", formatDateTime(record.updated_at)],
          ...customFields(properties.data, record.custom),
        ]}
      />
      <Stack gap="xs" component="section" aria-labelledby="company-contacts">
        <Title order={2} size="h3" id="company-contacts">
          Contacts
        </Title>
        <QueryState query={contacts} what="contacts" />
        {contacts.isSuccess && contacts.data.items.length === 0 && <Empty>No contacts at this company.</Empty>}
        {contacts.isSuccess && contacts.data.next_cursor && (
          <Anchor component={Link} to={`/contacts?company=${id}`} size="sm">
            All its contacts in the contact list
          </Anchor>
        )}
        {contacts.isSuccess && contacts.data.items.length > 0 && (
          <List>
            {contacts.data.items.map((contact) => (
              <List.Item key={contact.id}>
                <Anchor component={Link} to={`/contacts/${contact.id}`}>
                  {personName(contact)}
                </Anchor>
              </List.Item>
            ))}
          </List>
        )}
      </Stack>
      <Stack gap="xs" component="section" aria-labelledby="company-deals">
        <Title order={2} size="h3" id="company-deals">
          Deals
        </Title>
        <QueryState query={deals} what="deals" />
        {deals.isSuccess && deals.data.items.length === 0 && <Empty>No deals with this company.</Empty>}
        {deals.isSuccess && deals.data.items.length > 0 && (
          <List>
            {deals.data.items.map((deal) => (
              <List.Item key={deal.id}>
                <Anchor component={Link} to={`/deals/${deal.id}`}>
                  {deal.name}
                </Anchor>{" "}
                · {formatMoney(deal.amount, deal.currency)} · {deal.status}
              </List.Item>
            ))}
          </List>
        )}
        {deals.isSuccess && deals.data.next_cursor && (
          <Text size="sm" c="dimmed">
            The first 50 are shown; the board shows the open ones by stage.
          </Text>
        )}
      </Stack>
      <CompanyReceivables companyId={record.id} />
      <Grid>
        <Grid.Col span={{ base: 12, md: 5 }}>
          <Stack>
            <QuickActivity object="companies" id={record.id} />
            {!record.archived && <MergeWith object="companies" id={record.id} />}
          </Stack>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 7 }}>
          <Stack>
            <RecordTickets object="companies" id={record.id} />
            <RecordTimeline object="companies" id={record.id} />
          </Stack>
        </Grid.Col>
      </Grid>
    </Stack>
  );
}
