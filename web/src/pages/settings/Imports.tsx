import { Anchor, Badge, Button, Input, NativeSelect, Paper, Progress, SimpleGrid, Stack, Text, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState, type FormEvent } from "react";
import { ApiError, api, unwrap, type Schemas } from "../../api/client";
import { FormButtons, ProblemAlert } from "../../forms/parts";
import { formErrors } from "../../forms/useFormState";
import { formatDateTime, formatNumber } from "../../format";
import { ListSection, SettingsTable } from "./shared";

type ImportJob = Schemas["ImportJob"];
type ImportObject = Schemas["ImportCreate"]["object"];
type OnDuplicate = NonNullable<Schemas["ImportCreate"]["on_duplicate"]>;

// Every object the API imports, by its type: one it adds fails the build until it is named here.
const OBJECT_LABELS: Record<ImportObject, string> = {
  contacts: "Contacts (matched by email)",
  companies: "Companies (matched by domain)",
  deals: "Deals (stage and pipeline by name, company by domain)",
};
const OBJECTS = Object.entries(OBJECT_LABELS).map(([value, label]) => ({ value, label }));
const ON_DUPLICATE: { value: OnDuplicate; label: string }[] = [
  { value: "skip", label: "Skip the row" },
  { value: "update", label: "Update the record with the row's filled cells" },
  { value: "create", label: "Refuse the row (create new records only)" },
];
const FINISHED = new Set(["completed", "failed"]);
const POLL_MS = 1000;

/** PUTs the file to the presigned URL straight from the browser (never through the API), reporting the
 * bytes sent; fetch cannot report an upload's progress, XMLHttpRequest can. */
function upload(url: string, file: File, onProgress: (fraction: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("PUT", url);
    request.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    request.onload = () =>
      request.status >= 200 && request.status < 300
        ? resolve()
        : reject(new ApiError(request.status, { detail: `The file could not be uploaded (${request.status}). Try again.` }));
    request.onerror = () => reject(new ApiError(0, { detail: "The file could not be uploaded: the storage could not be reached. Try again." }));
    request.send(file);
  });
}

const percent = (part: number, whole: number) => (whole > 0 ? Math.min(100, (part / whole) * 100) : 0);

/** An import's counters as the API keeps them, with its rows as a progress bar while it runs. */
function Progressing({ job }: { job: ImportJob }) {
  const done = FINISHED.has(job.status);
  const label = job.status === "pending" ? "Reading the file" : `${formatNumber(job.processed)} of ${formatNumber(job.total)} rows`;
  return (
    <Stack gap="xs" data-testid="import-progress">
      <Text size="sm" role="status">
        {job.status === "completed"
          ? `Completed: ${formatNumber(job.processed)} of ${formatNumber(job.total)} rows.`
          : job.status === "failed"
            ? `Failed: ${job.error ?? "the file could not be read"}. Nothing of it was written.`
            : `${job.status === "pending" ? "Reading the file…" : "Writing the rows…"}`}
      </Text>
      {!done && (
        <Progress
          value={job.status === "pending" ? 100 : percent(job.processed, job.total)}
          animated={job.status === "pending"}
          aria-label="Rows processed"
          aria-valuetext={label}
        />
      )}
      <Counters job={job} />
      {job.rejected_rows_url && (
        <Anchor href={job.rejected_rows_url} size="sm" download>
          Download the rejected rows ({formatNumber(job.failed)}) with their reasons
        </Anchor>
      )}
    </Stack>
  );
}

function Counters({ job }: { job: ImportJob }) {
  const counters: [string, number][] = [
    ["Rows", job.total],
    ["Processed", job.processed],
    ["Created", job.created],
    ["Updated", job.updated],
    ["Skipped", job.skipped],
    ["Failed", job.failed],
  ];
  return (
    <SimpleGrid cols={{ base: 3, sm: 6 }} component="dl" spacing="xs" m={0} aria-label="Counters">
      {counters.map(([label, value]) => (
        <Stack key={label} gap={0}>
          <Text component="dt" size="xs" c="dimmed">
            {label}
          </Text>
          <Text component="dd" m={0} data-testid={`count-${label.toLowerCase()}`}>
            {formatNumber(value)}
          </Text>
        </Stack>
      ))}
    </SimpleGrid>
  );
}

