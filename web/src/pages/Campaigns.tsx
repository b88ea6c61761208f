import { Stack, Text, Title } from "@mantine/core";
import Segments from "./campaigns/Segments";

/** Campaigns: the segments they are sent to (and the campaigns themselves once the CRM sends them). */
export default function Campaigns() {
  return (
    <Stack gap="lg">
      <Title order={1}>Campaigns</Title>
      <Text>Email campaigns are not available yet: this page has their segments so far.</Text>
      <Segments />
    </Stack>
  );
}
