import { Alert, Button, Center, Paper, PasswordInput, Stack, Text, Title } from "@mantine/core";
import { useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Navigate, useLocation, useNavigate } from "react-router";
import { api } from "../api/client";
import { session, useSession } from "../session";

/** The API key form: `/v1/me` checks the key before the session keeps it. */
export function SignInForm({ onSignedIn }: { onSignedIn: () => void }) {
  const queryClient = useQueryClient();
  const [key, setKey] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [checking, setChecking] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const credential = key.trim();
    if (!credential) {
      setError("Enter your API key.");
      return;
    }
    setChecking(true);
    setError(null);
    try {
      const { data, response } = await api.GET("/v1/me", {
        headers: { Authorization: `Bearer ${credential}` },
      });
      if (data) {
        session.signIn(credential);
        queryClient.setQueryData(["me"], data);
        // What failed while signed out is asked again with the new credential.
        await queryClient.invalidateQueries({ predicate: (query) => query.queryKey[0] !== "me" });
        onSignedIn();
      } else if (response.status === 401 || response.status === 403) {
        setError("This API key was not accepted: it may be mistyped, revoked or expired.");
      } else {
        setError(`The CRM could not check the key (${response.status}). Try again.`);
      }
    } catch {
      setError("The CRM could not be reached. Check the connection and try again.");
    } finally {
      setChecking(false);
    }
  }

  return (
    <form onSubmit={submit} noValidate>
      <Stack>
        <PasswordInput
          label="API key"
          description="Locally, `crm tenant create` prints one."
          autoComplete="current-password"
          value={key}
          onChange={(event) => setKey(event.currentTarget.value)}
          error={error}
          data-autofocus
        />
        <Button type="submit" loading={checking}>
          Sign in
        </Button>
      </Stack>
    </form>
  );
}

export function SignInPage() {
  const { credential } = useSession();
  const navigate = useNavigate();
  const location = useLocation();
  const from = (location.state as { from?: string } | null)?.from ?? "/contacts";
  if (credential) return <Navigate to={from} replace />;
  return (
    <Center mih="100vh" p="md">
      <Paper withBorder shadow="sm" p="xl" w="100%" maw={420} component="main">
        <Stack>
          <Title order={1}>Sign in to the CRM</Title>
          <Text c="dimmed" size="sm">
            Use an API key of your tenant.
          </Text>
          <SignInForm onSignedIn={() => navigate(from, { replace: true })} />
          {location.state && (
            <Alert color="gray" variant="light">
              Sign in to continue where you were.
            </Alert>
          )}
        </Stack>
      </Paper>
    </Center>
  );
}