/** Uploads a CSV file: the import is made (POST), the file PUT to its presigned URL with the bytes sent as a
 * progress bar, then the import read every second, its counters shown, until it is completed or failed. */
function NewImport({ onDone }: { onDone: () => void }) {
  const queryClient = useQueryClient();
  const [object, setObject] = useState<ImportObject>("contacts");
  const [onDuplicate, setOnDuplicate] = useState<OnDuplicate>("skip");
  const [file, setFile] = useState<File | null>(null);
  const [fileError, setFileError] = useState<string | undefined>();
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [problem, setProblem] = useState<ApiError | null>(null);
  const [sent, setSent] = useState<number | null>(null);
  const [importId, setImportId] = useState<string | null>(null);
  // The import made for the file, until its file is uploaded.
  const [waiting, setWaiting] = useState<Schemas["ImportCreated"] | null>(null);

  const start = useMutation({
    mutationFn: async (chosen: File) => {
      // An upload that failed is tried again into the import it was for (its URL lasts an hour), not a new
      // one that would wait for a file forever beside it.
      const reuse = waiting && waiting.object === object && waiting.on_duplicate === onDuplicate && Date.parse(waiting.upload_expires_at) > Date.now();
      const created = reuse ? waiting : await unwrap(api.POST("/v1/imports", { body: { object, on_duplicate: onDuplicate } }));
      setWaiting(created);
      setSent(0);
      await upload(created.upload_url, chosen, setSent);
      setSent(1);
      return created;
    },
    onSuccess: async (created) => {
      setWaiting(null);
      setImportId(created.id);
      await queryClient.invalidateQueries({ queryKey: ["imports"] });
    },
    onError: (error) => {
      setSent(null);
      const shown = formErrors(error, ["object", "on_duplicate"]);
      setErrors(shown.fields);
      setProblem(shown.problem);
    },
  });

  const job = useQuery({
    queryKey: ["imports", "one", importId],
    queryFn: () => unwrap(api.GET("/v1/imports/{import_id}", { params: { path: { import_id: importId ?? "" } } })),
    enabled: importId !== null,
    // Read again each second until it is done; then the list is read again once.
    refetchInterval: (query) => (query.state.data && FINISHED.has(query.state.data.status) ? false : POLL_MS),
  });
  const finished = job.data ? FINISHED.has(job.data.status) : false;
  useEffect(() => {
    if (finished) void queryClient.invalidateQueries({ queryKey: ["imports", "list"] });
  }, [finished, queryClient]);

  function submit(event: FormEvent) {
    event.preventDefault();
    setProblem(null);
    if (!file) {
      setFileError("Choose a CSV file.");
      return;
    }
    start.mutate(file);
  }

  const busy = start.isPending || (importId !== null && !finished);
  return (
    <Paper withBorder p="md" component="section" aria-labelledby="new-import-title">
      <form onSubmit={submit} noValidate>
        <Stack>
          <Title order={3} size="h4" id="new-import-title">
            New import
          </Title>
          <SimpleGrid cols={{ base: 1, sm: 3 }}>
            <NativeSelect
              label="Records"
              data={OBJECTS}
              value={object}
              onChange={(event) => setObject(event.currentTarget.value as ImportObject)}
              error={errors.object}
              disabled={busy || importId !== null}
            />
            <NativeSelect
              label="A row matching a record"
              data={ON_DUPLICATE}
              value={onDuplicate}
              onChange={(event) => setOnDuplicate(event.currentTarget.value as OnDuplicate)}
              error={errors.on_duplicate}
              disabled={busy || importId !== null}
            />
            <Input.Wrapper
              label="CSV file"
              id="import-file"
              description="UTF-8, a header line; columns are matched to fields by their names."
              error={fileError}
              required
            >
              <input
                id="import-file"
                className="file-input"
                type="file"
                accept=".csv,text/csv"
                required
                aria-invalid={fileError ? true : undefined}
                disabled={busy || importId !== null}
                onChange={(event) => {
                  setFile(event.currentTarget.files?.[0] ?? null);
                  setFileError(undefined);
                }}
              />
            </Input.Wrapper>
          </SimpleGrid>
          {sent !== null && sent < 1 && (
            <Stack gap={4}>
              <Text size="sm">Uploading {file?.name}…</Text>
              <Progress value={sent * 100} aria-label="Uploaded" aria-valuetext={`${Math.round(sent * 100)}% uploaded`} />
            </Stack>
          )}
          {job.data && <Progressing job={job.data} />}
          <ProblemAlert error={problem ?? (job.error instanceof ApiError ? job.error : null)} title="Not imported" />
          {importId === null ? (
            <FormButtons submit="Upload and import" pending={start.isPending} onCancel={onDone} />
          ) : (
            <div>
              <Button variant="default" onClick={onDone} disabled={!finished}>
                Done
              </Button>
            </div>
          )}
        </Stack>
      </form>
    </Paper>
  );
}

