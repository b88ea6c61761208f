import { Stack, Title } from "@mantine/core";
import { useSearchParams } from "react-router";
import CampaignList from "./campaigns/CampaignList";
import Segments from "./campaigns/Segments";

/** Campaigns: the email campaigns (list, editor with preview, send and schedule, results) and their segments
 * (hidden while one campaign is open). */
export default function Campaigns() {
  const [params] = useSearchParams();
  return (
    <Stack gap="lg">
      <Title order={1}>Campaigns</Title>
      <CampaignList />
      {!params.get("campaign") && <Segments />}
    </Stack>
  );
}
