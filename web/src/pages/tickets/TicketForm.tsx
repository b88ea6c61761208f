import { NativeSelect, SimpleGrid, TextInput, Textarea } from "@mantine/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "../../api/client";
import { RecordPicker, type Picked } from "../../components/RecordPicker";
import { useUsers } from "../../components/owners";
import { FormButtons, FormCard, ProblemAlert } from "../../forms/parts";
import { leadingField, useFormState } from "../../forms/useFormState";
import { CATEGORIES, CHANNELS, PRIORITIES } from "./sla";

type Ticket = Schemas["Ticket"];
type Create = Schemas["TicketCreate"];
const FIELDS = ["subject", "description", "contact_id", "company_id", "priority", "category", "channel", "assignee_id"];

/** Opens a ticket, with the API's field errors next to their fields. */
export default function TicketForm({ onSaved, onCancel }: { onSaved: (saved: Ticket) => void; onCancel: () => void }) {
  const queryClient = useQueryClient();
  const users = useUsers();
  const form = useFormState(
    () => ({
      subject: "",
      description: "",
      priority: "normal",
      category: "",
      channel: "",
      assignee_id: "",
      contact_id: null as Picked | null,
      company_id: null as Picked | null,
    }),
    FIELDS,
    { fieldOf: leadingField },
  );
  const { values, errors, change, field } = form;

  const save = useMutation({
    mutationFn: () => {
      const body: Create = {
        subject: values.subject.trim(),
        description: values.description.trim() || null,
        priority: values.priority as Create["priority"],
        category: (values.category || null) as Create["category"],
        channel: (values.channel || null) as Create["channel"],
        contact_id: values.contact_id?.id ?? null,
        company_id: values.company_id?.id ?? null,
        // Unset: the API makes the creator the assignee.
        ...(values.assignee_id ? { assignee_id: values.assignee_id } : {}),
      };
      return unwrap(api.POST("/v1/tickets", { body }));
    },
    onSuccess: async (saved) => {
      queryClient.setQueryData(["ticket", saved.id], saved);
      await queryClient.invalidateQueries({ queryKey: ["tickets"] });
      onSaved(saved);
    },
    onError: form.fail,
  });

  const choices = (none: string, list: readonly string[]) => [{ value: "", label: none }, ...list.map((value) => ({ value, label: value }))];

  return (
    <FormCard id="ticket-form-title" title="New ticket" onSubmit={form.submit(save.mutate)}>
      <TextInput label="Subject" required {...field("subject")} />
      <Textarea label="Description" autosize minRows={3} {...field("description")} />
      <SimpleGrid cols={{ base: 1, sm: 2 }}>
        <RecordPicker object="contacts" label="Contact" value={values.contact_id} onChange={(picked) => change("contact_id", picked)} error={errors.contact_id} />
        <RecordPicker object="companies" label="Company" value={values.company_id} onChange={(picked) => change("company_id", picked)} error={errors.company_id} />
        <NativeSelect label="Priority" data={[...PRIORITIES]} {...field("priority")} />
        <NativeSelect label="Category" data={choices("—", CATEGORIES)} {...field("category")} />
        <NativeSelect label="Channel" data={choices("—", CHANNELS)} {...field("channel")} />
        <NativeSelect
          label="Assignee"
          data={[
            { value: "", label: "Me" },
            ...(users.data?.items ?? []).map((user) => ({ value: user.id, label: user.name ?? user.email ?? user.id })),
          ]}
          {...field("assignee_id")}
        />
      </SimpleGrid>
      <ProblemAlert error={form.problem} title="Not saved" />
      <FormButtons submit="Create ticket" pending={save.isPending} onCancel={onCancel} />
    </FormCard>
  );
}