const STATUS_COLORS: Record<string, string> = { completed: "teal.9", failed: "red.9", processing: "indigo.8", pending: "gray.7" };

/** Settings → Imports (admins only, as the API says): a CSV file of contacts or companies uploaded, and the
 * past imports with their status, counters and rejected rows. */
export default function Imports() {
  const [creating, setCreating] = useState(false);
  const imports = useQuery({
    queryKey: ["imports", "list"],
    queryFn: () => unwrap(api.GET("/v1/imports", { params: { query: { limit: 50 } } })),
    // One still running elsewhere (the CLI, another tab) shows its counters move.
    refetchInterval: (query) => (query.state.data?.items.some((item) => !FINISHED.has(item.status)) ? 3 * POLL_MS : false),
  });
  const rows = imports.data?.items ?? [];

  return (
    <ListSection
      id="imports"
      title="Imports"
      what="imports"
      action={!creating && <Button onClick={() => setCreating(true)}>New import</Button>}
      intro={
        <Text size="sm" c="dimmed">
          A spreadsheet saved as CSV becomes records: every row is checked as the API checks a write, and the rows refused are
          kept with their reasons for a week.
        </Text>
      }
      top={creating && <NewImport onDone={() => setCreating(false)} />}
      query={imports}
      count={rows.length}
      empty="No imports yet."
    >
      <SettingsTable
        label="Past imports"
        head={
          <>
            <th>Started</th>
            <th>Records</th>
            <th>Status</th>
            <th>Rows</th>
            <th className="from-sm">Created</th>
            <th className="from-sm">Updated</th>
            <th className="from-sm">Skipped</th>
            <th>Failed</th>
            <th>Rejected rows</th>
          </>
        }
      >
        {rows.map((job) => (
          <tr key={job.id}>
            <td>{formatDateTime(job.created_at)}</td>
            <td>{job.object}</td>
            <td>
              <Badge variant="outline" color={STATUS_COLORS[job.status] ?? "gray.7"} title={job.error ?? undefined}>
                {job.status}
              </Badge>
            </td>
            <td>
              {formatNumber(job.processed)} / {formatNumber(job.total)}
            </td>
            <td className="from-sm">{formatNumber(job.created)}</td>
            <td className="from-sm">{formatNumber(job.updated)}</td>
            <td className="from-sm">{formatNumber(job.skipped)}</td>
            <td>{formatNumber(job.failed)}</td>
            <td>
              {job.rejected_rows_url ? (
                <Anchor href={job.rejected_rows_url} size="sm" download aria-label={`Download the rejected rows of the import of ${formatDateTime(job.created_at)}`}>
                  Download
                </Anchor>
              ) : (
                "—"
              )}
            </td>
          </tr>
        ))}
      </SettingsTable>
    </ListSection>
  );
}
