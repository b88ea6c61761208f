import { Anchor, Badge, Button, Group, NativeSelect, Paper, Stack, Text, TextInput, Textarea, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import { api, ifMatch, noContent, unwrap, type Schemas } from "../../api/client";
import { DebouncedFilter } from "../../components/ListFilters";
import { Empty, QueryState } from "../../components/States";
import { FormButtons, FormCard, ProblemAlert } from "../../forms/parts";
import { useFormState } from "../../forms/useFormState";
import { formatDateTime } from "../../format";
import { ConfirmButton } from "../settings/shared";

type Article = Schemas["KbArticle"];
type Status = "draft" | "published";

/** Writes an article (title, Markdown body, draft or published), at the version opened (If-Match). */
function ArticleEditor({ article, onDone }: { article?: Article; onDone: () => void }) {
  const queryClient = useQueryClient();
  const form = useFormState(
    () => ({ title: article?.title ?? "", body: article?.body ?? "", status: (article?.status ?? "draft") as string }),
    ["title", "body", "status"],
  );
  const { field } = form;
  const save = useMutation({
    mutationFn: () => {
      const body = { title: form.values.title.trim(), body: form.values.body, status: form.values.status as Status };
      return article
        ? unwrap(api.PATCH("/v1/kb-articles/{record_id}", { params: { path: { record_id: article.id } }, headers: ifMatch(article.version), body }))
        : unwrap(api.POST("/v1/kb-articles", { body }));
    },
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ["kb-articles"] });
      onDone();
    },
    onError: form.fail,
  });
  return (
    <FormCard id="article-editor-title" title={article ? `Edit ${article.title}` : "New article"} onSubmit={form.submit(save.mutate)}>
      <TextInput label="Title" required {...field("title")} />
      <Textarea label="Body" description="Markdown" autosize minRows={8} {...field("body")} />
      <NativeSelect label="Status" data={["draft", "published"]} {...field("status")} />
      <ProblemAlert error={form.problem} stale="This article changed since you opened it, so nothing was saved. Close and open it again." />
      <FormButtons submit={article ? "Save article" : "Create article"} pending={save.isPending} onCancel={onDone} />
    </FormCard>
  );
}

/** The knowledge base: articles by title (prefix search), drafts and published, written here. */
export default function Articles() {
  const queryClient = useQueryClient();
  const [q, setQ] = useState("");
  const [editing, setEditing] = useState<Article | "new" | null>(null);
  const articles = useQuery({
    queryKey: ["kb-articles", q],
    queryFn: () => unwrap(api.GET("/v1/kb-articles", { params: { query: { q: q || undefined, limit: 100 } } })),
  });
  const rows = articles.data?.items ?? [];
  const archive = async (article: Article) => {
    await noContent(api.DELETE("/v1/kb-articles/{record_id}", { params: { path: { record_id: article.id } }, headers: ifMatch(article.version) }));
    await queryClient.invalidateQueries({ queryKey: ["kb-articles"] });
  };
  return (
    <Stack>
      <Anchor component={Link} to="/tickets" size="sm">
        ← Tickets
      </Anchor>
      <Group justify="space-between">
        <Title order={1}>Knowledge base</Title>
        {editing === null && <Button onClick={() => setEditing("new")}>New article</Button>}
      </Group>
      {editing === "new" && <ArticleEditor onDone={() => setEditing(null)} />}
      <Group role="search" aria-label="Search articles">
        <DebouncedFilter label="Search" description="The title's start" type="search" value={q} onChange={setQ} maw={320} />
      </Group>
      <QueryState query={articles} what="articles" />
      {articles.isSuccess && rows.length === 0 && <Empty>{q ? "No article's title starts so." : "No articles yet: write the first one."}</Empty>}
      {rows.map((article) =>
        editing !== null && editing !== "new" && editing.id === article.id ? (
          <ArticleEditor key={article.id} article={article} onDone={() => setEditing(null)} />
        ) : (
          <Paper key={article.id} withBorder p="sm" component="article" aria-label={article.title ?? "Article"}>
            <Group justify="space-between" wrap="nowrap" align="flex-start">
              <Text fw={600}>
                {article.title}{" "}
                <Badge variant="outline" size="sm" color={article.status === "published" ? "teal.9" : "gray.7"}>
                  {article.status}
                </Badge>
              </Text>
              {editing === null && (
                <Group gap={6} wrap="nowrap">
                  <Button size="xs" variant="default" onClick={() => setEditing(article)} aria-label={`Edit ${article.title}`}>
                    Edit
                  </Button>
                  <ConfirmButton label="Archive" name={`Archive ${article.title}`} title={`Archive ${article.title}?`} confirmLabel="Archive article" onConfirm={() => archive(article)}>
                    Tickets that link it keep the link; it can be restored for 30 days.
                  </ConfirmButton>
                </Group>
              )}
            </Group>
            <Text size="sm" lineClamp={3} style={{ whiteSpace: "pre-wrap" }}>
              {article.body || "—"}
            </Text>
            <Text size="xs" c="dimmed">
              Updated {formatDateTime(article.updated_at)}
            </Text>
          </Paper>
        ),
      )}
    </Stack>
  );
}
