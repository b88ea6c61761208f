import { Alert, Anchor, Badge, Button, Group, Modal, Paper, SimpleGrid, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useCallback, useState } from "react";
import { Link, useSearchParams } from "react-router";
import { ApiError, api, ifMatch, noContent, unwrap, type Schemas } from "../../api/client";
import { Bars } from "../../components/ReportChart";
import { Empty, QueryState } from "../../components/States";
import { ProblemAlert } from "../../forms/parts";
import { formatDateTime, formatMoney, formatNumber } from "../../format";
import { useMe } from "../../Shell";
import { CampaignEditor, useSegmentChoices } from "./CampaignEditor";

type Campaign = Schemas["Campaign"];
type Status = NonNullable<Campaign["status"]>;
type Me = Schemas["Me"];

const STATUS_COLORS: Record<Status, string> = { draft: "gray.7", scheduled: "blue.9", sending: "grape.9", sent: "teal.9", cancelled: "red.9" };
const FUNNEL = ["recipients", "sent", "delivered", "opened", "clicked", "converted"] as const;

/** A birthday campaign greets each day's birthdays while it is "sending" (decision 0018): shown as active. */
export function isBirthday(campaign: Pick<Campaign, "trigger"> | undefined): boolean {
  return campaign?.trigger === "birthday";
}

export function StatusBadge({ status, trigger }: { status: Status | undefined; trigger?: Campaign["trigger"] }) {
  const shown = status ?? "draft";
  return (
    <Badge color={STATUS_COLORS[shown]} variant="outline" data-testid="campaign-status">
      {shown === "sending" && trigger === "birthday" ? "active" : shown}
    </Badge>
  );
}

/** Who may change, send, schedule or cancel it (decision 0018): its owner, a manager (the API checks that they
 * manage the owner) or an admin; a viewer reads. */
function mayAct(me: Me | undefined, campaign: Campaign | undefined): boolean {
  if (!me || me.role === "viewer") return false;
  if (!campaign || me.role === "admin" || me.role === "manager") return true;
  return campaign.owner_id === me.user.id;
}

function when(campaign: Campaign): string {
  if (campaign.status === "scheduled") return formatDateTime(campaign.send_at);
  if (campaign.status === "sent") return formatDateTime(campaign.sent_at ?? campaign.sending_at);
  if (campaign.status === "sending" || campaign.status === "cancelled") return formatDateTime(campaign.sending_at ?? campaign.send_at);
  return "—";
}

/** The campaign's send time in words, for its own page. */
function whenText(campaign: Campaign): string {
  if (isBirthday(campaign) && campaign.status === "sending") return `Active since ${formatDateTime(campaign.sending_at)}: greets contacts on their birthday`;
  if (isBirthday(campaign) && campaign.status === "draft") return "Not active yet";
  switch (campaign.status) {
    case "scheduled":
      return `Sends ${formatDateTime(campaign.send_at)}`;
    case "sending":
      return `Sending since ${formatDateTime(campaign.sending_at)}`;
    case "sent":
      return `Sent ${formatDateTime(campaign.sent_at ?? campaign.sending_at)}`;
    case "cancelled":
      return campaign.sending_at ? `Cancelled while sending (began ${formatDateTime(campaign.sending_at)})` : "Cancelled before it was sent";
    default:
      return "Not sent yet";
  }
}

function useStats(campaign: Campaign, enabled = true) {
  const live = campaign.status === "sending" || campaign.status === "scheduled";
  return useQuery({
    // Keyed by status too: the counts are read again when it moves (the last of them land as it becomes sent).
    queryKey: ["campaigns", "stats", campaign.id, campaign.status],
    queryFn: () => unwrap(api.GET("/v1/campaigns/{record_id}/stats", { params: { path: { record_id: campaign.id } } })),
    enabled: enabled && campaign.status !== "draft",
    refetchInterval: live ? 2_000 : false,
  });
}

/** A list row's sent count: the campaign's stats (a draft has sent nothing). */
function SentCount({ campaign }: { campaign: Campaign }) {
  const stats = useStats(campaign);
  if (campaign.status === "draft") return <>—</>;
  if (stats.isError) return <>?</>;
  return <>{stats.data ? formatNumber(stats.data.sent) : "…"}</>;
}

