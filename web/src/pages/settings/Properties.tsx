import { Button, Group, NativeSelect, SimpleGrid, Switch, TextInput, Textarea } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useSearchParams } from "react-router";
import { api, ifMatch, noContent, unwrap, type Schemas } from "../../api/client";
import type { CustomObject, Property } from "../../components/CustomFields";
import { FormButtons, ProblemAlert } from "../../forms/parts";
import { leadingField, useFormState } from "../../forms/useFormState";
import { ConfirmButton, EditOrNewForm, ListSection, SettingsTable, useIsAdmin } from "./shared";

type Type = Schemas["PropertyCreate"]["type"];
const TYPES: { value: Type; label: string }[] = [
  { value: "string", label: "Text" },
  { value: "number", label: "Number" },
  { value: "boolean", label: "Yes or no" },
  { value: "date", label: "Date" },
  { value: "enum", label: "One of a list" },
  { value: "multi_enum", label: "Several of a list" },
];
const OBJECTS: { value: CustomObject; label: string; one: string }[] = [
  { value: "contacts", label: "Contacts", one: "contact" },
  { value: "companies", label: "Companies", one: "company" },
  { value: "deals", label: "Deals", one: "deal" },
];
const FIELDS = ["name", "label", "type", "options", "required", "unique", "description"];
// The types a property may be unique of (the API refuses the others).
const UNIQUE_TYPES: string[] = ["string", "number", "date"];
const hasOptions = (type: string | null | undefined) => type === "enum" || type === "multi_enum";
const typeLabel = (type: string | null | undefined) => TYPES.find((item) => item.value === type)?.label ?? type ?? "";

/** Options as the form's text: one a line, `value = Label` when the label is not the value itself. */
function optionsText(property?: Property): string {
  return (property?.options ?? []).map((option) => (option.label === option.value ? option.value : `${option.value} = ${option.label}`)).join("\n");
}

function optionsOf(text: string): Schemas["PropertyOption"][] {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const at = line.indexOf("=");
      if (at < 0) return { value: line, label: line };
      return { value: line.slice(0, at).trim(), label: line.slice(at + 1).trim() || line.slice(0, at).trim() };
    });
}

type Values = { name: string; label: string; type: Type; options: string; description: string; required: boolean; unique: boolean };

function valuesOf(property?: Property): Values {
  return {
    name: property?.name ?? "",
    label: property?.label ?? "",
    type: (property?.type as Type | undefined) ?? "string",
    options: optionsText(property),
    description: property?.description ?? "",
    required: property?.required ?? false,
    unique: property?.unique ?? false,
  };
}

/** Defines a property of an object, or changes one at the version the list showed: its name and type are
 * fixed once made (the API refuses a change of either), its label, options, description and `required` not;
 * `unique` is chosen when it is made, and may then only be turned off. */
function PropertyForm({ object, property, onDone }: { object: CustomObject; property?: Property; onDone: () => void }) {
  const queryClient = useQueryClient();
  // "options[2].value" is the options' field.
  const form = useFormState<Values>(() => valuesOf(property), FIELDS, { fieldOf: leadingField });
  const { values, errors, change, field } = form;
  const save = useMutation({
    mutationFn: () => {
      const options = hasOptions(values.type) ? optionsOf(values.options) : null;
      const description = values.description.trim() || null;
      if (property?.name) {
        return unwrap(
          api.PATCH("/v1/properties/{object}/{name}", {
            params: { path: { object, name: property.name } },
            headers: ifMatch(property.version),
            body: {
              label: values.label.trim(),
              options,
              description,
              required: values.required,
              ...(property.unique && !values.unique ? { unique: false } : {}),
            },
          }),
        );
      }
      return unwrap(
        api.POST("/v1/properties/{object}", {
          params: { path: { object } },
          body: {
            name: values.name.trim(),
            label: values.label.trim(),
            type: values.type,
            options,
            description,
            required: values.required,
            unique: UNIQUE_TYPES.includes(values.type) && values.unique,
          },
        }),
      );
    },
    onSuccess: async () => {
      // The record forms and pages read the definitions under this key too.
      await queryClient.invalidateQueries({ queryKey: ["properties", object] });
      onDone();
    },
    onError: form.fail,
  });
  const body = (
    <>
      <SimpleGrid cols={{ base: 1, sm: property ? 1 : 3 }}>
        <TextInput label="Label" required description="What the forms and pages call it." {...field("label")} />
        {!property && (
          <TextInput
            label="Name"
            required
            description="How the API and imports name it: a-z, 0-9 and _; fixed."
            value={values.name}
            onChange={(event) => change("name", event.currentTarget.value)}
            onFocus={() => {
              if (!values.name && values.label) change("name", values.label.trim().toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, ""));
            }}
            error={errors.name}
          />
        )}
        {!property && (
          <NativeSelect label="Type" description="Fixed once made." data={TYPES} {...field("type")} />
        )}
      </SimpleGrid>
      {hasOptions(values.type) && (
        <Textarea
          label="Options"
          required
          description="One a line: the value a record holds, or value = Label."
          autosize
          minRows={3}
          {...field("options")}
        />
      )}
      <TextInput label="Description" {...field("description")} />
      <Switch
        label="Required"
        description="A new record must have it, and a change cannot clear it; records made before keep what they have."
        checked={values.required}
        onChange={(event) => change("required", event.currentTarget.checked)}
        error={errors.required}
      />
      {UNIQUE_TYPES.includes(values.type) && (!property || property.unique) && (
        <Switch
          label="Unique"
          description={
            property
              ? "No two records hold the same value. Once turned off it cannot be turned on again."
              : "No two records hold the same value (text compared without regard to case). Chosen now: it cannot be turned on later."
          }
          checked={values.unique}
          onChange={(event) => change("unique", event.currentTarget.checked)}
          error={errors.unique}
        />
      )}
      <ProblemAlert error={form.problem} stale="This property changed since the list was read, so nothing was saved. Close the dialog and edit it again." />
      <FormButtons submit={property ? "Save" : "Create property"} pending={save.isPending} onCancel={onDone} dialog={Boolean(property)} />
    </>
  );
  return (
    <EditOrNewForm
      editing={Boolean(property)}
      id="new-property"
      title={`Edit ${property?.label ?? property?.name}`}
      newTitle="New property"
      onClose={onDone}
      onSubmit={form.submit(save.mutate)}
    >
      {body}
    </EditOrNewForm>
  );
}

