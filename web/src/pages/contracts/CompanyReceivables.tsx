import { Anchor, Group, Stack, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { api, unwrap } from "../../api/client";
import { Empty, QueryState } from "../../components/States";
import { exactMoney } from "../quotes/money";
import { receivablesKey } from "./plan";

/** A company's contracts in a section of its page: what they are worth, paid, outstanding and overdue, per
 * currency (the API's counters: contracts that are not drafts), with the way to its list and a new one. */
export function CompanyReceivables({ companyId }: { companyId: string }) {
  const receivables = useQuery({
    queryKey: receivablesKey(companyId),
    queryFn: () => unwrap(api.GET("/v1/companies/{record_id}/receivables", { params: { path: { record_id: companyId } } })),
  });
  const items = receivables.data?.items ?? [];
  return (
    <Stack gap="xs" component="section" aria-labelledby="company-contracts">
      <Title order={2} size="h3" id="company-contracts">
        Contracts
      </Title>
      <QueryState query={receivables} what="receivables" />
      {receivables.isSuccess && items.length === 0 && <Empty>No active contracts with this company.</Empty>}
      {items.length > 0 && (
        <div className="table-box">
          <table className="data-table" aria-label="Receivables">
            <thead>
              <tr>
                <th>Currency</th>
                <th className="num">Contracts</th>
                <th className="num">Value</th>
                <th className="num">Paid</th>
                <th className="num">Outstanding</th>
                <th className="num">Overdue</th>
              </tr>
            </thead>
            <tbody>
              {items.map((row) => (
                <tr key={row.currency} data-testid="receivables-row">
                  <td>{row.currency}</td>
                  <td className="num">{row.contracts}</td>
                  <td className="num">{exactMoney(row.value, row.currency)}</td>
                  <td className="num">{exactMoney(row.paid, row.currency)}</td>
                  <td className="num" data-testid={`receivables-outstanding-${row.currency}`}>
                    {exactMoney(row.outstanding, row.currency)}
                  </td>
                  <td className="num">{exactMoney(row.overdue, row.currency)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Group gap="md">
        <Anchor component={Link} to={`/contracts?company=${companyId}`} size="sm">
          The company's contracts
        </Anchor>
        <Anchor component={Link} to={`/contracts/new?company=${companyId}`} size="sm">
          New contract
        </Anchor>
      </Group>
    </Stack>
  );
}
