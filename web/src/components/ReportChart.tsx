import { Paper, Text } from "@mantine/core";
import type { Schemas } from "../api/client";

export type Row = Record<string, unknown>;
type ReportInfo = Schemas["ReportInfo"];

const COLORS = ["var(--mantine-color-indigo-6)", "var(--mantine-color-teal-6)", "var(--mantine-color-orange-6)"];

function number(value: unknown) {
  return typeof value === "number" ? value : Number(value) || 0;
}

function shown(value: number) {
  return new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 }).format(value);
}

function words(field: string) {
  return field.replaceAll("_", " ");
}

/** Each row a line: its label, one bar per value (scaled to that value's largest), the numbers as text. A
 * report of one row and no label (sales velocity) shows one line per value instead. */
export function Bars({ labels, series }: { labels: string[]; series: { name: string; values: number[] }[] }) {
  const most = series.map((one) => Math.max(...one.values.map(Math.abs), 0));
  return (
    <ul className="board-chart">
      {labels.map((label, index) => {
        const text = series.map((one) => `${words(one.name)} ${shown(one.values[index] ?? 0)}`).join(" · ");
        return (
          <li key={`${label}-${index}`}>
            <span className="board-chart-name">{label}</span>
            <svg className="board-chart-bar" viewBox={`0 0 100 ${series.length * 7}`} preserveAspectRatio="none" aria-hidden="true">
              <title>{`${label}: ${text}`}</title>
              {series.map((one, n) => (
                <rect key={one.name} y={n * 7} height="6" rx="1"
                  width={most[n] ? (Math.abs(one.values[index] ?? 0) / (most[n] ?? 1)) * 100 : 0}
                  fill={COLORS[n % COLORS.length]} />
              ))}
            </svg>
            <span className="board-chart-value">{text}</span>
          </li>
        );
      })}
    </ul>
  );
}

/** Points joined by a line per value, the labels (periods) along the bottom. */
function Lines({ labels, series }: { labels: string[]; series: { name: string; values: number[] }[] }) {
  const most = Math.max(...series.flatMap((one) => one.values), 0) || 1;
  const width = 600;
  const height = 200;
  const x = (index: number) => (labels.length < 2 ? width / 2 : 30 + (index * (width - 60)) / (labels.length - 1));
  const y = (value: number) => height - 30 - (value / most) * (height - 50);
  return (
    <svg viewBox={`0 0 ${width} ${height}`} width="100%" role="img"
      aria-label={series.map((one) => `${words(one.name)}: ${labels.map((l, i) => `${l} ${shown(one.values[i] ?? 0)}`).join(", ")}`).join("; ")}>
      <line x1="30" x2={width - 30} y1={height - 30} y2={height - 30} stroke="var(--mantine-color-gray-4)" />
      {series.map((one, n) => (
        <g key={one.name}>
          <polyline fill="none" strokeWidth="2" stroke={COLORS[n % COLORS.length]}
            points={one.values.map((value, i) => `${x(i)},${y(value)}`).join(" ")} />
          {one.values.map((value, i) => (
            <circle key={i} cx={x(i)} cy={y(value)} r="3" fill={COLORS[n % COLORS.length]} />
          ))}
        </g>
      ))}
      {labels.map((label, i) => (
        <text key={label} x={x(i)} y={height - 10} fontSize="11" textAnchor="middle" fill="currentColor">{label}</text>
      ))}
    </svg>
  );
}

/** Centred bars, narrowing stage by stage: the share of the first stage each one keeps. */
function Funnel({ labels, values }: { labels: string[]; values: number[] }) {
  const most = Math.max(...values, 0) || 1;
  return (
    <ul className="board-chart">
      {labels.map((label, index) => {
        const value = values[index] ?? 0;
        const width = (value / most) * 100;
        return (
          <li key={label}>
            <span className="board-chart-name">{label}</span>
            <svg className="board-chart-bar" viewBox="0 0 100 14" preserveAspectRatio="none" aria-hidden="true">
              <rect x={(100 - width) / 2} width={width} height="14" rx="2" fill={COLORS[0]} />
            </svg>
            <span className="board-chart-value">{shown(value)}</span>
          </li>
        );
      })}
    </ul>
  );
}

/** A report drawn as it says it is best drawn (bar, line, funnel; no report is a pie yet: it would show as bars), inline SVG like
 * the board's chart: no chart library, and every number is also text. */
export default function ReportChart({ report, rows }: { report: ReportInfo; rows: Row[] }) {
  const oneRowNoLabel = !report.label && rows.length === 1;
  const labels = oneRowNoLabel
    ? report.values.map(words)
    : rows.map((row) => String(row[report.label ?? ""] ?? "—"));
  const series = oneRowNoLabel
    ? [{ name: "value", values: report.values.map((field) => number(rows[0]?.[field])) }]
    : report.values.map((field) => ({ name: field, values: rows.map((row) => number(row[field])) }));
  return (
    <Paper withBorder p="sm" component="figure" m={0} aria-labelledby="report-chart-caption" data-testid="report-chart"
      data-chart={report.chart}>
      <Text component="figcaption" fw={600} size="sm" id="report-chart-caption" mb={6}>
        {report.title}: {report.values.map(words).join(", ")}
      </Text>
      {report.chart === "line" ? (
        <Lines labels={labels} series={series} />
      ) : report.chart === "funnel" ? (
        <Funnel labels={labels} values={series[0]?.values ?? []} />
      ) : (
        <Bars labels={labels} series={series} />
      )}
    </Paper>
  );
}
