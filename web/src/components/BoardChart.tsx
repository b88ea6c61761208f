import { Paper, Text } from "@mantine/core";
import type { Schemas } from "../api/client";
import { formatMoney, formatNumber } from "../format";

type BoardStage = Schemas["BoardStage"];

/** Open amount per stage as bars (the count beside each), drawn inline: a few hundred bytes, not a chart
 * library. The numbers are text, in the user's locale, so a screen reader reads the chart as a list. */
export default function BoardChart({ stages, currency }: { stages: BoardStage[]; currency: string }) {
  const amounts = stages.map((stage) => Number(stage.total.amount) || 0);
  const most = Math.max(...amounts, 0);
  const mostDeals = Math.max(...stages.map((stage) => stage.count), 0);
  const total = amounts.reduce((sum, amount) => sum + amount, 0);
  const deals = stages.reduce((sum, stage) => sum + stage.count, 0);
  return (
    <Paper withBorder p="sm" component="figure" m={0} aria-labelledby="board-chart-caption" data-testid="board-chart">
      <Text component="figcaption" fw={600} size="sm" id="board-chart-caption" mb={6}>
        Open amount per stage: {formatMoney(total, currency)} in {formatNumber(deals)}{" "}
        {deals === 1 ? "deal" : "deals"}
      </Text>
      <ul className="board-chart">
        {stages.map((stage, index) => {
          const amount = amounts[index] ?? 0;
          const money = formatMoney(amount, stage.total.currency || currency);
          const others = stage.other_currencies.map((other) => formatMoney(other.amount, other.currency)).join(", ");
          const count = `${formatNumber(stage.count)} ${stage.count === 1 ? "deal" : "deals"}`;
          return (
            <li key={stage.stage_id}>
              <span className="board-chart-name">{stage.name}</span>
              <svg className="board-chart-bar" viewBox="0 0 100 14" preserveAspectRatio="none" aria-hidden="true">
                <title>{`${stage.name}: ${money}, ${count}`}</title>
                <rect width="100" height="14" rx="2" fill="var(--mantine-color-gray-1)" />
                <rect width={most ? (amount / most) * 100 : 0} height="9" rx="2" fill="var(--mantine-color-indigo-6)" />
                <rect
                  y="10"
                  width={mostDeals ? (stage.count / mostDeals) * 100 : 0}
                  height="4"
                  fill="var(--mantine-color-teal-6)"
                />
              </svg>
              <span className="board-chart-value">
                {money}
                {others && ` + ${others}`} · {count}
              </span>
            </li>
          );
        })}
      </ul>
      <Text size="xs" c="dimmed" mt={4}>
        Long bars: amount in {currency}; thin bars: number of deals.
      </Text>
    </Paper>
  );
}