/** Settings → Properties: the tenant's own fields of contacts, companies and deals. Admins define, change,
 * archive and restore them; everyone else reads the list. */
export default function Properties() {
  const admin = useIsAdmin();
  const queryClient = useQueryClient();
  const [search, setSearch] = useSearchParams();
  const object = OBJECTS.find((item) => item.value === search.get("object")) ?? OBJECTS[0]!;
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<Property | null>(null);
  const [archived, setArchived] = useState(false);
  // The active list is the record forms' (CustomFields' useCustomProperties shares the key and page).
  const properties = useQuery({
    queryKey: archived ? ["properties", object.value, "archived"] : ["properties", object.value],
    queryFn: () =>
      unwrap(
        api.GET("/v1/properties/{object}", {
          params: { path: { object: object.value }, query: { limit: 100, ...(archived ? { archived } : {}) } },
        }),
      ),
  });
  const rows = properties.data?.items ?? [];
  const reread = () => queryClient.invalidateQueries({ queryKey: ["properties", object.value] });
  const archive = async (property: Property) => {
    await noContent(
      api.DELETE("/v1/properties/{object}/{name}", {
        params: { path: { object: object.value, name: property.name ?? "" } },
        headers: ifMatch(property.version),
      }),
    );
    await reread();
  };
  const restore = async (property: Property) => {
    await unwrap(api.POST("/v1/properties/{object}/{name}/restore", { params: { path: { object: object.value, name: property.name ?? "" } } }));
    await reread();
  };
  const choose = (value: CustomObject) => {
    setSearch({ object: value }, { replace: true });
    setCreating(false);
    setEditing(null);
  };

  return (
    <ListSection
      id="properties"
      title={`Properties of ${object.label.toLowerCase()}`}
      what="properties"
      action={!creating && <Button onClick={() => setCreating(true)}>New property</Button>}
      intro={
        <Group gap="xs" role="group" aria-label="Whose properties">
          {OBJECTS.map((item) => (
            <Button
              key={item.value}
              size="xs"
              variant={item.value === object.value ? "filled" : "default"}
              aria-pressed={item.value === object.value}
              onClick={() => choose(item.value)}
            >
              {item.label}
            </Button>
          ))}
        </Group>
      }
      top={creating && <PropertyForm key={object.value} object={object.value} onDone={() => setCreating(false)} />}
      archived={archived}
      onArchivedChange={setArchived}
      query={properties}
      count={rows.length}
      empty={`No properties of ${object.label.toLowerCase()} yet: each one becomes a field of every ${object.one}'s form and page.`}
      bottom={editing && <PropertyForm object={object.value} property={editing} onDone={() => setEditing(null)} />}
    >
      <SettingsTable
        label={archived ? `Archived properties of ${object.label.toLowerCase()}` : `Properties of ${object.label.toLowerCase()}`}
        head={
          <>
            <th>Label</th>
            <th>Name</th>
            <th>Type</th>
            <th className="from-sm">Options</th>
            <th>Required</th>
            {admin && <th>Actions</th>}
          </>
        }
      >
        {rows.map((property) => {
          const label = property.label ?? property.name ?? "";
          return (
            <tr key={property.id}>
              <td>{label}</td>
              <td>
                <code>{property.name}</code>
              </td>
              <td>
                {typeLabel(property.type)}
                {property.unique ? " · unique" : ""}
              </td>
              <td className="from-sm">{property.options?.map((option) => option.label).join(", ") || "—"}</td>
              <td>{property.required ? "Yes" : "No"}</td>
              {admin && (
                <td>
                  <Group gap={6} wrap="nowrap">
                    {archived ? (
                      <ConfirmButton
                        label="Restore"
                        name={`Restore ${label}`}
                        title={`Restore the property ${label}?`}
                        confirmLabel="Restore property"
                        color="indigo"
                        onConfirm={() => restore(property)}
                      >
                        The forms show it again, and writes are checked against it.
                      </ConfirmButton>
                    ) : (
                      <>
                        <Button size="xs" variant="default" onClick={() => setEditing(property)} aria-label={`Edit ${label}`}>
                          Edit
                        </Button>
                        <ConfirmButton
                          label="Archive"
                          name={`Archive ${label}`}
                          title={`Archive the property ${label}?`}
                          confirmLabel="Archive property"
                          onConfirm={() => archive(property)}
                        >
                          The forms stop showing it and writes may no longer set it; values records hold stay as they are. It can
                          be restored for 30 days.
                        </ConfirmButton>
                      </>
                    )}
                  </Group>
                </td>
              )}
            </tr>
          );
        })}
      </SettingsTable>
    </ListSection>
  );
}
