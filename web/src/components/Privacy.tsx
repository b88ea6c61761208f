import { Button, Group, Loader, Modal, Paper, Stack, Text, TextInput, Title } from "@mantine/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { ApiError, api, unwrap, type Schemas } from "../api/client";
import { ProblemAlert } from "../forms/parts";
import { formErrors } from "../forms/useFormState";
import { recordKey } from "./ArchiveRestore";

type Contact = Schemas["Contact"];

/** Saves a JSON document as a file in the browser (a link to a Blob, clicked). */
function saveJson(document: unknown, filename: string) {
  const url = URL.createObjectURL(new Blob([JSON.stringify(document, null, 2)], { type: "application/json" }));
  const link = Object.assign(window.document.createElement("a"), { href: url, download: filename });
  window.document.body.append(link);
  link.click();
  link.remove();
  // The click has handed the Blob to the download; the URL is let go after it.
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** What the admin types to confirm: the contact's email (any case), or the word ERASE. */
function confirms(typed: string, contact: Contact) {
  const text = typed.trim();
  return text === "ERASE" || (Boolean(contact.email) && text.toLowerCase() === contact.email!.toLowerCase());
}

/** Erases the contact, then asks again (the same answer, no second event) while the copies of its data are
 * still being scrubbed in the background (`Scrub-Status: pending`, seconds), so that the pages read again
 * after it show none of them. `onPending` hears how many answers said `pending` so far. */
async function eraseAndWaitForTheScrub(id: string, onPending: (checks: number) => void): Promise<Contact> {
  for (let asked = 1; ; asked++) {
    const call = api.POST("/v1/privacy/contacts/{record_id}/erase", { params: { path: { record_id: id } } });
    const tombstone = await unwrap(call);
    if ((await call).response.headers.get("Scrub-Status") !== "pending" || asked >= 60) return tombstone;
    onPending(asked);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

function EraseDialog({ contact, onClose }: { contact: Contact; onClose: () => void }) {
  const queryClient = useQueryClient();
  const [typed, setTyped] = useState("");
  const [mismatch, setMismatch] = useState<string | undefined>();
  const [problem, setProblem] = useState<ApiError | null>(null);
  // While the copies are scrubbed: how many times the API has said so far that they are still there.
  const [checks, setChecks] = useState(0);
  const erase = useMutation({
    mutationFn: () => eraseAndWaitForTheScrub(contact.id, setChecks),
    onSuccess: async (tombstone) => {
      // The page shows the tombstone the API answered; the lists and the timeline are read again.
      queryClient.setQueryData(recordKey("contacts", contact.id), tombstone);
      onClose();
      await queryClient.invalidateQueries({ queryKey: ["contacts"] });
      await queryClient.invalidateQueries({ queryKey: ["timeline", "contacts", contact.id] });
    },
    onError: (error) => setProblem(formErrors(error, []).problem),
  });
  const what = contact.email ? `${contact.email} or the word ERASE` : "the word ERASE";

  function submit(event: FormEvent) {
    event.preventDefault();
    if (!confirms(typed, contact)) {
      setMismatch(`Type ${what} to confirm.`);
      return;
    }
    setProblem(null);
    erase.mutate();
  }

  return (
    <Modal closeButtonProps={{ "aria-label": "Close" }} opened onClose={onClose} title="Erase this person?">
      <form onSubmit={submit} noValidate>
        <Stack>
          <Text size="sm">
            Their names, email, phone, title, tags, consent and custom values are cleared everywhere the CRM keeps them (search,
            timelines, the audit trail, what was said in their activities), and the address is suppressed for future sends. The
            record stays as an erased placeholder so that counts and reports stay true. This cannot be undone: download their data
            first if they asked for it.
          </Text>
          <TextInput
            label={`Type ${what} to confirm`}
            value={typed}
            onChange={(event) => {
              setTyped(event.currentTarget.value);
              setMismatch(undefined);
            }}
            error={mismatch}
            autoComplete="off"
            data-autofocus
          />
          <ProblemAlert error={problem} title="Not erased" />
          {erase.isPending && checks > 0 && (
            <Group gap="xs" role="status" aria-live="polite" data-testid="scrub-progress">
              <Loader size="xs" aria-hidden />
              <Text size="sm">
                Erased. Removing copies of their data… (checked {checks} {checks === 1 ? "time" : "times"})
              </Text>
            </Group>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" color="red" loading={erase.isPending}>
              Erase this person
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

/** A contact's privacy requests, for admins (the API refuses other roles): their data as a JSON file, and
 * erasure to a tombstone after the admin types the email or ERASE. Its own chunk, loaded for admins only. */
export default function Privacy({ contact }: { contact: Contact }) {
  const [erasing, setErasing] = useState(false);
  const download = useMutation({
    mutationFn: () => unwrap(api.GET("/v1/privacy/contacts/{record_id}/export", { params: { path: { record_id: contact.id } } })),
    onSuccess: (document) => saveJson(document, `contact-${contact.id}.json`),
  });
  return (
    <Paper withBorder p="md" component="section" aria-labelledby="privacy-title">
      <Stack>
        <Title order={2} size="h4" id="privacy-title">
          Privacy
        </Title>
        <Text size="sm" c="dimmed">
          When this person asks what the CRM holds on them, or to be forgotten.
        </Text>
        <Group gap="xs">
          <Button variant="default" onClick={() => download.mutate()} loading={download.isPending}>
            Download this person's data
          </Button>
          {!contact.erased_at && (
            <Button variant="light" color="red" onClick={() => setErasing(true)}>
              Erase this person
            </Button>
          )}
        </Group>
        <ProblemAlert error={download.error instanceof ApiError ? download.error : null} title="Not downloaded" />
        {erasing && <EraseDialog contact={contact} onClose={() => setErasing(false)} />}
      </Stack>
    </Paper>
  );
}
