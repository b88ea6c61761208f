import { Anchor, Badge, Button, Paper, Progress, Stack, Text, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { ApiError, api, unwrap, type Schemas } from "../../api/client";
import { ProblemAlert } from "../../forms/parts";
import { formErrors } from "../../forms/useFormState";
import { formatBytes, formatDateTime, formatNumber } from "../../format";
import { ListSection, SettingsTable } from "./shared";

type ExportJob = Schemas["ExportAnswer"];

const FINISHED = new Set(["completed", "failed", "expired"]);
const POLL_MS = 1000;
const STATUS_COLORS: Record<string, string> = {
  completed: "teal.9",
  failed: "red.9",
  running: "indigo.8",
  pending: "gray.7",
  expired: "gray.7",
};

const total = (counts: Record<string, number>) => Object.values(counts).reduce((sum, count) => sum + count, 0);

/** The records written of those counted, over every type. */
function progressOf(job: ExportJob) {
  const objects = total(job.objects);
  const processed = total(job.processed);
  return { objects, processed, percent: objects > 0 ? Math.min(100, (processed / objects) * 100) : 0 };
}

/** The zip's link while it lasts (an hour: reading the export again makes a fresh one), and when it stops. */
function DownloadLink({ job, long = false }: { job: ExportJob; long?: boolean }) {
  if (!job.download_url) return <>—</>;
  const expires = formatDateTime(job.download_expires_at);
  return (
    <Stack gap={0}>
      <Anchor href={job.download_url} size="sm" download aria-label={long ? undefined : `Download the export of ${formatDateTime(job.created_at)}`}>
        {long ? `Download the export (${formatBytes(job.size_bytes)} zip)` : "Download"}
      </Anchor>
      <Text size="xs" c="dimmed" data-testid="link-expires">
        Link expires {expires}
      </Text>
    </Stack>
  );
}

/** An export as it runs: the records written of those counted as a progress bar, until it is completed (its
 * link) or failed (its error). */
function Progressing({ job }: { job: ExportJob }) {
  const { objects, processed, percent } = progressOf(job);
  const done = FINISHED.has(job.status);
  return (
    <Stack gap="xs" data-testid="export-progress">
      <Text size="sm" role="status">
        {job.status === "completed"
          ? `Completed: ${formatNumber(processed)} records, ${formatBytes(job.size_bytes)}.`
          : job.status === "failed"
            ? `Failed: ${job.error ?? "the export could not be written"}.`
            : job.status === "expired"
              ? "Expired: its zip was deleted (a person was erased since it was made, or it was older than 7 days)."
            : job.status === "pending"
              ? "Waiting to start…"
              : `Writing the records: ${formatNumber(processed)} of ${formatNumber(objects)}…`}
      </Text>
      {!done && (
        <Progress
          value={job.status === "pending" ? 100 : percent}
          animated={job.status === "pending"}
          aria-label="Records exported"
          aria-valuetext={`${formatNumber(processed)} of ${formatNumber(objects)} records`}
        />
      )}
      {job.status === "completed" && <DownloadLink job={job} long />}
    </Stack>
  );
}

/** "Export all data": the export is made (POST, with an Idempotency-Key so that a retry of the same click starts
 * no second one), then read every second until it is completed or failed. */
function NewExport() {
  const queryClient = useQueryClient();
  const [exportId, setExportId] = useState<string | null>(null);
  const [problem, setProblem] = useState<ApiError | null>(null);

  const start = useMutation({
    mutationFn: (key: string) => unwrap(api.POST("/v1/exports", { body: {}, headers: { "Idempotency-Key": key } })),
    onSuccess: async (created) => {
      setExportId(created.id);
      await queryClient.invalidateQueries({ queryKey: ["exports", "list"] });
    },
    onError: (error) => setProblem(formErrors(error, []).problem),
  });
  const job = useQuery({
    queryKey: ["exports", "one", exportId],
    queryFn: () => unwrap(api.GET("/v1/exports/{export_id}", { params: { path: { export_id: exportId ?? "" } } })),
    enabled: exportId !== null,
    refetchInterval: (query) => (query.state.data && FINISHED.has(query.state.data.status) ? false : POLL_MS),
  });
  const finished = job.data ? FINISHED.has(job.data.status) : false;
  useEffect(() => {
    if (finished) void queryClient.invalidateQueries({ queryKey: ["exports", "list"] });
  }, [finished, queryClient]);

  const running = start.isPending || (exportId !== null && !finished);
  return (
    <Paper withBorder p="md" component="section" aria-labelledby="new-export-title">
      <Stack>
        <Title order={3} size="h4" id="new-export-title">
          Export all data
        </Title>
        <Text size="sm">
          Every record of every kind (contacts, companies, deals, activities, pipelines, properties, users, teams, API keys, event
          targets and sources), archived ones too, one JSON line each as the API answers it, in one zip. The zip is kept 7 days.
        </Text>
        {job.data && <Progressing job={job.data} />}
        <ProblemAlert error={problem ?? (job.error instanceof ApiError ? job.error : null)} title="Not exported" />
        <div>
          <Button
            loading={start.isPending}
            disabled={running}
            onClick={() => {
              setProblem(null);
              // randomUUID exists in secure contexts only (HTTPS, localhost): elsewhere a key of time and chance.
              start.mutate(crypto.randomUUID?.() ?? `${Date.now()}-${Math.random().toString(36).slice(2)}`);
            }}
          >
            {exportId === null ? "Export all data" : "Export again"}
          </Button>
        </div>
      </Stack>
    </Paper>
  );
}

/** Settings → Exports (admins only, as the API says): the tenant's whole data as a zip, and the past exports
 * with their status, size and download link while it lasts. */
export default function Exports() {
  const exports = useQuery({
    queryKey: ["exports", "list"],
    queryFn: () => unwrap(api.GET("/v1/exports", { params: { query: { limit: 50 } } })),
    // One still running elsewhere (the CLI, another tab) shows its counters move.
    refetchInterval: (query) => (query.state.data?.items.some((item) => !FINISHED.has(item.status)) ? 3 * POLL_MS : false),
  });
  const rows = exports.data?.items ?? [];

  return (
    <ListSection
      id="exports"
      title="Exports"
      what="exports"
      top={<NewExport />}
      query={exports}
      count={rows.length}
      empty="No exports yet."
    >
      <SettingsTable
        label="Past exports"
        head={
          <>
            <th>Started</th>
            <th>Status</th>
            <th>Records</th>
            <th>Size</th>
            <th className="from-sm">Completed</th>
            <th>Download</th>
          </>
        }
      >
        {rows.map((job) => {
          const { objects, processed } = progressOf(job);
          return (
            <tr key={job.id}>
              <td>{formatDateTime(job.created_at)}</td>
              <td>
                <Badge variant="outline" color={STATUS_COLORS[job.status] ?? "gray.7"} title={job.error ?? undefined}>
                  {job.status}
                </Badge>
              </td>
              <td>{job.status === "completed" || job.status === "expired" ? formatNumber(objects) : `${formatNumber(processed)} / ${formatNumber(objects)}`}</td>
              <td>{formatBytes(job.size_bytes)}</td>
              <td className="from-sm">{formatDateTime(job.completed_at)}</td>
              <td>
                <DownloadLink job={job} />
              </td>
            </tr>
          );
        })}
      </SettingsTable>
    </ListSection>
  );
}
