import { Anchor, Badge, Button, Group, Paper, Stack, Text, TextInput, Title } from "@mantine/core";
import { useMutation, useQueries, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import { ApiError, api, ifMatch, unwrap, type Schemas } from "../../api/client";
import { Empty, QueryState } from "../../components/States";
import { ProblemAlert } from "../../forms/parts";

type Ticket = Schemas["Ticket"];
const MAX_ARTICLES = 20; // the API's own bound on article_ids

/** The knowledge base articles linked to the ticket, each with Unlink, and a search over article titles
 * (the API's prefix search) whose results link with one click. Each change is a PATCH of `article_ids` at
 * the version the page shows (If-Match): a 412 reloads the ticket. */
export function LinkedArticles({ ticket }: { ticket: Ticket }) {
  const queryClient = useQueryClient();
  const linked = ticket.article_ids ?? [];
  const [q, setQ] = useState("");
  const [failed, setFailed] = useState<ApiError | null>(null);
  const articles = useQueries({
    queries: linked.map((id) => ({
      queryKey: ["kb-article", id],
      queryFn: () => unwrap(api.GET("/v1/kb-articles/{record_id}", { params: { path: { record_id: id }, query: { archived: true } } })),
    })),
  });
  const found = useQuery({
    queryKey: ["kb-articles", q.trim()],
    queryFn: () => unwrap(api.GET("/v1/kb-articles", { params: { query: { q: q.trim(), limit: 10 } } })),
    enabled: q.trim().length > 0,
  });
  const save = useMutation({
    mutationFn: (articleIds: string[]) =>
      unwrap(
        api.PATCH("/v1/tickets/{record_id}", {
          params: { path: { record_id: ticket.id } },
          headers: ifMatch(ticket.version),
          body: { article_ids: articleIds },
        }),
      ),
    onMutate: () => setFailed(null),
    onSuccess: async (saved) => {
      queryClient.setQueryData(["ticket", saved.id], saved);
      await queryClient.invalidateQueries({ queryKey: ["timeline", "tickets", saved.id] });
    },
    onError: async (error) => {
      setFailed(error instanceof ApiError ? error : new ApiError(0, { detail: "The CRM could not be reached. Try again." }));
      if (error instanceof ApiError && error.status === 412) await queryClient.invalidateQueries({ queryKey: ["ticket", ticket.id] });
    },
  });
  const readOnly = Boolean(ticket.archived) || save.isPending;
  const results = (found.data?.items ?? []).filter((article) => !linked.includes(article.id));
  return (
    <Paper withBorder p="sm" component="section" aria-labelledby="articles-title">
      <Stack gap="xs">
        <Title order={2} size="h4" id="articles-title">
          Knowledge base
        </Title>
        {linked.length === 0 ? (
          <Empty>No articles linked.</Empty>
        ) : (
          <Stack gap={4} component="ul" className="plain-list" aria-label="Linked articles">
            {linked.map((id, n) => {
              const article = articles[n]?.data;
              return (
                <Group component="li" key={id} justify="space-between" wrap="nowrap" gap="xs">
                  <Group gap={6} wrap="nowrap" style={{ minWidth: 0 }}>
                    <Anchor component={Link} to={`/tickets/articles?article=${id}`} size="sm" truncate>
                      {article ? article.title || "(no title)" : "…"}
                    </Anchor>
                    {article?.status === "draft" && (
                      <Badge size="xs" variant="outline" color="gray.9">
                        Draft
                      </Badge>
                    )}
                  </Group>
                  {!ticket.archived && (
                    <Button
                      size="compact-xs"
                      variant="subtle"
                      disabled={readOnly}
                      aria-label={`Unlink ${article?.title ?? "article"}`}
                      onClick={() => save.mutate(linked.filter((other) => other !== id))}
                    >
                      Unlink
                    </Button>
                  )}
                </Group>
              );
            })}
          </Stack>
        )}
        {failed && <ProblemAlert error={failed} title="Not saved" />}
        {!ticket.archived && linked.length < MAX_ARTICLES && (
          <>
            <TextInput
              label="Find an article"
              placeholder="Title starts with…"
              value={q}
              onChange={(event) => setQ(event.currentTarget.value)}
            />
            <QueryState query={found} what="articles" />
            {q.trim() && found.isSuccess && results.length === 0 && <Text size="sm" c="dimmed">No other article found.</Text>}
            {results.length > 0 && (
              <Stack gap={4} component="ul" className="plain-list" aria-label="Articles found">
                {results.map((article) => (
                  <Group component="li" key={article.id} justify="space-between" wrap="nowrap" gap="xs">
                    <Text size="sm" truncate>
                      {article.title || "(no title)"}
                    </Text>
                    <Button
                      size="compact-xs"
                      variant="light"
                      disabled={readOnly}
                      aria-label={`Link ${article.title ?? "article"}`}
                      onClick={() => {
                        save.mutate([...linked, article.id]);
                        setQ("");
                      }}
                    >
                      Link
                    </Button>
                  </Group>
                ))}
              </Stack>
            )}
          </>
        )}
      </Stack>
    </Paper>
  );
}
