import { Alert, Button, CopyButton, Group, Modal, NativeSelect, SimpleGrid, Stack, Text, TextInput } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useSearchParams } from "react-router";
import { api, unwrap, type Schemas } from "../../api/client";
import { FormButtons, FormCard, ProblemAlert } from "../../forms/parts";
import { useFormState } from "../../forms/useFormState";
import { formatDate, formatDateTime } from "../../format";
import { useMe } from "../../Shell";
import {
  ConfirmButton,
  ListSection,
  ROLES,
  SettingsTable,
  endOfLocalDay,
  useArchiveRestore,
  useIsAdmin,
  useUserName,
  useUsers,
  userLabel,
  type Role,
} from "./shared";

type ApiKey = Schemas["ApiKey"];
type Issued = Schemas["ApiKeyIssued"];
const FIELDS = ["name", "user_id", "role", "expires_at"] as const;

function CreateKeyForm({ userId, onIssued, onCancel }: { userId: string; onIssued: (issued: Issued) => void; onCancel: () => void }) {
  const queryClient = useQueryClient();
  const users = useUsers();
  const me = useMe();
  const form = useFormState({ name: "", user_id: userId, role: "", expires_on: "" }, FIELDS);
  const { values, errors, field } = form;
  const issue = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/v1/api-keys", {
          body: {
            name: values.name.trim() || null,
            user_id: values.user_id || null,
            role: (values.role || null) as Role | null,
            expires_at: values.expires_on ? endOfLocalDay(values.expires_on) : null,
          },
        }),
      ),
    onSuccess: async (issued) => {
      await queryClient.invalidateQueries({ queryKey: ["api-keys"] });
      onIssued(issued);
    },
    onError: form.fail,
  });
  const selected = users.data?.items.find((user) => user.id === (values.user_id || me.data?.user.id));
  const userOptions = [
    { value: "", label: "Me" },
    ...(users.data?.items
      .filter((user) => user.active !== false && user.id !== me.data?.user.id)
      .map((user) => ({ value: user.id, label: `${userLabel(user)} (${user.role ?? "rep"})` })) ?? []),
  ];
  return (
    <FormCard id="new-key-title" title="New API key" level={3} onSubmit={form.submit(issue.mutate)}>
      <SimpleGrid cols={{ base: 1, sm: 2 }}>
        <TextInput label="Key name" description="What it is for, to tell keys apart." {...field("name")} />
        <NativeSelect
          label="Acts as"
          description="The user whose records and rights the key uses."
          data={userOptions}
          {...field("user_id")}
        />
        <NativeSelect
          label="Key role"
          description="A key may only do less than its user."
          data={[
            { value: "", label: `The user's role${selected?.role ? ` (${selected.role})` : ""}` },
            ...ROLES.map((role) => ({ value: role, label: role })),
          ]}
          {...form.field("role")}
        />
        <TextInput
          label="Expires on"
          description="Refused after this day ends; empty: never."
          type="date"
          value={values.expires_on}
          onChange={(event) => {
            form.change("expires_on", event.currentTarget.value);
            // The date input holds the day; the API names the instant it ends.
            form.clearErrors((name) => name === "expires_at");
          }}
          error={errors.expires_at}
        />
      </SimpleGrid>
      <ProblemAlert error={form.problem} />
      <FormButtons submit="Create key" pending={issue.isPending} onCancel={onCancel} />
    </FormCard>
  );
}

/** The key itself, shown this once: the CRM keeps only its hash. */
function IssuedKey({ issued, userName, onClose }: { issued: Issued; userName: string; onClose: () => void }) {
  return (
    <Modal closeButtonProps={{ "aria-label": "Close" }} opened onClose={onClose} title="Your new API key" closeOnClickOutside={false} size="lg">
      <Stack>
        <Alert color="red.9" variant="outline" title="Copy it now: it is shown only this once">
          The CRM keeps only a hash of it, so no one can show it again. Whoever holds it acts as {userName}
          {issued.role ? ` with at most the ${issued.role} role` : ""}: keep it secret. If it is lost, revoke it and
          create another.
        </Alert>
        <TextInput
          label="New API key"
          readOnly
          value={issued.key}
          onFocus={(event) => event.currentTarget.select()}
          styles={{ input: { fontFamily: "monospace" } }}
        />
        <Group justify="space-between">
          <CopyButton value={issued.key}>
            {({ copied, copy }) => (
              <Button variant="light" onClick={copy}>
                {copied ? "Copied" : "Copy key"}
              </Button>
            )}
          </CopyButton>
          <Button onClick={onClose}>I have stored the key</Button>
        </Group>
      </Stack>
    </Modal>
  );
}

export default function ApiKeys() {
  const admin = useIsAdmin();
  const userName = useUserName();
  const [searchParams, setSearchParams] = useSearchParams();
  const forUser = searchParams.get("user");
  const [creating, setCreating] = useState(forUser !== null);
  const [issued, setIssued] = useState<Issued | null>(null);
  const keys = useQuery({
    queryKey: ["api-keys"],
    queryFn: () => unwrap(api.GET("/v1/api-keys", { params: { query: { limit: 100, sort: "-created_at" } } })),
  });
  const rows = keys.data?.items ?? [];
  const { archive: revoke } = useArchiveRestore("api-keys");
  const keyName = (key: ApiKey) => key.name ?? key.prefix;

  return (
    <ListSection
      id="keys"
      title="API keys"
      what="API keys"
      action={!creating && <Button onClick={() => setCreating(true)}>New API key</Button>}
      top={
        admin &&
        creating && (
          <CreateKeyForm
            userId={forUser ?? ""}
            onCancel={() => {
              setCreating(false);
              setSearchParams({});
            }}
            onIssued={(key) => {
              setCreating(false);
              setSearchParams({});
              setIssued(key);
            }}
          />
        )
      }
      query={keys}
      count={rows.length}
      empty="No API keys."
      bottom={
        <>
          {keys.data?.next_cursor && (
            <Text size="sm" c="dimmed">
              The 100 newest keys are shown.
            </Text>
          )}
          {issued && <IssuedKey issued={issued} userName={userName(issued.user_id)} onClose={() => setIssued(null)} />}
        </>
      }
    >
      <SettingsTable
        label="API keys"
        head={
          <>
            <th>Name</th>
            <th>Prefix</th>
            <th className="from-sm">Acts as</th>
            <th className="from-sm">Role</th>
            <th className="from-md">Expires</th>
            <th className="from-md">Last used</th>
            {admin && <th>Actions</th>}
          </>
        }
      >
        {rows.map((key) => (
          <tr key={key.id}>
            <td>{key.name ?? "—"}</td>
            <td>
              <code>{key.prefix}</code>
            </td>
            <td className="from-sm">{userName(key.user_id)}</td>
            <td className="from-sm">{key.role ?? "the user's"}</td>
            <td className="from-md">{key.expires_at ? formatDate(key.expires_at) : "never"}</td>
            <td className="from-md">{key.last_used_at ? formatDateTime(key.last_used_at) : "never"}</td>
            {admin && (
              <td>
                <ConfirmButton
                  label="Revoke"
                  name={`Revoke ${keyName(key)}`}
                  title={`Revoke ${keyName(key)}?`}
                  confirmLabel="Revoke key"
                  onConfirm={() => revoke(key)}
                >
                  The key is refused from its very next request. Whatever uses it stops working.
                </ConfirmButton>
              </td>
            )}
          </tr>
        ))}
      </SettingsTable>
    </ListSection>
  );
}