/** Asks before a move that cannot be taken back; `children` say what it does. */
function Confirm({ title, action, color, pending, onConfirm, onClose, children }: { title: string; action: string; color?: string; pending: boolean; onConfirm: () => void; onClose: () => void; children: React.ReactNode }) {
  return (
    <Modal opened onClose={onClose} title={title} closeButtonProps={{ "aria-label": "Close" }}>
      <Stack>
        <Text size="sm">{children}</Text>
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Keep it as it is
          </Button>
          <Button color={color} loading={pending} onClick={onConfirm} data-autofocus>
            {action}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}

/** A card of the campaign's page, named by its title. */
function Card({ id, title, children }: { id: string; title: string; children: React.ReactNode }) {
  return (
    <Paper withBorder p="md" component="section" aria-labelledby={id}>
      <Stack gap="sm">
        <Title order={3} id={id}>
          {title}
        </Title>
        {children}
      </Stack>
    </Paper>
  );
}

const CONFLICT_TITLE = "Not possible in its current state";

/** Send now, schedule for a time, or cancel: each after a confirmation; a 409 (already sending, sent or
 * cancelled) says so plainly, and the campaign is read again. */
function Actions({ campaign, blocked, onProblem }: { campaign: Campaign; blocked: boolean; onProblem: (error: ApiError | null) => void }) {
  const queryClient = useQueryClient();
  const [asking, setAsking] = useState<"send" | "schedule" | "cancel" | null>(null);
  const [sendAt, setSendAt] = useState("");
  const [sendAtError, setSendAtError] = useState<string | undefined>();
  const path = { params: { path: { record_id: campaign.id } } };
  const move = useMutation({
    mutationFn: (what: "send" | "schedule" | "cancel") => {
      if (what === "send") return unwrap(api.POST("/v1/campaigns/{record_id}/send", path));
      if (what === "cancel") return unwrap(api.POST("/v1/campaigns/{record_id}/cancel", path));
      return unwrap(api.POST("/v1/campaigns/{record_id}/schedule", { ...path, body: { send_at: new Date(sendAt).toISOString() } }));
    },
    onMutate: () => onProblem(null),
    onSuccess: () => setAsking(null),
    onError: (error) => {
      setAsking(null);
      onProblem(error instanceof ApiError ? error : null);
    },
    onSettled: () => queryClient.invalidateQueries({ queryKey: ["campaigns"] }),
  });
  const status = campaign.status ?? "draft";
  const birthday = isBirthday(campaign);
  const canSend = status === "draft" || status === "scheduled";
  const canCancel = status === "draft" || status === "scheduled" || status === "sending";
  const schedule = (event: FormEvent) => {
    event.preventDefault();
    if (!sendAt || Number.isNaN(new Date(sendAt).getTime())) {
      setSendAtError("Choose a date and time");
      return;
    }
    if (new Date(sendAt).getTime() <= Date.now()) {
      setSendAtError("Choose a time in the future");
      return;
    }
    setSendAtError(undefined);
    setAsking("schedule");
  };
  if (!canSend && !canCancel) return null;
  return (
    <Card id="campaign-actions-title" title="Send">
        {blocked && <Text size="sm" c="dimmed">Save your changes first: sending uses the saved campaign.</Text>}
        <Group align="flex-end" wrap="wrap">
          {canSend && (
            <Button disabled={blocked} onClick={() => setAsking("send")}>
              {birthday ? "Activate" : "Send now"}
            </Button>
          )}
          {canSend && !birthday && (
            <Group component="form" align="flex-end" gap="xs" onSubmit={schedule} aria-label="Schedule" wrap="wrap">
              <TextInput type="datetime-local" label={status === "scheduled" ? "Move to" : "Send at"} value={sendAt} error={sendAtError} onChange={(event) => setSendAt(event.currentTarget.value)} />
              <Button type="submit" variant="default" disabled={blocked}>
                {status === "scheduled" ? "Reschedule" : "Schedule"}
              </Button>
            </Group>
          )}
          {canCancel && (
            <Button variant="subtle" color="red" onClick={() => setAsking("cancel")}>
              {birthday && status === "sending" ? "Stop (cancel campaign)" : "Cancel campaign"}
            </Button>
          )}
        </Group>
      {asking === "send" && birthday && (
        <Confirm title="Activate this birthday campaign?" action="Activate" pending={move.isPending} onConfirm={() => move.mutate("send")} onClose={() => setAsking(null)}>
          From today, each contact with email consent{campaign.segment_id ? " in its segment" : ""} gets it on their birthday, once a year, until you cancel it.
        </Confirm>
      )}
      {asking === "send" && !birthday && (
        <Confirm title="Send this campaign now?" action="Send now" pending={move.isPending} onConfirm={() => move.mutate("send")} onClose={() => setAsking(null)}>
          It goes to every member of its segment with email consent, once each. A sent email cannot be called back.
        </Confirm>
      )}
      {asking === "schedule" && (
        <Confirm title="Schedule this campaign?" action="Schedule" pending={move.isPending} onConfirm={() => move.mutate("schedule")} onClose={() => setAsking(null)}>
          It is sent on {formatDateTime(new Date(sendAt).toISOString())} to the members of its segment at that time; you can cancel it until then.
        </Confirm>
      )}
      {asking === "cancel" && (
        <Confirm title="Cancel this campaign?" action="Cancel campaign" color="red" pending={move.isPending} onConfirm={() => move.mutate("cancel")} onClose={() => setAsking(null)}>
          Nothing more is sent; emails already sent stay sent. A cancelled campaign cannot be sent again.
        </Confirm>
      )}
    </Card>
  );
}

/** What the campaign did: the counts, revenue in the user's locale, and the funnel as bars. */
function Stats({ campaign }: { campaign: Campaign }) {
  const stats = useStats(campaign);
  if (campaign.status === "draft") return null;
  const data = stats.data;
  const numbers: [string, string][] = data
    ? [
        ["Recipients", formatNumber(data.recipients)],
        ["Sent", formatNumber(data.sent)],
        ["Delivered", formatNumber(data.delivered)],
        ["Bounced", formatNumber(data.bounced)],
        ["Opened", formatNumber(data.opened)],
        ["Clicked", formatNumber(data.clicked)],
        ["Unsubscribed", formatNumber(data.unsubscribed)],
        ["Converted", formatNumber(data.converted)],
        ["Revenue", data.revenue.length > 0 ? data.revenue.map((one) => formatMoney(one.amount, one.currency)).join(" + ") : formatMoney(0, null)],
      ]
    : [];
  return (
    <Card id="campaign-stats-title" title="Results">
        <QueryState query={stats} what="results" />
        {data && (
          <>
            <SimpleGrid cols={{ base: 2, xs: 3, sm: 5 }} spacing="xs" component="dl" m={0} data-testid="campaign-stats" aria-live="polite">
              {numbers.map(([label, value]) => (
                <div key={label}>
                  <Text component="dt" size="xs" c="dimmed">
                    {label}
                  </Text>
                  <Text component="dd" m={0} fw={600} data-stat={label.toLowerCase()}>
                    {value}
                  </Text>
                </div>
              ))}
            </SimpleGrid>
            {data.skipped > 0 && <Text size="sm" c="dimmed">{data.skipped === 1 ? "1 member was" : `${formatNumber(data.skipped)} members were`} not sent to (no email consent, suppressed or no address).</Text>}
            <Paper withBorder p="sm" component="figure" m={0} aria-labelledby="campaign-funnel-caption" data-testid="campaign-funnel">
              <Text component="figcaption" fw={600} size="sm" id="campaign-funnel-caption" mb={6}>
                Funnel: {FUNNEL.join(", ")}
              </Text>
              <Bars labels={[...FUNNEL]} series={[{ name: "", values: FUNNEL.map((stage) => data[stage]) }]} />
            </Paper>
            <Text size="xs" c="dimmed">
              Converted: recipients with a deal won within {data.attribution_days} days of the send.
            </Text>
          </>
        )}
    </Card>
  );
}

/** One campaign: its editor while it is a draft (for those who may change it), its actions and its results. */
function CampaignView({ id, me, onClose }: { id: string; me: Me | undefined; onClose: () => void }) {
  const campaign = useQuery({
    queryKey: ["campaigns", "one", id],
    queryFn: () => unwrap(api.GET("/v1/campaigns/{record_id}", { params: { path: { record_id: id } } })),
    // A one-off campaign's sending ends soon; a birthday campaign is "sending" (active) for months: not polled.
    refetchInterval: (query) => (query.state.data?.status === "sending" && !isBirthday(query.state.data) ? 2_000 : false),
  });
  const segments = useSegmentChoices();
  const [dirty, setDirty] = useState(false);
  const [problem, setProblem] = useState<ApiError | null>(null);
  const onDirty = useCallback((value: boolean) => setDirty(value), []);
  const queryClient = useQueryClient();
  const [deleting, setDeleting] = useState(false);
  const archive = useMutation({
    mutationFn: (one: Campaign) =>
      noContent(api.DELETE("/v1/campaigns/{record_id}", { params: { path: { record_id: one.id } }, headers: ifMatch(one.version) })),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ["campaigns", "list"] });
      onClose();
    },
    onError: (error) => {
      setDeleting(false);
      setProblem(error instanceof ApiError ? error : null);
    },
    onSettled: () => queryClient.invalidateQueries({ queryKey: ["campaigns", "one", id] }),
  });
  if (!campaign.data) {
    return (
      <Stack gap="sm" align="flex-start">
        <QueryState query={campaign} what="campaign" />
        {campaign.isError && (
          <Button variant="default" onClick={onClose}>
            Back to campaigns
          </Button>
        )}
      </Stack>
    );
  }
  const one = campaign.data;
  const allowed = mayAct(me, one);
  const segment = segments.data?.items.find((s) => s.id === one.segment_id);
  return (
    <Stack gap="md" component="article" aria-labelledby="campaign-title">
      <Group justify="space-between" wrap="wrap">
        <Group gap="sm">
          <Title order={2} id="campaign-title">
            {one.name}
          </Title>
          <StatusBadge status={one.status} trigger={one.trigger} />
        </Group>
        <Group gap="xs">
          {allowed && one.status !== "scheduled" && one.status !== "sending" && (
            <Button variant="subtle" color="red" onClick={() => setDeleting(true)}>
              Delete
            </Button>
          )}
          <Button variant="default" onClick={onClose}>
            Back to campaigns
          </Button>
        </Group>
      </Group>
      {deleting && (
        <Confirm title="Delete this campaign?" action="Delete" color="red" pending={archive.isPending} onConfirm={() => archive.mutate(one)} onClose={() => setDeleting(false)}>
          It leaves the list (the API can restore it).
        </Confirm>
      )}
      {problem && (
        <div>
          {problem.status === 409 ? (
            <Alert color="orange" role="alert" title={CONFLICT_TITLE}>
              {problem.message} The campaign is shown as it is now.
            </Alert>
          ) : (
            <ProblemAlert error={problem} title="Not done" />
          )}
        </div>
      )}
      {one.status === "draft" && allowed ? (
        <CampaignEditor key={`${one.id}-${one.version}`} campaign={one} problemFields={problem?.status === 422 ? problem.fieldErrors() : {}} onSaved={() => setProblem(null)} onCancel={onClose} onDirty={onDirty} />
      ) : (
        <Paper withBorder p="md">
          <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="xs">
            <Text size="sm">Segment: {segment?.name ?? one.segment_id ?? "—"}</Text>
            <Text size="sm">Subject: {one.subject ?? "—"}</Text>
            <Text size="sm">From: {one.from ?? "—"}</Text>
            <Text size="sm">{whenText(one)}</Text>
          </SimpleGrid>
        </Paper>
      )}
      {allowed && <Actions campaign={one} blocked={dirty} onProblem={setProblem} />}
      <Stats campaign={one} />
    </Stack>
  );
}

