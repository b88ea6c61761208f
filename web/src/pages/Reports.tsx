import { Group, NativeSelect, Paper, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useSearchParams } from "react-router";
import { api, unwrap, type Schemas } from "../api/client";
import ReportChart, { type Row } from "../components/ReportChart";
import { useUsers } from "../components/owners";
import { Empty, QueryState } from "../components/States";
import { formatDateTime } from "../format";

type ReportInfo = Schemas["ReportInfo"];
type ReportParameter = Schemas["ReportParameter"];
type Params = Partial<Record<ReportParameter["name"], string>>;

const LABELS: Record<ReportParameter["name"], string> = {
  from: "From",
  to: "To",
  owner_id: "Owner",
  pipeline_id: "Pipeline",
  group_by: "Group by",
};

/** One parameter's input: a date, a user, a pipeline or a choice; empty means "not given". */
function ParameterInput({ param, value, onChange }: {
  param: ReportParameter;
  value: string;
  onChange: (value: string) => void;
}) {
  const users = useUsers();
  const pipelines = useQuery({
    queryKey: ["pipelines", "choices"],
    queryFn: () => unwrap(api.GET("/v1/pipelines", { params: { query: { limit: 100 } } })),
    enabled: param.name === "pipeline_id",
    staleTime: 5 * 60_000,
  });
  const label = LABELS[param.name];
  if (param.type === "date") {
    return (
      <TextInput type="date" label={label} description={param.description} value={value} w={170}
        onChange={(event) => onChange(event.currentTarget.value)} />
    );
  }
  const choices =
    param.name === "owner_id"
      ? (users.data?.items ?? []).map((user) => ({ value: user.id, label: user.name ?? user.email ?? user.id }))
      : param.name === "pipeline_id"
        ? (pipelines.data?.items ?? []).map((pipeline) => ({ value: pipeline.id, label: pipeline.name ?? pipeline.id }))
        : (param.choices ?? []).map((choice) => ({ value: choice, label: choice }));
  const any = param.name === "group_by" ? `${param.default ?? "default"} (default)` : "Any";
  return (
    <NativeSelect label={label} description={param.description} value={value} w={200}
      data={[{ value: "", label: any }, ...choices]} onChange={(event) => onChange(event.currentTarget.value)} />
  );
}

function cell(value: unknown) {
  if (value === null || value === undefined) return "—";
  if (typeof value === "number") return new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 }).format(value);
  return String(value);
}

/** The report's rows as a table: every field, as the API names it. */
function RowsTable({ title, rows }: { title: string; rows: Row[] }) {
  const columns = Object.keys(rows[0] ?? {});
  return (
    <Table.ScrollContainer minWidth={400}>
      <Table striped aria-label={`${title} rows`}>
        <Table.Thead>
          <Table.Tr>
            {columns.map((column) => <Table.Th key={column}>{column.replaceAll("_", " ")}</Table.Th>)}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.map((row, index) => (
            <Table.Tr key={index}>
              {columns.map((column) => <Table.Td key={column}>{cell(row[column])}</Table.Td>)}
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

function ReportView({ report, params, setParam }: {
  report: ReportInfo;
  params: Params;
  setParam: (name: string, value: string) => void;
}) {
  const query = Object.fromEntries(Object.entries(params).filter(([, value]) => value));
  const answer = useQuery({
    queryKey: ["reports", report.name, query],
    queryFn: () =>
      unwrap(api.GET("/v1/reports/{report_name}", { params: { path: { report_name: report.name }, query } })),
  });
  const rows = (answer.data?.rows ?? []) as Row[];
  return (
    <Stack gap="sm">
      <Text size="sm">{report.description}</Text>
      {report.params.length > 0 && (
        <Group align="flex-end" gap="sm" role="group" aria-label="Parameters">
          {report.params.map((param) => (
            <ParameterInput key={param.name} param={param} value={params[param.name] ?? ""}
              onChange={(value) => setParam(param.name, value)} />
          ))}
        </Group>
      )}
      <QueryState query={answer} what="report" />
      {answer.data && (
        <>
          <Text size="xs" c="dimmed">
            {answer.data.data_as_of ? `Data as of ${formatDateTime(answer.data.data_as_of)}` : "No data exported yet"}
          </Text>
          {rows.length === 0 ? (
            <Empty>Nothing to show for these parameters.</Empty>
          ) : (
            <>
              <ReportChart report={report} rows={rows} />
              <RowsTable title={report.title} rows={rows} />
            </>
          )}
        </>
      )}
    </Stack>
  );
}

/** The reports: pick one, set its parameters (kept in the address, so a report can be linked), read its
 * chart and its rows. */
export default function Reports() {
  const [searchParams, setSearchParams] = useSearchParams();
  const listed = useQuery({
    queryKey: ["reports"],
    queryFn: () => unwrap(api.GET("/v1/reports")),
    staleTime: 60 * 60_000,
  });
  const reports = listed.data?.items ?? [];
  const chosen = reports.find((report) => report.name === searchParams.get("report")) ?? reports[0];
  const params: Params = {};
  for (const param of chosen?.params ?? []) {
    const value = searchParams.get(param.name);
    if (value) params[param.name] = value;
  }
  function setParam(name: string, value: string) {
    const next = new URLSearchParams(searchParams);
    if (value) next.set(name, value);
    else next.delete(name);
    setSearchParams(next, { replace: true });
  }
  return (
    <Stack gap="md">
      <Title order={1}>Reports</Title>
      <QueryState query={listed} what="reports" />
      {chosen && (
        <Paper withBorder p="md">
          <Stack gap="sm">
            <NativeSelect label="Report" w={260} value={chosen.name}
              data={reports.map((report) => ({ value: report.name, label: report.title }))}
              onChange={(event) => setSearchParams({ report: event.currentTarget.value })} />
            <Title order={2} size="h3">{chosen.title}</Title>
            <ReportView key={chosen.name} report={chosen} params={params} setParam={setParam} />
          </Stack>
        </Paper>
      )}
    </Stack>
  );
}
