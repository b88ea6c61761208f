import { Anchor, Button, Group, Paper, Stack, Text, Title } from "@mantine/core";
import { useState } from "react";
import { Link, useNavigate } from "react-router";
import { RecordPicker, type Picked, type PickerObject } from "./RecordPicker";

/** From a record's page: its likely duplicates, or any other record of its kind chosen by name, to compare
 * and merge with it. */
export function MergeWith({ object, id }: { object: PickerObject; id: string }) {
  const navigate = useNavigate();
  const [other, setOther] = useState<Picked | null>(null);
  const noun = object === "contacts" ? "contact" : "company";
  return (
    <Paper withBorder p="md" component="section" aria-labelledby="merge-with-title">
      <Stack gap="xs">
        <Title order={2} size="h4" id="merge-with-title">
          Duplicates
        </Title>
        <Text size="sm">
          <Anchor component={Link} to={`/${object}/duplicates`}>
            Find duplicates
          </Anchor>{" "}
          among all {object}, or pick the {noun} this one duplicates:
        </Text>
        <Group align="flex-end" gap="xs">
          <RecordPicker object={object} label={`Merge with ${noun}`} value={other} onChange={setOther} exclude={id} />
          <Button
            variant="default"
            disabled={!other}
            onClick={() => other && navigate(`/${object}/merge?a=${id}&b=${other.id}`)}
          >
            Compare and merge
          </Button>
        </Group>
      </Stack>
    </Paper>
  );
}