/** The Campaigns page's campaigns: the list (name, status, segment, send time, sent count), a new campaign, and
 * one campaign opened (`?campaign=<id>`) with its editor, actions and results. */
export default function CampaignList() {
  const me = useMe();
  const [params, setParams] = useSearchParams();
  const open = params.get("campaign");
  const segments = useSegmentChoices();
  const campaigns = useQuery({
    queryKey: ["campaigns", "list"],
    queryFn: () => unwrap(api.GET("/v1/campaigns", { params: { query: { limit: 100 } } })),
  });
  const show = (id: string | null) => setParams(id ? { campaign: id } : {});
  const canCreate = mayAct(me.data, undefined);
  if (open === "new") {
    return <CampaignEditor onSaved={(saved) => show(saved.id)} onCancel={() => show(null)} />;
  }
  if (open) return <CampaignView key={open} id={open} me={me.data} onClose={() => show(null)} />;
  const rows = campaigns.data?.items ?? [];
  const segmentName = (id: string | null | undefined) => (id ? (segments.data?.items.find((s) => s.id === id)?.name ?? "—") : "—");
  return (
    <Stack gap="md" component="section" aria-labelledby="campaigns-title">
      <Group justify="space-between">
        <Title order={2} id="campaigns-title">
          Email campaigns
        </Title>
        {canCreate && <Button onClick={() => show("new")}>New campaign</Button>}
      </Group>
      <QueryState query={campaigns} what="campaigns" />
      {campaigns.data && rows.length === 0 && <Empty>No campaigns yet.</Empty>}
      {rows.length > 0 && (
        <Table aria-label="Campaigns" className="data-table">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Name</Table.Th>
              <Table.Th>Status</Table.Th>
              <Table.Th className="from-sm">Segment</Table.Th>
              <Table.Th className="from-sm">Send time</Table.Th>
              <Table.Th>Sent</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((campaign) => (
              <Table.Tr key={campaign.id}>
                <Table.Td>
                  <Anchor component={Link} to={`?campaign=${campaign.id}`}>
                    {campaign.name}
                  </Anchor>
                </Table.Td>
                <Table.Td>
                  <StatusBadge status={campaign.status} trigger={campaign.trigger} />
                </Table.Td>
                <Table.Td className="from-sm">{segmentName(campaign.segment_id)}</Table.Td>
                <Table.Td className="from-sm">{when(campaign)}</Table.Td>
                <Table.Td>
                  <SentCount campaign={campaign} />
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Stack>
  );
}
